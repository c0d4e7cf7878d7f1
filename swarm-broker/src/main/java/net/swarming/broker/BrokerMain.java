package net.swarming.broker;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import net.swarming.common.cli.Durations;
import net.swarming.common.cli.ExitCodes;
import net.swarming.common.cli.SwarmCli;
import net.swarming.common.cli.SwarmVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The {@code swarm-broker} daemon: starts a {@link SwarmBroker} and runs until SIGTERM or SIGINT.
 *
 * <p>Every option also comes from the environment ({@code SWARM_BROKER_PORT} for {@code --port}…) or from the
 * properties file named by {@code --config} (key {@code port}…), in that order below the command line.
 * Exit codes: 0 clean stop, 2 bad usage or configuration, 3 could not start. Stopped by a signal, the JVM reports the
 * signal itself: 143 after SIGTERM, 130 after SIGINT, once the broker has closed cleanly.
 */
@Command(name = "swarm-broker", mixinStandardHelpOptions = true, versionProvider = SwarmVersion.class,
        sortOptions = false, usageHelpAutoWidth = true,
        description = "The queen: an MQTT 3.1.1 broker for the swarm (embedded Moquette with persistence).",
        footer = {"", "Each option can also be set by an environment variable SWARM_BROKER_<OPTION>, such as "
                + "SWARM_BROKER_DATA_DIR, or by a key <option> in the --config file, such as data-dir=/var/lib/swarm."})
public final class BrokerMain implements Callable<Integer> {

    private static final Logger LOG = LoggerFactory.getLogger(BrokerMain.class);
    /** How long a signal waits for the broker to close before the JVM exits anyway. */
    private static final long SHUTDOWN_GRACE_SECONDS = 60;

    @Option(names = "--host", paramLabel = "ADDRESS", defaultValue = BrokerConfig.DEFAULT_HOST,
            description = "Address the plain MQTT listener binds; 127.0.0.1 keeps it local (default: ${DEFAULT-VALUE}).")
    String host;

    @Option(names = "--port", paramLabel = "PORT", defaultValue = "" + BrokerConfig.DEFAULT_PORT,
            description = "Plain MQTT port; 0 picks a free port, -1 closes it (needs TLS) (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--data-dir", paramLabel = "DIR", defaultValue = BrokerConfig.DEFAULT_DATA_DIR,
            description = "Directory for retained messages, sessions and queues; created if missing "
                    + "(default: ${DEFAULT-VALUE}).")
    Path dataDir;

    @Option(names = "--max-message-bytes", paramLabel = "BYTES",
            defaultValue = "" + BrokerConfig.DEFAULT_MAX_MESSAGE_BYTES,
            description = "Largest MQTT packet accepted, in bytes (default: ${DEFAULT-VALUE}).")
    int maxMessageBytes;

    @Option(names = "--session-expiry", paramLabel = "DURATION", converter = ExpiryConverter.class,
            defaultValue = "7d",
            description = "How long a disconnected persistent session (clean session off) and its queued messages are "
                    + "kept, such as 12h or 7d; at most 24d (Moquette's limit); 'never' or 0 keeps them forever "
                    + "(default: ${DEFAULT-VALUE}).")
    Duration sessionExpiry = BrokerConfig.DEFAULT_SESSION_EXPIRY;

    @Option(names = "--max-queued-bytes", paramLabel = "BYTES",
            defaultValue = "" + BrokerConfig.DEFAULT_MAX_QUEUED_BYTES,
            description = "Bytes that may wait to be sent to one connection; beyond, QoS 0 messages to it are dropped "
                    + "and counted (acknowledgements and QoS 1/2 never are) (default: ${DEFAULT-VALUE}).")
    long maxQueuedBytes = BrokerConfig.DEFAULT_MAX_QUEUED_BYTES;

