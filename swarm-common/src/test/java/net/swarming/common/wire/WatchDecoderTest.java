package net.swarming.common.wire;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import net.swarming.common.wire.WatchRejectedException.Reason;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class WatchDecoderTest {

    private final WatchDecoder decoder = new WatchDecoder(WatchLimits.DEFAULT);

    private WatchList decode(String payload) throws WatchRejectedException {
        return decoder.decode(payload.getBytes(UTF_8));
    }

    private WatchRejectedException rejected(WatchDecoder d, String payload) {
        return assertThrows(WatchRejectedException.class, () -> d.decode(payload.getBytes(UTF_8)));
    }

    @Test
    void whenOriginalOperatorCommand_thenTargetsInOrder() throws Exception {
        WatchList list = decode("free.fr yahoo.fr yahoo.cn");
        assertEquals(List.of("free.fr", "yahoo.fr", "yahoo.cn"), list.names());
        assertEquals(WatchList.Format.TEXT, list.format());
        assertEquals(WatchTarget.of("free.fr"), list.targets().get(0));
    }

    @Test
    void whenRunsOfWhitespaceAndNewlines_thenNoEmptyTargets() throws Exception {
        WatchList list = decode("  free.fr   yahoo.fr\t\tvoila.fr\r\n\n www.doctissimo.fr\n");
        assertEquals(List.of("free.fr", "yahoo.fr", "voila.fr", "www.doctissimo.fr"), list.names());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "   \t\r\n  ", "\uFEFF", "\uFEFF \n"})
    void whenEmptyOrWhitespaceOnly_thenEmptyList(String payload) throws Exception {
        WatchList list = decode(payload);
        assertTrue(list.isEmpty());
        assertEquals(List.of(), list.names());
    }

    @Test
    void whenDuplicates_thenFirstKept() throws Exception {
        assertEquals(List.of("a.org", "b.org"), decode("a.org b.org a.org b.org").names());
    }

    @ParameterizedTest
    @ValueSource(strings = {"bad_host!", "-x.org", "http://"})
    void whenOneInvalidTarget_thenWholeListRejectedNamingItAndItsPosition(String bad) {
        WatchRejectedException e = rejected(decoder, "free.fr " + bad + " yahoo.fr");
        assertEquals(Reason.INVALID_TARGET, e.reason());
        assertTrue(e.getMessage().contains("'" + bad + "'"), e.getMessage());
        assertTrue(e.getMessage().contains("#2"), e.getMessage());
        assertTrue(e.getMessage().contains("character 8"), e.getMessage());
    }

    @Test
    void whenHugeInvalidTarget_thenMessageStaysShort() {
        WatchRejectedException e = rejected(decoder, "x".repeat(100_000) + "!");
        assertEquals(Reason.INVALID_TARGET, e.reason());
        assertTrue(e.getMessage().length() < 400, e.getMessage());
    }

    @Test
    void whenTooManyTargets_thenRejected() throws Exception {
        WatchDecoder small = new WatchDecoder(new WatchLimits(1024, 3));
        assertEquals(3, small.decode("a.org b.org c.org".getBytes(UTF_8)).targets().size());
        assertEquals(Reason.TOO_MANY_TARGETS, rejected(small, "a.org b.org c.org d.org").reason());
        assertEquals(Reason.TOO_MANY_TARGETS,
                rejected(small, "{\"version\":1,\"targets\":[\"a.org\",\"b.org\",\"c.org\",\"d.org\"]}").reason());
    }

    @Test
    void whenPayloadTooLarge_thenRejectedBeforeParsing() {
        WatchDecoder small = new WatchDecoder(new WatchLimits(16, 100));
        // Not even UTF-8: the size check comes first.
        byte[] payload = new byte[17];
        payload[0] = (byte) 0xff;
        WatchRejectedException e = assertThrows(WatchRejectedException.class, () -> small.decode(payload));
        assertEquals(Reason.TOO_LARGE, e.reason());
        assertTrue(e.getMessage().contains("17"), e.getMessage());
    }

    @Test
    void whenNotUtf8_thenRejectedWithOffset() {
        byte[] payload = {'a', '.', 'o', 'r', 'g', ' ', (byte) 0xc3, '('};
        WatchRejectedException e = assertThrows(WatchRejectedException.class, () -> decoder.decode(payload));
        assertEquals(Reason.NOT_UTF8, e.reason());
        assertTrue(e.getMessage().contains("offset 6"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"{", "{\"version\":1,\"targets\":[\"a.org\"]", "{\"version\":1,\"targets\":[\"a.org\"]} x",
        "{version:1}", "{\"version\":1,\"targets\":\"a.org\"}", "{\"version\":1}",
        "{\"version\":1,\"defaults\":[],\"targets\":[]}", "{\"version\":1,\"version\":1,\"targets\":[]}"})
    void whenMalformedJson_thenRejected(String payload) {
        assertEquals(Reason.MALFORMED_JSON, rejected(decoder, payload).reason());
    }

    @ParameterizedTest
    @ValueSource(strings = {"{\"version\":99,\"targets\":[\"a.org\"]}", "{\"targets\":[\"a.org\"]}",
        "{\"version\":\"1\",\"targets\":[]}", "{\"version\":1.5,\"targets\":[]}", "{\"version\":null,\"targets\":[]}"})
    void whenUnknownVersion_thenUnsupported(String payload) {
        WatchRejectedException e = rejected(decoder, payload);
        assertEquals(Reason.UNSUPPORTED_VERSION, e.reason());
        assertTrue(e.getMessage().contains("version"), e.getMessage());
    }

    @Test
    void whenJsonWithDefaults_thenDefaultsAppliedWhereUnset() throws Exception {
        WatchList list = decode("""
                 {"version":1,"defaults":{"probe":"icmp","step":60,"pings":20},
                  "targets":["free.fr",{"target":"https://x.org/a","probe":"http","step":30},
                             {"target":"x.org","probe":"tcp","port":443,"pings":3,"step":1.5}]}
                """);
        assertEquals(WatchList.Format.JSON, list.format());
        assertEquals(List.of(
                new WatchTarget("free.fr", ProbeType.ICMP, Duration.ofSeconds(60), 20, null),
                new WatchTarget("https://x.org/a", ProbeType.HTTP, Duration.ofSeconds(30), 20, null),
                new WatchTarget("x.org", ProbeType.TCP, Duration.ofMillis(1500), 3, 443)), list.targets());
    }

    @Test
    void whenJsonWithoutDefaults_thenOptionsLeftToTheAgent() throws Exception {
        WatchList list = decode("{\"version\":1,\"targets\":[\"free.fr\",{\"target\":\"::1\"}],\"later\":{\"x\":1}}");
        assertEquals(List.of(WatchTarget.of("free.fr"), WatchTarget.of("::1")), list.targets());
    }

    @Test
    void whenUnknownFields_thenIgnored() throws Exception {
        WatchList list = decode("{\"version\":1,\"owner\":\"noc\",\"defaults\":{\"probe\":\"icmp\",\"color\":\"red\"},"
                + "\"targets\":[{\"target\":\"a.org\",\"tags\":[\"x\"]}]}");
        assertEquals(List.of(new WatchTarget("a.org", ProbeType.ICMP, null, null, null)), list.targets());
    }

    @Test
    void whenJsonEmptyTargets_thenEmptyList() throws Exception {
        assertTrue(decode("{\"version\":1,\"targets\":[]}").isEmpty());
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "{\"version\":1,\"targets\":[\"bad_host!\"]}",
        "{\"version\":1,\"targets\":[42]}",
        "{\"version\":1,\"targets\":[{\"probe\":\"icmp\"}]}",
        "{\"version\":1,\"targets\":[{\"target\":\"a.org\",\"probe\":\"quic\"}]}",
        "{\"version\":1,\"targets\":[{\"target\":\"a.org\",\"step\":\"60\"}]}",
        "{\"version\":1,\"targets\":[{\"target\":\"a.org\",\"step\":0.5}]}",
        "{\"version\":1,\"targets\":[{\"target\":\"a.org\",\"step\":1e400}]}",
        "{\"version\":1,\"targets\":[{\"target\":\"a.org\",\"pings\":2.5}]}",
        "{\"version\":1,\"targets\":[{\"target\":\"a.org\",\"pings\":99999999999999999999}]}",
        "{\"version\":1,\"targets\":[{\"target\":\"a.org\",\"port\":0}]}",
        "{\"version\":1,\"defaults\":{\"step\":86401},\"targets\":[\"a.org\"]}",
        "{\"version\":1,\"defaults\":{\"probe\":7},\"targets\":[\"a.org\"]}",
        "{\"version\":1,\"defaults\":{\"step\":1e400},\"targets\":[\"a.org\"]}"})
    void whenJsonEntryInvalid_thenInvalidTarget(String payload) {
        assertEquals(Reason.INVALID_TARGET, rejected(decoder, payload).reason());
    }

    @Test
    void whenJsonEntryInvalid_thenMessageNamesItsIndex() {
        WatchRejectedException e = rejected(decoder,
                "{\"version\":1,\"targets\":[\"a.org\",{\"target\":\"a.org\",\"step\":0}]}");
        assertTrue(e.getMessage().contains("targets[1].step"), e.getMessage());
    }

    @Test
    void whenHundredThousandTargets_thenAllDecoded() throws Exception {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 100_000; i++) {
            sb.append("host-").append(i).append(".example.org").append(i % 10 == 9 ? '\n' : ' ');
        }
        byte[] payload = sb.toString().getBytes(UTF_8);
        assertTrue(payload.length > 1_500_000, "payload of " + payload.length + " bytes");
        WatchList list = decoder.decode(payload);
        assertEquals(100_000, list.targets().size());
        assertEquals("host-99999.example.org", list.names().get(99_999));
    }

    @Test
    void whenHundredThousandJsonTargets_thenAllDecoded() throws Exception {
        List<WatchTarget> targets = new ArrayList<>();
        for (int i = 0; i < 100_000; i++) {
            targets.add(WatchTarget.of("10." + (i >> 16) + "." + ((i >> 8) & 255) + "." + (i & 255)));
        }
        WatchList list = decoder.decode(WatchEncoder.encodeJson(new WatchList(targets, WatchList.Format.JSON)));
        assertEquals(100_000, list.targets().size());
    }
}
