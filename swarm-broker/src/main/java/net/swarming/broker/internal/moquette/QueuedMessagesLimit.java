package net.swarming.broker.internal.moquette;

import io.moquette.broker.IQueueRepository;
import io.moquette.broker.InMemoryQueue;
import io.moquette.broker.NettyUtils;
import io.moquette.broker.Server;
import io.moquette.broker.SessionMessageQueue;
import io.moquette.broker.SessionRegistry.EnqueuedMessage;
import io.moquette.broker.SessionRegistry.PublishedMessage;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.mqtt.MqttConnAckMessage;
import io.netty.handler.codec.mqtt.MqttConnectReturnCode;
import io.netty.util.AttributeKey;
import io.prometheus.metrics.core.metrics.Counter;
import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bounds the QoS 1 and 2 messages Moquette 0.17 queues for one session (mosquitto's {@code max_queued_messages}).
 *
 * <p>Moquette queues a QoS ≥ 1 message for a session instead of sending it while the session's in-flight window is full
 * or (persistent sessions) while its client is offline: clean sessions in memory, persistent ones in the H2 store, both
 * without a bound. Here each session's queue is wrapped in a {@link LimitedQueue} that counts what it holds and, at the
 * limit, drops a new message instead: released, counted in {@code swarm_broker_publish_messages_dropped_total}
 * (mosquitto counts these in {@code $SYS/broker/publish/messages/dropped} too), the first drop of each session logged as
 * a warning, later ones at debug. Messages already queued stay; the publisher is acknowledged as usual.
 *
 * <p>Where the wrapper goes in: persistent sessions' queues come from Moquette's queue repository, which is wrapped
 * (around {@link DetachedQueues}' own wrapper, so a dropped message is never copied); clean sessions' queues Moquette
 * creates itself, so each one is wrapped when its session's CONNACK leaves, by a command on the session's own loop (the
 * only thread that enqueues and dequeues), before the SUBSCRIBE that could route anything to it (the connect gate holds
 * it until then). Sessions that exist when {@link #install} runs are wrapped then, on their loops. A wrapper delegates
 * to the queue it wraps, so nothing enqueued before is lost; it starts counting from what that queue holds, as far as it
 * can tell (Moquette's in-memory and H2 queues can; other queues count from 0).
 */
public final class QueuedMessagesLimit {

    private static final Logger LOG = LoggerFactory.getLogger(QueuedMessagesLimit.class);

    /** The handler's name in each connection's pipeline. */
    public static final String NAME = "swarm-queued-messages-limit";

    /** Moquette's channel attribute holding the connection object. */
    private static final AttributeKey<Object> CONNECTION = AttributeKey.valueOf("connection");

    private final int maxQueuedMessages;
    private final Counter dropped;
    /** Set by {@link #install}; a CONNACK before it is covered by the sweep there. */
    private volatile SessionLoops loops;

    /**
     * @param maxQueuedMessages QoS 1/2 messages one session may have queued, at least 1
     * @param dropped           {@code swarm_broker_publish_messages_dropped_total}
     */
    public QueuedMessagesLimit(int maxQueuedMessages, Counter dropped) {
        if (maxQueuedMessages < 1) {
            throw new IllegalArgumentException("maxQueuedMessages=" + maxQueuedMessages + " must be at least 1");
        }
        this.maxQueuedMessages = maxQueuedMessages;
        this.dropped = dropped;
    }

    /** For {@code ChannelHooks.install}: wraps each clean session's queue at its CONNACK. */
    public Consumer<ChannelPipeline> customizer() {
        return pipeline -> pipeline.addBefore(ChannelHooks.HANDLER, NAME, new Handler());
    }

    /**
     * Wraps the queue repository of a started Moquette 0.17 and the queues of the sessions it holds; call after
     * {@link DetachedQueues#install}.
     *
     * @throws IllegalStateException if this Moquette build does not have the expected private fields
     */
    public void install(Server server) {
        Object registry = ChannelHooks.read(server, "sessions");
        IQueueRepository repository = (IQueueRepository) ChannelHooks.read(registry, "queueRepository");
        if (!(repository instanceof Repository)) {
            ChannelHooks.write(registry, "queueRepository", new Repository(repository));
        }
        SessionLoops sessionLoops = SessionLoops.of(server);
        loops = sessionLoops;
        Map<?, ?> pool = (Map<?, ?>) ChannelHooks.read(registry, "pool");
        sessionLoops.runOnEach(loop -> {
            for (Map.Entry<?, ?> entry : pool.entrySet()) {
                String clientId = (String) entry.getKey();
                if (sessionLoops.loopOf(clientId) == loop) {
                    wrap(clientId, entry.getValue());
                }
            }
        });
    }

    /** Messages dropped so far, by every session (and by the outbound limit, which shares the counter). */
    public long dropped() {
        return (long) dropped.get();
    }

    /**
     * Wraps {@code queue}, which holds {@code alreadyQueued} messages; a clean session's queue (Moquette's in-memory
     * one) also gets heap copies of the payloads it keeps (see {@link LimitedQueue#enqueue}).
     */
    LimitedQueue limit(String clientId, SessionMessageQueue<EnqueuedMessage> queue, long alreadyQueued) {
        return new LimitedQueue(clientId, queue, alreadyQueued, queue instanceof InMemoryQueue);
    }

    /** On the session's loop only. */
    private void wrap(String clientId, Object session) {
        Object queue = ChannelHooks.read(session, "sessionQueue");
        if (queue instanceof LimitedQueue) {
            return;
        }
        @SuppressWarnings("unchecked")
        SessionMessageQueue<EnqueuedMessage> q = (SessionMessageQueue<EnqueuedMessage>) queue;
        ChannelHooks.write(session, "sessionQueue", limit(clientId, q, sizeOf(q)));
    }

    /** What a Moquette queue holds, read from its private state; 0 when it cannot tell. */
    static long sizeOf(SessionMessageQueue<EnqueuedMessage> queue) {
        Object q = queue instanceof DetachedQueues.Queue detached ? detached.stored() : queue;
        String type = q.getClass().getName();
        try {
            if (type.equals("io.moquette.broker.InMemoryQueue")) {
                return ((Collection<?>) ChannelHooks.read(q, "queue")).size();
            }
            if (type.equals("io.moquette.persistence.H2PersistentQueue")) {
                // Moquette's indices: "head" is where the next message goes, "tail" the next to be taken.
                return Math.max(0, ((AtomicLong) ChannelHooks.read(q, "head")).get()
                        - ((AtomicLong) ChannelHooks.read(q, "tail")).get());
            }
        } catch (IllegalStateException e) {
            LOG.debug("cannot tell the size of {}: {}", type, e.toString());
        }
        return 0;
    }

    /** Moquette's repository (persistent sessions' queues), each queue limited. */
    final class Repository implements IQueueRepository {
        private final IQueueRepository stored;

        Repository(IQueueRepository stored) {
            this.stored = stored;
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
            SessionMessageQueue<EnqueuedMessage> queue = stored.getOrCreateQueue(clientId);
            return limit(clientId, queue, sizeOf(queue));
        }

        @Override
        public void close() {
            stored.close();
        }
    }

    /**
     * One session's queue with a bound. Moquette enqueues and dequeues on the session's loop thread only; the count is
     * atomic all the same, so that a reader elsewhere (tests, logs) sees a current value.
     */
    final class LimitedQueue implements SessionMessageQueue<EnqueuedMessage> {
        private final String clientId;
        private final SessionMessageQueue<EnqueuedMessage> queue;
        private final AtomicLong queued;
        private final boolean copyToHeap;
        private long droppedHere;

        LimitedQueue(String clientId, SessionMessageQueue<EnqueuedMessage> queue, long alreadyQueued,
                     boolean copyToHeap) {
            this.clientId = clientId;
            this.queue = queue;
            this.queued = new AtomicLong(alreadyQueued);
            this.copyToHeap = copyToHeap;
        }

        /**
         * Takes over the caller's reference (Moquette retains a message before enqueuing it).
         *
         * <p>In a clean session's queue, a payload that is not a heap array (a live publish: a slice of the pooled
         * direct buffer its connection read it into) is replaced by an exact heap copy. Kept as it is, each queued
         * message pins the whole read buffer, measured at ~3 KB of direct memory per 500-byte result, against ~0.5 KB
         * for the copy. Heap arrays (retained messages) are kept, so that {@link RetainedDeliveries} still knows them.
         */
        @Override
        public void enqueue(EnqueuedMessage message) {
            if (queued.get() >= maxQueuedMessages) {
                message.release();
                dropped.inc();
                if (droppedHere++ == 0) {
                    LOG.warn("client {}: {} QoS 1/2 messages are queued for its session (max-queued-messages), "
                                    + "further messages to it are dropped (counted in "
                                    + "swarm_broker_publish_messages_dropped_total)", clientId, maxQueuedMessages);
                } else {
                    LOG.debug("client {}: queue full, message dropped ({} so far)", clientId, droppedHere);
                }
                return;
            }
            queue.enqueue(copyToHeap ? onHeap(message) : message);
            queued.incrementAndGet();
        }

        private static EnqueuedMessage onHeap(EnqueuedMessage message) {
            if (!(message instanceof PublishedMessage published) || published.getPayload().hasArray()) {
                return message;
            }
            try {
                // Moquette sends queued messages as not retained whatever this flag says.
                return new PublishedMessage(published.getTopic(), published.getPublishingQos(),
                        Unpooled.copiedBuffer(published.getPayload()), false);
            } finally {
                published.release();
            }
        }

        @Override
        public EnqueuedMessage dequeue() {
            EnqueuedMessage message = queue.dequeue();
            if (message != null) {
                queued.updateAndGet(n -> n > 0 ? n - 1 : 0);
            }
            return message;
        }

        @Override
        public boolean isEmpty() {
            return queue.isEmpty();
        }

        @Override
        public void closeAndPurge() {
            queue.closeAndPurge();
            queued.set(0);
            if (droppedHere > 0) {
                LOG.info("client {}: session removed; {} QoS 1/2 messages to it were dropped over "
                        + "max-queued-messages={}", clientId, droppedHere, maxQueuedMessages);
            }
        }

        /** Messages queued now, as counted. */
        long queued() {
            return queued.get();
        }
    }

    /** Removes itself after the connection's CONNACK. */
    private final class Handler extends ChannelOutboundHandlerAdapter {
        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
            if (msg instanceof MqttConnAckMessage connAck) {
                if (connAck.variableHeader().connectReturnCode() == MqttConnectReturnCode.CONNECTION_ACCEPTED) {
                    wrapLater(ctx.channel(), ctx.channel().attr(CONNECTION).get());
                }
                ctx.pipeline().remove(this);
            }
            ctx.write(msg, promise);
        }

        private void wrapLater(Channel channel, Object connection) {
            SessionLoops sessionLoops = loops;
            if (connection == null || sessionLoops == null) {
                return;
            }
            // Bound by Moquette's session loop before it wrote this CONNACK.
            Object session = ChannelHooks.read(connection, "bindedSession");
            String clientId = NettyUtils.clientID(channel);
            if (session == null || clientId == null) {
                return;
            }
            try {
                sessionLoops.route(clientId, () -> {
                    // An exception here would end Moquette's session loop.
                    try {
                        wrap(clientId, session);
                    } catch (RuntimeException e) {
                        LOG.error("client {}: could not limit its session queue: {}", clientId, e.toString(), e);
                    }
                    return null;
                });
            } catch (IllegalStateException e) {
                LOG.warn("client {}: its session loop is full, its queue is not limited by max-queued-messages: {}",
                        clientId, e.getMessage());
            }
        }
    }
}
