package net.swarming.broker.internal.moquette;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moquette.broker.IQueueRepository;
import io.moquette.broker.InMemoryQueue;
import io.moquette.broker.SessionMessageQueue;
import io.moquette.broker.SessionRegistry.EnqueuedMessage;
import io.moquette.broker.SessionRegistry.PublishedMessage;
import io.moquette.broker.subscriptions.Topic;
import io.moquette.persistence.H2QueueRepository;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import net.swarming.broker.internal.metrics.BrokerMetrics;
import org.h2.mvstore.MVStore;
import org.junit.jupiter.api.Test;

class QueuedMessagesLimitTest {

    private final QueuedMessagesLimit limit = new QueuedMessagesLimit(3,
            BrokerMetrics.droppedCounter(new PrometheusRegistry()));

    /** A message as Moquette's Session enqueues it: a pooled payload retained once more for the queue. */
    private static PublishedMessage queued(String text) {
        ByteBuf payload = PooledByteBufAllocator.DEFAULT.buffer();
        payload.writeCharSequence(text, StandardCharsets.UTF_8);
        PublishedMessage m = new PublishedMessage(new Topic("ping/a"), MqttQoS.AT_LEAST_ONCE, payload, false);
        m.retain();
        return m;
    }

    private static String text(EnqueuedMessage m) {
        return ((PublishedMessage) m).getPayload().toString(StandardCharsets.UTF_8);
    }

    @Test
    void whenMoreThanTheLimitIsQueued_thenTheRestIsDroppedReleasedAndCounted() {
        InMemoryQueue inner = new InMemoryQueue();
        QueuedMessagesLimit.LimitedQueue queue = limit.limit("idx", inner, 0);
        List<PublishedMessage> sent = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            PublishedMessage m = queued("m" + i);
            sent.add(m);
            queue.enqueue(m);
        }

        assertEquals(3, queue.queued());
        assertEquals(2, limit.dropped());
        assertEquals(1, sent.get(3).getPayload().refCnt(), "dropped: the queue's reference is released");
        assertEquals(1, sent.get(4).getPayload().refCnt());
        assertEquals(1, sent.get(2).getPayload().refCnt(), "queued: copied to the heap, the pooled buffer released");
        assertEquals("m0", text(queue.dequeue()));
        assertEquals(2, queue.queued());