    @Option(names = "--max-inflight-messages", paramLabel = "N",
            defaultValue = "" + BrokerConfig.DEFAULT_MAX_INFLIGHT_MESSAGES,
            description = "QoS 1/2 messages sent to one session and not yet acknowledged, 1.."
                    + BrokerConfig.MAX_INFLIGHT_MESSAGES + " (default: ${DEFAULT-VALUE}).")
    int maxInflightMessages = BrokerConfig.DEFAULT_MAX_INFLIGHT_MESSAGES;

    @Option(names = "--max-queued-messages", paramLabel = "N",
            defaultValue = "" + BrokerConfig.DEFAULT_MAX_QUEUED_MESSAGES,
            description = "QoS 1/2 messages queued for one session (client offline or its in-flight window full); "
                    + "beyond, messages to it are dropped and counted; 0 for no limit (default: ${DEFAULT-VALUE}).")
    int maxQueuedMessages = BrokerConfig.DEFAULT_MAX_QUEUED_MESSAGES;

    @Option(names = "--metrics-host", paramLabel = "ADDRESS", defaultValue = BrokerConfig.DEFAULT_METRICS_HOST,
            description = "Address of the Prometheus /metrics endpoint (default: ${DEFAULT-VALUE}).")
    String metricsHost;

    @Option(names = "--metrics-port", paramLabel = "PORT", defaultValue = "" + BrokerConfig.DEFAULT_METRICS_PORT,
            description = "Port of the /metrics endpoint; 0 picks a free port, -1 turns metrics off "
                    + "(default: ${DEFAULT-VALUE}).")
    int metricsPort;

    @Option(names = "--tls-host", paramLabel = "ADDRESS", defaultValue = BrokerConfig.DEFAULT_HOST,
            description = "Address the TLS listener binds (default: ${DEFAULT-VALUE}).")
    String tlsHost;

    @Option(names = "--tls-port", paramLabel = "PORT",
            description = "TLS port (mosquitto uses " + TlsListener.DEFAULT_PORT + "); 0 picks a free port. "
                    + "Unset: no TLS listener.")
    Integer tlsPort;

