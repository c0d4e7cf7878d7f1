package net.swarming.agent.probe;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import net.swarming.common.wire.ProbeType;

/**
 * The outcome of one round.
 *
 * @param target the target as requested
 * @param probe the probe that measured
 * @param start wall-clock time at the start of the round (from the agent's clock)
 * @param resolvedIp the address probed; null when resolution failed
 * @param rtts one entry per probe sent, in sending order: the round trip in milliseconds, or null when lost; empty when
 *     the round failed before sending
 * @param duplicates replies received more than once (always 0 for TCP)
 * @param error why the round failed as a whole (e.g. {@code Unknown host}); null when probes were sent
 */
public record ProbeRound(String target, ProbeType probe, Instant start, String resolvedIp, List<Double> rtts,
                         int duplicates, String error) {

    public ProbeRound {
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(probe, "probe");
        Objects.requireNonNull(start, "start");
        Objects.requireNonNull(rtts, "rtts");
        // List.copyOf refuses nulls, and null is how a lost probe is written.
        rtts = Collections.unmodifiableList(new ArrayList<>(rtts));
        for (Double rtt : rtts) {
            if (rtt != null && (rtt.isNaN() || rtt < 0)) {
                throw new IllegalArgumentException("round trip must be >= 0 ms, got " + rtt);
            }
        }
        if (duplicates < 0) {
            throw new IllegalArgumentException("duplicates must be >= 0, got " + duplicates);
        }
        if (error == null && rtts.isEmpty()) {
            throw new IllegalArgumentException("a round without an error must have sent at least one probe");
        }
    }

    /** A round that sent its probes. */
    public static ProbeRound completed(String target, ProbeType probe, Instant start, String resolvedIp,
                                       List<Double> rtts, int duplicates) {
        return new ProbeRound(target, probe, start, resolvedIp, rtts, duplicates, null);
    }

    /** A round that failed before any probe was sent, e.g. {@code Unknown host}. */
    public static ProbeRound failed(String target, ProbeType probe, Instant start, String error) {
        return new ProbeRound(target, probe, start, null, List.of(), 0, Objects.requireNonNull(error, "error"));
    }

    /** Whether the round failed as a whole. */
    public boolean isError() {
        return error != null;
    }

    /** Probes sent. */
    public int sent() {
        return rtts.size();
    }

    /** Probes answered. */
    public int received() {
        int n = 0;
        for (Double rtt : rtts) {
            if (rtt != null) {
                n++;
            }
        }
        return n;
    }

    /** The round trips of the answered probes, in sending order. */
    public List<Double> receivedRtts() {
        List<Double> out = new ArrayList<>(rtts.size());
        for (Double rtt : rtts) {
            if (rtt != null) {
                out.add(rtt);
            }
        }
        return out;
    }
}
