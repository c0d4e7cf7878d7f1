package net.swarming.broker;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Moquette 0.17 defect (5), fixed by {@code RetainedDeliveries}: a retained message reaches a new subscriber with
 * RETAIN=1 at every QoS, and a message that matches an established subscription with RETAIN=0 (MQTT 3.1.1, 3.3.1.3),
 * as the real {@code mosquitto_sub} reports it ({@code -F %r}).
 */
@Timeout(120)
class RetainedDeliveryIT {

    @TempDir
    Path tmp;

    private SwarmBroker broker;
    private final List<Process> processes = new ArrayList<>();

    @AfterEach
    void stop() throws InterruptedException {
        for (Process p : processes) {
            p.destroy();
            p.waitFor(10, TimeUnit.SECONDS);
        }
        if (broker != null) {
            broker.close();
        }
    }

    private BrokerConfig config() {
        return new BrokerConfig("127.0.0.1", 0, tmp.resolve("data"), BrokerConfig.DEFAULT_MAX_MESSAGE_BYTES,
                "127.0.0.1", BrokerConfig.METRICS_OFF);
    }

    private Mosquitto.Result subscribeOnce(String qos, String topic) {
        return Mosquitto.sub(broker.port(), "-t", topic, "-q", qos, "-F", "retain=%r %p", "-C", "1", "-W", "10");
    }

    @Test
    void whenRetainedIsDeliveredOnQos1AndQos2Subscriptions_thenRetainIsSet() {
        broker = SwarmBroker.start(config());
        assertEquals(0, Mosquitto.pub(broker.port(), "-t", "watch", "-m", "a b", "-q", "1", "-r").exitCode());
        assertEquals(0, Mosquitto.pub(broker.port(), "-t", "watch2", "-m", "c d", "-q", "2", "-r").exitCode());

        for (String qos : List.of("0", "1", "2")) {
            Mosquitto.Result q1 = subscribeOnce(qos, "watch");
            Mosquitto.Result q2 = subscribeOnce(qos, "watch2");
            assertEquals("retain=1 a b\n", q1.out(), "subscription QoS " + qos + ": " + q1.stderr());
            assertEquals("retain=1 c d\n", q2.out(), "subscription QoS " + qos + ": " + q2.stderr());
        }
    }

    @Test
    void whenMessagesMatchAnEstablishedSubscription_thenRetainIsClearEvenForRetainedPublishes() throws Exception {
        broker = SwarmBroker.start(config());
        assertEquals(0, Mosquitto.pub(broker.port(), "-t", "watch", "-m", "old", "-q", "1", "-r").exitCode());
        Process sub = background("mosquitto_sub", "-h", "127.0.0.1", "-p", Integer.toString(broker.port()),
                "-t", "watch", "-q", "1", "-F", "retain=%r %p", "-C", "3", "-W", "30");
        BufferedReader lines = new BufferedReader(new InputStreamReader(sub.getInputStream(), StandardCharsets.UTF_8));
        // The retained message proves the subscription is in place before the live ones are sent.
        assertEquals("retain=1 old", lines.readLine());

        assertEquals(0, Mosquitto.pub(broker.port(), "-t", "watch", "-m", "live", "-q", "1").exitCode());
        assertEquals(0, Mosquitto.pub(broker.port(), "-t", "watch", "-m", "new", "-q", "1", "-r").exitCode());

        assertEquals("retain=0 live", lines.readLine());
        assertEquals("retain=0 new", lines.readLine());
        assertTrue(sub.waitFor(10, TimeUnit.SECONDS));
        assertEquals("retain=1 new\n", subscribeOnce("1", "watch").out(), "the new retained message is kept");
    }

    /**
     * More retained messages on a QoS 1 subscription than the in-flight window holds: the first ones fill the window,
     * the others wait in the session's queue (in memory for a clean session, H2 for a persistent one) and still arrive
     * retained.
     */
    @Test
    void whenMoreRetainedMessagesThanTheInflightWindowAreDelivered_thenAllHaveRetainSet() {
        broker = SwarmBroker.start(config());
        int n = 3 * BrokerConfig.DEFAULT_MAX_INFLIGHT_MESSAGES;
        for (int i = 0; i < n; i++) {
            assertEquals(0, Mosquitto.pub(broker.port(), "-t", "rip/agent/a" + i, "-m", "gone " + i, "-q", "1", "-r")
                    .exitCode());
        }
        String expected = IntStream.range(0, n).mapToObj(i -> "retain=1 gone " + i).sorted()
                .collect(Collectors.joining("\n"));

        for (List<String> session : List.<List<String>>of(List.of(), List.of("-i", "persistent-indexer", "-c"))) {
            List<String> args = new ArrayList<>(session);
            args.addAll(List.of("-t", "rip/#", "-q", "1", "-F", "retain=%r %p", "-C", Integer.toString(n), "-W",
                    "20"));
            Mosquitto.Result all = Mosquitto.sub(broker.port(), args.toArray(String[]::new));
            assertEquals(0, all.exitCode(), session + " " + all.stderr());
            assertEquals(expected, all.out().lines().sorted().collect(Collectors.joining("\n")), session.toString());
        }
    }

    /**
     * Retained deliveries that wait in a persistent session's queue (its in-flight window full of unacknowledged ones)
     * when the broker restarts are read back from disk as new arrays: they still arrive with RETAIN=1.
     */
    @Test
    void whenQueuedRetainedDeliveriesOutliveARestart_thenTheyStillHaveRetainSet() throws Exception {
        broker = SwarmBroker.start(config());
        int window = BrokerConfig.DEFAULT_MAX_INFLIGHT_MESSAGES;
        int n = 3 * window;
        for (int i = 0; i < n; i++) {
            assertEquals(0, Mosquitto.pub(broker.port(), "-t", "rip/agent/a" + i, "-m", "gone " + i, "-q", "1", "-r")
                    .exitCode());
        }
        List<MqttMessage> first = new CopyOnWriteArrayList<>();
        MqttClient reader = persistentReader(first, true);
        reader.subscribe("rip/#", 1);
        await().atMost(Duration.ofSeconds(20)).until(() -> first.size() >= window);
        Thread.sleep(300);
        assertEquals(window, first.size(), "nothing acknowledged: the window holds " + window + ", the rest is queued");
        reader.disconnectForcibly(0, 1000, false);
        reader.close();

        broker.close();
        broker = SwarmBroker.start(config());
        List<MqttMessage> after = new CopyOnWriteArrayList<>();
        MqttClient again = persistentReader(after, false); // no new subscription: only what the session kept
        // All of them: the queued ones and the window's unacknowledged ones (kept in the queue at the clean stop).
        await().atMost(Duration.ofSeconds(20)).until(() -> after.size() >= n);
        Thread.sleep(500);
        again.disconnect();
        again.close();
        assertEquals(IntStream.range(0, n).mapToObj(i -> "gone " + i).sorted().toList(),
                after.stream().map(m -> new String(m.getPayload(), StandardCharsets.UTF_8)).sorted().toList());
        List<String> notRetained = after.stream().filter(m -> !m.isRetained())
                .map(m -> new String(m.getPayload(), StandardCharsets.UTF_8)).toList();
        assertEquals(List.of(), notRetained, after.size() + " delivered after the restart");
    }

    private MqttClient persistentReader(List<MqttMessage> got, boolean manualAcks) throws MqttException {
        return PahoCollector.persistent(broker.port(), "persistent-reader", manualAcks, got);
    }

    private Process background(String... cmd) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        processes.add(p);
        return p;
    }
}
