package net.swarming.broker.internal.moquette;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.mqtt.MqttFixedHeader;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.codec.mqtt.MqttMessageIdVariableHeader;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.codec.mqtt.MqttPublishMessage;
import io.netty.handler.codec.mqtt.MqttPublishVariableHeader;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import net.swarming.broker.internal.metrics.BrokerMetrics;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class OutboundQueueLimitTest {

    private static final int LIMIT = 10_000;

    /** A channel laid out as Moquette's: the hook's handler just before one named {@value ChannelHooks#HANDLER}. */
    private static EmbeddedChannel channel(OutboundQueueLimit limit) {
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.pipeline().addLast(ChannelHooks.HANDLER, new ChannelInboundHandlerAdapter());
        limit.customizer().accept(ch.pipeline());
        return ch;
    }

    private static MqttPublishMessage publish(MqttQoS qos, int bytes) {
        ByteBuf payload = Unpooled.buffer(bytes).writeZero(bytes);
        return new MqttPublishMessage(new MqttFixedHeader(MqttMessageType.PUBLISH, false, qos, false, 0),
                new MqttPublishVariableHeader("ping/a", qos == MqttQoS.AT_MOST_ONCE ? 0 : 1), payload);
    }

    private static MqttMessage pubAck(int id) {
        return new MqttMessage(new MqttFixedHeader(MqttMessageType.PUBACK, false, MqttQoS.AT_MOST_ONCE, false, 0),
                MqttMessageIdVariableHeader.from(id));
    }

    @Test
    void whenMoreThanTheLimitWaits_thenQos0IsDroppedAndCountedButAcksAndQos1PassAndTheChannelStaysWritable() {
        OutboundQueueLimit limit = new OutboundQueueLimit(LIMIT, BrokerMetrics.droppedCounter(new PrometheusRegistry()));
        EmbeddedChannel ch = channel(limit);

        // Written, not flushed: the bytes wait in the channel's outbound buffer as they do for a slow reader.
        for (int i = 0; i < 9; i++) {
            ch.write(publish(MqttQoS.AT_MOST_ONCE, 1_000));
        }
        MqttPublishMessage over = publish(MqttQoS.AT_MOST_ONCE, 1_500);
        ChannelFuture dropped = ch.write(over);
        ch.write(publish(MqttQoS.AT_LEAST_ONCE, 5_000));
        ch.write(pubAck(7));
        ChannelFuture droppedToo = ch.write(publish(MqttQoS.AT_MOST_ONCE, 10));

        assertTrue(dropped.isSuccess(), "a dropped publish must not fail its write: Moquette would close");
        assertTrue(droppedToo.isSuccess());
        assertEquals(0, over.refCnt(), "the dropped message is released");
        assertEquals(2, limit.dropped());
        assertTrue(ch.isWritable(), "Moquette must never see an unwritable channel");

        ch.flush();
        ch.writeAndFlush(publish(MqttQoS.AT_MOST_ONCE, 1_000));
        assertEquals(2, limit.dropped(), "once the reader caught up, QoS 0 passes again");
        List<Object> sent = new ArrayList<>(ch.outboundMessages());
        assertEquals(9 + 1 + 1, sent.stream().filter(MqttPublishMessage.class::isInstance).count());
        assertEquals(1, sent.stream().filter(m -> m instanceof MqttPublishMessage p
                && p.fixedHeader().qosLevel() == MqttQoS.AT_LEAST_ONCE).count());
        assertEquals(1, sent.stream().filter(m -> !(m instanceof MqttPublishMessage)
                && ((MqttMessage) m).fixedHeader().messageType() == MqttMessageType.PUBACK).count());
        ch.finishAndReleaseAll();
    }

    @Test
    void whenBelowTheLimit_thenNothingIsDropped() {
        OutboundQueueLimit limit = new OutboundQueueLimit(LIMIT, BrokerMetrics.droppedCounter(new PrometheusRegistry()));
        EmbeddedChannel ch = channel(limit);

        for (int i = 0; i < 100; i++) {
            ch.writeAndFlush(publish(MqttQoS.AT_MOST_ONCE, 1_000));
        }

        assertEquals(0, limit.dropped());
        assertEquals(100, ch.outboundMessages().size());
        ch.finishAndReleaseAll();
    }
}
