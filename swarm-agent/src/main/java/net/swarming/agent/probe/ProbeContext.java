package net.swarming.agent.probe;

import java.time.Clock;
import java.util.Objects;
import java.util.concurrent.ExecutorService;

/**
 * What the agent lends its probes.
 *
 * @param clock wall clock for round start times (round trips are timed with monotonic time, never with this)
 * @param roundExecutor the agent's bounded probe pool ({@code swarm-probe-<n>}, {@code --max-parallel} threads), for
 *     probes that block while measuring; owned by the agent, so probes never shut it down
 * @param defaultTcpPort the port TCP probes use when the watch names none
 */
public record ProbeContext(Clock clock, ExecutorService roundExecutor, int defaultTcpPort) {

    public ProbeContext {
        Objects.requireNonNull(clock, "clock");
        Objects.requireNonNull(roundExecutor, "roundExecutor");
        if (defaultTcpPort < 1 || defaultTcpPort > 65_535) {
            throw new IllegalArgumentException("defaultTcpPort must be 1-65535, got " + defaultTcpPort);
        }
    }
}
