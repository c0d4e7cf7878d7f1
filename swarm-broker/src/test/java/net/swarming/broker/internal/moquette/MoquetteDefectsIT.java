package net.swarming.broker.internal.moquette;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moquette.broker.Server;
import io.moquette.broker.config.IConfig;
import io.moquette.broker.config.MemoryConfig;
import io.moquette.broker.security.IAuthorizatorPolicy;
import io.moquette.broker.subscriptions.Topic;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import net.swarming.broker.BrokerThreads;
import net.swarming.broker.Mosquitto;
import net.swarming.broker.internal.net.ListenAddress;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttAsyncClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Moquette 0.17 itself, without the swarm broker's guards: the defects are real and the cleanup handles them. */
@Timeout(120)
class MoquetteDefectsIT {

    @TempDir
    Path tmp;

    /**
     * Plain Moquette 0.17 with the segmented queues it defaults to. swarm-broker uses H2 queues (defect 3), with which
     * the clean-after-persistent case below no longer breaks a restart (the kill -9 case still does, see BrokerJarIT).
     */
    private static IConfig segmented(Path dataDir) {
        Properties p = MoquetteProperties.of("127.0.0.1", ListenAddress.reserve("127.0.0.1", 0), dataDir, 1 << 20,
                true);
        p.setProperty(IConfig.PERSISTENT_QUEUE_TYPE_PROPERTY_NAME, "segmented");
        return new MemoryConfig(p);
    }

    /** Leaves a data directory in the state of defect (1): a client id used a persistent, then a clean session. */
    private static void persistentThenCleanSession(Path dataDir) throws Exception {
        IConfig config = segmented(dataDir);
        int port = Integer.parseInt(config.getProperty(IConfig.PORT_PROPERTY_NAME));
        Server server = new Server();
        server.startServer(config, List.of());
        try {
            assertEquals(0, Mosquitto.sub(port, "-i", "indexer-1", "-c", "-q", "1", "-t", "ping/+", "-E").exitCode());
            assertEquals(0, Mosquitto.sub(port, "-i", "indexer-1", "-q", "1", "-t", "ping/+", "-E").exitCode());
        } finally {
            server.stopServer();
        }
    }

    @Test
    void whenDefectOneStateIsStored_thenPlainMoquetteFailsAndTheCleanupLeavesNoThread() throws Exception {
        Path dataDir = tmp.resolve("data").toAbsolutePath();
        persistentThenCleanSession(dataDir);
        Set<Thread> before = BrokerThreads.snapshot();
        Server server = new Server();

        RuntimeException e;
        try {
            e = assertThrows(RuntimeException.class, () -> server.startServer(segmented(dataDir), List.of()));
        } finally {
            FailedStartCleanup.cleanUp(server, before);
        }

        assertTrue(String.valueOf(e.getMessage()).contains(SessionStoreRepair.MOQUETTE_EXPIRY_DEFECT), e.toString());
        assertEquals(List.of(), BrokerThreads.leftoverSince(before, Duration.ofSeconds(15)));
    }

    @Test
    void whenDefectOneStateIsRepaired_thenPlainMoquetteStarts() throws Exception {
        Path dataDir = tmp.resolve("data").toAbsolutePath();
        persistentThenCleanSession(dataDir);

        List<String> repaired = SessionStoreRepair.repair(dataDir);

        assertTrue(repaired.contains("indexer-1"), repaired.toString());
        Server server = new Server();
        server.startServer(segmented(dataDir), List.of());
        server.stopServer();
    }

    @Test
    void whenMoquetteItselfCannotBind_thenTheCleanupLeavesNoThread() throws Exception {
        Set<Thread> before = BrokerThreads.snapshot();
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            Server server = new Server();

            assertThrows(RuntimeException.class, () -> server.startServer(MoquetteProperties.config("127.0.0.1",
                    taken.getLocalPort(), tmp.resolve("data").toAbsolutePath(), 1 << 20, true), List.of()));
            FailedStartCleanup.cleanUp(server, before);
        }
        assertEquals(List.of(), BrokerThreads.leftoverSince(before, Duration.ofSeconds(15)));
    }

    /**
     * Defect (5) in plain Moquette 0.17 (fixed in 0.18.3): a retained message delivered on a QoS 1 subscription
     * arrives with RETAIN=0. swarm-broker restores the flag ({@code RetainedDeliveries}, tested in
     * {@code RetainedDeliveryIT}); this pins the defect so that an upgrade shows up and the fix can go.
     */
    @Test
    void whenRetainedIsDeliveredOnAQos1Subscription_thenMoquette017ClearsRetain() throws Exception {
        int port = ListenAddress.reserve("127.0.0.1", 0);
        Server server = new Server();
        server.startServer(MoquetteProperties.config("127.0.0.1", port, tmp.resolve("data").toAbsolutePath(), 1 << 20,
                true), List.of());
        try {
            assertEquals(0, Mosquitto.pub(port, "-t", "watch", "-m", "a", "-q", "1", "-r").exitCode());

            Mosquitto.Result qos0 = Mosquitto.sub(port, "-t", "watch", "-q", "0", "-F", "retain=%r", "-C", "1",
                    "-W", "10");
            Mosquitto.Result qos1 = Mosquitto.sub(port, "-t", "watch", "-q", "1", "-F", "retain=%r", "-C", "1",
                    "-W", "10");

            assertEquals("retain=1\n", qos0.out(), qos0.stderr());
            assertEquals("retain=0\n", qos1.out(), "Moquette 0.17 defect (5) is gone: update docs/broker.md");
        } finally {
            server.stopServer();
        }
    }

    /**
     * Plain Moquette 0.17 never acknowledges a QoS 1 publish its authorization policy refuses, so a client with one
     * message in flight is stuck. swarm-broker acknowledges it ({@code RefusedPublishes}, {@code RefusedPublishIT}).
     */
    @Test
    void whenAQos1PublishIsRefused_thenMoquette017NeverAcknowledgesIt() throws Exception {
        int port = ListenAddress.reserve("127.0.0.1", 0);
        Server server = new Server();
        IAuthorizatorPolicy noWatch = new IAuthorizatorPolicy() {
            @Override
            public boolean canWrite(Topic topic, String user, String client) {
                return !topic.toString().equals("watch");
            }

            @Override
            public boolean canRead(Topic topic, String user, String client) {
                return true;
            }
        };
        server.startServer(MoquetteProperties.config("127.0.0.1", port, tmp.resolve("data").toAbsolutePath(), 1 << 20,
                true), List.of(), null, null, noWatch);
        MqttAsyncClient agent = new MqttAsyncClient("tcp://127.0.0.1:" + port, "agent", new MemoryPersistence());
        try {
            MqttConnectOptions options = new MqttConnectOptions();
            options.setMaxInflight(1);
            agent.connect(options).waitForCompletion(10_000);
            IMqttDeliveryToken refused = agent.publish("watch", new byte[] {1}, 1, false);

            MqttException timeout = assertThrows(MqttException.class, () -> refused.waitForCompletion(3_000),
                    "Moquette 0.17 now acknowledges refused publishes: update docs/broker.md");
            assertEquals(MqttException.REASON_CODE_CLIENT_TIMEOUT, timeout.getReasonCode());
            MqttException full = assertThrows(MqttException.class, () -> agent.publish("ping/a", new byte[] {1}, 1,
                    false));
            assertEquals(MqttException.REASON_CODE_MAX_INFLIGHT, full.getReasonCode());
        } finally {
            agent.disconnectForcibly(1_000, 1_000);
            agent.close();
            server.stopServer();
        }
    }
}
