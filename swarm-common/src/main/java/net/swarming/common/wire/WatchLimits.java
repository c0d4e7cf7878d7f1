package net.swarming.common.wire;

/**
 * Bounds a {@link WatchDecoder} enforces, so that one bad {@code watch} message cannot exhaust an agent.
 *
 * @param maxPayloadBytes largest accepted payload, checked before any parsing
 * @param maxTargets largest number of entries (duplicates included)
 */
public record WatchLimits(int maxPayloadBytes, int maxTargets) {

    /** 8 MiB and 250,000 targets: a 100,000-target list is about 1.5 MB of text. */
    public static final WatchLimits DEFAULT = new WatchLimits(8 * 1024 * 1024, 250_000);

    /**
     * @throws IllegalArgumentException when a limit is not positive
     */
    public WatchLimits {
        if (maxPayloadBytes < 1) {
            throw new IllegalArgumentException("maxPayloadBytes must be at least 1, was " + maxPayloadBytes);
        }
        if (maxTargets < 1) {
            throw new IllegalArgumentException("maxTargets must be at least 1, was " + maxTargets);
        }
    }
}
