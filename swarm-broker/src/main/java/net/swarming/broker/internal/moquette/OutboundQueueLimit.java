package net.swarming.broker.internal.moquette;

import io.moquette.broker.NettyUtils;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.codec.mqtt.MqttPublishMessage;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.netty.util.ReferenceCountUtil;
import io.prometheus.metrics.core.metrics.Counter;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The per-connection limit on queued outbound bytes, in place of Moquette 0.17's own, which loses messages.
 *
 * <p>Moquette 0.17 ({@code MQTTConnection.sendIfWritableElseDrop}) silently drops <em>every</em> packet it writes while
 * the connection's Netty channel is not writable (more than 64 KiB waiting, Netty's default high-water mark): QoS 0
 * publishes, QoS 1 and 2 publishes (which then sit in the session's in-flight window until Moquette resends them ~5 s
 * later) and PUBACK/PUBREC/PUBCOMP to publishers (whose own in-flight windows then stall for good). Here each connection's
 * high-water mark is raised out of reach, so Moquette always writes, and this handler enforces the limit instead, with
 * mosquitto's semantics: a QoS 0 publish that would take the bytes waiting for the connection above the limit is
 * dropped and counted ({@code swarm_broker_publish_messages_dropped_total}, mosquitto's
 * {@code $SYS/broker/publish/messages/dropped}); acknowledgements and QoS 1 and 2 publishes are never dropped (they are
 * bounded by Moquette's in-flight window instead).
 *
 * <p>"Bytes waiting" is Netty's own count for the channel: packets encoded but not yet taken by the kernel, plus
 * packets Moquette's session threads handed over that the connection's event loop has not written yet. The kernel's
 * socket buffer comes on top.
 */
public final class OutboundQueueLimit {

    private static final Logger LOG = LoggerFactory.getLogger(OutboundQueueLimit.class);

    /** The handler's name in each connection's pipeline, just before Moquette's MQTT handler. */
    public static final String NAME = "swarm-outbound-limit";

    /** Out of reach: Moquette must never see an unwritable channel. */
    static final WriteBufferWaterMark NEVER_UNWRITABLE = new WriteBufferWaterMark(Integer.MAX_VALUE - 1,
            Integer.MAX_VALUE);

    private final long maxQueuedBytes;
    private final Counter dropped;

    /**
     * @param maxQueuedBytes bytes that may wait for one connection before QoS 0 publishes to it are dropped
     * @param dropped        {@code swarm_broker_publish_messages_dropped_total}
     */
    public OutboundQueueLimit(long maxQueuedBytes, Counter dropped) {
        if (maxQueuedBytes < 1) {
            throw new IllegalArgumentException("maxQueuedBytes=" + maxQueuedBytes + " must be positive");
        }
        this.maxQueuedBytes = maxQueuedBytes;
        this.dropped = dropped;
    }

    /** For {@code ChannelHooks.install}: raises the channel's high-water mark and adds the handler. */
    public Consumer<ChannelPipeline> customizer() {
        return pipeline -> {
            pipeline.channel().config().setWriteBufferWaterMark(NEVER_UNWRITABLE);
            pipeline.addBefore(ChannelHooks.HANDLER, NAME, new Handler());
        };
    }

    /** Messages dropped so far, by every connection (and by the queue limit, which shares the counter). */
    public long dropped() {
        return (long) dropped.get();
    }

    /** One per connection; runs on the connection's event loop only. */
    private final class Handler extends ChannelDuplexHandler {
        private long droppedHere;

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            if (msg instanceof MqttPublishMessage publish && publish.fixedHeader().qosLevel() == MqttQoS.AT_MOST_ONCE
                    && queuedBytes(ctx.channel()) + publish.content().readableBytes() > maxQueuedBytes) {
                ReferenceCountUtil.release(msg);
                // Success, as mosquitto: Moquette closes the connection on a failed write.
                promise.trySuccess();
                dropped.inc();
                if (droppedHere++ == 0) {
                    LOG.warn("client {} ({}) reads too slowly: more than {} bytes wait for it, QoS 0 messages to it "
                                    + "are dropped (counted in swarm_broker_publish_messages_dropped_total)",
                            NettyUtils.clientID(ctx.channel()), ctx.channel().remoteAddress(), maxQueuedBytes);
                }
                return;
            }
            ctx.write(msg, promise);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (droppedHere > 0) {
                LOG.info("client {} ({}) disconnected: {} QoS 0 messages to it were dropped",
                        NettyUtils.clientID(ctx.channel()), ctx.channel().remoteAddress(), droppedHere);
            }
            ctx.fireChannelInactive();
        }

        private long queuedBytes(Channel channel) {
            ChannelOutboundBuffer buffer = channel.unsafe().outboundBuffer();
            return buffer == null ? 0 : buffer.totalPendingWriteBytes();
        }
    }
}
