package net.swarming.common.wire;

import java.time.Duration;
import net.swarming.common.wire.internal.TargetSyntax;
import net.swarming.common.wire.internal.Texts;

/**
 * One entry of a watch list: what to probe and, optionally, how. A null option means "the agent's default".
 *
 * @param target a hostname (RFC 1123 labels, at most 253 characters, optional trailing dot), an IPv4 literal, an
 *     IPv6 literal (optionally in brackets, optionally with a zone), or an http/https URL with a host; kept exactly
 *     as written because it names the result topic
 * @param probe how to probe, or null for the agent's default
 * @param step time between two rounds on this target, {@link #MIN_STEP}..{@link #MAX_STEP}, or null
 * @param pings probes per round, {@link #MIN_PINGS}..{@link #MAX_PINGS}, or null
 * @param port TCP port for {@link ProbeType#TCP} probes, 1..65535, or null (other probes ignore it)
 */
public record WatchTarget(String target, ProbeType probe, Duration step, Integer pings, Integer port) {

    public static final Duration MIN_STEP = Duration.ofSeconds(1);
    public static final Duration MAX_STEP = Duration.ofDays(1);
    public static final int MIN_PINGS = 1;
    public static final int MAX_PINGS = 1000;
    public static final int MIN_PORT = 1;
    public static final int MAX_PORT = 65_535;

    /**
     * @throws IllegalArgumentException naming the bad value and the accepted range or syntax
     */
    public WatchTarget {
        TargetSyntax.classify(target);
        if (step != null && (step.compareTo(MIN_STEP) < 0 || step.compareTo(MAX_STEP) > 0)) {
            throw new IllegalArgumentException("step " + step + " of target " + Texts.quote(target)
                    + " is out of range; it must be between 1 s and 1 day");
        }
        if (pings != null && (pings < MIN_PINGS || pings > MAX_PINGS)) {
            throw new IllegalArgumentException("pings " + pings + " of target " + Texts.quote(target)
                    + " is out of range; it must be between " + MIN_PINGS + " and " + MAX_PINGS);
        }
        if (port != null && (port < MIN_PORT || port > MAX_PORT)) {
            throw new IllegalArgumentException("port " + port + " of target " + Texts.quote(target)
                    + " is out of range; it must be between " + MIN_PORT + " and " + MAX_PORT);
        }
    }

    /**
     * A target with every option left to the agent.
     *
     * @throws IllegalArgumentException when the target is not valid
     */
    public static WatchTarget of(String target) {
        return new WatchTarget(target, null, null, null, null);
    }

    /** This target with its unset options taken from the given defaults (each possibly null). */
    public WatchTarget withDefaults(ProbeType defaultProbe, Duration defaultStep, Integer defaultPings,
            Integer defaultPort) {
        return new WatchTarget(target,
                probe != null ? probe : defaultProbe,
                step != null ? step : defaultStep,
                pings != null ? pings : defaultPings,
                port != null ? port : defaultPort);
    }

    /** True when the target is an http or https URL rather than a host. */
    public boolean isUrl() {
        return TargetSyntax.classify(target) == TargetSyntax.Kind.URL;
    }

    /** True when no option is set, i.e. the entry is just a target name. */
    public boolean hasNoOptions() {
        return probe == null && step == null && pings == null && port == null;
    }
}
