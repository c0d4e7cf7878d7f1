package net.swarming.agent.probe;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import net.swarming.common.wire.ProbeType;
import net.swarming.common.wire.RoundExtras;

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
 * @param late replies that came after their probe's timeout (the probe stays lost in {@code rtts}); 0 for TCP
 * @param probeErrors answers that were errors rather than replies, e.g. an ICMP destination unreachable from a router
 *     (the probe stays lost in {@code rtts}); empty for TCP
 * @param details what a probe type measures beyond the above (HTTP status and phase timings); only its
 *     {@code httpStatus} and {@code phasesMs} are used ({@code late} and {@code probeErrors} are the fields above);
 *     {@link RoundExtras#NONE} when none, never null
 */
public record ProbeRound(String target, ProbeType probe, Instant start, String resolvedIp, List<Double> rtts,
                         int duplicates, String error, int late, List<ProbeError> probeErrors, RoundExtras details) {

    /** A round without probe-specific details. */
    public ProbeRound(String target, ProbeType probe, Instant start, String resolvedIp, List<Double> rtts,
                      int duplicates, String error, int late, List<ProbeError> probeErrors) {
        this(target, probe, start, resolvedIp, rtts, duplicates, error, late, probeErrors, RoundExtras.NONE);
    }

    /**
     * An error answer to one probe.
     *
     * @param ping the probe's index within the round (0-based, as in {@code rtts})
     * @param description what came back, e.g. {@code destination unreachable (host unreachable)}
     * @param from the address the error came from (a router, or the target itself); null when unknown
     */
    public record ProbeError(int ping, String description, String from) {
        public ProbeError {
            Objects.requireNonNull(description, "description");
        }
    }

    /** A round without late replies or error answers (the walking skeleton's shape). */
    public ProbeRound(String target, ProbeType probe, Instant start, String resolvedIp, List<Double> rtts,
                      int duplicates, String error) {
        this(target, probe, start, resolvedIp, rtts, duplicates, error, 0, List.of());
    }

    public ProbeRound {
        details = details == null ? RoundExtras.NONE : details;
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
        if (late < 0) {
            throw new IllegalArgumentException("late must be >= 0, got " + late);
        }
        probeErrors = List.copyOf(Objects.requireNonNull(probeErrors, "probeErrors"));
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

    /** This round with probe-specific {@code details} (HTTP status, phase timings) attached. */
    public ProbeRound withDetails(RoundExtras details) {
        return new ProbeRound(target, probe, start, resolvedIp, rtts, duplicates, error, late, probeErrors, details);
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
