package net.swarming.broker.internal.moquette;

import io.moquette.broker.IRetainedRepository;
import io.moquette.broker.RetainedMessage;
import io.moquette.broker.Server;
import io.moquette.broker.subscriptions.Topic;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.mqtt.MqttFixedHeader;
import io.netty.handler.codec.mqtt.MqttPublishMessage;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.function.Consumer;

/**
 * Fixes Moquette 0.17 defect (5): a retained message delivered on a QoS 1 or 2 subscription arrives with RETAIN=0.
 *
 * <p>Moquette 0.17 sends the retained messages of a new subscription by wrapping each stored payload array in a buffer
 * and handing it to the session, whose QoS 1 and 2 paths build the PUBLISH with RETAIN=0 (the QoS 0 path keeps the
 * flag). The stored array is the only thing that tells these deliveries apart from live ones, so:
 *
 * <ol>
 *   <li>{@link #install} replaces the post office's retained-message store by a delegating one that remembers, by
 *       identity, every payload array it hands out (a weak set: an array is forgotten once nothing uses it);</li>
 *   <li>{@link #hook} adds an outbound handler that rewrites a PUBLISH with RETAIN=0 whose payload is backed by such
 *       an array into the same PUBLISH with RETAIN=1 (same topic, packet id, QoS, DUP flag and payload buffer).</li>
 * </ol>
 *
 * <p>Live publishes never carry these arrays (their payloads are slices of the decoder's pooled, usually direct,
 * buffers), so they keep RETAIN=0. Covered: direct delivery, resends of unacknowledged messages (same buffer), and
 * messages that wait in a session's queue while its in-flight window is full, as long as the queue hands back the
 * buffer it was given (in-memory queues of clean sessions; H2 queues of persistent sessions while the entry is still
 * in H2's cache), and, through a mark {@link DetachedQueues} stores with each queued retained delivery, messages read
 * back from disk after a restart. Not covered: subscriptions made in the moment between Moquette starting and
 * {@link #install}.
 */
public final class RetainedDeliveries {

    /** Name of the handler in each connection's pipeline. */
    public static final String NAME = "swarm-retain-flag";

    /** Payload arrays handed out by the retained store, compared by identity (arrays do not override equals). */
    private final Set<byte[]> payloads = Collections.synchronizedSet(Collections.newSetFromMap(new WeakHashMap<>()));
    private final RetainFlagRestorer handler = new RetainFlagRestorer();

    RetainedDeliveries() {}

    /**
     * Puts the recording store into {@code server}'s post office; call right after {@code startServer}.
     *
     * @throws IllegalStateException if this Moquette build does not have the expected private fields
     */
    public static RetainedDeliveries install(Server server) {
        RetainedDeliveries deliveries = new RetainedDeliveries();
        Object postOffice = ChannelHooks.read(server, "dispatcher");
        Object store = ChannelHooks.read(postOffice, "retainedRepository");
        if (!(store instanceof IRetainedRepository repository)) {
            throw new IllegalStateException("Moquette " + Server.MOQUETTE_VERSION + " post office holds "
                    + store + " instead of a retained-message store: swarm-broker needs Moquette 0.17");
        }
        ChannelHooks.write(postOffice, "retainedRepository", deliveries.recording(repository));
        return deliveries;
    }

    /** {@code store}, remembering the payload arrays it hands out. */
    IRetainedRepository recording(IRetainedRepository store) {
        return new Recording(store);
    }

    /** The channel hook that restores the flag; give it to {@link ChannelHooks#install}. */
    public Consumer<ChannelPipeline> hook() {
        return pipeline -> pipeline.addBefore(ChannelHooks.HANDLER, NAME, handler);
    }

    /** Whether {@code payload} is backed by an array the retained store handed out. */
    boolean isRetainedPayload(ByteBuf payload) {
        return payload.hasArray() && payloads.contains(payload.array());
    }

    /**
     * What {@link DetachedQueues} needs to carry the mark through session queues: a copy of a retained delivery's
     * payload, or its read-back from disk after a restart, is one too.
     */
    public DetachedQueues.RetainMarks marks() {
        return new DetachedQueues.RetainMarks() {
            @Override
            public boolean isRetained(ByteBuf payload) {
                return isRetainedPayload(payload);
            }

            @Override
            public void mark(ByteBuf payload) {
                if (payload.hasArray()) {
                    payloads.add(payload.array());
                }
            }
        };
    }

    /** Moquette's store, remembering the payload arrays of the messages it returns for a new subscription. */
    private final class Recording implements IRetainedRepository {
        private final IRetainedRepository delegate;

        Recording(IRetainedRepository delegate) {
            this.delegate = delegate;
        }

        @Override
        public void cleanRetained(Topic topic) {
            delegate.cleanRetained(topic);
        }

        @Override
        public void retain(Topic topic, MqttPublishMessage msg) {
            delegate.retain(topic, msg);
        }

        @Override
        public boolean isEmpty() {
            return delegate.isEmpty();
        }

        @Override
        public List<RetainedMessage> retainedOnTopic(String topic) {
            List<RetainedMessage> messages = delegate.retainedOnTopic(topic);
            for (RetainedMessage message : messages) {
                // Moquette's stores return the array they hold or a fresh one: either way, the one that gets wrapped.
                if (message.getPayload() != null && message.getPayload().length > 0) {
                    payloads.add(message.getPayload());
                }
            }
            return messages;
        }
    }

    /** Rewrites retained deliveries that lost their flag; stateless apart from the shared set. */
    @ChannelHandler.Sharable
    private final class RetainFlagRestorer extends ChannelOutboundHandlerAdapter {
        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            if (msg instanceof MqttPublishMessage publish && !publish.fixedHeader().isRetain()
                    && isRetainedPayload(publish.content())) {
                MqttFixedHeader h = publish.fixedHeader();
                // The new message takes over the payload buffer (and the reference the old one held).
                ctx.write(new MqttPublishMessage(
                        new MqttFixedHeader(h.messageType(), h.isDup(), h.qosLevel(), true, h.remainingLength()),
                        publish.variableHeader(), publish.content()), promise);
                return;
            }
            ctx.write(msg, promise);
        }
    }
}
