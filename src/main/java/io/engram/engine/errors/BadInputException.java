package io.engram.engine.errors;

/**
 * A record that cannot be processed because of its content. It carries a bounded reason code (used
 * as a metric tag and a dead-letter header) and a human-readable detail. Thrown by serdes (as the
 * cause of a {@link org.apache.kafka.common.errors.SerializationException}) and by processors; the
 * Kafka Streams exception handlers turn it into a dead-letter record.
 */
public final class BadInputException extends RuntimeException {
    private final Reason reason;

    /** Bounded set of reasons: each is a metric tag value, so never add free-form values. */
    public enum Reason {
        NOT_JSON("not-json"),
        MISSING_FIELD("missing-field"),
        BAD_FIELD("bad-field"),
        NON_FINITE_VALUE("non-finite-value"),
        WRONG_VALUE_COUNT("wrong-value-count"),
        NULL_KEY("null-key"),
        BAD_KEY("bad-key"),
        NULL_VALUE("null-value"),
        OUT_OF_ORDER("out-of-order"),
        TOO_LARGE("too-large"),
        CORRUPT_IMAGE("corrupt-image"),
        UNSUPPORTED_CONTENT_TYPE("unsupported-content-type"),
        EMPTY_FRAME("empty-frame"),
        FRAME_SIZE_CHANGED("frame-size-changed"),
        BAD_FEATURES("bad-features"),
        PROCESSING_ERROR("processing-error");

        private final String code;

        Reason(String code) {
            this.code = code;
        }

        public String code() {
            return code;
        }
    }

    public BadInputException(Reason reason, String detail) {
        super(detail);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
