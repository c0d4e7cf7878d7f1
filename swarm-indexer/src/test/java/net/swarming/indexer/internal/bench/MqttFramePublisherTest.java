package net.swarming.indexer.internal.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class MqttFramePublisherTest {

    @Test
    void whenLengthsAreEncoded_thenTheyReadBackWithTheSpecsByteCounts() throws IOException {
        int[] lengths = {0, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152, 268_435_455};
        int[] bytes = {1, 1, 2, 2, 3, 3, 4, 4};
        for (int i = 0; i < lengths.length; i++) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            MqttFramePublisher.writeRemainingLength(out, lengths[i]);
            assertEquals(bytes[i], out.size(), "bytes for " + lengths[i]);
            assertEquals(lengths[i], MqttFramePublisher.readRemainingLength(new ByteArrayInputStream(out.toByteArray())));
        }
        assertThrows(IllegalArgumentException.class,
                () -> MqttFramePublisher.writeRemainingLength(new ByteArrayOutputStream(), 268_435_456));
    }

    @Test
    void whenPublishIsEncoded_thenItIsAQos1FrameWithTopicPacketIdAndPayload() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        MqttFramePublisher.writePublish(out, "ping/a", "{}".getBytes(StandardCharsets.US_ASCII), 0x1234);
        assertArrayEquals(new byte[] {0x32, 12, 0, 6, 'p', 'i', 'n', 'g', '/', 'a', 0x12, 0x34, '{', '}'},
                out.toByteArray());
    }

    @Test
    void whenConnectIsEncoded_thenItAsksForMqtt311CleanSessionWithoutKeepAlive() {
        assertArrayEquals(new byte[] {0x10, 13, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 0, 0, 1, 'x'},
                MqttFramePublisher.connectFrame("x"));
    }

    @Test
    void whenManyFramesAreEncoded_thenChunksHoldThemInOrderWithWrappingPacketIds() throws IOException {
        int n = 70_000;
        List<String> topics = new ArrayList<>();
        List<byte[]> payloads = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            topics.add("ping/t" + (i % 7));
            payloads.add(("p" + i).getBytes(StandardCharsets.US_ASCII));
        }
        MqttFramePublisher.Frames frames = MqttFramePublisher.encode(topics, payloads);
        assertEquals(n, frames.count());
        assertEquals((n + MqttFramePublisher.FRAMES_PER_CHUNK - 1) / MqttFramePublisher.FRAMES_PER_CHUNK,
                frames.chunks().size());
        int i = 0;
        for (byte[] chunk : frames.chunks()) {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(chunk));
            while (in.available() > 0) {
                assertEquals(0x32, in.readUnsignedByte());
                int length = MqttFramePublisher.readRemainingLength(in);
                byte[] topic = new byte[in.readUnsignedShort()];
                in.readFully(topic);
                assertEquals(topics.get(i), new String(topic, StandardCharsets.UTF_8));
                assertEquals(1 + i % 65_535, in.readUnsignedShort());
                byte[] payload = new byte[length - 2 - topic.length - 2];
                in.readFully(payload);
                assertArrayEquals(payloads.get(i), payload);
                i++;
            }
        }
        assertEquals(n, i);
    }
}
