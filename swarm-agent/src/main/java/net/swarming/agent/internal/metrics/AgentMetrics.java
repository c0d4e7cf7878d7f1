package net.swarming.agent.internal.metrics;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.Locale;
import java.util.Objects;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;
import net.swarming.common.wire.WatchRejectedException;

/** The agent's Prometheus metrics ({@code swarm_agent_*}), registered in one registry per agent. */
public final class AgentMetrics {

    private final PrometheusRegistry registry;
    private final Gauge targets;
    private final Counter rounds;
    private final Counter roundsSkipped;
    private final Counter roundsLate;
    private final Counter roundsRefused;
    private final Counter probesSent;
    private final Counter probesReceived;
    private final Counter resultsPublished;
    private final Counter resultsDropped;
    private final Counter watchRejected;

    public AgentMetrics(PrometheusRegistry registry) {
        this.registry = Objects.requireNonNull(registry, "registry");
        targets = Gauge.builder().name("swarm_agent_targets")
                .help("Targets of the current watch that this agent probes").register(registry);
        rounds = Counter.builder().name("swarm_agent_rounds_total")
                .help("Probing rounds started").register(registry);
        roundsSkipped = Counter.builder().name("swarm_agent_rounds_skipped_total")
                .help("Rounds not started because the target's previous round was still running").register(registry);
        roundsLate = Counter.builder().name("swarm_agent_rounds_late_total")
                .help("Rounds started later than their slot in the step by more than the tolerance (an overloaded "
                        + "scheduler or probe pool)").register(registry);
        roundsRefused = Counter.builder().name("swarm_agent_rounds_refused_total")
                .help("Rounds not probed because the target is a multicast, broadcast or unspecified address")
                .register(registry);
        probesSent = Counter.builder().name("swarm_agent_probes_sent_total")
                .help("Probes sent (pings of all rounds)").register(registry);
        probesReceived = Counter.builder().name("swarm_agent_probes_received_total")
                .help("Probes answered").register(registry);
        resultsPublished = Counter.builder().name("swarm_agent_results_published_total")
                .help("Results acknowledged by a broker").register(registry);
        resultsDropped = Counter.builder().name("swarm_agent_results_dropped_total")
                .help("Results never published: queue full while disconnected, repeated failures, or shutdown")
                .register(registry);
        watchRejected = Counter.builder().name("swarm_agent_watch_rejected_total")
                .help("watch messages refused; the previous target list stayed").labelNames("reason")
                .register(registry);
        for (WatchRejectedException.Reason reason : WatchRejectedException.Reason.values()) {
            watchRejected.initLabelValues(label(reason));
        }
    }

    /** Registers the metrics whose values live elsewhere (queue, MQTT link). Call once. */
    public void bind(IntSupplier queueDepth, BooleanSupplier brokerConnected, LongSupplier brokerReconnects) {
        GaugeWithCallback.builder().name("swarm_agent_queue_depth")
                .help("Results waiting to be published")
                .callback(cb -> cb.call(queueDepth.getAsInt())).register(registry);
        GaugeWithCallback.builder().name("swarm_agent_broker_connected")
                .help("1 while connected to a broker, else 0")
                .callback(cb -> cb.call(brokerConnected.getAsBoolean() ? 1 : 0)).register(registry);
        CounterWithCallback.builder().name("swarm_agent_broker_reconnects_total")
                .help("Connections established after the first one (failovers and reconnects)")
                .callback(cb -> cb.call(brokerReconnects.getAsLong())).register(registry);
    }

    /** Registers the spool's gauges and its drop counter. Call once, only when there is a spool. */
    public void bindSpool(LongSupplier messages, LongSupplier bytes, LongSupplier dropped) {
        GaugeWithCallback.builder().name("swarm_agent_spool_messages")
                .help("Results waiting in the on-disk spool")
                .callback(cb -> cb.call(messages.getAsLong())).register(registry);
        GaugeWithCallback.builder().name("swarm_agent_spool_bytes")
                .help("Bytes of the results waiting in the on-disk spool")
                .callback(cb -> cb.call(bytes.getAsLong())).register(registry);
        CounterWithCallback.builder().name("swarm_agent_spool_dropped_total")
                .help("Results dropped from the spool because it was full (oldest first)")
                .callback(cb -> cb.call(dropped.getAsLong())).register(registry);
    }

    public PrometheusRegistry registry() {
        return registry;
    }

    public void targets(int n) {
        targets.set(n);
    }

    public void roundStarted() {
        rounds.inc();
    }

    public void roundSkipped() {
        roundsSkipped.inc();
    }

    public void roundLate() {
        roundsLate.inc();
    }

    public void roundRefused() {
        roundsRefused.inc();
    }

    public long roundsLateCount() {
        return roundsLate.getLongValue();
    }

    public long roundsRefusedCount() {
        return roundsRefused.getLongValue();
    }

    public void probes(int sent, int received) {
        probesSent.inc(sent);
        probesReceived.inc(received);
    }

    public void published() {
        resultsPublished.inc();
    }

    public void dropped(int n) {
        resultsDropped.inc(n);
    }

    public void watchRejected(WatchRejectedException.Reason reason) {
        watchRejected.labelValues(label(reason)).inc();
    }

    public long roundsStarted() {
        return rounds.getLongValue();
    }

    public long roundsSkippedCount() {
        return roundsSkipped.getLongValue();
    }

    public long resultsPublishedCount() {
        return resultsPublished.getLongValue();
    }

    public long resultsDroppedCount() {
        return resultsDropped.getLongValue();
    }

    public long watchRejectedCount(WatchRejectedException.Reason reason) {
        return watchRejected.labelValues(label(reason)).getLongValue();
    }

    private static String label(WatchRejectedException.Reason reason) {
        return reason.name().toLowerCase(Locale.ROOT);
    }
}
