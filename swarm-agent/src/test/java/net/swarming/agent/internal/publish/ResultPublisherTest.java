package net.swarming.agent.internal.publish;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import net.swarming.agent.internal.metrics.AgentMetrics;
import net.swarming.common.mqtt.MqttLinkException;
import net.swarming.common.mqtt.NotConnectedException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class ResultPublisherTest {

    private final AgentMetrics metrics = new AgentMetrics(new PrometheusRegistry());
    private final FakeTransport transport = new FakeTransport();
    private ResultPublisher publisher;

    /** Acknowledges at once while "connected"; records what it acknowledged, in order. */
    private static final class FakeTransport implements ResultPublisher.Transport {
        final AtomicBoolean connected = new AtomicBoolean();
        final List<String> acknowledged = new CopyOnWriteArrayList<>();
        final List<CompletableFuture<Void>> held = Collections.synchronizedList(new ArrayList<>());
        volatile boolean hold;
        volatile RuntimeException failWith;
        final AtomicInteger attempts = new AtomicInteger();

        @Override
        public boolean isConnected() {
            return connected.get();
        }

        @Override
        public CompletableFuture<Void> publish(String topic, byte[] payload) {
            attempts.incrementAndGet();
            if (!connected.get()) {
                return CompletableFuture.failedFuture(new NotConnectedException("not connected"));
            }
            if (failWith != null) {
                return CompletableFuture.failedFuture(failWith);
            }
            String text = new String(payload, StandardCharsets.UTF_8);
            if (hold) {
                CompletableFuture<Void> f = new CompletableFuture<>();
                f.thenRun(() -> acknowledged.add(text));
                held.add(f);
                return f;
            }
            acknowledged.add(text);
            return CompletableFuture.completedFuture(null);
        }
    }

    @AfterEach
    void tearDown() {
        if (publisher != null) {
            publisher.close();
        }
    }

    @Test
    void whenConnected_thenResultsArePublishedInOrder() {
        transport.connected.set(true);
        publisher = new ResultPublisher(transport, 100, 10, metrics);

        for (int i = 0; i < 50; i++) {
            publisher.submit("ping/t", bytes(i));
        }

        await().atMost(Duration.ofSeconds(5)).until(() -> transport.acknowledged.size() == 50);
        assertEquals(numbers(0, 50), transport.acknowledged);
        assertEquals(50, metrics.resultsPublishedCount());
        assertEquals(0, publisher.depth());
    }

    @Test
    void whenDisconnected_thenQueuedAndDrainedInOrderOnReconnect() throws Exception {
        publisher = new ResultPublisher(transport, 100, 10, metrics);
        for (int i = 0; i < 20; i++) {
            publisher.submit("ping/t", bytes(i));
        }
        TimeUnit.MILLISECONDS.sleep(200);
        assertEquals(20, publisher.depth());
        assertTrue(transport.acknowledged.isEmpty());

        transport.connected.set(true);
        publisher.connectionChanged();

        await().atMost(Duration.ofSeconds(5)).until(() -> transport.acknowledged.size() == 20);
        assertEquals(numbers(0, 20), transport.acknowledged);
    }

    @Test
    void whenQueueFull_thenOldestAreDroppedAndCounted() throws Exception {
        publisher = new ResultPublisher(transport, 3, 3, metrics);
        for (int i = 0; i < 5; i++) {
            publisher.submit("ping/t", bytes(i));
        }
        assertEquals(3, publisher.depth());
        assertEquals(2, metrics.resultsDroppedCount());

        transport.connected.set(true);
        publisher.connectionChanged();

        await().atMost(Duration.ofSeconds(5)).until(() -> transport.acknowledged.size() == 3);
        assertEquals(numbers(2, 5), transport.acknowledged);
    }

    @Test
    void whenConnectionLostBeforeAck_thenResultsAreResentInOrder() throws Exception {
        transport.connected.set(true);
        transport.hold = true;
        publisher = new ResultPublisher(transport, 100, 5, metrics);
        for (int i = 0; i < 8; i++) {
            publisher.submit("ping/t", bytes(i));
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> transport.held.size() == 5);

        // The link fails every unacknowledged publish when the connection drops.
        transport.connected.set(false);
        transport.hold = false;
        List<CompletableFuture<Void>> pending = new ArrayList<>(transport.held);
        transport.held.clear();
        pending.forEach(f -> f.completeExceptionally(new NotConnectedException("lost", true, null)));
        publisher.connectionChanged();
        assertEquals(8, publisher.depth());

        transport.connected.set(true);
        publisher.connectionChanged();

        await().atMost(Duration.ofSeconds(5)).until(() -> transport.acknowledged.size() == 8);
        assertEquals(numbers(0, 8), transport.acknowledged);
        assertEquals(0, metrics.resultsDroppedCount());
    }

    @Test
    void whenPublishKeepsFailing_thenResultIsDroppedAfterMaxAttempts() {
        transport.connected.set(true);
        transport.failWith = new MqttLinkException("refused (expected by the test)");
        publisher = new ResultPublisher(transport, 100, 5, metrics);

        publisher.submit("ping/t", bytes(1));

        await().atMost(Duration.ofSeconds(10)).until(() -> metrics.resultsDroppedCount() == 1);
        assertEquals(ResultPublisher.MAX_ATTEMPTS, transport.attempts.get());
        assertEquals(0, publisher.depth());
    }

    @Test
    void whenTransportThrows_thenPublisherKeepsWorking() {
        transport.connected.set(true);
        AtomicInteger calls = new AtomicInteger();
        ResultPublisher.Transport throwing = new ResultPublisher.Transport() {
            @Override
            public boolean isConnected() {
                return true;
            }

            @Override
            public CompletableFuture<Void> publish(String topic, byte[] payload) {
                if (calls.incrementAndGet() == 1) {
                    throw new IllegalStateException("thrown (expected by the test)");
                }
                return transport.publish(topic, payload);
            }
        };
        publisher = new ResultPublisher(throwing, 100, 5, metrics);

        publisher.submit("ping/t", bytes(0));
        publisher.submit("ping/t", bytes(1));

        await().atMost(Duration.ofSeconds(5)).until(() -> transport.acknowledged.size() == 2);
        assertEquals(numbers(0, 2), transport.acknowledged);
    }

    @Test
    void whenFlushedWhileConnected_thenWaitsForAcks() throws Exception {
        transport.connected.set(true);
        publisher = new ResultPublisher(transport, 100, 5, metrics);
        for (int i = 0; i < 10; i++) {
            publisher.submit("ping/t", bytes(i));
        }

        assertTrue(publisher.flush(Duration.ofSeconds(5)));
        assertEquals(10, transport.acknowledged.size());
    }

    @Test
    void whenFlushedWhileDisconnected_thenGivesUpAtOnce() throws Exception {
        publisher = new ResultPublisher(transport, 100, 5, metrics);
        publisher.submit("ping/t", bytes(0));
        long t0 = System.nanoTime();

        assertFalse(publisher.flush(Duration.ofSeconds(5)));
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(1));
    }

    @Test
    void whenClosed_thenLeftoversAreCountedAndCloseIsIdempotent() {
        publisher = new ResultPublisher(transport, 100, 5, metrics);
        publisher.submit("ping/t", bytes(0));
        publisher.submit("ping/t", bytes(1));

        publisher.close();
        publisher.close();
        publisher.submit("ping/t", bytes(2));

        assertEquals(3, metrics.resultsDroppedCount());
    }

    private static byte[] bytes(int i) {
        return Integer.toString(i).getBytes(StandardCharsets.UTF_8);
    }

    private static List<String> numbers(int from, int to) {
        List<String> out = new ArrayList<>();
        for (int i = from; i < to; i++) {
            out.add(Integer.toString(i));
        }
        return out;
    }
}
