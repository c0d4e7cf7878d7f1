package net.swarming.common.wire;

import java.util.Locale;
import net.swarming.common.wire.internal.Texts;

/** Outcome of one probing round; on the wire {@code "ok"} or {@code "error"}, as in the original agents. */
public enum ResultStatus {
    /** The round ran: loss and round-trip times are meaningful (100 % loss is still OK). */
    OK,
    /** The round could not run (unknown host, probe failure); the result carries a message instead. */
    ERROR;

    private final String wireName = name().toLowerCase(Locale.ROOT);

    /** {@code ok} or {@code error}. */
    public String wireName() {
        return wireName;
    }

    /**
     * Reads a wire name (exact, lowercase, as every agent writes it).
     *
     * @throws IllegalArgumentException naming the value
     */
    public static ResultStatus fromWire(String name) {
        for (ResultStatus status : values()) {
            if (status.wireName.equals(name)) {
                return status;
            }
        }
        throw new IllegalArgumentException("unknown status " + Texts.quote(name)
                + "; accepted: ok, error");
    }
}
