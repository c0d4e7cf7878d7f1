package net.swarming.agent;

/** How results go on the wire. */
public enum ResultFormat {
    /**
     * The original agent's array, {@code ["<agent>", "ok", {"Error": null, "loss": …, "Round trip": […]}]}: what
     * existing subscribers and the original indexer understand.
     */
    ORIGINAL(1),
    /** Swarming's JSON object: every round trip, counts, the resolved address and {@code @timestamp} = round start. */
    V2(2);

    private final int version;

    ResultFormat(int version) {
        this.version = version;
    }

    /** The {@code PingResult} version this format writes. */
    public int version() {
        return version;
    }
}
