package net.swarming.broker.internal.moquette;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.mqtt.MqttFixedHeader;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.codec.mqtt.MqttPublishMessage;
import io.netty.handler.codec.mqtt.MqttPublishVariableHeader;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.netty.util.AttributeKey;
import java.lang.reflect.Constructor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConnectGateTest {

    private static MqttMessage packet(MqttMessageType type) {
        return new MqttMessage(new MqttFixedHeader(type, false, MqttQoS.AT_MOST_ONCE, false, 0));
    }

    /** A real Moquette 0.17 connection object (its constructor only stores its arguments). */
    private static Object moquetteConnection(Channel channel) throws Exception {
        Class<?> type = Class.forName("io.moquette.broker.MQTTConnection");
        Constructor<?> c = type.getDeclaredConstructors()[0];
        c.setAccessible(true);
        Object[] args = new Object[c.getParameterCount()];
        args[0] = channel;
        return c.newInstance(args);
    }

    @Test
    void whenSubscribeArrivesBeforeMoquetteMarkedTheConnection_thenItWaitsAndThenPassesInOrder() throws Exception {
        List<MqttMessageType> seen = new ArrayList<>();
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.pipeline().addLast(ChannelHooks.HANDLER, new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                seen.add(((MqttMessage) msg).fixedHeader().messageType());
            }
        });
        ConnectGate.customizer().accept(ch.pipeline());
        Object connection = moquetteConnection(ch);
        ch.attr(AttributeKey.valueOf("connection")).set(connection);

        ch.writeInbound(packet(MqttMessageType.CONNECT));
        ch.writeInbound(packet(MqttMessageType.SUBSCRIBE));
        ch.writeInbound(packet(MqttMessageType.PINGREQ));
        assertEquals(List.of(MqttMessageType.CONNECT), seen, "held until Moquette marks the connection");
        assertFalse(ch.config().isAutoRead());

        ChannelHooks.write(connection, "connected", true);
        Thread.sleep(5);
        ch.runScheduledPendingTasks();

        assertEquals(List.of(MqttMessageType.CONNECT, MqttMessageType.SUBSCRIBE, MqttMessageType.PINGREQ), seen);
        assertTrue(ch.config().isAutoRead());
        assertNull(ch.pipeline().get(ConnectGate.NAME), "out of the way once connected");
        ch.writeInbound(packet(MqttMessageType.PUBLISH));
        assertEquals(MqttMessageType.PUBLISH, seen.get(3));
        ch.finishAndReleaseAll();
    }

    @Test
    void whenTheConnectionClosesWhileHolding_thenTheHeldPacketsAreReleasedNotPassed() throws Exception {
        List<MqttMessageType> seen = new ArrayList<>();
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.pipeline().addLast(ChannelHooks.HANDLER, new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                seen.add(((MqttMessage) msg).fixedHeader().messageType());
            }
        });
        ConnectGate.customizer().accept(ch.pipeline());
        ch.attr(AttributeKey.valueOf("connection")).set(moquetteConnection(ch));
        ch.writeInbound(packet(MqttMessageType.CONNECT));
        ByteBuf payload = Unpooled.buffer(4).writeInt(1);
        ch.writeInbound(new MqttPublishMessage(
                new MqttFixedHeader(MqttMessageType.PUBLISH, false, MqttQoS.AT_MOST_ONCE, false, 0),
                new MqttPublishVariableHeader("ping/a", 0), payload));

        ch.close();
        Thread.sleep(5);
        ch.runScheduledPendingTasks();

        assertEquals(List.of(MqttMessageType.CONNECT), seen);
        assertEquals(0, payload.refCnt());
    }

    @Test
    void whenConnectionIsAlreadyMarked_thenNothingWaits() throws Exception {
        List<MqttMessageType> seen = new ArrayList<>();
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.pipeline().addLast(ChannelHooks.HANDLER, new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                seen.add(((MqttMessage) msg).fixedHeader().messageType());
            }
        });
        ConnectGate.customizer().accept(ch.pipeline());
        Object connection = moquetteConnection(ch);
        ch.attr(AttributeKey.valueOf("connection")).set(connection);

        ch.writeInbound(packet(MqttMessageType.CONNECT));
        ChannelHooks.write(connection, "connected", true);
        ch.writeInbound(packet(MqttMessageType.SUBSCRIBE));

        assertEquals(List.of(MqttMessageType.CONNECT, MqttMessageType.SUBSCRIBE), seen);
        assertNull(ch.pipeline().get(ConnectGate.NAME));
        ch.finishAndReleaseAll();
    }
}
