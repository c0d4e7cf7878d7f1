package net.swarming.broker;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Session expiry and the subscription and retained-message gauges, against a real broker and real clients. */
@Timeout(120)
class LimitsAndMetricsIT {

    /** mosquitto_sub's exit code when -W elapsed before -C messages arrived. */
    private static final int MOSQUITTO_SUB_TIMED_OUT = 27;
    private static final Duration SHORT_EXPIRY = Duration.ofSeconds(2);
    /** The expiry, plus Moquette's 1 s expired-session sweep, plus slack for a loaded machine. */
    private static final Duration PAST_EXPIRY = SHORT_EXPIRY.plusSeconds(3);

    @TempDir
    Path tmp;

    private SwarmBroker broker;

    @AfterEach
    void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    private BrokerConfig config(Path dataDir, int metricsPort) {
        return new BrokerConfig("127.0.0.1", 0, dataDir, BrokerConfig.DEFAULT_MAX_MESSAGE_BYTES, "127.0.0.1",
                metricsPort);
    }

    /** Leaves a persistent session subscribed to {@code ping/+} at QoS 1 under {@code clientId}. */
    private void persistentSubscriber(String clientId) {
        Mosquitto.Result r = Mosquitto.sub(broker.port(), "-i", clientId, "-c", "-q", "1", "-t", "ping/+", "-E");
        assertEquals(0, r.exitCode(), r.stderr());
    }

    /** Reconnects {@code clientId}'s persistent session and waits up to {@code seconds} for one message. */
    private Mosquitto.Result resume(String clientId, int seconds) {
        return Mosquitto.sub(broker.port(), "-i", clientId, "-c", "-q", "1", "-t", "ping/+", "-C", "1", "-W",
                Integer.toString(seconds));
    }

    /**
     * The expiry is wall-clock time inside the broker with nothing observable from outside until it has passed (a
     * reconnect to look would itself reopen the session), so this one wait is a sleep.
     */
    private static void letExpiryPass() throws InterruptedException {
        Thread.sleep(PAST_EXPIRY.toMillis());
    }

    @Test
    void whenPersistentSessionStaysAwayLongerThanSessionExpiry_thenItsQueuedMessagesAreGone() throws Exception {
        broker = SwarmBroker.start(config(tmp.resolve("data"), BrokerConfig.METRICS_OFF)
                .withSessionExpiry(SHORT_EXPIRY));
        persistentSubscriber("back-soon");
        persistentSubscriber("back-late");
        assertEquals(0, Mosquitto.pub(broker.port(), "-t", "ping/a", "-m", "m1", "-q", "1").exitCode());

        Mosquitto.Result soon = resume("back-soon", 10);
        assertEquals(0, soon.exitCode(), soon.stderr());
        assertEquals("m1\n", soon.out(), "within the expiry the queued message must still be there");

        letExpiryPass();

        Mosquitto.Result late = resume("back-late", 3);
        assertEquals(MOSQUITTO_SUB_TIMED_OUT, late.exitCode(), late.out() + late.stderr());
        assertEquals("", late.out());
    }

    @Test
    void whenSessionExpiryIsLoweredAcrossARestart_thenSessionsStoredBeforeExpireToo() throws Exception {
        Path dataDir = tmp.resolve("data");
        broker = SwarmBroker.start(config(dataDir, BrokerConfig.METRICS_OFF).withSessionExpiry(Duration.ZERO));
        persistentSubscriber("back-soon");
        persistentSubscriber("back-late");
        assertEquals(0, Mosquitto.pub(broker.port(), "-t", "ping/a", "-m", "m1", "-q", "1").exitCode());
        broker.close();

        broker = SwarmBroker.start(config(dataDir, BrokerConfig.METRICS_OFF).withSessionExpiry(SHORT_EXPIRY));

        Mosquitto.Result soon = resume("back-soon", 10);
        assertEquals(0, soon.exitCode(), soon.stderr());
        assertEquals("m1\n", soon.out(), "the queue must survive the restart itself");
        letExpiryPass();
        Mosquitto.Result late = resume("back-late", 3);
        assertEquals(MOSQUITTO_SUB_TIMED_OUT, late.exitCode(), late.out() + late.stderr());
    }

