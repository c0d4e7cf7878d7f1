package net.swarming.indexer.internal.intake;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import net.swarming.common.mqtt.BrokerAddress;
import net.swarming.common.mqtt.InboundMessage;
import net.swarming.common.wire.BirthCodec;
import net.swarming.common.wire.BirthMessage;
import net.swarming.common.wire.ProbeType;
import net.swarming.indexer.internal.IndexerMetrics;
import net.swarming.indexer.internal.document.DocumentMapper;
import net.swarming.indexer.internal.document.IndexDocument;
import org.junit.jupiter.api.Test;

class MessageRouterTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final BrokerAddress BROKER = BrokerAddress.parse("queen:1883");

    private record Delivered(IndexDocument doc, InboundMessage message) {}

    private final List<Delivered> delivered = new ArrayList<>();
    private final IndexerMetrics metrics = new IndexerMetrics(new PrometheusRegistry(), List.of("queen:1883"),
            () -> 0, b -> true);
    private final MessageRouter router = new MessageRouter(
            new DocumentMapper("swarm-pings-t", "swarm-agents-t", "swarm-deadletter-t", 8),
            (doc, m) -> delivered.add(new Delivered(doc, m)), metrics,
            Clock.fixed(Instant.parse("2026-11-21T19:00:00Z"), ZoneOffset.UTC), 100);
    /** The same, with room for a real birth payload. */
    private final MessageRouter bigRouter = new MessageRouter(
            new DocumentMapper("swarm-pings-t", "swarm-agents-t", "swarm-deadletter-t", 8),
            (doc, m) -> delivered.add(new Delivered(doc, m)), metrics,
            Clock.fixed(Instant.parse("2026-11-21T19:00:00Z"), ZoneOffset.UTC), 64 * 1024);

    private static InboundMessage message(String topic, String payload) {
        return new InboundMessage(topic, payload.getBytes(StandardCharsets.UTF_8), 1, false, false, BROKER, 7);
    }

    private JsonNode onlyDocument(InboundMessage m) throws Exception {
        return onlyDocument(router, m);
    }

    private JsonNode onlyDocument(MessageRouter via, InboundMessage m) throws Exception {
        via.onMessage(m);
        assertEquals(1, delivered.size(), "every message hands over exactly one document");
        assertSame(m, delivered.get(0).message(), "with the message, to acknowledge it once spooled");
        return JSON.readTree(delivered.get(0).doc().source());
    }

    @Test
    void whenBirth_thenPresenceEventAtTheAgentsStartWithItsDetails() throws Exception {
        Instant started = Instant.parse("2026-11-21T18:59:58.250Z");
        BirthMessage birth = new BirthMessage("swarm-agent-bee1-abc", "bee1", "0.1.0", "Paris, AS3215",
                List.of(ProbeType.ICMP, ProbeType.TCP), started);
        JsonNode doc = onlyDocument(bigRouter, new InboundMessage("birth/agent/bee1", BirthCodec.encode(birth), 1,
                true, false, BROKER, 7));

        assertEquals("swarm-agents-t", delivered.get(0).doc().index());
        assertEquals("birth", doc.path("event").path("action").asText());
        assertEquals("2026-11-21T18:59:58.250Z", doc.path("@timestamp").asText());
        assertEquals("2026-11-21T19:00:00.000Z", doc.path("event").path("ingested").asText());
        assertEquals("bee1", doc.path("observer").path("name").asText());
        assertEquals("swarm-agent-bee1-abc", doc.path("observer").path("id").asText());
        assertEquals("0.1.0", doc.path("observer").path("version").asText());
        assertEquals("Paris, AS3215", doc.path("observer").path("geo").path("name").asText());
        assertEquals("[\"icmp\",\"tcp\"]", doc.path("swarm").path("probes").toString());
        assertEquals("queen:1883", doc.path("swarm").path("broker").asText());

        // The same retained birth handed out again on a reconnect gets the same id: a duplicate, not a new birth.
        String id = delivered.get(0).doc().id();
        delivered.clear();
        onlyDocument(bigRouter, new InboundMessage("birth/agent/bee1", BirthCodec.encode(birth), 1, true, false,
                BROKER, 8));
        assertEquals(id, delivered.get(0).doc().id());
        assertNotNull(id);
    }

    @Test
    void whenBirthIsCleared_thenCleanStopEvent() throws Exception {
        JsonNode doc = onlyDocument(message("birth/agent/bee1", ""));

        assertEquals("swarm-agents-t", delivered.get(0).doc().index());
        assertEquals("stop", doc.path("event").path("action").asText());
        assertEquals("bee1", doc.path("observer").path("name").asText());
        assertEquals(0, metrics.snapshot(0).badMessages());
    }

    @Test
    void whenBirthPayloadIsGarbage_thenDeadLetter() throws Exception {
        JsonNode doc = onlyDocument(message("birth/agent/bee1", "{}"));

        assertEquals("swarm-deadletter-t", delivered.get(0).doc().index());
        assertEquals("birth/agent/bee1", doc.path("swarm").path("topic").asText());
        assertEquals(1, metrics.snapshot(0).badMessages());
    }

    @Test
    void whenOversized_thenDeadLetterWithCappedPayloadAndNotDecoded() throws Exception {
        JsonNode doc = onlyDocument(message("ping/127.0.0.1", "[" + "\"x\",".repeat(40) + "\"y\"]"));

        assertEquals("swarm-deadletter-t", delivered.get(0).doc().index());
        assertEquals("oversized", doc.path("event").path("reason").asText());
        assertEquals("[\"x\",\"x\"", doc.path("swarm").path("payload").asText());
        assertEquals(165, doc.path("swarm").path("payload_bytes").asInt());
        assertEquals(true, doc.path("swarm").path("payload_truncated").asBoolean());
        assertEquals(1, metrics.snapshot(0).badMessages());
    }

    @Test
    void whenUnknownTopicOrGarbage_thenDeadLetterNamingReasonTopicAndBroker() throws Exception {
        JsonNode doc = onlyDocument(message("rip/whatever", ""));

        assertEquals("unknown_topic", doc.path("error").path("type").asText());
        assertEquals("rip/whatever", doc.path("swarm").path("topic").asText());
        assertEquals("queen:1883", doc.path("swarm").path("broker").asText());

        delivered.clear();
        JsonNode garbage = onlyDocument(message("ping/127.0.0.1", "not json"));
        assertEquals("not_json", garbage.path("event").path("reason").asText());
        assertEquals("2026-11-21T19:00:00.000Z", garbage.path("@timestamp").asText());
    }
}
