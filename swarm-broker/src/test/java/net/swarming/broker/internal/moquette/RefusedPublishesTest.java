package net.swarming.broker.internal.moquette;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.moquette.broker.NettyUtils;
import io.moquette.broker.security.IAuthorizatorPolicy;
import io.moquette.broker.subscriptions.Topic;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.mqtt.MqttFixedHeader;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.codec.mqtt.MqttMessageIdVariableHeader;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.codec.mqtt.MqttPublishMessage;
import io.netty.handler.codec.mqtt.MqttPublishVariableHeader;
import io.netty.handler.codec.mqtt.MqttQoS;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The refusal hook on its own: what it answers, what it swallows and what it leaves to Moquette. */
class RefusedPublishesTest {

    /** Topics asked about, in order; {@code watch} is refused. */
    private final List<String> asked = new ArrayList<>();
    private final IAuthorizatorPolicy noWatch = new IAuthorizatorPolicy() {
        @Override
        public boolean canWrite(Topic topic, String user, String client) {
            asked.add(topic + " " + user + " " + client);
            return !topic.toString().equals("watch");
        }

        @Override
        public boolean canRead(Topic topic, String user, String client) {
            return true;
        }
    };
    private EmbeddedChannel channel;

    @BeforeEach
    void channel() {
        channel = new EmbeddedChannel();
        channel.pipeline().addLast(ChannelHooks.HANDLER, new ChannelInboundHandlerAdapter());
        RefusedPublishes.hook(noWatch, null).accept(channel.pipeline());
        // What Moquette sets once the connection is bound to its session.
        NettyUtils.userName(channel, "agent-1");
        NettyUtils.clientID(channel, "paris");
    }

    @AfterEach
    void close() {
        channel.finishAndReleaseAll();
    }

    private static MqttPublishMessage publish(String topic, MqttQoS qos, int packetId) {
        return new MqttPublishMessage(new MqttFixedHeader(MqttMessageType.PUBLISH, false, qos, false, 0),
                new MqttPublishVariableHeader(topic, packetId), Unpooled.buffer().writeByte(1));
    }

    private static MqttMessage withId(MqttMessageType type, int packetId) {
        MqttQoS qos = type == MqttMessageType.PUBREL ? MqttQoS.AT_LEAST_ONCE : MqttQoS.AT_MOST_ONCE;
        return new MqttMessage(new MqttFixedHeader(type, false, qos, false, 0), MqttMessageIdVariableHeader.from(packetId));
    }

    private void assertAnswered(MqttMessageType type, int packetId) {
        MqttMessage out = channel.readOutbound();
        assertEquals(type, out.fixedHeader().messageType());
        assertEquals(packetId, ((MqttMessageIdVariableHeader) out.variableHeader()).messageId());
    }

    @Test
    void whenAQos1PublishIsRefused_thenItIsAcknowledgedReleasedAndNotPassedOn() {
        MqttPublishMessage refused = publish("watch", MqttQoS.AT_LEAST_ONCE, 11);

        channel.writeInbound(refused);

        assertNull(channel.readInbound());
        assertEquals(0, refused.refCnt());
        assertAnswered(MqttMessageType.PUBACK, 11);
        assertNull(channel.readOutbound());
        assertEquals(List.of("watch agent-1 paris"), asked);
    }

    @Test
    void whenAQos2PublishIsRefused_thenPubrecThenPubcompForItsPubrelAndOtherPubrelsGoToMoquette() {
        channel.writeInbound(publish("watch", MqttQoS.EXACTLY_ONCE, 12));
        assertAnswered(MqttMessageType.PUBREC, 12);

        MqttMessage otherRelease = withId(MqttMessageType.PUBREL, 13);
        channel.writeInbound(withId(MqttMessageType.PUBREL, 12), otherRelease);

        assertAnswered(MqttMessageType.PUBCOMP, 12);
        assertSame(otherRelease, channel.readInbound(), "a PUBREL of an allowed publish is Moquette's");
        assertNull(channel.readInbound());
        // A second PUBREL 12 (a resend after our PUBCOMP was lost) is Moquette's too: it answers PUBCOMP to any.
        MqttMessage again = withId(MqttMessageType.PUBREL, 12);
        channel.writeInbound(again);
        assertSame(again, channel.readInbound());
    }

    @Test
    void whenPublishesAreAllowedOrQos0OrBeforeTheSessionIsBound_thenMoquetteGetsThemUntouched() {
        MqttPublishMessage allowed = publish("ping/a", MqttQoS.AT_LEAST_ONCE, 14);
        MqttPublishMessage qos0 = publish("watch", MqttQoS.AT_MOST_ONCE, 0);
        channel.writeInbound(allowed, qos0);
        NettyUtils.clientID(channel, null);
        MqttPublishMessage early = publish("watch", MqttQoS.AT_LEAST_ONCE, 15);
        channel.writeInbound(early);

        assertSame(allowed, channel.readInbound());
        assertSame(qos0, channel.readInbound());
        assertSame(early, channel.readInbound());
        assertNull(channel.readOutbound(), "nothing answered: Moquette does it");
        assertEquals(List.of("ping/a agent-1 paris"), asked, "QoS 0 and unbound publishes are Moquette's to check");
    }
}
