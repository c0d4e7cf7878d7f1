package net.swarming.agent.probe;

import java.util.concurrent.CompletableFuture;
import net.swarming.common.wire.ProbeType;

/**
 * One way of measuring a target: TCP connect now; in-process ICMP, HTTP and DNS later.
 *
 * <p>A probe runs whole rounds: resolve the target once, send {@link ProbeRequest#pings()} probes spaced by
 * {@link ProbeRequest#interval()}, and report every round trip. The interface is asynchronous so that an engine that
 * multiplexes thousands of targets over one socket (the coming ICMP probe) fits it as well as the blocking TCP probe.
 *
 * <p>Implementations are thread-safe and are created once per agent by a {@link ProbeRegistry.Factory}.
 */
public interface Probe extends AutoCloseable {

    /** What this probe measures with. */
    ProbeType type();

    /**
     * Starts one round and returns at once; must not block the caller, which is the agent's scheduler thread.
     *
     * @return completes with the round (a failed resolution is a round with an error, not an exceptional completion);
     *     completes exceptionally only when the round was aborted, e.g. by shutdown
     */
    CompletableFuture<ProbeRound> round(ProbeRequest request);

    /** Releases what the probe holds itself (sockets, threads it created); idempotent. */
    @Override
    default void close() {
    }
}