    @Option(names = "--tls-cert", paramLabel = "FILE",
            description = "PEM certificate chain of the TLS listener, server certificate first.")
    Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "FILE",
            description = "Unencrypted PKCS#8 PEM private key (BEGIN PRIVATE KEY) of the TLS listener.")
    Path tlsKey;

    @Option(names = "--tls-pkcs12", paramLabel = "FILE",
            description = "PKCS#12 store with the TLS listener's key and chain, instead of --tls-cert/--tls-key.")
    Path tlsPkcs12;

    @Option(names = "--tls-pkcs12-password", paramLabel = "PASSWORD", defaultValue = "",
            description = "Password of the --tls-pkcs12 store (prefer the environment or the --config file).")
    String tlsPkcs12Password;

    @Option(names = "--websocket-port", paramLabel = "PORT", defaultValue = "" + BrokerConfig.LISTENER_OFF,
            description = "MQTT over WebSocket (path " + BrokerConfig.WEBSOCKET_PATH + ") on the plain listener's "
                    + "address; 0 picks a free port, -1 none (default: ${DEFAULT-VALUE}).")
    int websocketPort;

    @Option(names = "--password-file", paramLabel = "FILE",
            description = "user:hash lines (mosquitto_passwd files work). Set: every client needs a user name and "
                    + "password unless --allow-anonymous=true.")
    Path passwordFile;

    @Option(names = "--acl-file", paramLabel = "FILE",
            description = "mosquitto-style ACL (user, topic [read|write|readwrite], pattern with %%c/%%u). Unset: the "
                    + "swarm's roles when --password-file is set, else everything allowed.")
    Path aclFile;

    @Option(names = "--allow-anonymous", paramLabel = "BOOLEAN", arity = "1",
            description = "Admit clients without a user name (default: true without --password-file, false with).")
    Boolean allowAnonymous;

    @Option(names = "--config", paramLabel = "FILE",
            description = "Properties file of option defaults; keys are long option names without dashes.")
    Path config;

    /** Counted down by the shutdown hook; {@link #call()} waits on it. Tests count it down to stop the broker. */
    final CountDownLatch stopRequested = new CountDownLatch(1);
    private final CountDownLatch stopped = new CountDownLatch(1);

    public static void main(String[] args) {
        System.exit(SwarmCli.run(new BrokerMain(), "SWARM_BROKER_", args));
    }

    /** The configuration the options describe; an invalid one throws {@link IllegalArgumentException} (exit 2). */
    BrokerConfig brokerConfig() {
        boolean anyTls = tlsPort != null || tlsCert != null || tlsKey != null || tlsPkcs12 != null;
        TlsListener tls = anyTls ? new TlsListener(tlsHost, tlsPort == null ? TlsListener.DEFAULT_PORT : tlsPort,
                tlsCert, tlsKey, tlsPkcs12, tlsPkcs12Password) : null;
        return new BrokerConfig(host, port, dataDir, maxMessageBytes, metricsHost, metricsPort, tls, passwordFile,
                aclFile, allowAnonymous, websocketPort, sessionExpiry, maxQueuedBytes, maxInflightMessages,
                maxQueuedMessages);
    }

    @Override
    public Integer call() throws InterruptedException {
        BrokerConfig cfg = brokerConfig();
        SwarmBroker broker = SwarmBroker.start(cfg);
        Thread hook = new Thread(this::awaitCleanStop, "swarm-broker-shutdown");
        try {
            Runtime.getRuntime().addShutdownHook(hook);
            String metrics = broker.metricsPort() == BrokerConfig.METRICS_OFF ? "off"
                    : "http://" + cfg.metricsHost() + ":" + broker.metricsPort() + "/metrics";
            String plain = cfg.plainEnabled() ? broker.host() + ":" + broker.port() : "no plain port";
            String tls = cfg.tls() == null ? "off" : cfg.tls().host() + ":" + broker.tlsPort();
            String ws = cfg.websocketEnabled() ? broker.host() + ":" + broker.websocketPort()
                    + BrokerConfig.WEBSOCKET_PATH : "off";
            LOG.info("swarm-broker listening on {}, TLS {}, WebSocket {} (data dir {}, max message {} bytes, authentication {}, "
                    + "anonymous {}, authorization {}, metrics {}, session expiry {}, max queued {} bytes, "
                    + "max in flight {}, max queued messages {})", plain, tls, ws, broker.dataDir(),
                    cfg.maxMessageBytes(), cfg.passwordFile() == null ? "off" : cfg.passwordFile(),
                    cfg.anonymousAllowed() ? "allowed" : "refused", cfg.authorization(), metrics,
                    cfg.sessionsExpire() ? Durations.format(cfg.sessionExpiry()) : "never", cfg.maxQueuedBytes(),
                    cfg.maxInflightMessages(), cfg.queuedMessagesLimited() ? cfg.maxQueuedMessages() : "unlimited");
            stopRequested.await();
            LOG.info("swarm-broker stopping");
            broker.close();
            LOG.info("swarm-broker stopped cleanly");
        } finally {
            broker.close();
            // Last: once counted down, a shutdown hook lets the JVM halt.
            stopped.countDown();
        }
        removeHook(hook);
        return ExitCodes.OK;
    }

    /** Runs in the shutdown hook: asks {@link #call()} to stop and keeps the JVM alive until the broker has closed. */
    private void awaitCleanStop() {
        stopRequested.countDown();
        try {
            if (!stopped.await(SHUTDOWN_GRACE_SECONDS, TimeUnit.SECONDS)) {
                LOG.warn("swarm-broker did not stop within {} s; exiting anyway", SHUTDOWN_GRACE_SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void removeHook(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // The hook is what stopped us; the JVM is already exiting.
        }
    }

    /** {@link Durations#parse} plus {@code never} and {@code 0}, which mean no expiry ({@link Duration#ZERO}). */
    static final class ExpiryConverter implements CommandLine.ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            String v = value.strip();
            if (v.equalsIgnoreCase("never") || v.equals("0")) {
                return Duration.ZERO;
            }
            return new Durations.Converter().convert(v);
        }
    }
}
