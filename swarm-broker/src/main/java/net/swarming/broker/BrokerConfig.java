package net.swarming.broker;

import java.nio.file.Files;
import java.time.Duration;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import net.swarming.common.cli.Durations;

/**
 * Configuration of one {@link SwarmBroker}.
 *
 * <p>Every problem is collected and reported together by the constructor, each naming the command-line option, the bad
 * value and what is allowed, so an operator fixes a configuration file in one pass. The contents of the password, ACL
 * and TLS files are checked by {@link SwarmBroker#start}, again all together, before anything listens.
 *
 * @param host            address the plain MQTT listener binds, {@value #DEFAULT_HOST} for every interface;
 *                        {@code 127.0.0.1} keeps plain MQTT on this machine while TLS is public
 * @param port            plain MQTT port; 0 picks a free port (see {@link SwarmBroker#port()}), {@value #LISTENER_OFF}
 *                        closes the plain port (a TLS listener is then required)
 * @param dataDir         directory holding the persisted retained messages, sessions and queues; created when missing
 * @param maxMessageBytes largest MQTT packet accepted; a 100,000-target {@code watch} is about 1.5 MB
 * @param metricsHost     address the Prometheus {@code /metrics} endpoint binds
 * @param metricsPort     port of the {@code /metrics} endpoint; 0 picks a free port, {@value #METRICS_OFF} turns it off
 * @param tls             the TLS listener, or {@code null} for none
 * @param passwordFile    {@code user:hash} file (mosquitto_passwd format accepted), or {@code null} for no
 *                        authentication
 * @param aclFile         mosquitto-style ACL file, or {@code null} for the default policy (see
 *                        {@link #authorization()})
 * @param allowAnonymous  whether clients without a user name may connect; {@code null} means "yes unless a password
 *                        file is set"
 * @param websocketPort   MQTT over WebSocket (path {@value #WEBSOCKET_PATH}) on the plain listener's address; 0 picks a
 *                        free port, {@value #LISTENER_OFF} (the default) for none
 * @param sessionExpiry   how long a persistent session (clean session false) and its queued messages are kept after its
 *                        client disconnects; whole seconds from 1 s to {@link #MAX_SESSION_EXPIRY}, or
 *                        {@link Duration#ZERO} for never (Moquette's own default)
 * @param maxQueuedBytes  bytes that may wait to be sent to one connection before QoS 0 publishes to it are dropped
 *                        (and counted); acknowledgements and QoS 1/2 publishes are never dropped
 * @param maxInflightMessages QoS 1 and 2 messages sent to one session and not yet acknowledged, 1 to
 *                        {@link #MAX_INFLIGHT_MESSAGES}
 * @param maxQueuedMessages QoS 1 and 2 messages queued for one session beyond its in-flight window (client offline or
 *                        window full) before further ones to it are dropped (and counted); {@link #UNLIMITED} for no
 *                        bound (mosquitto's {@code max_queued_messages})
 */
