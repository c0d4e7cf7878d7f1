package net.swarming.broker.internal.moquette;

import io.moquette.BrokerConstants;
import io.moquette.broker.config.IConfig;
import io.moquette.broker.config.MemoryConfig;
import java.nio.file.Path;
import java.util.Properties;

/**
 * The complete Moquette 0.17 configuration of a swarm broker, property names taken from {@link IConfig} and {@link BrokerConstants}.
 *
 * <p>Only the plain TCP listener is configured: Moquette opens the websocket and TLS listeners only when
 * {@code websocket_port}, {@code ssl_port} or {@code secure_websocket_port} are present, so they are never set here.
 */
public final class MoquetteProperties {

    /**
     * Seconds between commits of Moquette's H2 store. Moquette's default of 30 s would lose a freshly retained
     * {@code watch} to a crash for that long; a commit with nothing changed costs nothing.
     */
    static final int AUTOSAVE_SECONDS = 5;

    private MoquetteProperties() {}

    /**
     * @param host       listen address
     * @param port       a concrete port (never 0: the caller has resolved it)
     * @param dataDir    existing, writable, absolute directory
     * @param maxMessageBytes largest MQTT packet accepted
     */
    public static Properties of(String host, int port, Path dataDir, int maxMessageBytes) {
        Properties p = new Properties();
        p.setProperty(IConfig.HOST_PROPERTY_NAME, host);
        p.setProperty(IConfig.PORT_PROPERTY_NAME, Integer.toString(port));
        // Moquette 0.17 defaults telemetry on and would call an outside host at every start.
        p.setProperty(IConfig.ENABLE_TELEMETRY_NAME, "false");
        // Authentication arrives with a later issue; until then the broker is open, like a default mosquitto.
        p.setProperty(IConfig.ALLOW_ANONYMOUS_PROPERTY_NAME, "true");
        // Operators run mosquitto_pub/mosquitto_sub without -i: they send an empty client id.
        p.setProperty(BrokerConstants.ALLOW_ZERO_BYTE_CLIENT_ID_PROPERTY_NAME, "true");
        // Moquette's default of 8092 bytes refuses any real watch list (100,000 targets are about 1.5 MB).
        p.setProperty(IConfig.NETTY_MAX_BYTES_PROPERTY_NAME, Integer.toString(maxMessageBytes));
        p.setProperty(IConfig.PERSISTENCE_ENABLED_PROPERTY_NAME, "true");
        p.setProperty(IConfig.DATA_PATH_PROPERTY_NAME, dataDir.toString());
        p.setProperty(IConfig.PERSISTENT_QUEUE_TYPE_PROPERTY_NAME, "segmented");
        p.setProperty(BrokerConstants.AUTOSAVE_INTERVAL_PROPERTY_NAME, Integer.toString(AUTOSAVE_SECONDS));
        p.setProperty(BrokerConstants.NETTY_EPOLL_PROPERTY_NAME, "false");
        return p;
    }

    /** The same, as the {@link IConfig} that {@code Server.startServer} takes. */
    public static IConfig config(String host, int port, Path dataDir, int maxMessageBytes) {
        return new MemoryConfig(of(host, port, dataDir, maxMessageBytes));
    }
}
