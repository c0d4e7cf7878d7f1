package net.swarming.broker.internal.moquette;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moquette.broker.IRetainedRepository;
import io.moquette.broker.RetainedMessage;
import io.moquette.broker.subscriptions.Topic;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.mqtt.MqttFixedHeader;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.codec.mqtt.MqttPublishMessage;
import io.netty.handler.codec.mqtt.MqttPublishVariableHeader;
import io.netty.handler.codec.mqtt.MqttQoS;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The RETAIN restorer on its own: which outbound PUBLISH it rewrites, and that it keeps everything else. */
class RetainedDeliveriesTest {

    private final byte[] stored = "free.fr yahoo.fr".getBytes(StandardCharsets.UTF_8);
    private RetainedDeliveries deliveries;
    private EmbeddedChannel channel;

    @BeforeEach
    void channel() {
        deliveries = new RetainedDeliveries();
        IRetainedRepository store = deliveries.recording(new OneMessageStore(stored));
        // What Moquette's post office does when a client subscribes.
        store.retainedOnTopic("watch");
        channel = new EmbeddedChannel();
        channel.pipeline().addLast(ChannelHooks.HANDLER, new ChannelInboundHandlerAdapter());
        deliveries.hook().accept(channel.pipeline());
    }

    @AfterEach
    void close() {
        channel.finishAndReleaseAll();
    }

    private static MqttPublishMessage publish(boolean dup, MqttQoS qos, boolean retain, int packetId, ByteBuf payload) {
        return new MqttPublishMessage(new MqttFixedHeader(MqttMessageType.PUBLISH, dup, qos, retain, 0),
                new MqttPublishVariableHeader("watch", packetId), payload);
    }

    @Test
    void whenThePayloadComesFromTheRetainedStore_thenRetainIsSetAndEverythingElseKept() {
        // Moquette wraps the stored array and writes a retained duplicate of it.
        ByteBuf wrapped = Unpooled.wrappedBuffer(stored);
        ByteBuf written = wrapped.retainedDuplicate();
        wrapped.release();

        channel.writeOutbound(publish(true, MqttQoS.EXACTLY_ONCE, false, 7, written));

        MqttPublishMessage out = channel.readOutbound();
        assertTrue(out.fixedHeader().isRetain());
        assertTrue(out.fixedHeader().isDup());
        assertEquals(MqttQoS.EXACTLY_ONCE, out.fixedHeader().qosLevel());
        assertEquals(7, out.variableHeader().packetId());
        assertEquals("watch", out.variableHeader().topicName());
        assertSame(written, out.content());
        assertEquals(1, written.refCnt());
        out.release();
    }

    @Test
    void whenTheSameBytesComeFromALivePublish_thenRetainStaysClear() {
        MqttPublishMessage heap = publish(false, MqttQoS.AT_LEAST_ONCE, false, 8, Unpooled.copiedBuffer(stored));
        MqttPublishMessage direct = publish(false, MqttQoS.AT_LEAST_ONCE, false, 9,
                Unpooled.directBuffer().writeBytes(stored));

        channel.writeOutbound(heap, direct);

        assertSame(heap, channel.readOutbound());
        assertSame(direct, channel.readOutbound());
        assertFalse(heap.fixedHeader().isRetain());
        heap.release();
        direct.release();
    }

    @Test
    void whenAnArrayWasNeverHandedOut_thenItIsNotRecognised() {
        assertTrue(deliveries.isRetainedPayload(Unpooled.wrappedBuffer(stored)));
        assertFalse(deliveries.isRetainedPayload(Unpooled.wrappedBuffer(stored.clone())));
    }

    /** A store holding one retained message on {@code watch}. */
    private record OneMessageStore(byte[] payload) implements IRetainedRepository {
        @Override
        public void cleanRetained(Topic topic) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void retain(Topic topic, MqttPublishMessage msg) {
            throw new UnsupportedOperationException();
        }

        @Override
        public boolean isEmpty() {
            return false;
        }

        @Override
        public List<RetainedMessage> retainedOnTopic(String topic) {
            return List.of(new RetainedMessage(new Topic("watch"), MqttQoS.AT_LEAST_ONCE, payload));
        }
    }

    @Test
    void whenAQueueCopiesARetainedPayload_thenTheCopyIsRecognisedAndOtherCopiesAreNot() {
        ByteBuf copy = Unpooled.copiedBuffer(stored);
        ByteBuf other = Unpooled.copiedBuffer(stored);

        DetachedQueues.RetainMarks marks = deliveries.marks();
        assertTrue(marks.isRetained(Unpooled.wrappedBuffer(stored)));
        assertFalse(marks.isRetained(Unpooled.wrappedBuffer(stored.clone())));
        marks.mark(copy);

        assertTrue(deliveries.isRetainedPayload(copy.duplicate()));
        assertFalse(deliveries.isRetainedPayload(other));
    }
}
