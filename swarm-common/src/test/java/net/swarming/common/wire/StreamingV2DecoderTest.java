package net.swarming.common.wire;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.fail;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The streaming fast path against the tree decoder it stands in for: whatever it decodes, the tree decoder decodes to
 * the same result; whatever it leaves, {@link PingCodec#decode} decides exactly as the tree decoder does.
 */
class StreamingV2DecoderTest {

    private static final long SEED = 0x5EED_2L;
    private static final int ROUNDS = 10_000;

    private static List<byte[]> validV2() {
        Instant start = Instant.parse("2026-11-21T18:00:00.123Z");
        List<byte[]> list = new ArrayList<>();
        list.add(PingCodec.encodeV2(PingResult.ofRound("bee", "id", "https://x.org/a", ProbeType.HTTP, "192.0.2.1",
                start, Arrays.asList(1.5, null, 2.25, 0.75), 1)));
        list.add(PingCodec.encodeV2(PingResult.ofRound("bee-AU10", null, "10.0.0.1", ProbeType.ICMP, "10.0.0.1",
                start, Arrays.asList(0.41, 0.52, null, 0.47), 0)));
        list.add(PingCodec.encodeV2(PingResult.ofRound("b", "i", "x.org", ProbeType.TCP, null, null,
                Arrays.asList(null, null, null), 0)));
        list.add(PingCodec.encodeV2(PingResult.failure("bee", null, "x.org", null, null, null, "boom")));
        list.add(PingCodec.encodeV2(PingResult.ofRound("bee", "id", "x.org", ProbeType.HTTP, "2001:db8::1", start,
                List.of(12.0), 0), new RoundExtras(2, List.of(new RoundExtras.ErrorAnswer(1, "unreachable", "192.0.2.9")),
                200, Map.of("dns", 1.25, "connect", 3.5))));
        return list;
    }

    @Test
    void whenAgentsPayloads_thenTheFastPathDecodesThemAsTheTreeDoes() throws PayloadException {
        for (byte[] payload : validV2()) {
            for (String topicTarget : Arrays.asList("x.org", null)) {
                PingResult fast = StreamingV2Decoder.tryDecode(topicTarget, payload);
                assertNotNull(fast, new String(payload, UTF_8));
                assertEquals(PingCodec.decodeWithTree(topicTarget, payload), fast);
                assertEquals(fast, PingCodec.decode(topicTarget, payload));
            }
        }
    }

    @Test
    void whenPayloadIsUnusual_thenTheTreeDecoderDecides() throws PayloadException {
        String[] unusual = {
            "{\"v\":2.0,\"agent\":\"a\",\"status\":\"ok\"}",
            "{\"v\":2,\"agent\":\"a\",\"status\":\"ok\",\"sent\":5.0,\"received\":4}",
            "{\"v\":2,\"agent\":\"a\",\"status\":\"ok\",\"loss\":1e400}",
            "{\"v\":2,\"agent\":\"a\",\"status\":\"ok\",\"rtts\":[1,{}]}",
            "{\"v\":2,\"agent\":\"a\",\"status\":\"ok\",\"start\":\"yesterday\"}",
            "{\"v\":2,\"agent\":\"a\",\"status\":\"maybe\"}",
            "{\"v\":2,\"agent\":\"a\",\"agent\":\"b\",\"status\":\"ok\"}",
            "{\"v\":2,\"agent\":\"a\",\"status\":\"ok\"} x",
            "{\"v\":2,\"agent\":\"\u00e9\",\"status\":\"ok\"}",
            " {\"v\":2,\"agent\":\"a\",\"status\":\"ok\"}",
            "{\"v\":2,\"agent\":\"a\",\"status\":\"ok\",\"rtt\":{\"min\":1,\"avg\":1,\"max\":1}}",
            "{\"v\":2,\"agent\":\" \",\"status\":\"ok\"}",
            "{\"v\":2,\"agent\":\"a\",\"status\":\"ok\",\"sent\":1,\"received\":2}",
        };
        for (String text : unusual) {
            byte[] payload = text.getBytes(UTF_8);
            if (StreamingV2Decoder.applies(payload)) {
                assertNull(StreamingV2Decoder.tryDecode("x.org", payload), text);
            }
            assertSameOutcome(payload);
        }
        // Later fields are skipped as the tree decoder ignores them.
        byte[] later = "{\"v\":2,\"agent\":\"a\",\"status\":\"ok\",\"new\":{\"x\":[1,{\"y\":null}]},\"target\":\"t\"}"
                .getBytes(UTF_8);
        assertEquals(PingCodec.decodeWithTree(null, later), StreamingV2Decoder.tryDecode(null, later));
    }

    @Test
    void whenPayloadsMutated_thenFastAndTreeAgree() {
        Random random = new Random(SEED);
        List<byte[]> sources = validV2();
        byte[] interesting = "[]{}\",:.-+eE0123456789 nul\\".getBytes(UTF_8);
        int fastDecoded = 0;
        for (int i = 0; i < ROUNDS; i++) {
            byte[] payload = sources.get(random.nextInt(sources.size())).clone();
            int mutations = 1 + random.nextInt(3);
            for (int m = 0; m < mutations; m++) {
                int at = random.nextInt(payload.length);
                if (random.nextBoolean()) {
                    payload[at] = interesting[random.nextInt(interesting.length)];
                } else {
                    payload[at] = (byte) (32 + random.nextInt(95));
                }
            }
            if (StreamingV2Decoder.applies(payload) && StreamingV2Decoder.tryDecode("x.org", payload) != null) {
                fastDecoded++;
            }
            assertSameOutcome(payload);
        }
        // The comparison means something only if the fast path took part of the mutated payloads.
        assertEquals(true, fastDecoded > ROUNDS / 50, "fast path decoded " + fastDecoded);
    }

    /** {@link PingCodec#decode} (fast path first) and the tree decoder: same result, or same reason and message. */
    private static void assertSameOutcome(byte[] payload) {
        String text = new String(payload, UTF_8);
        PingResult expected = null;
        PayloadException expectedError = null;
        try {
            expected = treeDecode(payload);
        } catch (PayloadException e) {
            expectedError = e;
        }
        try {
            PingResult actual = PingCodec.decode("x.org", payload);
            if (expectedError != null) {
                fail("decoded " + text + " which the tree decoder refuses: " + expectedError.getMessage());
            }
            assertEquals(expected, actual, text);
        } catch (PayloadException e) {
            if (expectedError == null) {
                fail("refused " + text + " which the tree decoder decodes", e);
            }
            assertEquals(expectedError.reason(), e.reason(), text);
            assertEquals(expectedError.getMessage(), e.getMessage(), text);
        }
    }

    /** The tree decoder with {@link PingCodec#decode}'s translation of unchecked exceptions. */
    private static PingResult treeDecode(byte[] payload) throws PayloadException {
        try {
            return PingCodec.decodeWithTree("x.org", payload);
        } catch (IllegalArgumentException e) {
            throw new PayloadException(PayloadException.Reason.BAD_FIELD, "result has a bad field: " + e.getMessage(),
                    e);
        } catch (RuntimeException e) {
            throw new PayloadException(PayloadException.Reason.WRONG_SHAPE, "result could not be decoded: " + e, e);
        }
    }
}
