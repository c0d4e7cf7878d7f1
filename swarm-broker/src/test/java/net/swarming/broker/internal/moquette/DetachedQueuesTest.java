package net.swarming.broker.internal.moquette;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moquette.broker.SessionMessageQueue;
import io.moquette.broker.SessionRegistry.EnqueuedMessage;
import io.moquette.broker.SessionRegistry.PubRelMarker;
import io.moquette.broker.SessionRegistry.PublishedMessage;
import io.moquette.broker.subscriptions.Topic;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.mqtt.MqttQoS;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import org.junit.jupiter.api.Test;

class DetachedQueuesTest {

    /** Keeps the very objects it is given, as Moquette's H2 queue keeps them in the store's pages. */
    private static final class Kept implements SessionMessageQueue<EnqueuedMessage> {
        final Deque<EnqueuedMessage> messages = new ArrayDeque<>();

        @Override
        public void enqueue(EnqueuedMessage m) {
            messages.add(m);
        }

        @Override
        public EnqueuedMessage dequeue() {
            return messages.poll();
        }

        @Override
        public boolean isEmpty() {
            return messages.isEmpty();
        }

        @Override
        public void closeAndPurge() {
            messages.clear();
        }
    }

    private static ByteBuf pooled(String text) {
        ByteBuf b = PooledByteBufAllocator.DEFAULT.buffer();
        b.writeCharSequence(text, StandardCharsets.UTF_8);
        return b;
    }

    @Test
    void whenMessageIsQueuedSentAndAcknowledged_thenTheStoredCopyStaysReadable() {
        Kept kept = new Kept();
        DetachedQueues.Queue queue = new DetachedQueues.Queue(kept);
        ByteBuf payload = pooled("rtt=1.2");
        PublishedMessage published = new PublishedMessage(new Topic("ping/a"), MqttQoS.AT_LEAST_ONCE, payload, false);
        published.retain(); // what Moquette's Session does before enqueue

        queue.enqueue(published);
        assertEquals(1, payload.refCnt(), "the queue's reference to the publisher's buffer was handed back");
        EnqueuedMessage stored = kept.messages.peek();

        EnqueuedMessage out = queue.dequeue();
        out.release(); // Moquette, once the subscriber acknowledged
        out.release();
        payload.release(); // the publisher's own reference

        // What a store commit running at that moment does with the page that still holds the message.
        ByteBuf inStore = ((PublishedMessage) stored).getPayload();
        assertEquals("rtt=1.2", inStore.toString(StandardCharsets.UTF_8));
        assertEquals("ping/a", ((PublishedMessage) out).getTopic().toString());
        assertEquals(MqttQoS.AT_LEAST_ONCE, ((PublishedMessage) out).getPublishingQos());
        assertTrue(queue.isEmpty());
    }

    @Test
    void whenMessageComesBackFromDisk_thenReleasingItDoesNotEmptyTheStoredBuffer() {
        Kept kept = new Kept();
        ByteBuf fromDisk = Unpooled.wrappedBuffer("x".getBytes(StandardCharsets.UTF_8));
        PublishedMessage read = new PublishedMessage(new Topic("ping/a"), MqttQoS.AT_LEAST_ONCE, fromDisk, false);
        kept.enqueue(read);
        DetachedQueues.Queue queue = new DetachedQueues.Queue(kept);

        EnqueuedMessage out = queue.dequeue();
        assertNotSame(read, out);
        out.release();

        assertEquals(1, fromDisk.refCnt());
        assertEquals("x", ((PublishedMessage) out).getPayload().toString(StandardCharsets.UTF_8));
    }

    @Test
    void whenMarkerIsQueued_thenItPassesThrough() {
        Kept kept = new Kept();
        DetachedQueues.Queue queue = new DetachedQueues.Queue(kept);
        PubRelMarker marker = new PubRelMarker();

        queue.enqueue(marker);

        assertSame(marker, queue.dequeue());
        assertNull(queue.dequeue());
        assertTrue(queue.isEmpty());
    }
}