    @Test
    void whenClientsSubscribeAndRetain_thenMetricsCountSubscriptionsAndRetainedMessagesAcrossARestart()
            throws Exception {
        Path dataDir = tmp.resolve("data");
        broker = SwarmBroker.start(config(dataDir, 0));
        int port = broker.port();

        MqttClient paho = new MqttClient("tcp://127.0.0.1:" + port, "metrics-paho", new MemoryPersistence());
        MqttConnectOptions clean = new MqttConnectOptions();
        clean.setCleanSession(true);
        paho.connect(clean);
        try {
            paho.subscribe(new String[] {"ping/+", "rip/#"}, new int[] {1, 1});
            persistentSubscriber("indexer-persistent");
            // A clean session that subscribes and leaves holds nothing afterwards.
            assertEquals(0, Mosquitto.sub(port, "-q", "1", "-t", "watch", "-E").exitCode());
            awaitGauge("swarm_broker_subscriptions_count", 3);

            paho.unsubscribe("rip/#");
            awaitGauge("swarm_broker_subscriptions_count", 2);
        } finally {
            disconnect(paho);
        }
        awaitGauge("swarm_broker_subscriptions_count", 1);

        assertEquals(0, Mosquitto.pub(port, "-t", "watch", "-m", "a b", "-q", "1", "-r").exitCode());
        assertEquals(0, Mosquitto.pub(port, "-t", "rip/agent/x", "-m", "gone", "-q", "1", "-r").exitCode());
        awaitGauge("swarm_broker_retained_messages_count", 2);
        // An empty retained payload clears the topic; Moquette 0.17 does not keep QoS 0 retained messages.
        assertEquals(0, Mosquitto.pub(port, "-t", "rip/agent/x", "-n", "-q", "1", "-r").exitCode());
        assertEquals(0, Mosquitto.pub(port, "-t", "other", "-m", "q0", "-q", "0", "-r").exitCode());
        assertEquals(0, Mosquitto.pub(port, "-t", "tick", "-m", "last", "-q", "1").exitCode());
        awaitGauge("swarm_broker_publish_messages_received_total", 5);
        awaitGauge("swarm_broker_retained_messages_count", 1);
        // What the broker really holds: a new subscriber to everything receives exactly the retained messages.
        Mosquitto.Result all = Mosquitto.sub(port, "-t", "#", "-v", "-W", "2");
        assertEquals("watch a b\n", all.out(), all.stderr());
        // Two seconds later every publish event has long been handled: the QoS 0 one still did not count.
        assertEquals(1.0, gauge("swarm_broker_retained_messages_count"));
        broker.close();

        broker = SwarmBroker.start(config(dataDir, 0));

        assertEquals(1.0, gauge("swarm_broker_retained_messages_count"), "retained count must come from the store");
        assertEquals(1.0, gauge("swarm_broker_subscriptions_count"), "the persistent session's subscription");
    }

    /**
     * The traffic counters after a known exchange (MQTT 3.1.1, no user name, keep-alive 60 s, 4-character client ids,
     * topic {@code ping/t}, 200-byte payloads): CONNECT 18 bytes, CONNACK 4, SUBSCRIBE 13, SUBACK 5, PUBLISH at QoS 1
     * 213, PUBACK 4, DISCONNECT 2. The subscriber is Paho, so that it subscribes only once Moquette has marked it
     * connected: Moquette 0.17 marks a connection connected in a listener on its CONNACK write, which its session
     * thread may add late on a loaded machine; a SUBSCRIBE read before that drops the connection ("SUBSCRIBE received
     * on already closed connection") and mosquitto_sub, which subscribes at once, reconnects and subscribes again,
     * which changes the counts (seen once: two packets more).
     */
    @Test
    void whenAKnownExchangeHappens_thenTrafficCountersMoveByTheExactAmounts() throws Exception {
        broker = SwarmBroker.start(config(tmp.resolve("data"), 0));
        int k = 5;
        String payload = "p".repeat(200);
        BlockingQueue<String> received = new LinkedBlockingQueue<>();
        MqttClient sub = new MqttClient("tcp://127.0.0.1:" + broker.port(), "sub1", new MemoryPersistence());
        try {
            MqttConnectOptions options = new MqttConnectOptions();
            options.setCleanSession(true);
            options.setKeepAliveInterval(60);
            sub.connect(options);
            awaitGauge("swarm_broker_clients_connected", 1);
            sub.subscribe("ping/t", 1, (topic, m) -> received.add(new String(m.getPayload(), StandardCharsets.UTF_8)));
            for (int i = 0; i < k; i++) {
                Mosquitto.Result pub = Mosquitto.pub(broker.port(), "-i", "pub" + i, "-t", "ping/t", "-m", payload,
                        "-q", "1");
                assertEquals(0, pub.exitCode(), pub.stderr());
            }
            for (int i = 0; i < k; i++) {
                assertEquals(payload, received.poll(10, TimeUnit.SECONDS), "message " + i);
            }
        } finally {
            disconnect(sub);
        }

        // Subscriber: CONNECT, SUBSCRIBE, k PUBACK, DISCONNECT in; CONNACK, SUBACK, k PUBLISH out.
        // Each publisher: CONNECT, PUBLISH, DISCONNECT in; CONNACK, PUBACK out.
        Map<String, Double> expected = new TreeMap<>(Map.of(
                "swarm_broker_messages_received_total", (double) (3 + k + 3 * k),
                "swarm_broker_messages_sent_total", (double) (2 + k + 2 * k),
                "swarm_broker_publish_messages_received_total", (double) k,
                "swarm_broker_publish_messages_sent_total", (double) k,
                "swarm_broker_publish_bytes_received_total", (double) (k * 200),
                "swarm_broker_publish_bytes_sent_total", (double) (k * 200),
                "swarm_broker_bytes_received_total", (double) (18 + 13 + k * 4 + 2 + k * (18 + 213 + 2)),
                "swarm_broker_bytes_sent_total", (double) (4 + 5 + k * 213 + k * (4 + 4))));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            Map<String, Double> actual = new TreeMap<>();
            for (String name : expected.keySet()) {
                actual.put(name, gauge(name));
            }
            assertEquals(expected, actual);
        });
    }

    private static void disconnect(MqttClient client) throws MqttException {
        try {
            client.disconnect();
        } finally {
            client.close();
        }
    }

    private void awaitGauge(String name, double expected) {
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertEquals(expected, gauge(name), name));
    }

    /** The value of {@code name} in a real scrape of {@code /metrics}. */
    private double gauge(String name) throws IOException, InterruptedException {
        return MetricsScrape.value(broker, name);
    }
}
