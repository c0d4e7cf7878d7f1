package net.swarming.agent.internal.schedule;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import net.swarming.common.cli.Durations;
import net.swarming.agent.internal.NamedThreads;
import net.swarming.agent.internal.metrics.AgentMetrics;
import net.swarming.agent.probe.Probe;
import net.swarming.agent.probe.ProbeRequest;
import net.swarming.agent.probe.ProbeRound;
import net.swarming.common.wire.ProbeType;
import net.swarming.common.wire.WatchTarget;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts a round for every target once per step.
 *
 * <p>Rounds are spread over the step instead of firing in lockstep (which looks like loss on the path and at the
 * target): each target's round falls at a fixed phase of the wall-clock step grid, derived from a hash of the target
 * and a random per-agent seed, so two agents probe the same target at different moments and one agent's targets fall
 * all over the step. The phase depends only on the target, so a new watch leaves unchanged targets on their schedule,
 * starts new ones within one step and stops removed ones.
 *
 * <p>One thread ({@code swarm-agent-schedule}) owns the target table: {@link #replace} hands the new list over to it.
 * Rounds themselves run in the probes (on the {@code swarm-probe-<n>} pool for TCP). A target whose previous round is
 * still running skips its turn (counted), so a slow target cannot pile rounds up.
 */
public final class RoundScheduler implements AutoCloseable {

    /**
     * Settings that apply to targets whose watch entry does not set them.
     *
     * @param minProbeInterval the shortest spacing of two probes to one target: a round's pings are never closer
     */
    public record Defaults(ProbeType probe, Duration step, int pings, Duration pingInterval, Duration timeout,
                           Duration minProbeInterval) {
        public Defaults {
            Objects.requireNonNull(probe, "probe");
            Objects.requireNonNull(step, "step");
            Objects.requireNonNull(pingInterval, "pingInterval");
            Objects.requireNonNull(timeout, "timeout");
            Objects.requireNonNull(minProbeInterval, "minProbeInterval");
        }

        /** Without a minimum spacing beyond {@code pingInterval}. */
        public Defaults(ProbeType probe, Duration step, int pings, Duration pingInterval, Duration timeout) {
            this(probe, step, pings, pingInterval, timeout, Duration.ZERO);
        }
    }

    /** A round that starts later than its slot by more than this (at most 1 s, a tenth of the step) counts as late. */
    static long lateToleranceNanos(long stepNanos) {
        return Math.max(TimeUnit.MILLISECONDS.toNanos(50), Math.min(TimeUnit.SECONDS.toNanos(1), stepNanos / 10));
    }

    private static final Logger LOG = LoggerFactory.getLogger(RoundScheduler.class);

    private final Map<ProbeType, Probe> probes;
    private final Defaults defaults;
    private final Consumer<ProbeRound> sink;
    private final Clock clock;
    private final long seed;
    private final AgentMetrics metrics;
    private final ScheduledThreadPoolExecutor timer;
    private final AtomicBoolean closed = new AtomicBoolean();

    /** Only touched on the timer thread. */
    private final Map<String, Entry> entries = new HashMap<>();
    private volatile int size;

    /**
     * @param probes the available probes by type
     * @param sink receives every completed round, on the thread that completed it; must not block
     * @param seed the per-agent random seed of the phases
     */
    public RoundScheduler(Map<ProbeType, Probe> probes, Defaults defaults, Consumer<ProbeRound> sink, Clock clock,
                          long seed, AgentMetrics metrics) {
        this.probes = Map.copyOf(probes);
        this.defaults = Objects.requireNonNull(defaults, "defaults");
        this.sink = Objects.requireNonNull(sink, "sink");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.seed = seed;
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.timer = new ScheduledThreadPoolExecutor(1, NamedThreads.single("swarm-agent-schedule"));
        timer.setRemoveOnCancelPolicy(true);
        timer.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        timer.setContinueExistingPeriodicTasksAfterShutdownPolicy(false);
    }

    /** Makes {@code targets} the target list; returns at once, the change is applied on the scheduler's thread. */
    public void replace(List<WatchTarget> targets) {
        List<WatchTarget> copy = List.copyOf(targets);
        try {
            timer.execute(() -> {
                try {
                    apply(copy);
                } catch (Throwable t) {
                    LOG.error("applying a new target list failed; the previous schedule may be partly kept", t);
                }
            });
        } catch (RejectedExecutionException e) {
            LOG.debug("scheduler closed: target list of {} ignored", copy.size());
        }
    }

    /** Targets currently scheduled. */
    public int size() {
        return size;
    }

    /** Stops starting rounds; rounds already started complete on their own. Idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        timer.shutdownNow();
        try {
            if (!timer.awaitTermination(2, TimeUnit.SECONDS)) {
                LOG.warn("scheduler thread did not stop within 2 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        size = 0;
        metrics.targets(0);
    }

    private void apply(List<WatchTarget> targets) {
        Map<String, WatchTarget> wanted = new LinkedHashMap<>();
        for (WatchTarget t : targets) {
            wanted.putIfAbsent(t.target(), t);
        }
        int removed = 0;
        int kept = 0;
        for (Iterator<Entry> it = entries.values().iterator(); it.hasNext(); ) {
            Entry e = it.next();
            WatchTarget next = wanted.get(e.spec.target());
            if (next != null && next.equals(e.spec)) {
                wanted.remove(e.spec.target());
                kept++;
            } else {
                e.cancel();
                it.remove();
                removed++;
            }
        }
        int added = 0;
        List<String> unsupported = new ArrayList<>();
        for (WatchTarget t : wanted.values()) {
            try {
                if (schedule(t)) {
                    added++;
                } else {
                    unsupported.add(t.target());
                }
            } catch (RuntimeException e) {
                // One bad entry must not cost the others their schedule.
                LOG.error("cannot schedule {}; the other targets are scheduled", t.target(), e);
            }
        }
        if (!unsupported.isEmpty()) {
            LOG.warn("{} targets ask for a probe this agent does not have (it has {}); not probed: {}",
                    unsupported.size(), probes.keySet().stream().map(ProbeType::wireName).toList(),
                    abbreviate(unsupported));
        }
        size = entries.size();
        metrics.targets(size);
        LOG.info("schedule: {} targets ({} added, {} removed or changed, {} unchanged)", size, added, removed, kept);
    }

    private boolean schedule(WatchTarget t) {
        // Not WatchTarget.withDefaults: the agent's own --step may be shorter than a watch entry may ask for.
        ProbeType type = t.probe() != null ? t.probe() : defaults.probe();
        Probe probe = probes.get(type);
        if (probe == null) {
            return false;
        }
        Duration step = t.step() != null ? t.step() : defaults.step();
        int pings = t.pings() != null ? t.pings() : defaults.pings();
        // The port stays null unless the watch sets it: the probe knows its own default (and a URL's port).
        Duration interval = defaults.pingInterval().compareTo(defaults.minProbeInterval()) < 0
                ? defaults.minProbeInterval() : defaults.pingInterval();
        ProbeRequest request = new ProbeRequest(t.target(), pings, interval, defaults.timeout(), t.port());
        if (request.maxDuration().compareTo(step) > 0) {
            LOG.warn("a round of {} can take {}, longer than its step {}: some rounds will be skipped", t.target(),
                    Durations.format(request.maxDuration()), Durations.format(step));
        }
        long stepNanos = step.toNanos();
        long delay = initialDelayNanos(t.target(), stepNanos, clock.instant(), seed);
        String refusal = AddressPolicy.refusalOfLiteral(t.target());
        if (refusal != null) {
            LOG.warn("{}: every round of it will be an error", refusal);
        }
        Entry e = new Entry(t, probe, type, request, refusal, stepNanos);
        e.due = System.nanoTime() + delay;
        e.future = timer.scheduleAtFixedRate(e::tick, delay, stepNanos, TimeUnit.NANOSECONDS);
        entries.put(t.target(), e);
        return true;
    }

    /**
     * Nanoseconds from {@code now} to the target's next phase on the step grid (epoch-aligned), in {@code [0, step)}.
     */
    static long initialDelayNanos(String target, long stepNanos, Instant now, long seed) {
        long phase = Math.floorMod(mix(seed ^ target.hashCode() * 0x9E3779B97F4A7C15L), stepNanos);
        // Epoch nanoseconds fit in a long until 2262.
        long nowNanos = Math.floorMod(now.getEpochSecond() * 1_000_000_000L + now.getNano(), stepNanos);
        return Math.floorMod(phase - nowNanos, stepNanos);
    }

    /** The finaliser of SplitMix64: spreads similar inputs ({@code a.example}, {@code b.example}) apart. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private static String abbreviate(List<String> names) {
        return names.size() <= 10 ? names.toString() : names.subList(0, 10) + " and " + (names.size() - 10) + " more";
    }

    /** One scheduled target. */
    private final class Entry {
        final WatchTarget spec;
        final Probe probe;
        final ProbeType type;
        final ProbeRequest request;
        /** Why the target is never probed (a multicast, broadcast or unspecified address); null when it is. */
        final String refusal;
        final long stepNanos;
        final AtomicBoolean inFlight = new AtomicBoolean();
        volatile ScheduledFuture<?> future;
        volatile boolean cancelled;
        /** The slot of the next tick, by {@link System#nanoTime()}; only touched on the timer thread. */
        long due;

        Entry(WatchTarget spec, Probe probe, ProbeType type, ProbeRequest request, String refusal, long stepNanos) {
            this.spec = spec;
            this.probe = probe;
            this.type = type;
            this.request = request;
            this.refusal = refusal;
            this.stepNanos = stepNanos;
        }

        void cancel() {
            cancelled = true;
            ScheduledFuture<?> f = future;
            if (f != null) {
                f.cancel(false);
            }
        }

        /** Runs on the timer thread; never throws, so the schedule survives any failure. */
        void tick() {
            try {
                if (cancelled || closed.get()) {
                    return;
                }
                long lateness = System.nanoTime() - due;
                due += stepNanos;
                if (lateness > lateToleranceNanos(stepNanos)) {
                    metrics.roundLate();
                    LOG.debug("round of {} started {} ms after its slot", spec.target(),
                            TimeUnit.NANOSECONDS.toMillis(lateness));
                }
                if (refusal != null) {
                    metrics.roundRefused();
                    sink.accept(ProbeRound.failed(spec.target(), type, clock.instant(), refusal));
                    return;
                }
                if (!inFlight.compareAndSet(false, true)) {
                    metrics.roundSkipped();
                    LOG.debug("round of {} skipped: the previous one is still running", spec.target());
                    return;
                }
                metrics.roundStarted();
                CompletableFuture<ProbeRound> round;
                try {
                    round = probe.round(request);
                } catch (RuntimeException e) {
                    inFlight.set(false);
                    throw e;
                }
                round.whenComplete(this::completed);
            } catch (Throwable t) {
                LOG.error("starting a round of {} failed; the next one is still scheduled", spec.target(), t);
            }
        }

        private void completed(ProbeRound round, Throwable failure) {
            inFlight.set(false);
            if (failure != null) {
                if (!closed.get()) {
                    LOG.warn("round of {} aborted: {}", spec.target(), failure.toString());
                }
                return;
            }
            try {
                // A round of a target removed meanwhile is still a real measurement: publish it.
                sink.accept(round);
            } catch (Throwable t) {
                LOG.error("handling the result of {} failed", spec.target(), t);
            }
        }
    }
}
