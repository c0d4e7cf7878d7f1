package net.swarming.broker.internal.moquette;

import io.moquette.BrokerConstants;
import io.moquette.broker.config.IConfig;
import io.moquette.broker.config.MemoryConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;

/**
 * The complete Moquette 0.17 configuration of a swarm broker, property names taken from {@link IConfig} and {@link BrokerConstants}.
 *
 * <p>The plain TCP listener, and the WebSocket one when asked for: Moquette opens the websocket and TLS listeners only
 * when {@code websocket_port}, {@code ssl_port} or {@code secure_websocket_port} are present. The TLS ones are never set:
 * TLS is terminated by swarm-broker itself (Moquette would bind it to the plain listener's address).
 */
public final class MoquetteProperties {

    /**
     * Seconds between commits of Moquette's H2 store: the longest a retained {@code watch} or a QoS 1 message queued for
     * an offline persistent session can be lost to a crash (kill -9, power loss). Moquette's default is 30 s; a commit
     * with nothing changed costs nothing.
     */
    static final int AUTOSAVE_SECONDS = 1;

    /**
     * Where queues of persistent sessions live: in the H2 store, committed every {@link #AUTOSAVE_SECONDS}. Moquette
     * 0.17's "segmented" queues lost every queued message to kill -9 (0 of 200 after a restart, while the H2 queue
     * kept 200 of 200; docs/broker.md, defect 3).
     */
    static final String QUEUE_TYPE = "h2";

    /**
     * Commands (PUBLISH deliveries among them) each of Moquette's session event loops may hold. Moquette's default of 1024
     * drops QoS 0 publishes as soon as a subscriber lags a few milliseconds behind several publishers ("Session command
     * queue is full"): 4 publishers flooding one subscriber lost 96% of QoS 0 messages in our benchmark. The array is
     * allocated up front (a few hundred KB per event loop); the messages it holds count against the heap only while
     * queued.
     */
    public static final int SESSION_QUEUE_SIZE = 262_144;

    private MoquetteProperties() {}

    /**
     * @param host       listen address
     * @param port       a concrete port (never 0: the caller has resolved it)
     * @param dataDir    existing, writable, absolute directory
     * @param maxMessageBytes largest MQTT packet accepted
     * @param allowAnonymous whether clients without a user name are admitted
     */
    public static Properties of(String host, int port, Path dataDir, int maxMessageBytes, boolean allowAnonymous) {
        Properties p = new Properties();
        p.setProperty(IConfig.HOST_PROPERTY_NAME, host);
        p.setProperty(IConfig.PORT_PROPERTY_NAME, Integer.toString(port));
        // Moquette 0.17 defaults telemetry on and would call an outside host at every start.
        p.setProperty(IConfig.ENABLE_TELEMETRY_NAME, "false");
        // Clients without a user name; those with one meet the authenticator given to startServer.
        p.setProperty(IConfig.ALLOW_ANONYMOUS_PROPERTY_NAME, Boolean.toString(allowAnonymous));
        // Operators run mosquitto_pub/mosquitto_sub without -i: they send an empty client id.
        p.setProperty(BrokerConstants.ALLOW_ZERO_BYTE_CLIENT_ID_PROPERTY_NAME, "true");
        // Moquette's default of 8092 bytes refuses any real watch list (100,000 targets are about 1.5 MB).
        p.setProperty(IConfig.NETTY_MAX_BYTES_PROPERTY_NAME, Integer.toString(maxMessageBytes));
        p.setProperty(IConfig.PERSISTENCE_ENABLED_PROPERTY_NAME, "true");
        p.setProperty(IConfig.DATA_PATH_PROPERTY_NAME, dataDir.toString());
        p.setProperty(IConfig.PERSISTENT_QUEUE_TYPE_PROPERTY_NAME, QUEUE_TYPE);
        p.setProperty(BrokerConstants.AUTOSAVE_INTERVAL_PROPERTY_NAME, Integer.toString(AUTOSAVE_SECONDS));
        p.setProperty(BrokerConstants.NETTY_EPOLL_PROPERTY_NAME, "false");
        p.setProperty(IConfig.SESSION_QUEUE_SIZE, Integer.toString(SESSION_QUEUE_SIZE));
        return p;
    }

    /**
     * Sets how long Moquette keeps a disconnected persistent session ({@code persistent_client_expiration}, read by
     * Moquette 0.17 at start and given to every session created with clean session false). {@link Duration#ZERO} leaves
     * it unset: Moquette's default, never.
     */
    public static void sessionExpiry(IConfig config, Duration expiry) {
        if (!expiry.isZero()) {
            config.setProperty(IConfig.PERSISTENT_CLIENT_EXPIRATION_PROPERTY_NAME, expiry.toSeconds() + "s");
        }
    }

    /** The same, as the {@link IConfig} that {@code Server.startServer} takes. */
    public static IConfig config(String host, int port, Path dataDir, int maxMessageBytes,
                                 boolean allowAnonymous) {
        return new MemoryConfig(of(host, port, dataDir, maxMessageBytes, allowAnonymous));
    }

    /** The same with a WebSocket listener on {@code websocketPort} (a concrete port) and path {@code websocketPath}. */
    public static IConfig config(String host, int port, Path dataDir, int maxMessageBytes, boolean allowAnonymous,
                                 int websocketPort, String websocketPath) {
        Properties p = of(host, port, dataDir, maxMessageBytes, allowAnonymous);
        p.setProperty(IConfig.WEB_SOCKET_PORT_PROPERTY_NAME, Integer.toString(websocketPort));
        p.setProperty(IConfig.WEB_SOCKET_PATH_PROPERTY_NAME, websocketPath);
        // A WebSocket frame may carry a whole MQTT packet: the same limit as the packet itself.
        p.setProperty(BrokerConstants.WEB_SOCKET_MAX_FRAME_SIZE_PROPERTY_NAME, Integer.toString(maxMessageBytes));
        return new MemoryConfig(p);
    }
}
