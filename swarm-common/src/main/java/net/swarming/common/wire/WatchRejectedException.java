package net.swarming.common.wire;

import java.util.Objects;

/**
 * A {@code watch} message was refused as a whole; whoever received it keeps the list it had.
 * The message names the offending value (shortened) and where it was.
 */
public final class WatchRejectedException extends Exception {

    /** Why a message was refused; stable names, used as a metrics label. */
    public enum Reason {
        /** Larger than {@link WatchLimits#maxPayloadBytes()}; not parsed at all. */
        TOO_LARGE,
        /** More entries than {@link WatchLimits#maxTargets()}. */
        TOO_MANY_TARGETS,
        /** An entry is not a valid target, or one of its options is out of range or of the wrong type. */
        INVALID_TARGET,
        /** Starts with '{' but is not JSON, or not the shape of a watch document. */
        MALFORMED_JSON,
        /** A JSON document whose {@code version} this decoder does not read (or that has none). */
        UNSUPPORTED_VERSION,
        /** The bytes are not UTF-8. */
        NOT_UTF8
    }

    private final Reason reason;

    public WatchRejectedException(Reason reason, String message) {
        super(message);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    public Reason reason() {
        return reason;
    }
}
