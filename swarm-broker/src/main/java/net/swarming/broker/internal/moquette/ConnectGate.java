package net.swarming.broker.internal.moquette;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import java.lang.reflect.Field;
import java.util.ArrayDeque;
import java.util.Queue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Holds back what a client sends right after its CONNECT until Moquette 0.17 has marked the connection as connected.
 *
 * <p>The defect: Moquette writes the CONNACK from its session thread and only then attaches the listener that marks the
 * connection connected ({@code MQTTConnection.executeConnect}). When the write completes before the listener is
 * attached — a descheduled session thread on a loaded machine is enough — the listener runs later as a separate task on
 * the connection's event loop, and a SUBSCRIBE that the client sent as soon as it read the CONNACK can be read first:
 * Moquette then logs "SUBSCRIBE received on already closed connection" and closes the connection. Paho agents and
 * indexers subscribe right after connecting; seen in our tests under load.
 *
 * <p>Here, after CONNECT, any further packet that arrives before Moquette's flag is set is queued (and reading paused)
 * and re-checked every millisecond on the event loop; the queue is handed on in order as soon as the flag is set, or
 * after {@value #GIVE_UP_MILLIS} ms whatever it says (Moquette then behaves as it would have), and released if the
 * connection closes meanwhile (a refused CONNECT). Once the connection is marked connected the handler removes itself.
 */
public final class ConnectGate {

    /** The handler's name in each connection's pipeline. */
    public static final String NAME = "swarm-connect-gate";

    private static final AttributeKey<Object> CONNECTION = AttributeKey.valueOf("connection");
    private static final long GIVE_UP_MILLIS = 10_000;

    private ConnectGate() {}

    /** For {@code ChannelHooks.install}. */
    public static Consumer<ChannelPipeline> customizer() {
        return pipeline -> pipeline.addBefore(ChannelHooks.HANDLER, NAME, new Handler());
    }

    /** One per connection, on its event loop only. */
    private static final class Handler extends ChannelDuplexHandler {
        private final Queue<Object> held = new ArrayDeque<>();
        private boolean connectSeen;
        private boolean checking;
        private long since;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!connectSeen) {
                connectSeen = msg instanceof MqttMessage m && m.fixedHeader().messageType() == MqttMessageType.CONNECT;
                ctx.fireChannelRead(msg);
                return;
            }
            if (held.isEmpty() && connected(ctx)) {
                ctx.pipeline().remove(this);
                ctx.fireChannelRead(msg);
                return;
            }
            held.add(msg);
            if (!checking) {
                checking = true;
                since = System.nanoTime();
                ctx.channel().config().setAutoRead(false);
                ctx.executor().schedule(() -> check(ctx), 1, TimeUnit.MILLISECONDS);
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            if (held.isEmpty()) {
                ctx.fireChannelReadComplete();
            }
        }

        private void check(ChannelHandlerContext ctx) {
            if (ctx.isRemoved()) {
                return;
            }
            if (!ctx.channel().isActive()) {
                // Refused or gone: nothing of what it sent after CONNECT can be served any more.
                checking = false;
                handlerRemoved(ctx);
                return;
            }
            boolean waitedTooLong = System.nanoTime() - since > TimeUnit.MILLISECONDS.toNanos(GIVE_UP_MILLIS);
            if (!connected(ctx) && !waitedTooLong) {
                ctx.executor().schedule(() -> check(ctx), 1, TimeUnit.MILLISECONDS);
                return;
            }
            checking = false;
            boolean passed = false;
            for (Object msg = held.poll(); msg != null; msg = held.poll()) {
                ctx.fireChannelRead(msg);
                passed = true;
            }
            if (passed) {
                ctx.fireChannelReadComplete();
            }
            ctx.channel().config().setAutoRead(true);
            if (connected(ctx)) {
                ctx.pipeline().remove(this);
            }
        }

        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) {
            for (Object msg = held.poll(); msg != null; msg = held.poll()) {
                ReferenceCountUtil.release(msg);
            }
        }

        private static boolean connected(ChannelHandlerContext ctx) {
            Object connection = ctx.channel().attr(CONNECTION).get();
            if (connection == null) {
                return false;
            }
            try {
                return CONNECTED.getBoolean(connection);
            } catch (IllegalAccessException e) {
                throw new IllegalStateException("cannot read Moquette's connection state", e);
            }
        }
    }

    /** {@code MQTTConnection.connected} (volatile), looked up once. */
    private static final Field CONNECTED = connectedField();

    private static Field connectedField() {
        try {
            return ChannelHooks.field(Class.forName("io.moquette.broker.MQTTConnection"), "connected");
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("Moquette's MQTTConnection has no 'connected' field: swarm-broker needs "
                    + "Moquette 0.17", e);
        }
    }
}
