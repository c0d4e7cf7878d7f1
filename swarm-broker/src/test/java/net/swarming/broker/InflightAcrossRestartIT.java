package net.swarming.broker;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.IntStream;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * An indexer acknowledges a result only once it has stored it; when it goes away (say kill -9) with a window of
 * unacknowledged results and the broker is restarted before it comes back, those results must still reach it.
 * Moquette 0.17 kept them only in memory.
 */
@Timeout(120)
class InflightAcrossRestartIT {

    private static final String INDEXER = "swarm-indexer-test";

    @TempDir
    Path tmp;

    private SwarmBroker broker;

    @AfterEach
    void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    private BrokerConfig config() {
        return new BrokerConfig("127.0.0.1", 0, tmp.resolve("data"), BrokerConfig.DEFAULT_MAX_MESSAGE_BYTES,
                "127.0.0.1", BrokerConfig.METRICS_OFF);
    }

    @Test
    void whenTheBrokerRestartsWhileAPersistentSubscriberHasUnacknowledgedResults_thenNoneIsLost() throws Exception {
        broker = SwarmBroker.start(config());
        int window = BrokerConfig.DEFAULT_MAX_INFLIGHT_MESSAGES;
        int n = 3 * window;
        List<MqttMessage> before = new CopyOnWriteArrayList<>();
        MqttClient indexer = indexer(before, true);
        indexer.subscribe("ping/+", 1);
        for (int i = 0; i < n; i++) {
            assertEquals(0, Mosquitto.pub(broker.port(), "-t", "ping/a", "-m", "r" + i, "-q", "1").exitCode());
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> before.size() >= window);
        Thread.sleep(300);
        assertEquals(window, before.size(), "never acknowledged: the rest waits in the session's queue");
        indexer.disconnectForcibly(0, 1000, false); // as if killed

        broker.close();
        broker = SwarmBroker.start(config());
        List<MqttMessage> after = new CopyOnWriteArrayList<>();
        MqttClient back = indexer(after, false);
        await().atMost(Duration.ofSeconds(20)).until(() -> after.size() >= n);
        Thread.sleep(500);
        back.disconnect();
        back.close();
        indexer.close();
        assertEquals(IntStream.range(0, n).mapToObj(i -> "r" + i).sorted().toList(),
                after.stream().map(m -> new String(m.getPayload(), StandardCharsets.UTF_8)).sorted().toList(),
                "every result once, the unacknowledged window included");
    }

    private MqttClient indexer(List<MqttMessage> got, boolean manualAcks) throws MqttException {
        return PahoCollector.persistent(broker.port(), INDEXER, manualAcks, got);
    }
}
