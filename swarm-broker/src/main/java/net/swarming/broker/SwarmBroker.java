package net.swarming.broker;

import io.moquette.broker.Server;
import io.moquette.broker.config.IConfig;
import io.moquette.broker.security.IAuthorizatorPolicy;
import io.netty.channel.ChannelPipeline;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.net.BindException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import net.swarming.broker.internal.auth.Security;
import net.swarming.broker.internal.metrics.BrokerMetrics;
import net.swarming.broker.internal.moquette.ChannelHooks;
import net.swarming.broker.internal.moquette.ConnectGate;
import net.swarming.broker.internal.moquette.DetachedQueues;
import net.swarming.broker.internal.moquette.MatchCache;
import net.swarming.broker.internal.moquette.Qos0Relay;
import net.swarming.broker.internal.moquette.FailedStartCleanup;
import net.swarming.broker.internal.moquette.InflightWindow;
import net.swarming.broker.internal.moquette.MoquetteProperties;
import net.swarming.broker.internal.moquette.LeanPipeline;
import net.swarming.broker.internal.moquette.OutboundQueueLimit;
import net.swarming.broker.internal.moquette.QueuedMessagesLimit;
import net.swarming.broker.internal.moquette.RefusedPublishes;
import net.swarming.broker.internal.moquette.RetainedDeliveries;
import net.swarming.broker.internal.moquette.SessionLoopWatch;
import net.swarming.broker.internal.moquette.SessionStoreRepair;
import net.swarming.broker.internal.moquette.StoredState;
import net.swarming.broker.internal.net.ListenAddress;
import net.swarming.broker.internal.store.DataDirectory;
import net.swarming.broker.internal.tls.TlsTerminator;
import net.swarming.common.cli.StartupException;
import net.swarming.common.metrics.MetricsServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running swarm broker: an embedded Moquette 0.17 MQTT 3.1.1 broker with persistence, configured for the swarm's
 * traffic (large retained {@code watch} lists, operators' {@code mosquitto_pub} without a client id) and Prometheus
 * metrics.
 *
 * <p>Listeners: plain TCP, and optionally TLS on its own address (so the plain port can stay on localhost or be closed).
 * Authentication by a password file, authorization by an ACL file or the swarm's default roles.
 *
 * <p>{@link #start} either returns a broker that accepts connections or throws {@link StartupException} having stopped
 * everything it started. {@link #close()} is idempotent.
 */
public final class SwarmBroker implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(SwarmBroker.class);

    /** Attempts for port 0: another process may take the free port between our probe and Moquette's bind. */
    private static final int FREE_PORT_ATTEMPTS = 3;
    private static final String LOOPBACK = "127.0.0.1";

    private final String host;
    private final int port;
    private final int websocketPort;
    private final Path dataDir;
    private final Server server;
    private final TlsTerminator tls;
    private final BrokerMetrics metrics;
    private final MetricsServer metricsServer;
    private final AtomicBoolean closed = new AtomicBoolean();

    private SwarmBroker(String host, int port, int websocketPort, Path dataDir, Server server, TlsTerminator tls,
                        BrokerMetrics metrics, MetricsServer metricsServer) {
        this.host = host;
        this.port = port;
        this.websocketPort = websocketPort;
        this.dataDir = dataDir;
        this.server = server;
        this.tls = tls;
        this.metrics = metrics;
        this.metricsServer = metricsServer;
    }

    /**
     * Starts a broker.
     *
     * @throws StartupException with an operator's message (port in use, data directory not writable, store locked or
     *                          unreadable…); nothing started by this call is left running
     */
    public static SwarmBroker start(BrokerConfig config) {
        Objects.requireNonNull(config, "config");
        ServerHolder holder = new ServerHolder();
        BrokerMetrics metrics = new BrokerMetrics(new PrometheusRegistry(), holder::connectedClients);
        OutboundQueueLimit outboundLimit = new OutboundQueueLimit(config.maxQueuedBytes(), metrics.publishesDropped());
        QueuedMessagesLimit queueLimit = config.queuedMessagesLimited()
                ? new QueuedMessagesLimit(config.maxQueuedMessages(), metrics.publishesDropped()) : null;
        InflightWindow inflightWindow = new InflightWindow(config.maxInflightMessages());
        SessionLoopWatch loopWatch = new SessionLoopWatch(metrics.registry());
        // Every file is read and checked before the data directory or any port is touched.
        Security security = Security.load(config, (clientId, user) -> metrics.authenticationFailed());
        Path dataDir = DataDirectory.prepare(config.dataDir());
        SessionStoreRepair.repair(dataDir, config.sessionExpiry());
        metrics.seed(StoredState.read(dataDir));

        // With the plain port closed, Moquette still listens on a loopback port that only the TLS listener uses.
        String mqttHost = config.plainEnabled() ? config.host() : LOOPBACK;
        int mqttPort = config.plainEnabled() ? config.port() : 0;
        Server server = null;
        int port = -1;
        int websocketPort = BrokerConfig.LISTENER_OFF;
        for (int attempt = 1; server == null; attempt++) {
            port = ListenAddress.reserve(mqttHost, mqttPort);
            if (config.websocketEnabled()) {
                websocketPort = ListenAddress.reserve(mqttHost, config.websocketPort());
            }
            try {
                server = startMoquette(config, mqttHost, port, websocketPort, dataDir, metrics, security,
                        flowHooks(outboundLimit, inflightWindow, queueLimit), loopWatch, queueLimit);
            } catch (StartupException e) {
                boolean lostRace = (mqttPort == 0 || config.websocketPort() == 0)
                        && e.getCause() instanceof BindException;
                if (!lostRace || attempt >= FREE_PORT_ATTEMPTS) {
                    throw e;
                }
                LOG.debug("free port {} was taken before Moquette bound it; trying another", port);
            }
        }
        holder.server = server;

        TlsTerminator tls = null;
        MetricsServer metricsServer = null;
        try {
            if (config.tls() != null) {
                TlsListener listener = config.tls();
                int tlsPort = ListenAddress.reserve(listener.host(), listener.port());
                tls = TlsTerminator.start(listener.host(), tlsPort, security.tls(),
                        new InetSocketAddress(relayTarget(mqttHost), port));
            }
            if (config.metricsEnabled()) {
                metricsServer = MetricsServer.start(config.metricsHost(), config.metricsPort(), metrics.registry());
            }
        } catch (RuntimeException e) {
            if (tls != null) {
                tls.close();
            }
            stopQuietly(server);
            throw e;
        }
        metrics.up(true);
        LOG.debug("Moquette {} listening on {}:{} with data in {}", Server.MOQUETTE_VERSION, mqttHost, port, dataDir);
        return new SwarmBroker(config.plainEnabled() ? config.host() : null,
                config.plainEnabled() ? port : BrokerConfig.LISTENER_OFF, websocketPort, dataDir, server, tls,
                metrics, metricsServer);
    }

    /** Where the TLS listener reaches Moquette: the loopback address when Moquette listens on every interface. */
    private static String relayTarget(String mqttHost) {
        try {
            InetAddress address = InetAddress.getByName(mqttHost);
            return address.isAnyLocalAddress()
                    ? (address instanceof Inet6Address ? "::1" : LOOPBACK) : address.getHostAddress();
        } catch (UnknownHostException e) {
            throw new StartupException("cannot resolve host '" + mqttHost + "': " + e.getMessage(), e);
        }
    }

    private static Server startMoquette(BrokerConfig config, String mqttHost, int port, int websocketPort,
                                        Path dataDir, BrokerMetrics metrics, Security security,
                                        List<Consumer<ChannelPipeline>> flowHooks,
                                        SessionLoopWatch loopWatch, QueuedMessagesLimit queueLimit) {
        Server server = new Server();
        Set<Thread> threadsBefore = FailedStartCleanup.snapshotThreads();
        try {
            IConfig moquette = websocketPort == BrokerConfig.LISTENER_OFF
                    ? MoquetteProperties.config(mqttHost, port, dataDir, config.maxMessageBytes(),
                            config.anonymousAllowed())
                    : MoquetteProperties.config(mqttHost, port, dataDir, config.maxMessageBytes(),
                            config.anonymousAllowed(), websocketPort, BrokerConfig.WEBSOCKET_PATH);
            MoquetteProperties.sessionExpiry(moquette, config.sessionExpiry());
            IAuthorizatorPolicy authorization = metrics.counting(security.authorization());
            server.startServer(moquette,
                    List.of(metrics.interceptor(), loopWatch), null, security.authenticator(), authorization);
            RetainedDeliveries retained = RetainedDeliveries.install(server);
            MatchCache matches = MatchCache.install(server);
            ChannelHooks.install(server, channelHooks(server, matches, flowHooks, metrics, retained, authorization));
            DetachedQueues.install(server, retained.marks());
            if (queueLimit != null) {
                // After DetachedQueues: a dropped message is never copied.
                queueLimit.install(server);
            }
            return server;
        } catch (IOException | RuntimeException e) {
            FailedStartCleanup.cleanUp(server, threadsBefore);
            throw translate(e, mqttHost, port, dataDir);
        } catch (Error e) {
            FailedStartCleanup.cleanUp(server, threadsBefore);
            throw e;
        }
    }

    /** Our handlers on every MQTT connection, where Moquette 0.17 itself falls short (see ChannelHooks). */
    private static List<Consumer<ChannelPipeline>> channelHooks(Server server, MatchCache matches,
                                                                List<Consumer<ChannelPipeline>> flowHooks,
                                                                BrokerMetrics metrics, RetainedDeliveries retained,
                                                                IAuthorizatorPolicy authorization) {
        List<Consumer<ChannelPipeline>> hooks = new ArrayList<>(flowHooks);
        hooks.add(metrics.traffic().hook());
        hooks.add(retained.hook());
        hooks.add(RefusedPublishes.hook(authorization, matches));
        hooks.add(Qos0Relay.hook(server, matches, authorization));
        return hooks;
    }

    /** Flow control: the connect gate first, so later hooks only ever see packets of a bound session. */
    private static List<Consumer<ChannelPipeline>> flowHooks(OutboundQueueLimit outboundLimit,
                                                           InflightWindow inflightWindow,
                                                           QueuedMessagesLimit queueLimit) {
        List<Consumer<ChannelPipeline>> hooks = new ArrayList<>(List.of(
                LeanPipeline.customizer(),
                ConnectGate.customizer(),
                outboundLimit.customizer(),
                inflightWindow.customizer()));
        if (queueLimit != null) {
            hooks.add(queueLimit.customizer());
        }
        return hooks;
    }

    private static StartupException translate(Exception e, String host, int port, Path dataDir) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof BindException bind) {
                return ListenAddress.bindFailure(host, port, bind);
            }
            if (t.getMessage() != null && t.getMessage().contains(SessionStoreRepair.MOQUETTE_EXPIRY_DEFECT)) {
                return new StartupException("data directory " + dataDir + " holds a session that Moquette 0.17 cannot"
                        + " reload (" + t.getMessage() + "); stop the broker and move " + dataDir
                        + " aside to start with an empty store", e);
            }
        }
        return new StartupException("MQTT broker failed to start on " + host + ":" + port + " with data directory "
                + dataDir + ": " + e, e);
    }

    /** The address the plain MQTT listener is bound to, as configured; {@code null} when the plain port is closed. */
    public String host() {
        return host;
    }

    /**
     * The bound plain MQTT port: the configured one, or the free port chosen for port 0;
     * {@link BrokerConfig#LISTENER_OFF} when the plain port is closed.
     */
    public int port() {
        return port;
    }

    /** The bound WebSocket port (path {@link BrokerConfig#WEBSOCKET_PATH}), or {@link BrokerConfig#LISTENER_OFF}. */
    public int websocketPort() {
        return websocketPort;
    }

    /** The bound TLS port, or {@link BrokerConfig#LISTENER_OFF} without a TLS listener. */
    public int tlsPort() {
        return tls == null ? BrokerConfig.LISTENER_OFF : tls.port();
    }

    /** The absolute persistence directory. */
    public Path dataDir() {
        return dataDir;
    }

    /** The bound {@code /metrics} port, or {@link BrokerConfig#METRICS_OFF} when metrics are off. */
    public int metricsPort() {
        return metricsServer == null ? BrokerConfig.METRICS_OFF : metricsServer.port();
    }

    /** This broker's metrics registry (its own, never the global default). */
    public PrometheusRegistry metricsRegistry() {
        return metrics.registry();
    }

    /**
     * Stops accepting connections, closes client connections, commits and closes the store. Safe to call more than
     * once and from any thread; later calls return at once.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        metrics.up(false);
        if (metricsServer != null) {
            try {
                metricsServer.close();
            } catch (RuntimeException e) {
                LOG.warn("metrics endpoint did not close cleanly: {}", e.toString());
            }
        }
        if (tls != null) {
            try {
                tls.close();
            } catch (RuntimeException e) {
                LOG.warn("TLS listener did not close cleanly: {}", e.toString());
            }
        }
        stopQuietly(server);
        LOG.debug("broker on {}:{} stopped", host, port);
    }

    private static void stopQuietly(Server server) {
        try {
            server.stopServer();
        } catch (RuntimeException e) {
            LOG.warn("Moquette did not stop cleanly: {}", e.toString(), e);
        }
    }

    @Override
    public String toString() {
        return "SwarmBroker[" + host + ":" + port + ", " + dataDir + (closed.get() ? ", closed]" : "]");
    }

    /** Lets the metrics read the client count of a server that is created after them. */
    private static final class ServerHolder {
        private volatile Server server;

        int connectedClients() {
            Server s = server;
            if (s == null) {
                return 0;
            }
            try {
                return s.listConnectedClients().size();
            } catch (IllegalStateException stopped) {
                return 0;
            }
        }
    }
}
