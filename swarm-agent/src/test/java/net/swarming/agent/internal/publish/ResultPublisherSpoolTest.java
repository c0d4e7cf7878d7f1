package net.swarming.agent.internal.publish;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import net.swarming.agent.internal.metrics.AgentMetrics;
import net.swarming.agent.internal.spool.Spool;
import net.swarming.common.mqtt.NotConnectedException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The publisher with a real on-disk spool and a transport that can be "down". */
@Timeout(30)
class ResultPublisherSpoolTest {

    @TempDir
    Path dir;

    private final AgentMetrics metrics = new AgentMetrics(new PrometheusRegistry());

    private static final class Transport implements ResultPublisher.Transport {
        final AtomicBoolean connected = new AtomicBoolean();
        final List<String> acknowledged = new CopyOnWriteArrayList<>();
        final List<CompletableFuture<Void>> held = Collections.synchronizedList(new ArrayList<>());
        volatile boolean hold;

        @Override
        public boolean isConnected() {
            return connected.get();
        }

        @Override
        public CompletableFuture<Void> publish(String topic, byte[] payload) {
            if (!connected.get()) {
                return CompletableFuture.failedFuture(new NotConnectedException("not connected"));
            }
            if (hold) {
                CompletableFuture<Void> f = new CompletableFuture<>();
                held.add(f);
                return f;
            }
            acknowledged.add(new String(payload, StandardCharsets.UTF_8));
            return CompletableFuture.completedFuture(null);
        }
    }

    private static List<String> range(int from, int to) {
        List<String> out = new ArrayList<>();
        for (int i = from; i < to; i++) {
            out.add("r" + i);
        }
        return out;
    }

    @Test
    void whenBrokerDown_thenResultsSpooled_andWhenBackUp_thenAllDeliveredInOrder() throws Exception {
        Transport transport = new Transport();
        try (Spool spool = Spool.open(dir, 1024 * 1024);
             ResultPublisher publisher = new ResultPublisher(transport, 50, 10, metrics, spool)) {
            transport.connected.set(true);
            for (int i = 0; i < 5; i++) {
                publisher.submit("ping/t", ("r" + i).getBytes(StandardCharsets.UTF_8));
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> transport.acknowledged.size() == 5);

            transport.connected.set(false);
            publisher.connectionChanged();
            for (int i = 5; i < 305; i++) {
                publisher.submit("ping/t", ("r" + i).getBytes(StandardCharsets.UTF_8));
            }
            // More than the memory capacity of 50: they are on disk, not dropped.
            assertEquals(300, spool.messages());
            assertEquals(0, metrics.resultsDroppedCount());

            transport.connected.set(true);
            publisher.connectionChanged();
            for (int i = 305; i < 310; i++) {
                publisher.submit("ping/t", ("r" + i).getBytes(StandardCharsets.UTF_8));
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> transport.acknowledged.size() == 310);
            assertEquals(range(0, 310), transport.acknowledged);
            assertEquals(0, spool.messages());
            assertTrue(publisher.flush(Duration.ofSeconds(1)));
        }
    }

    @Test
    void whenCleanRestartWithUnpublishedResults_thenDeliveredAfterRestartInOrder() throws Exception {
        Transport down = new Transport();
        down.connected.set(true);
        down.hold = true;
        try (Spool spool = Spool.open(dir, 1024 * 1024)) {
            ResultPublisher publisher = new ResultPublisher(down, 50, 3, metrics, spool);
            for (int i = 0; i < 10; i++) {
                publisher.submit("ping/t", ("r" + i).getBytes(StandardCharsets.UTF_8));
            }
            // Three in flight (never acknowledged), seven queued in memory.
            await().atMost(Duration.ofSeconds(5)).until(() -> down.held.size() == 3);
            down.connected.set(false);
            for (int i = 10; i < 15; i++) {
                publisher.submit("ping/t", ("r" + i).getBytes(StandardCharsets.UTF_8));
            }
            publisher.close();
            assertEquals(15, spool.messages());
        }
        // A late acknowledgement after close changes nothing.
        down.held.forEach(f -> f.complete(null));

        Transport up = new Transport();
        up.connected.set(true);
        try (Spool spool = Spool.open(dir, 1024 * 1024);
             ResultPublisher publisher = new ResultPublisher(up, 50, 10, metrics, spool)) {
            assertEquals(15, spool.messages());
            publisher.submit("ping/t", "r15".getBytes(StandardCharsets.UTF_8));
            await().atMost(Duration.ofSeconds(10)).until(() -> up.acknowledged.size() == 16);
            assertEquals(range(0, 16), up.acknowledged);
        }
        assertEquals(0, metrics.resultsDroppedCount());
    }

    @Test
    void whenSpoolFullWhileDown_thenOldestDroppedAndCountedAndTheRestDeliveredInOrder() throws Exception {
        Transport transport = new Transport();
        try (Spool spool = Spool.open(dir, 4096);
             ResultPublisher publisher = new ResultPublisher(transport, 50, 10, metrics, spool)) {
            int n = 400;
            for (int i = 0; i < n; i++) {
                publisher.submit("ping/t", String.format("r%04d", i).getBytes(StandardCharsets.UTF_8));
            }
            long dropped = spool.dropped();
            assertTrue(dropped > 0);
            assertEquals(n, spool.messages() + dropped);
            transport.connected.set(true);
            publisher.connectionChanged();
            await().atMost(Duration.ofSeconds(10)).until(() -> spool.isEmpty()
                    && transport.acknowledged.size() == n - dropped);
            List<String> expected = new ArrayList<>();
            for (long i = dropped; i < n; i++) {
                expected.add(String.format("r%04d", i));
            }
            assertEquals(expected, transport.acknowledged);
        }
    }
}
