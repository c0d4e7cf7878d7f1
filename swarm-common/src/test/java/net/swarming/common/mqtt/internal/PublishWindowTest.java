package net.swarming.common.mqtt.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import net.swarming.common.mqtt.MqttLinkException;
import net.swarming.common.mqtt.NotConnectedException;
import org.eclipse.paho.client.mqttv3.IMqttActionListener;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.junit.jupiter.api.Test;

/** The window logic against a fake Paho: no broker, no threads (the completer runs tasks inline). */
class PublishWindowTest {

    private record Sent(String topic, IMqttActionListener listener) {
    }

    private final List<Sent> sent = new ArrayList<>();
    private final List<Runnable> retries = new ArrayList<>();
    private MqttException nextFailure;

    private PublishWindow window(int size, int maxQueued) {
        PublishWindow w = new PublishWindow("queen:1883", (topic, payload, qos, retained, listener) -> {
            if (nextFailure != null) {
                MqttException e = nextFailure;
                nextFailure = null;
                throw e;
            }
            sent.add(new Sent(topic, listener));
        }, size, maxQueued, Runnable::run, retries::add);
        w.open();
        return w;
    }

    private static Throwable failure(CompletableFuture<Void> f) {
        assertTrue(f.isCompletedExceptionally());
        try {
            f.join();
            throw new AssertionError("not failed");
        } catch (CompletionException e) {
            return e.getCause();
        }
    }

    @Test
    void whenBurstExceedsWindow_thenExtraPublishesWaitAndGoOutInOrderAsAcksArrive() {
        PublishWindow w = window(3, 100);
        List<CompletableFuture<Void>> futures = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            futures.add(w.submit("t/" + i, new byte[0], 1, false));
        }
        assertEquals(3, sent.size());
        assertEquals(3, w.inflight());
        assertEquals(7, w.queued());
        for (int i = 0; i < 10; i++) {
            sent.get(i).listener().onSuccess(null);
            assertTrue(futures.get(i).isDone());
            assertTrue(w.inflight() <= 3);
        }
        assertEquals(10, sent.size());
        for (int i = 0; i < 10; i++) {
            assertEquals("t/" + i, sent.get(i).topic());
            assertFalse(futures.get(i).isCompletedExceptionally());
        }
        assertEquals(0, w.inflight());
        assertEquals(0, w.queued());
    }

    @Test
    void whenNotOpen_thenFailsFastWithNotConnected() {
        PublishWindow w = new PublishWindow("queen:1883", (t, p, q, r, l) -> sent.add(new Sent(t, l)), 3, 10,
                Runnable::run, retries::add);
        assertInstanceOf(NotConnectedException.class, failure(w.submit("t", new byte[0], 1, false)));
        w.open();
        w.markLost();
        assertInstanceOf(NotConnectedException.class, failure(w.submit("t", new byte[0], 1, false)));
        assertTrue(sent.isEmpty());
    }

    @Test
    void whenConnectionLost_thenQueuedFailNotDeliveredAndInflightFailPossiblyDelivered() {
        PublishWindow w = window(1, 10);
        CompletableFuture<Void> inflight = w.submit("a", new byte[0], 1, false);
        CompletableFuture<Void> queued = w.submit("b", new byte[0], 1, false);
        w.markLost();
        w.failAll("connection lost");
        NotConnectedException e1 = assertInstanceOf(NotConnectedException.class, failure(inflight));
        NotConnectedException e2 = assertInstanceOf(NotConnectedException.class, failure(queued));
        assertTrue(e1.possiblyDelivered());
        assertFalse(e2.possiblyDelivered());
        sent.get(0).listener().onSuccess(null); // a late ack changes nothing
        assertEquals(0, w.inflight());
        assertEquals(1, sent.size());
    }

    @Test
    void whenQueueFull_thenFailsWithoutQueueing() {
        PublishWindow w = window(1, 1);
        w.submit("a", new byte[0], 1, false);
        w.submit("b", new byte[0], 1, false);
        Throwable e = failure(w.submit("c", new byte[0], 1, false));
        assertInstanceOf(MqttLinkException.class, e);
        assertTrue(e.getMessage().contains("queue full"), e.getMessage());
    }

    @Test
    void whenPahoSaysTooManyInFlight_thenRequeuedAtHeadAndRetriedLater() {
        PublishWindow w = window(5, 10);
        nextFailure = new MqttException(MqttException.REASON_CODE_MAX_INFLIGHT);
        CompletableFuture<Void> f = w.submit("a", new byte[0], 1, false);
        CompletableFuture<Void> g = w.submit("b", new byte[0], 1, false);
        assertFalse(f.isDone());
        assertEquals(2, w.queued());
        assertEquals(1, retries.size());
        retries.get(0).run();
        assertEquals(List.of("a", "b"), sent.stream().map(Sent::topic).toList());
        sent.get(0).listener().onSuccess(null);
        sent.get(1).listener().onSuccess(null);
        assertTrue(f.isDone() && !f.isCompletedExceptionally());
        assertTrue(g.isDone() && !g.isCompletedExceptionally());
    }

    @Test
    void whenPahoFails_thenTranslated() {
        PublishWindow w = window(5, 10);
        nextFailure = new MqttException(MqttException.REASON_CODE_CLIENT_NOT_CONNECTED);
        assertInstanceOf(NotConnectedException.class, failure(w.submit("a", new byte[0], 1, false)));
        CompletableFuture<Void> f = w.submit("b", new byte[0], 1, false);
        sent.get(0).listener().onFailure(null, new MqttException(MqttException.REASON_CODE_CONNECTION_LOST));
        NotConnectedException e = assertInstanceOf(NotConnectedException.class, failure(f));
        assertTrue(e.possiblyDelivered());
        CompletableFuture<Void> g = w.submit("c", new byte[0], 1, false);
        sent.get(1).listener().onFailure(null, new MqttException(MqttException.REASON_CODE_UNEXPECTED_ERROR));
        Throwable other = failure(g);
        assertFalse(other instanceof NotConnectedException);
        assertInstanceOf(MqttLinkException.class, other);
    }

    @Test
    void whenIntakeClosed_thenQueuedFailButInflightMayStillComplete() {
        PublishWindow w = window(1, 10);
        CompletableFuture<Void> a = w.submit("a", new byte[0], 1, false);
        CompletableFuture<Void> b = w.submit("b", new byte[0], 1, false);
        w.closeIntake("link closed");
        assertInstanceOf(NotConnectedException.class, failure(b));
        sent.get(0).listener().onSuccess(null);
        assertTrue(a.isDone() && !a.isCompletedExceptionally());
        assertEquals(1, sent.size());
        assertInstanceOf(NotConnectedException.class, failure(w.submit("c", new byte[0], 1, false)));
    }
}
