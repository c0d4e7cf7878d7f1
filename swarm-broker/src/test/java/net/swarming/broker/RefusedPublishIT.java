package net.swarming.broker;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttAsyncClient;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A QoS 1 or 2 publish the role policy refuses is acknowledged and dropped (Moquette 0.17 alone never acknowledges it,
 * see {@code MoquetteDefectsIT}), so the client's in-flight window keeps moving; the refusal is counted once.
 */
@Timeout(120)
class RefusedPublishIT {

    private static final String AGENT_PW = "agent-pw";
    private static final String INDEXER_PW = "indexer-pw";
    private static final long ACK_WAIT_MS = 10_000;

    @TempDir
    Path tmp;

    private Path passwords;
    private SwarmBroker broker;
    private final List<MqttAsyncClient> clients = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        passwords = tmp.resolve("passwd");
        mosquittoPasswd("-c", "-b", passwords.toString(), "agent-1", AGENT_PW);
        mosquittoPasswd("-b", passwords.toString(), "indexer-1", INDEXER_PW);
        broker = SwarmBroker.start(new BrokerConfig("127.0.0.1", 0, tmp.resolve("data"),
                BrokerConfig.DEFAULT_MAX_MESSAGE_BYTES, "127.0.0.1", BrokerConfig.METRICS_OFF, null, passwords, null,
                null, BrokerConfig.LISTENER_OFF));
    }

    @AfterEach
    void stop() throws MqttException {
        for (MqttAsyncClient c : clients) {
            if (c.isConnected()) {
                c.disconnect().waitForCompletion(ACK_WAIT_MS);
            }
            c.close();
        }
        if (broker != null) {
            broker.close();
        }
    }

    private static void mosquittoPasswd(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("mosquitto_passwd"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue());
    }

    /** A Paho client that allows a single message in flight: one missing acknowledgement blocks it. */
    private MqttAsyncClient connect(String user, String password) throws MqttException {
        MqttAsyncClient c = new MqttAsyncClient("tcp://127.0.0.1:" + broker.port(), user + "-" + UUID.randomUUID(),
                new MemoryPersistence());
        clients.add(c);
        MqttConnectOptions o = new MqttConnectOptions();
        o.setUserName(user);
        o.setPassword(password.toCharArray());
        o.setCleanSession(true);
        o.setMaxInflight(1);
        o.setConnectionTimeout(10);
        c.connect(o).waitForCompletion(ACK_WAIT_MS);
        // Moquette 0.17 may drop a SUBSCRIBE that comes before it has marked the connection connected (broker.md).
        int expected = clients.size();
        await().atMost(Duration.ofSeconds(10)).until(() -> connectedClients() == expected);
        return c;
    }

    private double connectedClients() {
        return broker.metricsRegistry().scrape().stream()
                .filter(m -> m.getMetadata().getPrometheusName().equals("swarm_broker_clients_connected"))
                .map(GaugeSnapshot.class::cast)
                .mapToDouble(g -> g.getDataPoints().get(0).getValue())
                .findFirst().orElseThrow();
    }

    private double refused() {
        return broker.metricsRegistry().scrape().stream()
                .filter(m -> m.getMetadata().getPrometheusName().equals("swarm_broker_publish_messages_refused"))
                .map(CounterSnapshot.class::cast)
                .mapToDouble(c -> c.getDataPoints().get(0).getValue())
                .findFirst().orElseThrow();
    }

    /**
     * Paho 1.2.5 completes a token just before it frees the in-flight slot, so a publish right after
     * {@code waitForCompletion} can still find the window full for a moment; without the acknowledgement it stays full.
     */
    private static IMqttDeliveryToken publishWhenWindowOpens(MqttAsyncClient client, String topic, String payload,
                                                             int qos) {
        return await().atMost(Duration.ofMillis(ACK_WAIT_MS)).pollInterval(Duration.ofMillis(10))
                .ignoreExceptionsMatching(e -> e instanceof MqttException m
                        && m.getReasonCode() == MqttException.REASON_CODE_MAX_INFLIGHT)
                .until(() -> client.publish(topic, payload.getBytes(StandardCharsets.UTF_8), qos, false),
                        Objects::nonNull);
    }

    @Test
    void whenAnAgentPublishesWatchAtQos1And2_thenItIsAcknowledgedDroppedAndCountedAndTheNextPublishGoesThrough()
            throws Exception {
        BlockingQueue<String> pings = new LinkedBlockingQueue<>();
        BlockingQueue<String> watch = new LinkedBlockingQueue<>();
        MqttAsyncClient indexer = connect("indexer-1", INDEXER_PW);
        indexer.subscribe("ping/+", 1, (topic, m) -> pings.add(new String(m.getPayload(), StandardCharsets.UTF_8)))
                .waitForCompletion(ACK_WAIT_MS);
        indexer.subscribe("watch", 1, (topic, m) -> watch.add(new String(m.getPayload(), StandardCharsets.UTF_8)))
                .waitForCompletion(ACK_WAIT_MS);
        MqttAsyncClient agent = connect("agent-1", AGENT_PW);

        for (int qos : new int[] {1, 2}) {
            IMqttDeliveryToken forged = publishWhenWindowOpens(agent, "watch", "forged" + qos, qos);
            forged.waitForCompletion(ACK_WAIT_MS);
            assertTrue(forged.isComplete());
            // With one message in flight, this publish could not even start without the acknowledgement above.
            publishWhenWindowOpens(agent, "ping/a", "result" + qos, qos).waitForCompletion(ACK_WAIT_MS);
            assertEquals("result" + qos, pings.poll(10, TimeUnit.SECONDS));
        }

        assertTrue(agent.isConnected(), "the agent must not be disconnected");
        assertEquals(2.0, refused(), "each refusal counted once");
        // The indexer's own write to watch arrives, and nothing forged came before it.
        indexer.publish("watch", "real".getBytes(StandardCharsets.UTF_8), 1, false).waitForCompletion(ACK_WAIT_MS);
        assertEquals("real", watch.poll(10, TimeUnit.SECONDS));
        assertTrue(watch.isEmpty(), watch.toString());
    }

    @Test
    void whenMosquittoPubPublishesWhereItMayNotAtQos1And2_thenItGetsItsAcknowledgementAndExitsZero() {
        for (String qos : List.of("1", "2")) {
            Mosquitto.Result pub = Mosquitto.pub(broker.port(), "-u", "agent-1", "-P", AGENT_PW, "-t", "watch", "-m",
                    "forged", "-q", qos);
            assertEquals(0, pub.exitCode(), "QoS " + qos + ": " + pub.stderr());
        }
        assertEquals(2.0, refused());
        Mosquitto.Result watch = Mosquitto.sub(broker.port(), "-u", "indexer-1", "-P", INDEXER_PW, "-t", "watch",
                "-W", "2");
        assertEquals("", watch.out(), "nothing was delivered or retained");
    }

    /** The synchronous client used by operators' scripts sees the same. */
    @Test
    void whenASynchronousPahoClientPublishesWhereItMayNot_thenPublishReturns() throws Exception {
        MqttClient agent = new MqttClient("tcp://127.0.0.1:" + broker.port(), "agent-sync", new MemoryPersistence());
        try {
            MqttConnectOptions o = new MqttConnectOptions();
            o.setUserName("agent-1");
            o.setPassword(AGENT_PW.toCharArray());
            agent.setTimeToWait(ACK_WAIT_MS);
            agent.connect(o);
            agent.publish("watch", "forged".getBytes(StandardCharsets.UTF_8), 1, true);
            agent.publish("rip/agent/x", "gone".getBytes(StandardCharsets.UTF_8), 1, true);
            agent.disconnect();
        } finally {
            agent.close();
        }
        assertEquals(1.0, refused());
        Mosquitto.Result retained = Mosquitto.sub(broker.port(), "-u", "indexer-1", "-P", INDEXER_PW, "-t", "watch",
                "-t", "rip/#", "-v", "-W", "2");
        assertEquals("rip/agent/x gone\n", retained.out(), "the refused retained message was not stored");
    }
}
