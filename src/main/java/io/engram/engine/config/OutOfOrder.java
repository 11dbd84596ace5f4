package io.engram.engine.config;

/** What to do with a record older than its stream's last stepped record ({@code state.out_of_order}). */
public enum OutOfOrder {
    /** Dead-letter it with reason out-of-order and count it: a step never goes back in time. */
    DROP,
    /** Step it anyway, in arrival order. */
    PROCESS
}
