package net.swarming.common.wire;

import java.util.Objects;

/** A result payload could not be decoded; the message says what was wrong and where. */
public final class PayloadException extends Exception {

    /** Why a payload was refused; stable names, used as a metrics label. */
    public enum Reason {
        /** Not JSON at all (or empty). */
        NOT_JSON,
        /** JSON, but neither the original array nor a version 2 object. */
        WRONG_SHAPE,
        /** The right shape, but a field is missing, of the wrong type or out of range. */
        BAD_FIELD,
        /** Larger than {@link PingCodec#MAX_PAYLOAD_BYTES}; not parsed. */
        TOO_LARGE,
        /** The bytes are not UTF-8. */
        NOT_UTF8
    }

    private final Reason reason;

    public PayloadException(Reason reason, String message) {
        this(reason, message, null);
    }

    public PayloadException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    public Reason reason() {
        return reason;
    }
}
