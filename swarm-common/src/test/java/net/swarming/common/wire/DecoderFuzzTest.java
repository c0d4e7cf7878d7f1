package net.swarming.common.wire;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Hostile and broken payloads: the decoders may refuse them but must throw nothing except their own checked
 * exception, because an unchecked one on an MQTT callback thread drops the connection.
 */
class DecoderFuzzTest {

    private static final long SEED = 0x5EED_B33L;
    private static final int ROUNDS = 5_000;
    private static final String ALPHABET = "[]{}\",:.-+eE0123456789 \\ntrufalsnul\u00e9\uD83D\uDE00vagentstatusokerror";

    private static final List<byte[]> VALID_RESULTS = List.of(
            "[\"bee-AU10\", \"ok\", {\"Error\": null, \"loss\": 0.0, \"Round trip\": [1.2, 1.5, 2.0, 0.2]}]"
                    .getBytes(UTF_8),
            "[\"bee-AU10\", \"ok\", {\"Error\": null, \"loss\": 100.0}]".getBytes(UTF_8),
            "[\"bee-AU10\", \"error\", \"Unknown host\"]".getBytes(UTF_8),
            PingCodec.encodeV2(PingResult.ofRound("bee", "id", "https://x.org/a", ProbeType.HTTP, "192.0.2.1",
                    Instant.parse("2026-11-21T18:00:00.123Z"), Arrays.asList(1.5, null, 2.25, 0.75), 1)),
            PingCodec.encodeV2(PingResult.failure("bee", null, "x.org", null, null, null, "boom")));

    private static final List<byte[]> VALID_WATCHES = List.of(
            "free.fr yahoo.fr\nyahoo.cn".getBytes(UTF_8),
            ("{\"version\":1,\"defaults\":{\"probe\":\"icmp\",\"step\":60,\"pings\":20},"
                    + "\"targets\":[\"free.fr\",{\"target\":\"https://x.org/a\",\"probe\":\"http\",\"step\":30}]}")
                    .getBytes(UTF_8));

    @Test
    void whenRandomBytes_thenOnlyPayloadExceptions() {
        Random random = new Random(SEED);
        for (int i = 0; i < ROUNDS; i++) {
            byte[] payload = new byte[random.nextInt(64)];
            random.nextBytes(payload);
            decodeResult(payload);
            decodeWatch(payload);
        }
    }

    @Test
    void whenRandomJsonishText_thenOnlyPayloadExceptions() {
        Random random = new Random(SEED + 1);
        for (int i = 0; i < ROUNDS; i++) {
            StringBuilder sb = new StringBuilder(random.nextBoolean() ? "[" : "{");
            int length = random.nextInt(80);
            for (int j = 0; j < length; j++) {
                sb.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
            }
            byte[] payload = sb.toString().getBytes(UTF_8);
            decodeResult(payload);
            decodeWatch(payload);
        }
    }

    @Test
    void whenValidPayloadsTruncated_thenOnlyPayloadExceptions() {
        for (byte[] valid : VALID_RESULTS) {
            for (int end = 0; end <= valid.length; end++) {
                decodeResult(Arrays.copyOf(valid, end));
            }
        }
        for (byte[] valid : VALID_WATCHES) {
            for (int end = 0; end <= valid.length; end++) {
                decodeWatch(Arrays.copyOf(valid, end));
            }
        }
    }

    @Test
    void whenValidPayloadsMutated_thenOnlyPayloadExceptions() {
        Random random = new Random(SEED + 2);
        byte[] interesting = "[]{}\",:.-+e0 9\\\u0000".getBytes(UTF_8);
        for (int i = 0; i < ROUNDS; i++) {
            boolean result = random.nextInt(3) > 0;
            List<byte[]> sources = result ? VALID_RESULTS : VALID_WATCHES;
            byte[] payload = sources.get(random.nextInt(sources.size())).clone();
            int mutations = 1 + random.nextInt(4);
            for (int m = 0; m < mutations; m++) {
                int at = random.nextInt(payload.length);
                switch (random.nextInt(3)) {
                    case 0 -> payload[at] = (byte) random.nextInt(256);
                    case 1 -> payload[at] = interesting[random.nextInt(interesting.length)];
                    default -> payload = splice(payload, at, random);
                }
            }
            if (result) {
                decodeResult(payload);
            } else {
                decodeWatch(payload);
            }
        }
    }

    private static byte[] splice(byte[] payload, int at, Random random) {
        // Duplicate or drop a chunk: unbalanced brackets, repeated keys, missing values.
        int length = Math.min(1 + random.nextInt(12), payload.length - at);
        byte[] out;
        if (random.nextBoolean()) {
            out = new byte[payload.length + length];
            System.arraycopy(payload, 0, out, 0, at + length);
            System.arraycopy(payload, at, out, at + length, payload.length - at);
        } else {
            out = new byte[payload.length - length];
            System.arraycopy(payload, 0, out, 0, at);
            System.arraycopy(payload, at + length, out, at, payload.length - at - length);
        }
        return out;
    }

    private static void decodeResult(byte[] payload) {
        try {
            PingResult r = PingCodec.decode("x.org", payload);
            assertNotNull(r.agent());
            // Whatever decodes must also encode: the indexer may re-publish or log it.
            PingCodec.encodeV2(r);
            PingCodec.encodeOriginal(r);
        } catch (PayloadException expected) {
            assertNotNull(expected.reason());
        } catch (RuntimeException e) {
            fail("unchecked exception for result payload " + Arrays.toString(payload), e);
        }
    }

    private static void decodeWatch(byte[] payload) {
        try {
            new WatchDecoder(WatchLimits.DEFAULT).decode(payload);
        } catch (WatchRejectedException expected) {
            assertNotNull(expected.reason());
        } catch (RuntimeException e) {
            fail("unchecked exception for watch payload " + Arrays.toString(payload), e);
        }
    }
}