public record BrokerConfig(String host, int port, Path dataDir, int maxMessageBytes, String metricsHost,
                           int metricsPort, TlsListener tls, Path passwordFile, Path aclFile, Boolean allowAnonymous,
                           int websocketPort, Duration sessionExpiry, long maxQueuedBytes, int maxInflightMessages,
                           int maxQueuedMessages) {

    /** Every interface. */
    public static final String DEFAULT_HOST = "0.0.0.0";
    /** The IANA MQTT port. */
    public static final int DEFAULT_PORT = 1883;
    /** {@link #port()} value that closes the plain listener. */
    public static final int LISTENER_OFF = -1;
    /** Moquette's and mosquitto's usual WebSocket path. */
    public static final String WEBSOCKET_PATH = "/mqtt";
    /** Relative to the working directory, like mosquitto's and Moquette's own default. */
    public static final String DEFAULT_DATA_DIR = "data";
    /** 16 MiB: ten times the largest expected {@code watch}, far below MQTT's own limit. */
    public static final int DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
    /** Every interface. */
    public static final String DEFAULT_METRICS_HOST = "0.0.0.0";
    /** The broker's own Prometheus port. */
    public static final int DEFAULT_METRICS_PORT = 9463;
    /** {@link #metricsPort()} value that disables the metrics endpoint. */
    public static final int METRICS_OFF = -1;
    /**
     * Seven days: an indexer or agent that was down over a long weekend finds its queued messages again, while the queue
     * of a client id that is never coming back (a retired indexer subscribed to {@code ping/+}) stops growing on disk
     * within a week.
     */
    public static final Duration DEFAULT_SESSION_EXPIRY = Duration.ofDays(7);
    /**
     * The longest expiry Moquette 0.17 handles: it converts the value to milliseconds in an {@code int} (2,147,483 s,
     * about 24.8 days) and a longer one would wrap around.
     */
    public static final Duration MAX_SESSION_EXPIRY = Duration.ofMillis(Integer.MAX_VALUE).withNanos(0);
    /**
     * 32 MiB per connection: above twenty 1.5 MB {@code watch} lists and above the bursts of a four-publisher flood to one
     * slow subscriber, while 100 stalled subscribers still hold at most 3.2 GB.
     */
    public static final long DEFAULT_MAX_QUEUED_BYTES = 32L * 1024 * 1024;
    /** mosquitto's {@code max_inflight_messages} default (Moquette 0.17's own is 10). */
    public static final int DEFAULT_MAX_INFLIGHT_MESSAGES = 20;
    /**
     * One million per session: an indexer on {@code ping/+} that is away for several minutes (a swarm reporting a few
     * thousand results per second) finds them again, while a session that never reads holds a bounded amount of memory
     * or disk instead of all the broker has (sizes in docs/broker.md, "QoS 1/2 queue of a session").
     */
    public static final int DEFAULT_MAX_QUEUED_MESSAGES = 1_000_000;
    /** {@link #maxQueuedMessages()} value for no bound. */
    public static final int UNLIMITED = 0;
    /** MQTT packet identifiers are 16-bit; Moquette would reuse one still in flight beyond this. */
    public static final int MAX_INFLIGHT_MESSAGES = 65_535;
    /** MQTT 3.1.1 "remaining length" cannot exceed 268,435,455 bytes. */
    public static final int MQTT_MAX_PACKET_BYTES = 268_435_455;

    /** How publish and subscribe rights are decided. */
    public enum Authorization {
        /** Everything allowed: no password file and no ACL file, like an unconfigured mosquitto 1.x. */
        OPEN,
        /** The swarm's roles by user name (password file, no ACL file); see README "Default policy". */
        ROLES,
        /** The ACL file. */
        ACL_FILE
    }

    /**
     * Validates every field at once.
     *
     * @throws IllegalArgumentException listing every problem
     */
    public BrokerConfig {
        List<String> problems = new ArrayList<>();
        if (host == null || host.isBlank()) {
            problems.add("host='" + host + "' must be an address or host name, e.g. " + DEFAULT_HOST);
        }
        if (port < LISTENER_OFF || port > 65535) {
            problems.add("port=" + port + " must be 0..65535 (0 picks a free port) or " + LISTENER_OFF
                    + " to close the plain listener");
        }
        if (port == LISTENER_OFF && tls == null) {
            problems.add("port=" + LISTENER_OFF + " closes the plain listener but no TLS listener is configured "
                    + "(set tls-port with tls-cert and tls-key, or tls-pkcs12)");
        }
        if (dataDir == null || dataDir.toString().isBlank()) {
            problems.add("data-dir='" + dataDir + "' must name a directory, e.g. " + DEFAULT_DATA_DIR);
        }
        if (maxMessageBytes < 1 || maxMessageBytes > MQTT_MAX_PACKET_BYTES) {
            problems.add("max-message-bytes=" + maxMessageBytes + " must be 1.." + MQTT_MAX_PACKET_BYTES
                    + " (default " + DEFAULT_MAX_MESSAGE_BYTES + ")");
        }
        if (metricsHost == null || metricsHost.isBlank()) {
            problems.add("metrics-host='" + metricsHost + "' must be an address or host name, e.g. "
                    + DEFAULT_METRICS_HOST);
        }
        if (metricsPort < METRICS_OFF || metricsPort > 65535) {
            problems.add("metrics-port=" + metricsPort + " must be 0..65535 (0 picks a free port) or "
                    + METRICS_OFF + " to turn metrics off");
        }
        if (websocketPort < LISTENER_OFF || websocketPort > 65535) {
            problems.add("websocket-port=" + websocketPort + " must be 0..65535 (0 picks a free port) or "
                    + LISTENER_OFF + " for none");
        } else if (websocketPort != LISTENER_OFF && port == LISTENER_OFF) {
            problems.add("websocket-port=" + websocketPort + " listens on the plain listener's address, but port="
                    + LISTENER_OFF + " closes it: open the plain port (host=127.0.0.1 keeps it local) or drop the "
                    + "WebSocket listener");
        }
        if (sessionExpiry == null || sessionExpiry.isNegative() || sessionExpiry.getNano() != 0
                || sessionExpiry.compareTo(MAX_SESSION_EXPIRY) > 0) {
            problems.add("session-expiry=" + (sessionExpiry == null ? null : Durations.format(sessionExpiry))
                    + " must be whole seconds from 1s to " + MAX_SESSION_EXPIRY.toSeconds() + "s (about 24 days, "
                    + "Moquette 0.17's limit), or 0 for never (default " + Durations.format(DEFAULT_SESSION_EXPIRY)
                    + ")");
        }
        if (maxQueuedBytes < 1) {
            problems.add("max-queued-bytes=" + maxQueuedBytes + " must be at least 1 (default "
                    + DEFAULT_MAX_QUEUED_BYTES + ")");
        }
        if (maxInflightMessages < 1 || maxInflightMessages > MAX_INFLIGHT_MESSAGES) {
            problems.add("max-inflight-messages=" + maxInflightMessages + " must be 1.." + MAX_INFLIGHT_MESSAGES
                    + " (default " + DEFAULT_MAX_INFLIGHT_MESSAGES + ")");
        }
        if (maxQueuedMessages < UNLIMITED) {
            problems.add("max-queued-messages=" + maxQueuedMessages + " must be at least 1, or " + UNLIMITED
                    + " for no limit (default " + DEFAULT_MAX_QUEUED_MESSAGES + ")");
        }
        if (tls != null) {
            tlsProblems(tls, problems);
        }
        readableFile("password-file", passwordFile, problems);
        readableFile("acl-file", aclFile, problems);
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("invalid broker configuration: " + String.join("; ", problems));
        }
    }

    private static void tlsProblems(TlsListener tls, List<String> problems) {
        if (tls.host() == null || tls.host().isBlank()) {
            problems.add("tls-host='" + tls.host() + "' must be an address or host name, e.g. " + DEFAULT_HOST);
        }
        if (tls.port() < 0 || tls.port() > 65535) {
            problems.add("tls-port=" + tls.port() + " must be 0..65535 (0 picks a free port)");
        }
        boolean pem = tls.certFile() != null || tls.keyFile() != null;
        if (pem && tls.pkcs12File() != null) {
            problems.add("tls-pkcs12 and tls-cert/tls-key are alternatives: set one or the other");
        } else if (pem && (tls.certFile() == null || tls.keyFile() == null)) {
            problems.add(tls.certFile() == null ? "tls-key is set but tls-cert is missing"
                    : "tls-cert is set but tls-key is missing");
        } else if (!pem && tls.pkcs12File() == null) {
            problems.add("tls-port is set but no certificate: set tls-cert and tls-key (PEM) or tls-pkcs12");
        }
        readableFile("tls-cert", tls.certFile(), problems);
        readableFile("tls-key", tls.keyFile(), problems);
        readableFile("tls-pkcs12", tls.pkcs12File(), problems);
    }

    private static void readableFile(String key, Path file, List<String> problems) {
        if (file != null && !(Files.isRegularFile(file) && Files.isReadable(file))) {
            problems.add(key + "=" + file + " is not a readable file");
        }
    }

    /**
     * Everything but the outbound and queue limits, which are {@link #DEFAULT_MAX_QUEUED_BYTES}, the default window and
     * {@link #DEFAULT_MAX_QUEUED_MESSAGES}.
     */
    public BrokerConfig(String host, int port, Path dataDir, int maxMessageBytes, String metricsHost,
                        int metricsPort, TlsListener tls, Path passwordFile, Path aclFile, Boolean allowAnonymous,
                        int websocketPort, Duration sessionExpiry) {
        this(host, port, dataDir, maxMessageBytes, metricsHost, metricsPort, tls, passwordFile, aclFile, allowAnonymous,
                websocketPort, sessionExpiry, DEFAULT_MAX_QUEUED_BYTES, DEFAULT_MAX_INFLIGHT_MESSAGES,
                DEFAULT_MAX_QUEUED_MESSAGES);
    }

    /** Everything but the session expiry, which is {@link #DEFAULT_SESSION_EXPIRY}. */
    public BrokerConfig(String host, int port, Path dataDir, int maxMessageBytes, String metricsHost,
                        int metricsPort, TlsListener tls, Path passwordFile, Path aclFile, Boolean allowAnonymous,
                        int websocketPort) {
        this(host, port, dataDir, maxMessageBytes, metricsHost, metricsPort, tls, passwordFile, aclFile, allowAnonymous,
                websocketPort, DEFAULT_SESSION_EXPIRY);
    }

    /** Plain listener only, no authentication: the Foundation's constructor. */
    public BrokerConfig(String host, int port, Path dataDir, int maxMessageBytes, String metricsHost,
                        int metricsPort) {
        this(host, port, dataDir, maxMessageBytes, metricsHost, metricsPort, null, null, null, null, LISTENER_OFF);
    }

    /** Every default: all interfaces, port 1883, {@code ./data}, 16 MiB messages, metrics on port 9463, no TLS, open. */
    public static BrokerConfig defaults() {
        return new BrokerConfig(DEFAULT_HOST, DEFAULT_PORT, Path.of(DEFAULT_DATA_DIR), DEFAULT_MAX_MESSAGE_BYTES,
                DEFAULT_METRICS_HOST, DEFAULT_METRICS_PORT);
    }

    /** A copy with its plain listener on {@code host:port}. */
    public BrokerConfig withListener(String newHost, int newPort) {
        return new BrokerConfig(newHost, newPort, dataDir, maxMessageBytes, metricsHost, metricsPort, tls,
                passwordFile, aclFile, allowAnonymous, websocketPort, sessionExpiry, maxQueuedBytes, maxInflightMessages,
                maxQueuedMessages);
    }

    /** A copy persisting under {@code newDataDir}. */
    public BrokerConfig withDataDir(Path newDataDir) {
        return new BrokerConfig(host, port, newDataDir, maxMessageBytes, metricsHost, metricsPort, tls, passwordFile,
                aclFile, allowAnonymous, websocketPort, sessionExpiry, maxQueuedBytes, maxInflightMessages,
                maxQueuedMessages);
    }

    /** A copy accepting packets up to {@code bytes}. */
    public BrokerConfig withMaxMessageBytes(int bytes) {
        return new BrokerConfig(host, port, dataDir, bytes, metricsHost, metricsPort, tls, passwordFile, aclFile,
                allowAnonymous, websocketPort, sessionExpiry, maxQueuedBytes, maxInflightMessages,
                maxQueuedMessages);
    }

    /** A copy serving metrics on {@code newHost:newPort} ({@link #METRICS_OFF} for none). */
    public BrokerConfig withMetrics(String newHost, int newPort) {
        return new BrokerConfig(host, port, dataDir, maxMessageBytes, newHost, newPort, tls, passwordFile, aclFile,
                allowAnonymous, websocketPort, sessionExpiry, maxQueuedBytes, maxInflightMessages,
                maxQueuedMessages);
    }

    /** A copy with a TLS listener ({@code null} for none). */
    public BrokerConfig withTls(TlsListener newTls) {
        return new BrokerConfig(host, port, dataDir, maxMessageBytes, metricsHost, metricsPort, newTls, passwordFile,
                aclFile, allowAnonymous, websocketPort, sessionExpiry, maxQueuedBytes, maxInflightMessages,
                maxQueuedMessages);
    }

    /** A copy authenticating against {@code file} ({@code null} for none). */
    public BrokerConfig withPasswordFile(Path file) {
        return new BrokerConfig(host, port, dataDir, maxMessageBytes, metricsHost, metricsPort, tls, file, aclFile,
                allowAnonymous, websocketPort, sessionExpiry, maxQueuedBytes, maxInflightMessages,
                maxQueuedMessages);
    }

    /** A copy authorizing with the ACL {@code file} ({@code null} for the default policy). */
    public BrokerConfig withAclFile(Path file) {
        return new BrokerConfig(host, port, dataDir, maxMessageBytes, metricsHost, metricsPort, tls, passwordFile,
                file, allowAnonymous, websocketPort, sessionExpiry, maxQueuedBytes, maxInflightMessages,
                maxQueuedMessages);
    }

    /** A copy that admits ({@code true}) or refuses ({@code false}) clients without a user name; {@code null}: auto. */
    public BrokerConfig withAllowAnonymous(Boolean allow) {
        return new BrokerConfig(host, port, dataDir, maxMessageBytes, metricsHost, metricsPort, tls, passwordFile,
                aclFile, allow, websocketPort, sessionExpiry, maxQueuedBytes, maxInflightMessages,
                maxQueuedMessages);
    }

    /** A copy with a WebSocket listener on {@code newPort} ({@link #LISTENER_OFF} for none). */
    public BrokerConfig withWebsocketPort(int newPort) {
        return new BrokerConfig(host, port, dataDir, maxMessageBytes, metricsHost, metricsPort, tls, passwordFile,
                aclFile, allowAnonymous, newPort, sessionExpiry, maxQueuedBytes, maxInflightMessages,
                maxQueuedMessages);
    }

    /** A copy keeping disconnected persistent sessions for {@code expiry} ({@link Duration#ZERO}: forever). */
    public BrokerConfig withSessionExpiry(Duration expiry) {
        return new BrokerConfig(host, port, dataDir, maxMessageBytes, metricsHost, metricsPort, tls, passwordFile,
                aclFile, allowAnonymous, websocketPort, expiry, maxQueuedBytes, maxInflightMessages,
                maxQueuedMessages);
    }

    /** A copy dropping QoS 0 publishes to a connection once {@code bytes} wait for it. */
    public BrokerConfig withMaxQueuedBytes(long bytes) {
        return new BrokerConfig(host, port, dataDir, maxMessageBytes, metricsHost, metricsPort, tls, passwordFile,
                aclFile, allowAnonymous, websocketPort, sessionExpiry, bytes, maxInflightMessages, maxQueuedMessages);
    }

    /** A copy keeping up to {@code messages} QoS 1/2 messages in flight per session. */
    public BrokerConfig withMaxInflightMessages(int messages) {
        return new BrokerConfig(host, port, dataDir, maxMessageBytes, metricsHost, metricsPort, tls, passwordFile,
                aclFile, allowAnonymous, websocketPort, sessionExpiry, maxQueuedBytes, messages, maxQueuedMessages);
    }

    /** A copy dropping QoS 1/2 messages to a session once {@code messages} are queued for it ({@link #UNLIMITED}). */
    public BrokerConfig withMaxQueuedMessages(int messages) {
        return new BrokerConfig(host, port, dataDir, maxMessageBytes, metricsHost, metricsPort, tls, passwordFile,
                aclFile, allowAnonymous, websocketPort, sessionExpiry, maxQueuedBytes, maxInflightMessages, messages);
    }

    /** Whether QoS 1/2 messages queued per session are bounded ({@link #maxQueuedMessages()} is not 0). */
    public boolean queuedMessagesLimited() {
        return maxQueuedMessages != UNLIMITED;
    }

    /** Whether persistent sessions expire at all ({@link #sessionExpiry()} is not zero). */
    public boolean sessionsExpire() {
        return !sessionExpiry.isZero();
    }

    /** Whether the WebSocket listener is open. */
    public boolean websocketEnabled() {
        return websocketPort != LISTENER_OFF;
    }

    /** Whether the plain listener is open. */
    public boolean plainEnabled() {
        return port != LISTENER_OFF;
    }

    /** Whether clients without a user name are admitted: as set, or else only when there is no password file. */
    public boolean anonymousAllowed() {
        return allowAnonymous != null ? allowAnonymous : passwordFile == null;
    }

    /** The authorization in force: the ACL file if set, else the roles when a password file is set, else open. */
    public Authorization authorization() {
        if (aclFile != null) {
            return Authorization.ACL_FILE;
        }
        return passwordFile != null ? Authorization.ROLES : Authorization.OPEN;
    }

    /** Whether the {@code /metrics} endpoint is served. */
    public boolean metricsEnabled() {
        return metricsPort != METRICS_OFF;
    }
}
