package net.swarming.agent.probe;

import java.time.Clock;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;

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

    /** A round that holds its thread for its whole length (TCP connects, HTTP requests, DNS queries). */
    @FunctionalInterface
    public interface BlockingRound {
        ProbeRound run() throws Exception;
    }

    /**
     * Runs a blocking round on {@link #roundExecutor()} so that {@link Probe#round} never blocks its caller. The future
     * fails when the pool refuses the round (agent shutting down) or the round throws; an interrupted round is not a
     * measurement, so it fails too rather than reporting a cut-short result.
     */
    public CompletableFuture<ProbeRound> runBlocking(BlockingRound round) {
        Objects.requireNonNull(round, "round");
        CompletableFuture<ProbeRound> result = new CompletableFuture<>();
        try {
            roundExecutor.execute(() -> {
                try {
                    result.complete(round.run());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    result.completeExceptionally(e);
                } catch (Throwable t) {
                    result.completeExceptionally(t);
                }
            });
        } catch (RejectedExecutionException e) {
            result.completeExceptionally(e);
        }
        return result;
    }
}
