package net.swarming.agent;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import net.swarming.agent.AgentConfigException.Problem;
import net.swarming.common.cli.Durations;
import net.swarming.agent.internal.NamedThreads;
import net.swarming.agent.internal.metrics.AgentMetrics;
import net.swarming.agent.internal.publish.ResultPublisher;
import net.swarming.agent.internal.publish.Results;
import net.swarming.agent.internal.schedule.RoundScheduler;
import net.swarming.agent.internal.spool.Spool;
import net.swarming.agent.probe.Probe;
import net.swarming.agent.probe.ProbeContext;
import net.swarming.agent.probe.ProbeRegistry;
import net.swarming.agent.probe.ProbeRound;
import net.swarming.agent.probe.icmp.IcmpProbe;
import net.swarming.common.metrics.MetricsServer;
import net.swarming.common.mqtt.InboundMessage;
import net.swarming.common.mqtt.LinkState;
import net.swarming.common.mqtt.MqttLink;
import net.swarming.common.mqtt.MqttLinkConfig;
import net.swarming.common.cli.MqttSecurityOptions;
import net.swarming.common.mqtt.Will;
import net.swarming.common.cli.SwarmVersion;
import net.swarming.common.wire.BirthCodec;
import net.swarming.common.wire.BirthMessage;
import net.swarming.common.wire.PingResult;
import net.swarming.common.wire.ProbeType;
import net.swarming.common.wire.Topics;
import net.swarming.common.wire.WatchDecoder;
import net.swarming.common.wire.WatchLimits;
import net.swarming.common.wire.WatchList;
import net.swarming.common.wire.WatchRejectedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running bee: takes its target list from the {@code watch} topic, probes every target once per step, and publishes
 * each round's result on {@code ping/<target>} (QoS 1, not retained).
 *
 * <p>Embeddable: {@link #start} returns a running agent, {@link #close} stops it. {@code AgentMain} wraps it for the
 * command line; tests and the local-swarm launcher run it in-process.
 *
 * <p>The agent starts with no targets and probes nothing until a {@code watch} message arrives. (The original probed
 * four French web sites by default; a fresh install or a test must not send traffic to the internet.) The watch is
 * published retained, so every agent gets the current list as soon as it subscribes.
 *
 * <p>MQTT: one {@link MqttLink} with a shuffled broker list, clean session, keep-alive 60 s and the original's will
 * ({@code rip/agent/<name>}, empty, QoS 1, not retained). A clean session is right because the watch is retained: on
 * every connect the broker hands the current list over again, and there is nothing else a persistent session could keep
 * for us (the agent subscribes to nothing else, and a persistent session under a per-process client id would only pile
 * up on the broker). Results produced while no broker is reachable wait in a bounded memory queue and are published in
 * order after the reconnect; with a spool directory ({@code --spool-dir}) they wait on disk instead, bounded, and
 * survive a clean restart.
 *
 * <p>Presence: on every connect the agent publishes its {@link BirthMessage} on {@code birth/agent/<name>} (QoS 1,
 * retained, so an indexer that subscribes later still sees every live agent); a clean shutdown clears it (an empty
 * retained message) before disconnecting. After a crash the will on {@code rip/agent/<name>} announces the death and
 * the retained birth stays until the agent comes back: a reader takes a will newer than the birth as "gone".
 */
public final class Agent implements AutoCloseable {

    /** How long shutdown lets rounds in flight finish before cutting them short. */
    static final Duration ROUND_GRACE = Duration.ofSeconds(2);
    /** How long shutdown waits for queued results to be acknowledged while a broker is connected. */
    static final Duration FLUSH_TIMEOUT = Duration.ofSeconds(5);
    static final Duration KEEP_ALIVE = Duration.ofSeconds(60);
    /** Results awaiting a broker's acknowledgement at once; the link's own in-flight window. */
    static final int PUBLISH_WINDOW = 1_000;
    static final int QOS = 1;

    private static final Logger LOG = LoggerFactory.getLogger(Agent.class);

    private final AgentConfig config;
    private final AgentMetrics metrics;
    private final WatchDecoder decoder = new WatchDecoder(WatchLimits.DEFAULT);
    private final AtomicBoolean closed = new AtomicBoolean();

    private ThreadPoolExecutor probePool;
    private Map<ProbeType, Probe> probes = Map.of();
    private ResultPublisher publisher;
    private RoundScheduler scheduler;
    private MqttLink link;
    private MetricsServer metricsServer;
    private Spool spool;
    private java.time.Instant started;
    private List<ProbeType> capabilities = List.of();

    private Agent(AgentConfig config) {
        this.config = config;
        this.metrics = new AgentMetrics(new PrometheusRegistry());
    }

    /** Starts an agent with the probes of this build ({@link ProbeRegistry#builtIn()}). */
    public static Agent start(AgentConfig config, Clock clock) {
        return start(config, clock, ProbeRegistry.builtIn());
    }

    /**
     * Starts an agent: connects in the background (it does not wait for a broker) and probes nothing until a watch
     * arrives.
     *
     * @param clock wall clock for round start times
     * @param probeRegistry the probes it may use; must include {@link AgentConfig#probe()}
     * @throws AgentConfigException when the default probe is not in the registry
     * @throws net.swarming.common.cli.StartupException when the metrics port cannot be bound, or the spool directory
     *     cannot be used (unwritable, or in use by another agent)
     */
    public static Agent start(AgentConfig config, Clock clock, ProbeRegistry probeRegistry) {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(clock, "clock");
        Objects.requireNonNull(probeRegistry, "probeRegistry");
        if (!probeRegistry.supports(config.probe())) {
            throw new AgentConfigException(List.of(new Problem("probe", config.probe().wireName()
                    + " is not available in this agent; available: " + probeRegistry.types())));
        }
        Agent agent = new Agent(config);
        try {
            agent.startParts(clock, probeRegistry);
        } catch (RuntimeException | Error e) {
            agent.close();
            throw e;
        }
        return agent;
    }

    private void startParts(Clock clock, ProbeRegistry probeRegistry) {
        started = clock.instant();
        if (config.spoolDir() != null) {
            try {
                spool = Spool.open(config.spoolDir(), config.spoolMaxBytes());
            } catch (IllegalStateException | java.io.UncheckedIOException e) {
                throw new net.swarming.common.cli.StartupException(e.getMessage(), e);
            }
            metrics.bindSpool(spool::messages, spool::bytes, spool::dropped);
        }
        probePool = new ThreadPoolExecutor(config.maxParallel(), config.maxParallel(), 60, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), NamedThreads.numbered("swarm-probe"));
        probePool.allowCoreThreadTimeOut(true);
        probes = probeRegistry.createAll(new ProbeContext(clock, probePool, config.tcpPort()));
        // A probe that could not open what it needs (ICMP without a socket) is not a capability.
        capabilities = probes.entrySet().stream()
                .filter(e -> !(e.getValue() instanceof IcmpProbe icmp && icmp.unavailableReason() != null))
                .map(Map.Entry::getKey).toList();

        MqttLinkConfig linkConfig = MqttLinkConfig.builder()
                .brokers(config.brokers())
                .shuffle(true)
                .clientId(config.clientId())
                .cleanSession(true)
                .keepAlive(KEEP_ALIVE)
                .maxInflight(PUBLISH_WINDOW)
                .will(new Will(Topics.ripAgent(config.name()), new byte[0], QOS, false))
                .subscribe(Topics.WATCH, QOS)
                .security(config.mqttSecurity())
                .build();
        link = new MqttLink(linkConfig, this::onMessage, clock);

        publisher = new ResultPublisher(new ResultPublisher.Transport() {
            @Override
            public boolean isConnected() {
                return link.state() == LinkState.CONNECTED;
            }

            @Override
            public CompletableFuture<Void> publish(String topic, byte[] payload) {
                return link.publish(topic, payload, QOS, false);
            }
        }, config.queueCapacity(), Math.min(PUBLISH_WINDOW, config.queueCapacity()), metrics, spool);

        scheduler = new RoundScheduler(probes, new RoundScheduler.Defaults(config.probe(), config.step(),
                config.pings(), config.pingInterval(), config.timeout(), config.minProbeInterval()), this::onRound, clock,
                ThreadLocalRandom.current().nextLong(), metrics);

        metrics.bind(publisher::depth, () -> link.state() == LinkState.CONNECTED,
                () -> Math.max(0, link.connectCount() - 1));
        link.addStateListener(this::onLinkState);
        if (config.metricsEnabled()) {
            metricsServer = MetricsServer.start(config.metricsHost(), config.metricsPort(), metrics.registry());
        }
        link.start();
        LOG.info("agent {} started: client id {}, brokers {} ({}), format {}, probe {} (tcp port {}), step {}, {} pings "
                        + "every {}, timeout {}, {} rounds in parallel; no targets until a watch arrives",
                config.name(), config.clientId(), config.brokers(),
                MqttSecurityOptions.describe(config.mqttSecurity()), config.format().name().toLowerCase(Locale.ROOT),
                config.probe().wireName(), config.tcpPort(), Durations.format(config.step()), config.pings(),
                Durations.format(config.pingInterval()), Durations.format(config.timeout()), config.maxParallel());
    }

    /** The configuration it runs with. */
    public AgentConfig config() {
        return config;
    }

    /** Targets currently scheduled. */
    public int targetCount() {
        return scheduler == null ? 0 : scheduler.size();
    }

    /** Whether the agent is connected to a broker (and subscribed to the watch). */
    public boolean isConnected() {
        return link != null && link.state() == LinkState.CONNECTED;
    }

    /** Waits until connected to a broker; false when the timeout passed first. */
    public boolean awaitConnected(Duration timeout) throws InterruptedException {
        return link.awaitConnected(timeout);
    }

    /** Results not yet acknowledged by a broker: in memory and in the spool. */
    public long queueDepth() {
        return publisher == null ? 0 : publisher.depth() + publisher.spooled();
    }

    /** Results waiting in the on-disk spool (0 without one). */
    public long spooled() {
        return publisher == null ? 0 : publisher.spooled();
    }

    /** The port {@code /metrics} is served on, or -1 when off. */
    public int metricsPort() {
        return metricsServer == null ? AgentConfig.METRICS_OFF : metricsServer.port();
    }

    /** The agent's Prometheus registry (its {@code swarm_agent_*} metrics, plus JVM metrics when served). */
    public PrometheusRegistry registry() {
        return metrics.registry();
    }

    AgentMetrics metrics() {
        return metrics;
    }

    /**
     * Stops in order: no new rounds; rounds in flight get {@link #ROUND_GRACE} to finish; queued results get
     * {@link #FLUSH_TIMEOUT} to be acknowledged while a broker is connected; then the MQTT link disconnects cleanly
     * (so the broker discards the will) and the threads stop. Idempotent.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        LOG.info("agent {} stopping: no new rounds", config.name());
        if (scheduler != null) {
            scheduler.close();
        }
        boolean interrupted = false;
        if (probePool != null) {
            int active = probePool.getActiveCount();
            if (active > 0) {
                LOG.info("agent {} stopping: waiting up to {} for {} rounds in flight", config.name(),
                        Durations.format(ROUND_GRACE), active);
            }
            probePool.shutdown();
            try {
                if (!probePool.awaitTermination(ROUND_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
                    LOG.info("agent {} stopping: cutting {} rounds short after {}", config.name(),
                            probePool.getActiveCount(), Durations.format(ROUND_GRACE));
                    probePool.shutdownNow();
                    probePool.awaitTermination(1, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                interrupted = true;
                probePool.shutdownNow();
            }
        }
        probes.values().forEach(Agent::closeQuietly);
        if (publisher != null) {
            int depth = publisher.depth();
            if (depth > 0) {
                LOG.info("agent {} stopping: publishing {} queued results (at most {})", config.name(), depth,
                        Durations.format(FLUSH_TIMEOUT));
            }
            try {
                if (!interrupted && !publisher.flush(FLUSH_TIMEOUT)) {
                    LOG.warn("agent {} stopping: {} results could not be published", config.name(),
                            publisher.depth());
                }
            } catch (InterruptedException e) {
                interrupted = true;
            }
            publisher.close();
        }
        if (spool != null) {
            spool.close();
        }
        if (link != null) {
            clearBirth();
            LOG.info("agent {} stopping: disconnecting from the broker", config.name());
            link.close();
        }
        if (metricsServer != null) {
            metricsServer.close();
        }
        LOG.info("agent {} stopped", config.name());
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** On the link's dispatch thread: decoding is cheap, the scheduler takes the list over on its own thread. */
    private void onMessage(InboundMessage m) {
        if (!Topics.WATCH.equals(m.topic())) {
            LOG.debug("ignoring a message on {}", m.topic());
            return;
        }
        WatchList list;
        try {
            list = decoder.decode(m.payload());
        } catch (WatchRejectedException e) {
            metrics.watchRejected(e.reason());
            LOG.warn("watch rejected ({}): {}; keeping the previous list of {} targets", e.reason(), e.getMessage(),
                    scheduler.size());
            return;
        }
        if (list.isEmpty()) {
            LOG.info("watch is empty: no targets to probe");
        } else {
            LOG.info("watch: {} targets (from {}{})", list.targets().size(), m.broker(),
                    m.retained() ? ", retained" : "");
        }
        scheduler.replace(list.targets());
    }

    /** On the thread that completed the round; queuing never blocks. */
    private void onRound(ProbeRound round) {
        metrics.probes(round.sent(), round.received());
        PingResult result = Results.toPingResult(round, config.name(), config.clientId(), config.format());
        publisher.submit(Topics.ping(round.target()), Results.encode(round, result, config.format()));
    }

    /** On the link's scheduler thread: must not block. */
    private void onLinkState(LinkState state) {
        publisher.connectionChanged();
        if (state == LinkState.CONNECTED) {
            publishBirth();
            LOG.info("agent {} connected to {}; {} results queued", config.name(),
                    link.currentBroker().map(Object::toString).orElse("?"), publisher.depth());
        }
    }

    /** The birth message this agent announces. */
    public BirthMessage birth() {
        return new BirthMessage(config.clientId(), config.name(), SwarmVersion.version(), config.location(),
                capabilities, started);
    }

    private void publishBirth() {
        try {
            link.publish(Topics.birthAgent(config.name()), BirthCodec.encode(birth()), QOS, true)
                    .whenComplete((ok, failure) -> {
                        if (failure != null) {
                            LOG.warn("birth message of {} not published: {}", config.name(), failure.toString());
                        }
                    });
        } catch (RuntimeException e) {
            LOG.warn("birth message of {} not published: {}", config.name(), e.toString());
        }
    }

    /** An empty retained message removes the retained birth: a clean stop is no longer "alive". */
    private void clearBirth() {
        if (link.state() != LinkState.CONNECTED) {
            return;
        }
        try {
            link.publish(Topics.birthAgent(config.name()), new byte[0], QOS, true)
                    .get(FLUSH_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            LOG.warn("could not clear the retained birth message of {}: {}", config.name(), e.toString());
        }
    }

    private static void closeQuietly(Probe probe) {
        try {
            probe.close();
        } catch (RuntimeException e) {
            LOG.warn("closing the {} probe failed", probe.type().wireName(), e);
        }
    }
}
