package net.swarming.broker.internal.metrics;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.codec.mqtt.MqttPublishMessage;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.function.Consumer;
import net.swarming.broker.internal.moquette.ChannelHooks;

/**
 * MQTT traffic counters named after mosquitto's {@code $SYS/broker/...} topics, counted on every connection by two
 * shared Netty handlers (see {@link ChannelHooks}):
 *
 * <ul>
 *   <li>a message counter right after Moquette's encoder, so it sees every packet the decoder produced (before anything
 *       else, ours or Moquette's, can drop it) and every packet that goes to the encoder (after everything else, so a
 *       message dropped on the way out is not counted as sent);</li>
 *   <li>a byte counter right before Moquette's decoder: the bytes of MQTT packets in and out. On plain TCP these are the
 *       socket's bytes; over WebSocket the frames' payload and over TLS the decrypted stream (the TLS listener relays
 *       to the plain one), as mosquitto counts them.</li>
 * </ul>
 *
 * <p>Received counts include packets that are refused afterwards (ACL) as mosquitto's do; sent counts are of packets
 * handed to the connection, whether or not the client was still there to read them.
 */
public final class TrafficMetrics {

    /** Name of the message counter in each connection's pipeline. */
    public static final String MESSAGES = "swarm-message-metrics";
    /** Name of the byte counter in each connection's pipeline. */
    public static final String BYTES = "swarm-byte-metrics";

    private final Counter messagesReceived;
    private final Counter messagesSent;
    private final Counter publishReceived;
    private final Counter publishSent;
    private final Counter publishBytesReceived;
    private final Counter publishBytesSent;
    private final Counter bytesReceived;
    private final Counter bytesSent;
    private final ChannelHandler messageCounter = new MessageCounter();
    private final ChannelHandler byteCounter = new ByteCounter();

    /** Registers the counters in {@code registry}. */
    public TrafficMetrics(PrometheusRegistry registry) {
        messagesReceived = counter(registry, "swarm_broker_messages_received_total",
                "MQTT packets of any type received from clients (mosquitto $SYS/broker/messages/received)");
        messagesSent = counter(registry, "swarm_broker_messages_sent_total",
                "MQTT packets of any type sent to clients (mosquitto $SYS/broker/messages/sent)");
        publishReceived = counter(registry, "swarm_broker_publish_messages_received_total",
                "PUBLISH packets received from clients, refused ones included "
                        + "(mosquitto $SYS/broker/publish/messages/received)");
        publishSent = counter(registry, "swarm_broker_publish_messages_sent_total",
                "PUBLISH packets sent to clients, resends included (mosquitto $SYS/broker/publish/messages/sent)");
        publishBytesReceived = counter(registry, "swarm_broker_publish_bytes_received_total",
                "Payload bytes of PUBLISH packets received (mosquitto $SYS/broker/publish/bytes/received)");
        publishBytesSent = counter(registry, "swarm_broker_publish_bytes_sent_total",
                "Payload bytes of PUBLISH packets sent (mosquitto $SYS/broker/publish/bytes/sent)");
        bytesReceived = counter(registry, "swarm_broker_bytes_received_total",
                "Bytes of MQTT packets received (mosquitto $SYS/broker/bytes/received)");
        bytesSent = counter(registry, "swarm_broker_bytes_sent_total",
                "Bytes of MQTT packets sent (mosquitto $SYS/broker/bytes/sent)");
    }

    private static Counter counter(PrometheusRegistry registry, String name, String help) {
        return Counter.builder().name(name).help(help).withoutExemplars().register(registry);
    }

    /** The channel hook that adds both counters to a connection; give it to {@link ChannelHooks#install}. */
    public Consumer<ChannelPipeline> hook() {
        return pipeline -> {
            pipeline.addAfter(ChannelHooks.ENCODER, MESSAGES, messageCounter);
            pipeline.addBefore(ChannelHooks.DECODER, BYTES, byteCounter);
        };
    }

    @ChannelHandler.Sharable
    private final class MessageCounter extends ChannelDuplexHandler {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof MqttMessage m) {
                messagesReceived.inc();
                if (m instanceof MqttPublishMessage p) {
                    publishReceived.inc();
                    publishBytesReceived.inc(p.content().readableBytes());
                }
            }
            ctx.fireChannelRead(msg);
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            if (msg instanceof MqttMessage m) {
                messagesSent.inc();
                if (m instanceof MqttPublishMessage p) {
                    publishSent.inc();
                    publishBytesSent.inc(p.content().readableBytes());
                }
            }
            ctx.write(msg, promise);
        }
    }

    @ChannelHandler.Sharable
    private final class ByteCounter extends ChannelDuplexHandler {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof ByteBuf b) {
                bytesReceived.inc(b.readableBytes());
            }
            ctx.fireChannelRead(msg);
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            if (msg instanceof ByteBuf b) {
                bytesSent.inc(b.readableBytes());
            }
            ctx.write(msg, promise);
        }
    }
}