        queue.enqueue(queued("m5"));
        queue.enqueue(queued("m6"));
        assertEquals(3, limit.dropped(), "one place was free again");
        assertEquals("m1", text(queue.dequeue()));
        assertEquals("m2", text(queue.dequeue()));
        assertEquals("m5", text(queue.dequeue()));
        assertNull(queue.dequeue());
        assertTrue(queue.isEmpty());
        assertEquals(0, queue.queued());
    }

    @Test
    void whenTheWrappedQueueAlreadyHoldsMessages_thenTheyCountAndStayInOrder() {
        InMemoryQueue inner = new InMemoryQueue();
        inner.enqueue(queued("old0"));
        inner.enqueue(queued("old1"));

        QueuedMessagesLimit.LimitedQueue queue = limit.limit("idx", inner, QueuedMessagesLimit.sizeOf(inner));
        queue.enqueue(queued("new0"));
        queue.enqueue(queued("new1"));

        assertEquals(1, limit.dropped());
        assertEquals("old0", text(queue.dequeue()));
        assertEquals("old1", text(queue.dequeue()));
        assertEquals("new0", text(queue.dequeue()));
        assertTrue(queue.isEmpty());
    }

    @Test
    void whenAnH2QueueHoldsMessages_thenItsSizeIsReadThroughTheDetachedWrapper() {
        MVStore store = new MVStore.Builder().open();
        try {
            H2QueueRepository repository = new H2QueueRepository(store);
            DetachedQueues.Repository detached = new DetachedQueues.Repository(repository, DetachedQueues.RetainMarks.NONE, () -> { });
            SessionMessageQueue<EnqueuedMessage> h2 = detached.getOrCreateQueue("idx");
            h2.enqueue(queued("a"));
            h2.enqueue(queued("b"));
            h2.dequeue();
            h2.enqueue(queued("c"));

            // As after a restart: a new queue object over the same stored map.
            SessionMessageQueue<EnqueuedMessage> reopened = detached.getOrCreateQueue("idx");
            assertEquals(2, QueuedMessagesLimit.sizeOf(reopened));
            QueuedMessagesLimit.LimitedQueue queue = limit.limit("idx", reopened,
                    QueuedMessagesLimit.sizeOf(reopened));
            queue.enqueue(queued("d"));
            queue.enqueue(queued("e"));
            assertEquals(1, limit.dropped());
            assertEquals("b", text(queue.dequeue()));
        } finally {
            store.close();
        }
    }

    @Test
    void whenTheRepositoryIsWrapped_thenEachPersistentQueueIsLimited() {
        InMemoryQueue inner = new InMemoryQueue();
        SessionMessageQueue<EnqueuedMessage> queue = limit.new Repository(new SingleQueueRepository(inner))
                .getOrCreateQueue("idx");
        assertSame(QueuedMessagesLimit.LimitedQueue.class, queue.getClass());
        for (int i = 0; i < 4; i++) {
            queue.enqueue(queued("m" + i));
        }
        assertEquals(1, limit.dropped());
        assertEquals(3, ((QueuedMessagesLimit.LimitedQueue) queue).queued());
        queue.closeAndPurge();
        assertEquals(0, ((QueuedMessagesLimit.LimitedQueue) queue).queued());
    }

    @Test
    void whenACleanSessionQueuesALivePublish_thenItKeepsAHeapCopyAndReleasesThePooledBuffer() {
        QueuedMessagesLimit.LimitedQueue queue = limit.limit("idx", new InMemoryQueue(), 0);
        PublishedMessage live = queued("rtt=1.2");
        ByteBuf retainedPayload = Unpooled.wrappedBuffer("watch".getBytes(StandardCharsets.US_ASCII));
        PublishedMessage retained = new PublishedMessage(new Topic("watch"), MqttQoS.AT_LEAST_ONCE, retainedPayload,
                true);

        queue.enqueue(live);
        queue.enqueue(retained);

        assertEquals(1, live.getPayload().refCnt(), "only the publisher's own reference is left");
        PublishedMessage out = (PublishedMessage) queue.dequeue();
        assertTrue(out.getPayload().hasArray());
        assertEquals("rtt=1.2", text(out));
        assertEquals("ping/a", out.getTopic().toString());
        assertEquals(MqttQoS.AT_LEAST_ONCE, out.getPublishingQos());
        assertSame(retained, queue.dequeue(), "heap arrays (retained messages) are kept as they are");
        live.getPayload().release();
    }

    @Test
    void whenAPersistentQueueIsLimited_thenPayloadsAreLeftToDetachedQueues() {
        DetachedQueuesTestQueue inner = new DetachedQueuesTestQueue();
        QueuedMessagesLimit.LimitedQueue queue = limit.limit("idx", inner, 0);
        PublishedMessage live = queued("rtt=1.2");
        queue.enqueue(live);
        assertSame(live, inner.last);
    }

    /** Keeps the last message it was given. */
    private static final class DetachedQueuesTestQueue implements SessionMessageQueue<EnqueuedMessage> {
        EnqueuedMessage last;

        @Override
        public void enqueue(EnqueuedMessage m) {
            last = m;
        }

        @Override
        public EnqueuedMessage dequeue() {
            return null;
        }

        @Override
        public boolean isEmpty() {
            return true;
        }

        @Override
        public void closeAndPurge() {
            last = null;
        }
    }

    @Test
    void whenTheLimitIsBelowOne_thenItIsRefused() {
        assertThrows(IllegalArgumentException.class,
                () -> new QueuedMessagesLimit(0, BrokerMetrics.droppedCounter(new PrometheusRegistry())));
    }

    /** A repository of one queue. */
    private record SingleQueueRepository(SessionMessageQueue<EnqueuedMessage> queue)
            implements IQueueRepository {
        @Override
        public Set<String> listQueueNames() {
            return Set.of("idx");
        }

        @Override
        public boolean containsQueue(String clientId) {
            return true;
        }

        @Override
        public SessionMessageQueue<EnqueuedMessage> getOrCreateQueue(String clientId) {
            return queue;
        }

        @Override
        public void close() {
            // nothing to close
        }
    }
}
