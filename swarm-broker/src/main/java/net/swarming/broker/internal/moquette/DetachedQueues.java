package net.swarming.broker.internal.moquette;

import io.moquette.broker.IQueueRepository;
import io.moquette.broker.Server;
import io.moquette.broker.SessionMessageQueue;
import io.moquette.broker.SessionRegistry.EnqueuedMessage;
import io.moquette.broker.SessionRegistry.PublishedMessage;
import io.moquette.broker.subscriptions.Topic;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the payloads of the QoS 1 and 2 messages that Moquette 0.17 queues for persistent sessions out of Netty's
 * reference counting, so that its H2 store can always write them.
 *
 * <p>The defect this closes (it stalled {@code SwarmBrokerIT}'s flood test, 3 times in 15 runs on a loaded machine):
 * Moquette's H2 queue keeps the queued message object itself, with the publisher's pooled Netty buffer as its payload,
 * in the store's in-memory page. A store commit (every second) writes a snapshot of those pages from another thread.
 * When a message is taken from the queue, sent and acknowledged while that snapshot is being written, Moquette releases
 * the buffer, the writer meets a buffer whose count is 0 ({@code IllegalReferenceCountException}), the store closes
 * itself ("Map queue_… is closed"), and the next queue operation throws on Moquette's session loop thread — which has no
 * handler and dies, so every client whose id maps to that loop stops receiving and is never acknowledged again.
 *
 * <p>Here every queue Moquette uses hands the store a copy of the payload on the heap that nobody can release (the
 * collector frees it once neither the store nor the session holds it), and gives the session back a message whose
 * release does nothing. Queues of clean sessions (Moquette's in-memory queues) are left alone.
 */
public final class DetachedQueues {

    private static final Logger LOG = LoggerFactory.getLogger(DetachedQueues.class);

    private DetachedQueues() {}

    /**
     * Puts the wrapper in place on a started Moquette 0.17: for sessions created from now on, and, on each session's own
     * loop, for the sessions that already exist (restored from the store at start, or connected since the port opened).
     *
     * @throws IllegalStateException if this Moquette build does not have the expected private fields
     */
    public static void install(Server server) {
        install(server, RetainMarks.NONE);
    }

    /**
     * Which queued payloads are retained deliveries ({@link RetainedDeliveries}): a queue copies each payload, and
     * a persistent one may hand back a new array read from disk, so the mark is carried through the queue.
     */
    public interface RetainMarks {
        /** Marks nothing. */
        RetainMarks NONE = new RetainMarks() {
            @Override
            public boolean isRetained(ByteBuf payload) {
                return false;
            }

            @Override
            public void mark(ByteBuf payload) {
            }
        };

        /** Whether {@code payload} is that of a retained delivery. */
        boolean isRetained(ByteBuf payload);

        /** Makes {@code payload} (a copy, or a read-back) one of a retained delivery. */
        void mark(ByteBuf payload);
    }

    /**
     * Appended to the topic name of a queued retained delivery: MQTT topic names cannot hold U+0000 (MQTT 3.1.1,
     * 1.5.3), so it cannot clash; it is stored with the message (Moquette 0.17's queued messages drop their retain flag)
     * and taken off before the message leaves the queue.
     */
    static final String RETAINED_MARK = "\0retained";

    /** As {@link #install(Server)}, carrying {@code marks} through every queue. */
    public static void install(Server server, RetainMarks marks) {
        Object registry = ChannelHooks.read(server, "sessions");
        IQueueRepository repository = (IQueueRepository) ChannelHooks.read(registry, "queueRepository");
        Map<?, ?> pool = (Map<?, ?>) ChannelHooks.read(registry, "pool");
        SessionLoops loops = SessionLoops.of(server);
        if (!(repository instanceof Repository)) {
            ChannelHooks.write(registry, "queueRepository", new Repository(repository, marks,
                    () -> requeueInflight(pool, loops)));
        }
        loops.runOnEach(loop -> {
            int wrapped = 0;
            for (Map.Entry<?, ?> entry : pool.entrySet()) {
                if (loops.loopOf((String) entry.getKey()) == loop && wrap(entry.getValue(), marks)) {
                    wrapped++;
                }
            }
            if (wrapped > 0) {
                LOG.debug("session loop {}: {} existing persistent queues wrapped", loop, wrapped);
            }
        });
    }

    /**
     * At a clean stop (Moquette closes the queue repository after the connections, before the store): puts every
     * persistent session's sent-but-unacknowledged messages back into its stored queue. Moquette 0.17 keeps them only
     * in memory and resends them on the next connect of the same run, so a restart lost them: up to a whole in-flight
     * window of QoS 1 results per indexer (it acknowledges only what it has stored) whenever the broker was restarted
     * while an indexer was away or its acknowledgements were on the way. They go to the back of the queue, behind
     * what was queued after them (at least once, not in order); a kill -9 of the broker still loses them.
     */
    private static void requeueInflight(Map<?, ?> pool, SessionLoops loops) {
        try {
            loops.runOnEach(loop -> {
                int moved = 0;
                for (Map.Entry<?, ?> entry : pool.entrySet()) {
                    if (loops.loopOf((String) entry.getKey()) == loop) {
                        moved += requeueInflight(entry.getValue());
                    }
                }
                if (moved > 0) {
                    LOG.info("session loop {}: {} unacknowledged messages kept in their sessions' queues for the "
                            + "next start", loop, moved);
                }
            });
        } catch (RuntimeException e) {
            LOG.warn("could not keep unacknowledged messages of persistent sessions: {}", e.toString());
        }
    }

    private static int requeueInflight(Object session) {
        if (Boolean.TRUE.equals(ChannelHooks.read(session, "clean"))) {
            return 0; // discarded with the session anyway
        }
        Map<?, ?> inflight = (Map<?, ?>) ChannelHooks.read(session, "inflightWindow");
        @SuppressWarnings("unchecked")
        SessionMessageQueue<EnqueuedMessage> queue =
                (SessionMessageQueue<EnqueuedMessage>) ChannelHooks.read(session, "sessionQueue");
        int moved = 0;
        for (Object m : List.copyOf(inflight.values())) {
            if (m instanceof PublishedMessage published) {
                queue.enqueue(published); // takes over the window's reference: the window is cleared below
                moved++;
            }
        }
        inflight.clear();
        return moved;
    }

    private static boolean wrap(Object session, RetainMarks marks) {
        Object queue = ChannelHooks.read(session, "sessionQueue");
        if (queue instanceof Queue || !isStored(queue)) {
            return false;
        }
        @SuppressWarnings("unchecked")
        SessionMessageQueue<EnqueuedMessage> stored = (SessionMessageQueue<EnqueuedMessage>) queue;
        ChannelHooks.write(session, "sessionQueue", new Queue(stored, marks));
        return true;
    }

    /** Moquette's own queues of persistent sessions live in its persistence package; clean sessions' do not. */
    private static boolean isStored(Object queue) {
        return queue.getClass().getName().startsWith("io.moquette.persistence.");
    }

    /** Moquette's repository, each queue wrapped. */
    static final class Repository implements IQueueRepository {
        private final IQueueRepository stored;
        private final RetainMarks marks;
        private final Runnable beforeClose;

        Repository(IQueueRepository stored, RetainMarks marks, Runnable beforeClose) {
            this.stored = stored;
            this.marks = marks;
            this.beforeClose = beforeClose;
        }

        @Override
        public Set<String> listQueueNames() {
            return stored.listQueueNames();
        }

        @Override
        public boolean containsQueue(String clientId) {
            return stored.containsQueue(clientId);
        }

        @Override
        public SessionMessageQueue<EnqueuedMessage> getOrCreateQueue(String clientId) {
            return new Queue(stored.getOrCreateQueue(clientId), marks);
        }

        @Override
        public void close() {
            beforeClose.run();
            stored.close();
        }
    }

    /** One session's queue: stores detached copies, hands out messages whose release does nothing. */
    static final class Queue implements SessionMessageQueue<EnqueuedMessage> {
        /** Netty's wrapper whose release() does nothing (the class itself is not public). */
        private static final Class<?> UNRELEASABLE = Unpooled.unreleasableBuffer(Unpooled.buffer(0)).getClass();
        private final SessionMessageQueue<EnqueuedMessage> stored;
        private final RetainMarks marks;

        Queue(SessionMessageQueue<EnqueuedMessage> stored) {
            this(stored, RetainMarks.NONE);
        }

        Queue(SessionMessageQueue<EnqueuedMessage> stored, RetainMarks marks) {
            this.stored = stored;
            this.marks = marks;
        }

        /** Takes over the caller's reference: Moquette retains a message for the queue before enqueuing it. */
        @Override
        public void enqueue(EnqueuedMessage message) {
            if (message instanceof PublishedMessage published) {
                PublishedMessage copy;
                try {
                    ByteBuf payload = detached(published.getPayload());
                    Topic topic = published.getTopic();
                    if (marks.isRetained(published.getPayload())) {
                        marks.mark(payload);
                        topic = new Topic(topic + RETAINED_MARK);
                    }
                    copy = new PublishedMessage(topic, published.getPublishingQos(), payload, false);
                } finally {
                    published.release();
                }
                stored.enqueue(copy);
            } else {
                stored.enqueue(message);
            }
        }

        @Override
        public EnqueuedMessage dequeue() {
            EnqueuedMessage message = stored.dequeue();
            if (!(message instanceof PublishedMessage published)) {
                return message;
            }
            String name = published.getTopic().toString();
            boolean retained = name.endsWith(RETAINED_MARK);
            boolean detached = isDetached(published.getPayload());
            if (!retained && detached) {
                return message;
            }
            // Read back from disk: a plain heap buffer that a release would empty under a concurrent commit.
            ByteBuf payload = detached ? published.getPayload() : Unpooled.unreleasableBuffer(published.getPayload());
            Topic topic = published.getTopic();
            if (retained) {
                topic = new Topic(name.substring(0, name.length() - RETAINED_MARK.length()));
                marks.mark(payload); // again: after a restart the array is a new one
            }
            return new PublishedMessage(topic, published.getPublishingQos(), payload, false);
        }

        @Override
        public boolean isEmpty() {
            return stored.isEmpty();
        }

        /** Moquette's queue inside. */
        SessionMessageQueue<EnqueuedMessage> stored() {
            return stored;
        }

        @Override
        public void closeAndPurge() {
            stored.closeAndPurge();
        }

        private static ByteBuf detached(ByteBuf payload) {
            return Unpooled.unreleasableBuffer(Unpooled.copiedBuffer(payload));
        }

        private static boolean isDetached(ByteBuf payload) {
            return payload.getClass() == UNRELEASABLE;
        }
    }
}
