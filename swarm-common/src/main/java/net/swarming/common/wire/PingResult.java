package net.swarming.common.wire;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The outcome of one probing round of one target by one agent: what an agent publishes on {@code ping/<target>}.
 * Fields the original format does not carry are null (or an empty {@code rtts}) when decoded from it.
 *
 * @param agent the agent's host name (element 0 of the original array)
 * @param target the target as watched (from the topic, in the original format)
 * @param status whether the round ran
 * @param error what went wrong, for {@link ResultStatus#ERROR}; may be null
 * @param loss lost probes in percent, 0..100; null when unknown (e.g. for errors)
 * @param rtt round-trip summary; null when nothing came back or on error
 * @param rtts every round-trip time of the round in send order, in milliseconds, null for a lost probe; empty when
 *     unknown
 * @param sent probes sent, null when unknown
 * @param received replies received (duplicates not counted), null when unknown
 * @param duplicates duplicate replies, null when unknown
 * @param resolvedIp the address probed, null when unknown
 * @param probe the kind of probe, null when unknown
 * @param roundStart when the round started by the agent's clock, null when unknown
 * @param agentId the agent's stable identifier, null when unknown
 * @param version {@link PingCodec#ORIGINAL_VERSION} or {@link PingCodec#V2_VERSION}: the format it came in or is
 *     meant for
 */
public record PingResult(
        String agent,
        String target,
        ResultStatus status,
        String error,
        Double loss,
        RttStats rtt,
        List<Double> rtts,
        Integer sent,
        Integer received,
        Integer duplicates,
        String resolvedIp,
        ProbeType probe,
        Instant roundStart,
        String agentId,
        int version) {

    /**
     * @throws IllegalArgumentException naming the field and its bad value
     */
    public PingResult {
        requireText("agent", agent);
        requireText("target", target);
        if (status == null) {
            throw new IllegalArgumentException("status is required");
        }
        if (loss != null && !(loss >= 0 && loss <= 100)) {
            throw new IllegalArgumentException("loss must be a percentage between 0 and 100, was " + loss);
        }
        if (rtts == null) {
            rtts = List.of();
        } else {
            List<Double> copy = new ArrayList<>(rtts);
            for (Double value : copy) {
                if (value != null && !(Double.isFinite(value) && value >= 0)) {
                    throw new IllegalArgumentException("round-trip times must be finite and >= 0, found " + value);
                }
            }
            // List.copyOf refuses nulls, and a null here means "lost".
            rtts = Collections.unmodifiableList(copy);
        }
        requireCount("sent", sent);
        requireCount("received", received);
        requireCount("duplicates", duplicates);
        if (sent != null && received != null && received > sent) {
            throw new IllegalArgumentException("received " + received + " is more than sent " + sent);
        }
        if (version != PingCodec.ORIGINAL_VERSION && version != PingCodec.V2_VERSION) {
            throw new IllegalArgumentException("version must be 1 (original) or 2, was " + version);
        }
    }

    /**
     * A completed round in version 2: counts, loss and statistics are derived from {@code rtts}.
     *
     * @param rtts one entry per probe sent, in send order, null for a probe that got no reply
     * @throws IllegalArgumentException when {@code rtts} is empty or a field is invalid
     */
    public static PingResult ofRound(String agent, String agentId, String target, ProbeType probe, String resolvedIp,
            Instant roundStart, List<Double> rtts, int duplicates) {
        if (rtts == null || rtts.isEmpty()) {
            throw new IllegalArgumentException("a round sends at least one probe");
        }
        int sent = rtts.size();
        int received = 0;
        for (Double rtt : rtts) {
            if (rtt != null) {
                received++;
            }
        }
        double loss = 100.0 * (sent - received) / sent;
        return new PingResult(agent, target, ResultStatus.OK, null, loss, RttStats.ofRound(rtts).orElse(null), rtts,
                sent, received, duplicates, resolvedIp, probe, roundStart, agentId, PingCodec.V2_VERSION);
    }

    /**
     * A round that could not run, in version 2.
     *
     * @throws IllegalArgumentException when a field is invalid
     */
    public static PingResult failure(String agent, String agentId, String target, ProbeType probe,
            String resolvedIp, Instant roundStart, String error) {
        return new PingResult(agent, target, ResultStatus.ERROR, error, null, null, List.of(), null, null, null,
                resolvedIp, probe, roundStart, agentId, PingCodec.V2_VERSION);
    }

    private static void requireText(String name, String value) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(name + " is required and cannot be blank");
        }
    }

    private static void requireCount(String name, Integer value) {
        if (value != null && value < 0) {
            throw new IllegalArgumentException(name + " cannot be negative, was " + value);
        }
    }
}
