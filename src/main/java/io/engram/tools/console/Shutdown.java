package io.engram.tools.console;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Ctrl-C for a command that runs until it is stopped: a JVM shutdown hook that asks the command to
 * stop and then holds the JVM open until the command has finished, so that it can flush what it
 * sent, commit, close its clients and print its summary before the process exits.
 *
 * <p><b>Lifecycle.</b> {@link #onCtrlC} registers the hook; the command polls {@link #running()}
 * (or passes {@code shutdown::running} as its keep-going check) and calls {@link #close()} when it
 * is done, best in a try-with-resources around the work. {@code close} tells a waiting hook that
 * the command has finished and removes the hook (unless the JVM is already running it). On Ctrl-C
 * the hook clears {@link #running()}, runs the {@code onStop} action, and waits up to the grace
 * period for {@code close}; past it, the JVM exits regardless, so that a stuck command cannot keep
 * the process alive.
 *
 * <p><b>Ownership.</b> One per command run, owned by the command's thread; {@link #running()},
 * {@link #stop()} and {@link #awaitStop} are safe from any thread.
 */
public final class Shutdown implements AutoCloseable {
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final CountDownLatch finished = new CountDownLatch(1);
    private final Thread hook;

    private Shutdown(String threadName, Duration grace, Runnable onStop) {
        this.hook = new Thread(() -> {
            running.set(false);
            onStop.run();
            stopped.countDown();
            if (grace.isZero()) {
                return;
            }
            try {
                finished.await(grace.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, threadName);
    }

    /**
     * Registers a hook that stops the command on Ctrl-C and waits up to {@code grace} for it to finish.
     *
     * @param threadName the hook thread's name, e.g. {@code engram-tail-shutdown} (shown in thread dumps)
     */
    public static Shutdown onCtrlC(String threadName, Duration grace) {
        return onCtrlC(threadName, grace, () -> { });
    }

    /**
     * As {@link #onCtrlC(String, Duration)}, running {@code onStop} on the hook's thread once
     * {@link #running()} is clear: for a command whose work does not poll a flag (a Kafka Streams
     * pipeline, which {@code onStop} closes). A zero {@code grace} does not wait for {@link #close()}.
     */
    public static Shutdown onCtrlC(String threadName, Duration grace, Runnable onStop) {
        Shutdown s = new Shutdown(threadName, grace, onStop);
        Runtime.getRuntime().addShutdownHook(s.hook);
        return s;
    }

    /** False once Ctrl-C was pressed or {@link #stop()} called: the command should wind down. */
    public boolean running() {
        return running.get();
    }

    /** Asks the command to wind down, as Ctrl-C would, without running the hook (e.g. its output went away). */
    public void stop() {
        running.set(false);
    }

    /**
     * Waits up to {@code timeout} for Ctrl-C's hook to have run its {@code onStop} action.
     *
     * @return true when it has
     */
    public boolean awaitStop(long timeout, TimeUnit unit) throws InterruptedException {
        return stopped.await(timeout, unit);
    }

    /** The command has finished: releases a waiting hook and removes the hook. Idempotent. */
    @Override
    public void close() {
        finished.countDown();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException ignored) {
            // already shutting down: the hook is running
        }
    }
}
