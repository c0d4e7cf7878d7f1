package net.swarming.indexer.internal.document;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import net.swarming.common.wire.PayloadException;
import net.swarming.common.wire.PingCodec;
import net.swarming.common.wire.PingResult;
import net.swarming.common.wire.ProbeType;
import net.swarming.common.wire.ResultStatus;
import net.swarming.common.wire.RttStats;
import org.junit.jupiter.api.Test;

class DocumentMapperTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String BROKER = "127.0.0.1:1883";
    private static final Instant RECEIVED = Instant.parse("2026-11-21T18:00:05.123456Z");
    private static final Instant START = Instant.parse("2026-11-21T18:00:00.250Z");

    private final DocumentMapper mapper = new DocumentMapper("swarm-pings-default", "swarm-agents-default");

    private static JsonNode json(String text) throws Exception {
        return JSON.readTree(text);
    }

    private IndexDocument original(String target, String payload) throws PayloadException {
        PingResult r = PingCodec.decode(target, payload.getBytes(StandardCharsets.UTF_8));
        return mapper.ping(r, BROKER, RECEIVED);
    }

    @Test
    void whenOriginalOk_thenReceiveTimeIcmpAndSummaryOnly() throws Exception {
        IndexDocument doc = original("free.fr",
                "[\"bee-AU10\", \"ok\", {\"Error\": null, \"loss\": 0.0, \"Round trip\": [1.2, 1.5, 2.0, 0.2]}]");

        assertEquals("swarm-pings-default", doc.index());
        assertNull(doc.id(), "the original format has no round start: Elasticsearch picks the id");
        assertEquals(json("""
                {"@timestamp":"2026-11-21T18:00:05.123Z",
                 "event":{"ingested":"2026-11-21T18:00:05.123Z","outcome":"success"},
                 "observer":{"name":"bee-AU10"},
                 "destination":{"address":"free.fr","domain":"free.fr"},
                 "swarm":{"probe":"icmp","loss_pct":0.0,
                          "rtt":{"min":1.2,"avg":1.5,"max":2.0,"stddev":0.2},
                          "format":1,"broker":"127.0.0.1:1883"}}
                """), json(doc.sourceText()));
    }

    @Test
    void whenOriginalOkWithTotalLoss_thenNoRttAndIpTargetInDestinationIp() throws Exception {
        IndexDocument doc = original("127.0.0.1", "[\"bee1\", \"ok\", {\"Error\": null, \"loss\": 100.0}]");

        assertEquals(json("""
                {"@timestamp":"2026-11-21T18:00:05.123Z",
                 "event":{"ingested":"2026-11-21T18:00:05.123Z","outcome":"success"},
                 "observer":{"name":"bee1"},
                 "destination":{"address":"127.0.0.1","ip":"127.0.0.1"},
                 "swarm":{"probe":"icmp","loss_pct":100.0,"format":1,"broker":"127.0.0.1:1883"}}
                """), json(doc.sourceText()));
    }

    @Test
    void whenOriginalError_thenFailureWithMessage() throws Exception {
        IndexDocument doc = original("nowhere.invalid", "[\"bee1\", \"error\", \"Unknown host\"]");

        assertEquals(json("""
                {"@timestamp":"2026-11-21T18:00:05.123Z",
                 "event":{"ingested":"2026-11-21T18:00:05.123Z","outcome":"failure"},
                 "observer":{"name":"bee1"},
                 "destination":{"address":"nowhere.invalid","domain":"nowhere.invalid"},
                 "error":{"message":"Unknown host"},
                 "swarm":{"probe":"icmp","format":1,"broker":"127.0.0.1:1883"}}
                """), json(doc.sourceText()));
    }

    @Test
    void whenV2Round_thenRoundStartTimestampEveryFieldAndDeterministicId() throws Exception {
        PingResult r = new PingResult("bee1", "example.org", ResultStatus.OK, null, 25.0,
                new RttStats(1.0, 2.0, 3.0, 0.816, 2.0, 3.0), Arrays.asList(1.0, null, 3.0, 2.0), 4, 3, 0,
                "192.0.2.7", ProbeType.ICMP, START, "4f1c2a", PingCodec.V2_VERSION);

        IndexDocument doc = mapper.ping(r, BROKER, RECEIVED);

        assertEquals(DocumentIds.pingId("bee1", "example.org", START, "icmp"), doc.id());
        assertEquals(json("""
                {"@timestamp":"2026-11-21T18:00:00.250Z",
                 "event":{"ingested":"2026-11-21T18:00:05.123Z","outcome":"success"},
                 "observer":{"name":"bee1","id":"4f1c2a"},
                 "destination":{"address":"example.org","domain":"example.org","ip":"192.0.2.7"},
                 "swarm":{"probe":"icmp","loss_pct":25.0,
                          "rtt":{"min":1.0,"avg":2.0,"median":2.0,"p95":3.0,"max":3.0,"stddev":0.816},
                          "rtts":[1.0,3.0,2.0],"sent":4,"received":3,"duplicates":0,
                          "format":2,"broker":"127.0.0.1:1883"}}
                """), json(doc.sourceText()));
    }

    @Test
    void whenV2ThroughTheCodec_thenSameDocumentAsFromTheRecord() throws Exception {
        PingResult r = PingResult.ofRound("bee1", "id-1", "example.org", ProbeType.TCP, "2001:db8::1", START,
                Arrays.asList(1.5, null), 1);
        PingResult decoded = PingCodec.decode("example.org", PingCodec.encodeV2(r));

        JsonNode doc = json(mapper.ping(decoded, BROKER, RECEIVED).sourceText());

        assertEquals("tcp", doc.path("swarm").path("probe").asText());
        assertEquals("2001:db8::1", doc.path("destination").path("ip").asText());
        assertEquals(50.0, doc.path("swarm").path("loss_pct").asDouble());
        assertEquals(json("[1.5]"), doc.path("swarm").path("rtts"));
        assertEquals(1, doc.path("swarm").path("duplicates").asInt());
        assertEquals(2, doc.path("swarm").path("format").asInt());
    }

    @Test
    void whenV2Failure_thenFailureWithoutMeasurements() throws Exception {
        PingResult r = PingResult.failure("bee1", null, "nowhere.invalid", ProbeType.DNS, null, START,
                "NXDOMAIN");

        IndexDocument doc = mapper.ping(r, BROKER, RECEIVED);

        assertEquals(json("""
                {"@timestamp":"2026-11-21T18:00:00.250Z",
                 "event":{"ingested":"2026-11-21T18:00:05.123Z","outcome":"failure"},
                 "observer":{"name":"bee1"},
                 "destination":{"address":"nowhere.invalid","domain":"nowhere.invalid"},
                 "error":{"message":"NXDOMAIN"},
                 "swarm":{"probe":"dns","format":2,"broker":"127.0.0.1:1883"}}
                """), json(doc.sourceText()));
    }

    @Test
    void whenResolvedIpIsNotAnIp_thenDestinationIpLeftOut() throws Exception {
        PingResult r = new PingResult("bee1", "example.org", ResultStatus.OK, null, 0.0, null, List.of(), null, null,
                null, "example.org", ProbeType.ICMP, START, null, PingCodec.V2_VERSION);

        JsonNode dest = json(mapper.ping(r, BROKER, RECEIVED).sourceText()).path("destination");

        assertFalse(dest.has("ip"), "destination.ip is typed ip: never a host name");
        assertEquals("example.org", dest.path("domain").asText());
    }

    @Test
    void whenIpv6Target_thenIpNotDomain() throws Exception {
        IndexDocument doc = original("::1", "[\"bee1\", \"ok\", {\"Error\": null, \"loss\": 0.0}]");

        JsonNode dest = json(doc.sourceText()).path("destination");

        assertEquals("::1", dest.path("ip").asText());
        assertFalse(dest.has("domain"));
    }

    @Test
    void whenRip_thenPresenceDocumentInAgentsStream() throws Exception {
        IndexDocument doc = mapper.rip("bee1", BROKER, RECEIVED);

        assertEquals("swarm-agents-default", doc.index());
        assertNull(doc.id());
        assertEquals(json("""
                {"@timestamp":"2026-11-21T18:00:05.123Z",
                 "event":{"ingested":"2026-11-21T18:00:05.123Z","action":"rip"},
                 "observer":{"name":"bee1"},
                 "swarm":{"broker":"127.0.0.1:1883"}}
                """), json(doc.sourceText()));
    }

    @Test
    void whenSameRoundTwice_thenSameId_andAnyKeyFieldChangesIt() {
        String id = DocumentIds.pingId("bee1", "example.org", START, "icmp");

        assertEquals(id, DocumentIds.pingId("bee1", "example.org", START, "icmp"));
        assertNotEquals(id, DocumentIds.pingId("bee2", "example.org", START, "icmp"));
        assertNotEquals(id, DocumentIds.pingId("bee1", "example.net", START, "icmp"));
        assertNotEquals(id, DocumentIds.pingId("bee1", "example.org", START.plusMillis(1), "icmp"));
        assertNotEquals(id, DocumentIds.pingId("bee1", "example.org", START.plusNanos(1), "icmp"));
        assertNotEquals(id, DocumentIds.pingId("bee1", "example.org", START, "tcp"));
        assertNotEquals(DocumentIds.pingId("a", "bc", START, ""), DocumentIds.pingId("ab", "c", START, ""));
    }

    @Test
    void whenIdMade_thenTimeOrderedPrefixAndUrlSafe() {
        String id = DocumentIds.pingId("bee1", "example.org", START, "icmp");

        assertEquals(String.format("%011x", START.toEpochMilli()) + "-", id.substring(0, 12));
        assertEquals(34, id.length());
        assertTrue(id.matches("[0-9a-f]{11}-[A-Za-z0-9_-]{22}"), id);
        assertTrue(DocumentIds.pingId("b", "t", START, "icmp").compareTo(
                DocumentIds.pingId("a", "t", START.plusSeconds(1), "icmp")) < 0, "ids sort by round start");
    }
}
