package net.swarming.broker.internal.moquette;

import io.moquette.BrokerConstants;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.mqtt.MqttConnAckMessage;
import io.netty.handler.codec.mqtt.MqttConnectReturnCode;
import io.netty.util.AttributeKey;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Sets how many QoS 1 and 2 messages Moquette 0.17 keeps in flight (sent, not yet acknowledged) per session; Moquette
 * fixes it at {@value BrokerConstants#INFLIGHT_WINDOW_SIZE} ({@code BrokerConstants.INFLIGHT_WINDOW_SIZE}), mosquitto's
 * default {@code max_inflight_messages} is 20.
 *
 * <p>Moquette counts the free places of a session's window in an {@code AtomicInteger} ({@code Session.inflightSlots})
 * that starts at 10 and that its session thread decrements per message sent and increments per acknowledgement. When a
 * session's first CONNACK leaves (the session is then bound to the connection), the difference to the configured window
 * is added to that counter once, atomically, so it cannot race Moquette's own updates; a persistent session that
 * reconnects keeps its Session object and is not adjusted twice.
 */
public final class InflightWindow {

    /** The handler's name in each connection's pipeline. */
    public static final String NAME = "swarm-inflight-window";

    /** Moquette's channel attribute holding the connection object. */
    private static final AttributeKey<Object> CONNECTION = AttributeKey.valueOf("connection");

    private final int delta;
    /** Sessions already adjusted; weak, so that sessions Moquette drops are not kept. */
    private final Map<Object, Boolean> adjusted = Collections.synchronizedMap(new WeakHashMap<>());

    /** @param window messages in flight per session, at least 1 */
    public InflightWindow(int window) {
        if (window < 1) {
            throw new IllegalArgumentException("window=" + window + " must be at least 1");
        }
        this.delta = window - BrokerConstants.INFLIGHT_WINDOW_SIZE;
    }

    /** For {@code ChannelHooks.install}; adds nothing when the window is Moquette's own. */
    public Consumer<ChannelPipeline> customizer() {
        return pipeline -> {
            if (delta != 0) {
                pipeline.addBefore(ChannelHooks.HANDLER, NAME, new Handler());
            }
        };
    }

    /** Removes itself after the connection's CONNACK. */
    private final class Handler extends ChannelOutboundHandlerAdapter {
        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
            if (msg instanceof MqttConnAckMessage connAck) {
                if (connAck.variableHeader().connectReturnCode() == MqttConnectReturnCode.CONNECTION_ACCEPTED) {
                    adjust(ctx.channel().attr(CONNECTION).get());
                }
                ctx.pipeline().remove(this);
            }
            ctx.write(msg, promise);
        }

        private void adjust(Object connection) {
            if (connection == null) {
                return;
            }
            // Bound by Moquette's session thread before it wrote this CONNACK.
            Object session = ChannelHooks.read(connection, "bindedSession");
            if (session != null && adjusted.putIfAbsent(session, Boolean.TRUE) == null) {
                ((AtomicInteger) ChannelHooks.read(session, "inflightSlots")).addAndGet(delta);
            }
        }
    }
}
