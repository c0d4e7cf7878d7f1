package net.swarming.common.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class BirthAndExtrasTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void whenBirthTopic_thenOneLevelUnderBirthAgentAndReversible() {
        assertEquals("birth/agent/bee-1", Topics.birthAgent("bee-1"));
        assertEquals("birth/agent/a%2Fb", Topics.birthAgent("a/b"));
        assertEquals(Optional.of("a/b"), Topics.birthAgentOf("birth/agent/a%2Fb"));
        assertEquals(Optional.empty(), Topics.birthAgentOf("rip/agent/bee-1"));
        assertEquals(Optional.empty(), Topics.birthAgentOf("birth/agent/a/b"));
        assertThrows(IllegalArgumentException.class, () -> Topics.birthAgent(""));
    }

    @Test
    void whenBirthEncoded_thenDecodesToTheSameMessage() throws Exception {
        BirthMessage m = new BirthMessage("swarm-agent-x-1", "bee-1", "0.1.0", "Paris, rack 3",
                List.of(ProbeType.TCP, ProbeType.HTTP), Instant.parse("2026-11-21T18:00:00.123Z"));
        byte[] bytes = BirthCodec.encode(m);
        JsonNode node = JSON.readTree(bytes);
        assertEquals(1, node.get("v").asInt());
        assertEquals("[\"tcp\",\"http\"]", node.get("probes").toString());
        assertEquals("2026-11-21T18:00:00.123Z", node.get("started").asText());
        assertEquals(m, BirthCodec.decode(bytes));
    }

    @Test
    void whenBirthPayloadEmptyOrBroken_thenPayloadException() {
        assertThrows(PayloadException.class, () -> BirthCodec.decode(new byte[0]));
        assertThrows(PayloadException.class, () -> BirthCodec.decode("[1]".getBytes(StandardCharsets.UTF_8)));
        assertThrows(PayloadException.class,
                () -> BirthCodec.decode("{\"agent\":\"a\"}".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void whenNoExtras_thenV2BytesAreUnchanged() {
        PingResult r = PingResult.ofRound("bee", "id", "t", ProbeType.ICMP, "192.0.2.1",
                Instant.parse("2026-01-01T00:00:00Z"), Arrays.asList(1.0, null), 0);
        assertEquals(new String(PingCodec.encodeV2(r), StandardCharsets.UTF_8),
                new String(PingCodec.encodeV2(r, RoundExtras.NONE), StandardCharsets.UTF_8));
    }

    @Test
    void whenExtras_thenAppendedAfterRttsAndDecoderStillReadsTheResult() throws Exception {
        PingResult r = PingResult.ofRound("bee", "id", "t", ProbeType.ICMP, "192.0.2.1",
                Instant.parse("2026-01-01T00:00:00Z"), Arrays.asList(1.0, null, null), 1);
        List<RoundExtras.ErrorAnswer> errors = List.of(
                new RoundExtras.ErrorAnswer(2, "destination unreachable (host unreachable)", "192.0.2.254"));
        Map<String, Double> phases = new LinkedHashMap<>();
        phases.put("dns", 0.1234);
        phases.put("connect", 2.0);
        byte[] bytes = PingCodec.encodeV2(r, new RoundExtras(2, errors, 204, phases));
        String text = new String(bytes, StandardCharsets.UTF_8);
        assertTrue(text.endsWith("\"rtts\":[1.0,null,null],\"late\":2,\"errors\":[{\"ping\":2,"
                + "\"what\":\"destination unreachable (host unreachable)\",\"from\":\"192.0.2.254\"}],"
                + "\"http_status\":204,\"phases\":{\"dns\":0.123,\"connect\":2.0}}"), text);
        assertEquals(PingCodec.decode("t", PingCodec.encodeV2(r)), PingCodec.decode("t", bytes));
    }

    @Test
    void whenExtrasInvalid_thenRejected() {
        assertThrows(IllegalArgumentException.class, () -> new RoundExtras(-1, null, null, null));
        assertThrows(IllegalArgumentException.class, () -> RoundExtras.http(42, Map.of()));
        assertThrows(IllegalArgumentException.class, () -> RoundExtras.http(200, Map.of("dns", -1.0)));
        assertThrows(IllegalArgumentException.class, () -> new RoundExtras.ErrorAnswer(-1, "x", null));
        assertTrue(RoundExtras.icmp(0, List.of()).errors().isEmpty());
    }
}
