package net.swarming.agent.probe;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * What one round measures.
 *
 * @param target the name or address as the watch gave it (resolved again every round)
 * @param pings probes per round, at least 1
 * @param interval spacing between the starts of consecutive probes
 * @param timeout how long one probe waits for its answer before it counts as lost
 * @param port the port for probes that use one (TCP); null for the probe's default
 */
public record ProbeRequest(String target, int pings, Duration interval, Duration timeout, Integer port) {

    public ProbeRequest {
        List<String> problems = new ArrayList<>();
        if (target == null || target.isBlank()) {
            problems.add("target must not be blank");
        }
        if (pings < 1) {
            problems.add("pings must be at least 1, got " + pings);
        }
        if (interval == null || interval.isNegative()) {
            problems.add("interval must be zero or positive, got " + interval);
        }
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            problems.add("timeout must be positive, got " + timeout);
        }
        if (port != null && (port < 1 || port > 65_535)) {
            problems.add("port must be 1-65535, got " + port);
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("invalid probe request: " + String.join("; ", problems));
        }
    }

    /** The longest a round can take once the target is resolved: the last probe's start plus its timeout. */
    public Duration maxDuration() {
        return interval.multipliedBy(pings - 1L).plus(timeout);
    }
}
