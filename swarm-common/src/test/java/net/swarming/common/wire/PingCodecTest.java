package net.swarming.common.wire;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import net.swarming.common.wire.PayloadException.Reason;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PingCodecTest {

    /** Literally what original-swarming.md shows mosquitto_sub printing for an original agent. */
    private static final String ORIGINAL_OK =
            "[\"bee-AU10\", \"ok\", {\"Error\": null, \"loss\": 0.0, \"Round trip\": [1.2, 1.5, 2.0, 0.2]}]";
    private static final String ORIGINAL_ALL_LOST = "[\"bee-AU10\", \"ok\", {\"Error\": null, \"loss\": 100.0}]";
    private static final String ORIGINAL_ERROR = "[\"bee-AU10\", \"error\", \"Unknown host\"]";

    private static PingResult original(ResultStatus status, String error, Double loss, RttStats rtt) {
        return new PingResult("bee-AU10", "free.fr", status, error, loss, rtt, List.of(), null, null, null, null,
                null, null, null, PingCodec.ORIGINAL_VERSION);
    }

    @Test
    void whenOriginalOk_thenBytesIdenticalToThePythonAgent() throws Exception {
        PingResult r = original(ResultStatus.OK, null, 0.0, new RttStats(1.2, 1.5, 2.0, 0.2, null, null));
        assertArrayEquals(ORIGINAL_OK.getBytes(UTF_8), PingCodec.encodeOriginal(r));
        assertEquals(r, PingCodec.decode("free.fr", ORIGINAL_OK.getBytes(UTF_8)));
    }

    @Test
    void whenOriginalAllLost_thenNoRoundTripKey() throws Exception {
        PingResult r = original(ResultStatus.OK, null, 100.0, null);
        assertArrayEquals(ORIGINAL_ALL_LOST.getBytes(UTF_8), PingCodec.encodeOriginal(r));
        assertEquals(r, PingCodec.decode("free.fr", ORIGINAL_ALL_LOST.getBytes(UTF_8)));
    }

    @Test
    void whenOriginalError_thenMessageAsThirdElement() throws Exception {
        PingResult r = original(ResultStatus.ERROR, "Unknown host", null, null);
        assertArrayEquals(ORIGINAL_ERROR.getBytes(UTF_8), PingCodec.encodeOriginal(r));
        assertEquals(r, PingCodec.decode("free.fr", ORIGINAL_ERROR.getBytes(UTF_8)));
    }

    @Test
    void whenV2ResultEncodedOriginally_thenOnlyTheOriginalFieldsRoundedLikePing() {
        PingResult r = PingResult.ofRound("bee-AU10", "id-1", "free.fr", ProbeType.ICMP, "212.27.48.10",
                Instant.parse("2026-11-21T18:00:00.123Z"), Arrays.asList(1.2344, null, 2.0006), 0);
        assertEquals("[\"bee-AU10\", \"ok\", {\"Error\": null, \"loss\": 33.333, \"Round trip\": "
                + "[1.234, 1.618, 2.001, 0.383]}]", new String(PingCodec.encodeOriginal(r), UTF_8));
    }

    @Test
    void whenNonAsciiOrQuotes_thenEscapedLikePythonEnsureAscii() {
        PingResult r = new PingResult("bée\"1", "x.org", ResultStatus.ERROR, "ping: tête\n\u00011 😀\\", null, null,
                null, null, null, null, null, null, null, null, 1);
        assertEquals("[\"b\\u00e9e\\\"1\", \"error\", \"ping: t\\u00eate\\n\\u00011 \\ud83d\\ude00\\\\\"]",
                new String(PingCodec.encodeOriginal(r), UTF_8));
    }

    @Test
    void whenOriginalQuirks_thenTolerated() throws Exception {
        // loss as an integer, keys in Python 2's dict order, no "Error" at all, extra spaces.
        PingResult r = PingCodec.decode("free.fr", ("[\"bee\",\"ok\",{\"loss\": 10, \"Round trip\": [1, 2, 3, 0.5],"
                + " \"Error\": null}]").getBytes(UTF_8));
        assertEquals(10.0, r.loss());
        assertEquals(new RttStats(1, 2, 3, 0.5, null, null), r.rtt());
        assertEquals(PingCodec.decode("free.fr", "[\"bee\",\"ok\",{\"loss\":10.0}]".getBytes(UTF_8)).loss(),
                PingCodec.decode("free.fr", "[\"bee\",\"ok\",{\"loss\":10}]".getBytes(UTF_8)).loss());
        PingResult noLoss = PingCodec.decode("free.fr", "[\"bee\", \"ok\", {\"Error\": null}]".getBytes(UTF_8));
        assertNull(noLoss.loss());
        assertEquals(ResultStatus.OK, noLoss.status());
    }

    @Test
    void whenOriginalOkCarriesAnError_thenItIsAnError() throws Exception {
        PingResult r = PingCodec.decode("free.fr",
                "[\"bee\", \"ok\", {\"Error\": \"Unknown host\", \"loss\": 100.0}]".getBytes(UTF_8));
        assertEquals(ResultStatus.ERROR, r.status());
        assertEquals("Unknown host", r.error());
        assertEquals(100.0, r.loss());
    }

    @Test
    void whenOriginalErrorWithEmptyMessage_thenNullMessageAndEncodedBackAsEmptyString() throws Exception {
        PingResult r = PingCodec.decode("free.fr", "[\"bee\", \"error\", \"\"]".getBytes(UTF_8));
        assertNull(r.error());
        assertEquals("[\"bee\", \"error\", \"\"]", new String(PingCodec.encodeOriginal(r), UTF_8));
    }

    @Test
    void whenV2_thenEveryFieldWrittenInOrder() {
        PingResult r = new PingResult("bee-AU10", "free.fr", ResultStatus.OK, null, 5.0,
                new RttStats(1.2344, 1.5, 2.0, 0.2, 1.4, 1.9), Arrays.asList(1.2344, null, 2.0), 3, 2, 0,
                "212.27.48.10", ProbeType.ICMP, Instant.parse("2026-11-21T18:00:00.123456Z"), "id-1", 2);
        assertEquals("{\"v\":2,\"agent\":\"bee-AU10\",\"agent_id\":\"id-1\",\"target\":\"free.fr\",\"probe\":\"icmp\","
                + "\"ip\":\"212.27.48.10\",\"start\":\"2026-11-21T18:00:00.123Z\",\"status\":\"ok\",\"error\":null,"
                + "\"sent\":3,\"received\":2,\"dup\":0,\"loss\":5.0,\"rtt\":{\"min\":1.234,\"avg\":1.5,"
                + "\"median\":1.4,\"p95\":1.9,\"max\":2.0,\"stddev\":0.2},\"rtts\":[1.234,null,2.0]}",
                new String(PingCodec.encodeV2(r), UTF_8));
    }

    @Test
    void whenV2RoundTrip_thenSameResult() throws Exception {
        PingResult ok = new PingResult("bee-AU10", "https://example.org/a?b#c", ResultStatus.OK, null, 33.333,
                new RttStats(0.001, 12.5, 2000.0, 3.25, 11.0, 1999.999), Arrays.asList(0.001, null, 2000.0, 12.5),
                4, 3, 1, "2001:db8::1", ProbeType.HTTP, Instant.parse("2026-11-21T18:00:00.120Z"), "id-1", 2);
        assertEquals(ok, PingCodec.decode("ignored", PingCodec.encodeV2(ok)));

        PingResult error = PingResult.failure("bee-AU10", null, "nowhere.invalid", ProbeType.DNS, null, null,
                "Unknown host \"nowhere.invalid\"");
        assertEquals(error, PingCodec.decode("nowhere.invalid", PingCodec.encodeV2(error)));

        PingResult allLost = PingResult.ofRound("bee", "id", "x.org", ProbeType.ICMP, null,
                Instant.parse("2026-01-01T00:00:00Z"), Arrays.asList(null, null), 0);
        assertEquals(allLost, PingCodec.decode("x.org", PingCodec.encodeV2(allLost)));
        assertEquals(100.0, allLost.loss());
        assertNull(allLost.rtt());
    }

    @Test
    void whenV2WithoutTarget_thenTopicTargetUsed() throws Exception {
        PingResult r = PingCodec.decode("free.fr", "{\"v\":2,\"agent\":\"bee\",\"status\":\"ok\"}".getBytes(UTF_8));
        assertEquals("free.fr", r.target());
        assertEquals(List.of(), r.rtts());
        assertEquals(2, r.version());
    }

    @Test
    void whenV2HasUnknownFieldsOrProbe_thenIgnored() throws Exception {
        PingResult r = PingCodec.decode("x.org", ("{\"v\":2,\"agent\":\"bee\",\"status\":\"ok\",\"probe\":\"quic\","
                + "\"geo\":{\"lat\":1},\"rtt\":{\"min\":1,\"avg\":1,\"max\":1,\"stddev\":0,\"p99\":1}}").getBytes(UTF_8));
        assertNull(r.probe());
        assertEquals(new RttStats(1, 1, 1, 0, null, null), r.rtt());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "not json", "[\"bee\", \"ok\"", "{\"v\":2,} ", "[1] [2]", "{\"a\":1,\"a\":2}"})
    void whenNotJson_thenNotJson(String payload) {
        assertEquals(Reason.NOT_JSON, reject("x.org", payload).reason());
    }

    @ParameterizedTest
    @ValueSource(strings = {"42", "\"ok\"", "null", "[]", "[\"bee\", \"ok\"]", "[\"bee\", \"ok\", {}, 1]",
        "[\"bee\", \"ok\", [1]]", "[\"bee\", \"error\", 5]", "{\"agent\":\"bee\",\"status\":\"ok\"}",
        "{\"v\":3,\"agent\":\"bee\",\"status\":\"ok\"}", "{\"v\":\"2\",\"agent\":\"bee\",\"status\":\"ok\"}"})
    void whenJsonOfTheWrongShape_thenWrongShape(String payload) {
        assertEquals(Reason.WRONG_SHAPE, reject("x.org", payload).reason());
    }

    @ParameterizedTest
    @ValueSource(strings = {"[\"\", \"ok\", {}]", "[1, \"ok\", {}]", "[\"bee\", \"fine\", {}]",
        "[\"bee\", \"ok\", {\"loss\": 101.0}]", "[\"bee\", \"ok\", {\"loss\": -1}]", "[\"bee\", \"ok\", {\"loss\": \"0\"}]",
        "[\"bee\", \"ok\", {\"loss\": 1e400}]", "[\"bee\", \"ok\", {\"Round trip\": [1, 2, 3]}]",
        "[\"bee\", \"ok\", {\"Round trip\": [1, 2, 3, \"x\"]}]", "[\"bee\", \"ok\", {\"Round trip\": [1, 2, 3, -4]}]",
        "[\"bee\", \"ok\", {\"Error\": 3}]",
        "{\"v\":2,\"status\":\"ok\"}", "{\"v\":2,\"agent\":\"bee\"}", "{\"v\":2,\"agent\":\"bee\",\"status\":\"OK\"}",
        "{\"v\":2,\"agent\":\"bee\",\"status\":\"ok\",\"start\":\"yesterday\"}",
        "{\"v\":2,\"agent\":\"bee\",\"status\":\"ok\",\"sent\":1.5}",
        "{\"v\":2,\"agent\":\"bee\",\"status\":\"ok\",\"sent\":-1}",
        "{\"v\":2,\"agent\":\"bee\",\"status\":\"ok\",\"sent\":1,\"received\":2}",
        "{\"v\":2,\"agent\":\"bee\",\"status\":\"ok\",\"sent\":99999999999}",
        "{\"v\":2,\"agent\":\"bee\",\"status\":\"ok\",\"rtt\":{\"min\":1}}",
        "{\"v\":2,\"agent\":\"bee\",\"status\":\"ok\",\"rtt\":[1,2,3,4]}",
        "{\"v\":2,\"agent\":\"bee\",\"status\":\"ok\",\"rtts\":[1,\"x\"]}",
        "{\"v\":2,\"agent\":\"bee\",\"status\":\"ok\",\"rtts\":{}}",
        "{\"v\":2,\"agent\":\"bee\",\"status\":\"ok\",\"ip\":5}"})
    void whenAFieldIsBad_thenBadField(String payload) {
        assertEquals(Reason.BAD_FIELD, reject("x.org", payload).reason());
    }

    @Test
    void whenOriginalWithoutTopicTarget_thenBadField() {
        assertEquals(Reason.BAD_FIELD, reject(null, ORIGINAL_OK).reason());
        assertEquals(Reason.BAD_FIELD, reject(null, "{\"v\":2,\"agent\":\"bee\",\"status\":\"ok\"}").reason());
    }

    @Test
    void whenTooLarge_thenRefusedUnparsed() {
        byte[] payload = new byte[PingCodec.MAX_PAYLOAD_BYTES + 1];
        Arrays.fill(payload, (byte) ' ');
        PayloadException e = assertThrows(PayloadException.class, () -> PingCodec.decode("x.org", payload));
        assertEquals(Reason.TOO_LARGE, e.reason());
    }

    @Test
    void whenNotUtf8_thenNotUtf8() {
        byte[] payload = {'[', '"', (byte) 0xff, '"', ']'};
        PayloadException e = assertThrows(PayloadException.class, () -> PingCodec.decode("x.org", payload));
        assertEquals(Reason.NOT_UTF8, e.reason());
        assertTrue(e.getMessage().contains("offset 2"), e.getMessage());
    }

    @Test
    void whenNullPayload_thenPayloadException() {
        assertEquals(Reason.NOT_JSON,
                assertThrows(PayloadException.class, () -> PingCodec.decode("x.org", null)).reason());
    }

    @Test
    void whenDeeplyNested_thenRefusedCheaply() {
        String deep = "[".repeat(100_000) + "]".repeat(100_000);
        assertEquals(Reason.NOT_JSON, reject("x.org", deep).reason());
    }

    private static PayloadException reject(String topicTarget, String payload) {
        return assertThrows(PayloadException.class, () -> PingCodec.decode(topicTarget, payload.getBytes(UTF_8)));
    }
}
