package net.swarming.indexer;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import net.swarming.common.mqtt.BrokerAddress;
import net.swarming.common.wire.PingCodec;
import net.swarming.common.wire.PingResult;
import net.swarming.common.wire.ProbeType;
import net.swarming.testkit.ElasticsearchExtension;
import net.swarming.testkit.ElasticsearchNode;
import net.swarming.testkit.MosquittoBroker;
import net.swarming.testkit.MosquittoClients;
import net.swarming.testkit.MosquittoExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The indexer against a real mosquitto and a real Elasticsearch node. */
@ExtendWith({MosquittoExtension.class, ElasticsearchExtension.class})
@Timeout(240)
class IndexerIT {

    private static final Logger LOG = LoggerFactory.getLogger(IndexerIT.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final String ORIGINAL_OK =
            "[\"bee1\", \"ok\", {\"Error\": null, \"loss\": 10.0, \"Round trip\": [0.05, 0.061, 0.09, 0.012]}]";

    private final List<Indexer> indexers = new ArrayList<>();

    private record Streams(String pings, String agents, String deadLetters) {}

    private static Streams uniqueStreams() {
        String suffix = "it" + Long.toString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE, 36)
                .toLowerCase(Locale.ROOT);
        return new Streams("swarm-pings-" + suffix, "swarm-agents-" + suffix, "swarm-deadletter-" + suffix);
    }

    private Indexer start(MosquittoBroker broker, ElasticsearchNode es, Streams streams) {
        return start(broker, es, streams, b -> b);
    }

    private Indexer start(MosquittoBroker broker, ElasticsearchNode es, Streams streams,
            UnaryOperator<IndexerConfig.Builder> customize) {
        IndexerConfig.Builder builder = IndexerConfig.builder()
                .brokers(List.of(BrokerAddress.parse(broker.hostPort())))
                .elasticsearch(List.of(IndexerConfig.parseElasticsearchUrl(es.url())))
                .pingsStream(streams.pings())
                .agentsStream(streams.agents())
                .deadLetterStream(streams.deadLetters())
                .clientId("indexer-" + streams.pings())
                .bulkSize(50)
                .flushInterval(Duration.ofMillis(200))
                .maxRetryBackoff(Duration.ofSeconds(1))
                .shutdownTimeout(Duration.ofSeconds(5))
                .metricsPort(IndexerConfig.METRICS_DISABLED);
        Indexer indexer = Indexer.start(customize.apply(builder).build(), Clock.systemUTC());
        indexers.add(indexer);
        await().atMost(WAIT).until(indexer::allBrokersConnected);
        return indexer;
    }

    @AfterEach
    void closeIndexers() {
        indexers.forEach(Indexer::close);
    }

    private static void publish(MosquittoBroker broker, String topic, String payload) {
        MosquittoClients.publish(broker, topic, payload, 1, false);
    }

    private static String v2(String agent, String target, Instant start, Double... rtts) {
        PingResult r = PingResult.ofRound(agent, agent + "-id", target, ProbeType.ICMP, "127.0.0.1", start,
                Arrays.asList(rtts), 0);
        return new String(PingCodec.encodeV2(r), StandardCharsets.UTF_8);
    }

    private static long count(ElasticsearchNode es, String stream) {
        es.refresh(stream);
        return es.count(stream);
    }

    private static void awaitCount(ElasticsearchNode es, String stream, long expected) {
        // A brand-new backing index answers 503 until its shard is active: retry through that.
        await().atMost(WAIT).pollInterval(Duration.ofMillis(250)).ignoreExceptions()
                .until(() -> count(es, stream) >= expected);
        assertEquals(expected, count(es, stream), "documents in " + stream);
    }

    /** The {@code _source} of every document matching a term query, by @timestamp. */
    private static List<JsonNode> sources(ElasticsearchNode es, String stream, String field, String value)
            throws IOException {
        es.refresh(stream);
        String query = "{\"size\":100,\"sort\":[{\"@timestamp\":\"asc\"}],\"query\":{\"term\":{\""
                + field + "\":\"" + value + "\"}}}";
        JsonNode hits = JSON.readTree(es.post("/" + stream + "/_search", query)).path("hits").path("hits");
        List<JsonNode> out = new ArrayList<>();
        hits.forEach(h -> out.add(h.path("_source")));
        return out;
    }

    /** Field types of the (single) backing index of a data stream. */
    private static JsonNode properties(ElasticsearchNode es, String stream) throws IOException {
        JsonNode mapping = JSON.readTree(es.get("/" + stream + "/_mapping"));
        Iterator<String> names = mapping.fieldNames();
        String backing = names.next();
        assertTrue(backing.startsWith(".ds-" + stream + "-"), "a data stream backs " + stream + ": " + backing);
        return mapping.path(backing).path("mappings").path("properties");
    }

    @Test
    void whenOriginalAndV2Published_thenSearchableWithEcsFieldsAndTypes(MosquittoBroker broker, ElasticsearchNode es)
            throws Exception {
        Streams s = uniqueStreams();
        Indexer indexer = start(broker, es, s);
        Instant start = Instant.parse("2026-11-21T18:00:00.250Z");

        publish(broker, "ping/127.0.0.1", ORIGINAL_OK);
        publish(broker, "ping/127.0.0.1", "[\"bee1\", \"ok\", {\"Error\": null, \"loss\": 100.0}]");
        publish(broker, "ping/nowhere.invalid", "[\"bee1\", \"error\", \"Unknown host\"]");
        publish(broker, "ping/localhost", v2("bee2", "localhost", start, 0.25, null, 0.5, 0.75));

        awaitCount(es, s.pings(), 4);

        List<JsonNode> originals = sources(es, s.pings(), "destination.ip", "127.0.0.1");
        assertEquals(3, originals.size(), "two originals on 127.0.0.1 and the v2 resolved to it: " + originals);
        JsonNode ok = sources(es, s.pings(), "swarm.loss_pct", "10.0").get(0);
        assertEquals("bee1", ok.path("observer").path("name").asText());
        assertEquals("127.0.0.1", ok.path("destination").path("address").asText());
        assertFalse(ok.path("destination").has("domain"));
        assertEquals("success", ok.path("event").path("outcome").asText());
        assertEquals(0.061, ok.path("swarm").path("rtt").path("avg").asDouble());
        assertEquals(1, ok.path("swarm").path("format").asInt());
        assertEquals(broker.hostPort(), ok.path("swarm").path("broker").asText());
        assertEquals("icmp", ok.path("swarm").path("probe").asText());

        JsonNode error = sources(es, s.pings(), "event.outcome", "failure").get(0);
        assertEquals("Unknown host", error.path("error").path("message").asText());
        assertEquals("nowhere.invalid", error.path("destination").path("domain").asText());

        JsonNode v2 = sources(es, s.pings(), "observer.name", "bee2").get(0);
        assertEquals("2026-11-21T18:00:00.250Z", v2.path("@timestamp").asText());
        assertEquals("bee2-id", v2.path("observer").path("id").asText());
        assertEquals("localhost", v2.path("destination").path("domain").asText());
        assertEquals(JSON.readTree("[0.25,0.5,0.75]"), v2.path("swarm").path("rtts"));
        assertEquals(25.0, v2.path("swarm").path("loss_pct").asDouble());
        assertEquals(4, v2.path("swarm").path("sent").asInt());
        assertEquals(3, v2.path("swarm").path("received").asInt());
        assertEquals(0.5, v2.path("swarm").path("rtt").path("median").asDouble());

        JsonNode p = properties(es, s.pings());
        assertEquals("date", p.path("@timestamp").path("type").asText());
        assertEquals("date", p.path("event").path("properties").path("ingested").path("type").asText());
        assertEquals("keyword", p.path("observer").path("properties").path("name").path("type").asText());
        assertEquals("ip", p.path("destination").path("properties").path("ip").path("type").asText());
        assertEquals("keyword", p.path("destination").path("properties").path("address").path("type").asText());
        JsonNode swarm = p.path("swarm").path("properties");
        assertEquals("float", swarm.path("loss_pct").path("type").asText());
        assertEquals("float", swarm.path("rtt").path("properties").path("p95").path("type").asText());
        assertEquals("float", swarm.path("rtts").path("type").asText());
        assertEquals("integer", swarm.path("sent").path("type").asText());
        assertEquals("keyword", swarm.path("probe").path("type").asText());

        // Percentiles over the float field work (what the Kibana latency charts use).
        JsonNode agg = JSON.readTree(es.post("/" + s.pings() + "/_search", "{\"size\":0,\"aggs\":{\"p\":"
                + "{\"percentiles\":{\"field\":\"swarm.rtt.avg\",\"percents\":[50]}}}}"));
        assertTrue(agg.path("aggregations").path("p").path("values").has("50.0"), agg.toString());

        IndexerStats stats = indexer.stats();
        assertEquals(4, stats.messages());
        assertEquals(4, stats.documentsWritten());
        assertEquals(0, stats.badMessages());
    }

    @Test
    void whenSameV2ResultPublishedTwice_thenOneDocumentAndOneDuplicateCounted(MosquittoBroker broker,
            ElasticsearchNode es) {
        Streams s = uniqueStreams();
        Indexer indexer = start(broker, es, s);
        String payload = v2("bee1", "127.0.0.1", Instant.parse("2026-11-21T18:00:10Z"), 0.1, 0.2);

        publish(broker, "ping/127.0.0.1", payload);
        publish(broker, "ping/127.0.0.1", payload);

        await().atMost(WAIT).until(() -> indexer.stats().duplicates() == 1);
        assertEquals(1, indexer.stats().documentsWritten());
        assertEquals(0, indexer.stats().documentErrors());
        assertEquals(1, count(es, s.pings()));
    }

    @Test
    void whenAgentWillArrives_thenPresenceDocument(MosquittoBroker broker, ElasticsearchNode es) throws Exception {
        Streams s = uniqueStreams();
        start(broker, es, s);

        publish(broker, "rip/agent/bee1", "");

        awaitCount(es, s.agents(), 1);
        JsonNode doc = sources(es, s.agents(), "observer.name", "bee1").get(0);
        assertEquals("rip", doc.path("event").path("action").asText());
        assertEquals(broker.hostPort(), doc.path("swarm").path("broker").asText());
        assertEquals(doc.path("@timestamp"), doc.path("event").path("ingested"));
        assertEquals("keyword", properties(es, s.agents()).path("event").path("properties").path("action")
                .path("type").asText());
    }

    @Test
    void whenPoisonPublished_thenDeadLettersWithReasonTopicBrokerAndCappedPayload(MosquittoBroker broker,
            ElasticsearchNode es) throws Exception {
        Streams s = uniqueStreams();
        Indexer indexer = start(broker, es, s, b -> b.maxMessageBytes(1000));

        publish(broker, "ping/127.0.0.1", "this is not json");
        publish(broker, "ping/127.0.0.1", "[\"bee1\", \"maybe\", {}]");
        publish(broker, "ping/127.0.0.1", "{\"v\": 2, \"agent\": \"bee1\", \"status\": \"ok\", \"loss\": 250}");
        publish(broker, "rip/whatever", "");
        publish(broker, "ping/127.0.0.1", "[\"" + "x".repeat(6000) + "\"]");
        publish(broker, "ping/127.0.0.1", ORIGINAL_OK);

        awaitCount(es, s.pings(), 1);
        awaitCount(es, s.deadLetters(), 5);
        assertEquals(5, indexer.stats().badMessages());
        assertEquals(6, indexer.stats().messages());
        assertEquals(0, count(es, s.agents()));

        JsonNode notJson = sources(es, s.deadLetters(), "event.reason", "not_json").get(0);
        assertEquals("ping/127.0.0.1", notJson.path("swarm").path("topic").asText());
        assertEquals(broker.hostPort(), notJson.path("swarm").path("broker").asText());
        assertEquals("this is not json", notJson.path("swarm").path("payload").asText());
        assertFalse(notJson.path("swarm").path("payload_truncated").asBoolean());
        assertEquals(1, sources(es, s.deadLetters(), "event.reason", "unknown_topic").size());
        JsonNode oversized = sources(es, s.deadLetters(), "event.reason", "oversized").get(0);
        assertEquals(6004, oversized.path("swarm").path("payload_bytes").asInt());
        assertTrue(oversized.path("swarm").path("payload_truncated").asBoolean());
        assertEquals(4096, oversized.path("swarm").path("payload").asText().length());
    }

    @Test
    void whenElasticsearchRefusesADocument_thenItBecomesADeadLetterAndOthersAreWritten(MosquittoBroker broker,
            ElasticsearchNode es) throws Exception {
        Streams s = uniqueStreams();
        // A template of higher priority than the indexer's maps observer.name as a number for this stream only, so
        // Elasticsearch refuses every result document item by item (HTTP 200, item status 400).
        es.put("/_index_template/" + s.pings() + "-conflict", "{\"index_patterns\":[\"" + s.pings() + "\"],"
                + "\"data_stream\":{},\"priority\":1000,\"template\":{\"mappings\":{\"properties\":{"
                + "\"observer\":{\"properties\":{\"name\":{\"type\":\"long\"}}}}}}}");
        try {
            Indexer indexer = start(broker, es, s);

            publish(broker, "ping/127.0.0.1", v2("bee1", "127.0.0.1", Instant.parse("2026-11-21T18:00:10Z"), 0.5));
            publish(broker, "rip/agent/bee1", "");

            awaitCount(es, s.deadLetters(), 1);
            awaitCount(es, s.agents(), 1);
            assertEquals(0, count(es, s.pings()));
            JsonNode dead = sources(es, s.deadLetters(), "event.reason", "rejected").get(0);
            assertTrue(dead.path("error").path("type").asText().contains("parsing_exception"), dead.toString());
            assertTrue(dead.path("error").path("message").asText().startsWith("Elasticsearch answered 400 "),
                    dead.toString());
            assertTrue(dead.path("error").path("message").asText().contains(s.pings()), dead.toString());
            JsonNode refused = JSON.readTree(dead.path("swarm").path("payload").asText());
            assertEquals("bee1", refused.path("observer").path("name").asText());
            assertEquals(1, indexer.stats().documentErrors());
            assertEquals(1, indexer.stats().badMessages());
        } finally {
            es.delete("/_index_template/" + s.pings() + "-conflict");
        }
    }

    @Test
    void whenElasticsearchDown_thenMessagesKeptAndAllWrittenOnceItIsBack(MosquittoBroker broker,
            ElasticsearchNode es) {
        assertEquals(IndexerConfig.BulkWriter.INGESTER, IndexerConfig.DEFAULT_BULK_WRITER);
        elasticsearchDownThenBack(broker, es, IndexerConfig.BulkWriter.INGESTER);
    }

    @Test
    void whenElasticsearchDownWithOwnWriter_thenMessagesKeptAndAllWrittenOnceItIsBack(MosquittoBroker broker,
            ElasticsearchNode es) {
        elasticsearchDownThenBack(broker, es, IndexerConfig.BulkWriter.OWN);
    }

    private void elasticsearchDownThenBack(MosquittoBroker broker, ElasticsearchNode es,
            IndexerConfig.BulkWriter writer) {
        Streams before = uniqueStreams();
        Indexer running = start(broker, es, before, b -> b.bulkWriter(writer));
        Instant t0 = Instant.parse("2026-11-21T19:00:00Z");
        for (int i = 0; i < 5; i++) {
            publish(broker, "ping/127.0.0.1", v2("bee1", "127.0.0.1", t0.plusSeconds(i), 0.1));
        }
        awaitCount(es, before.pings(), 5);

        Streams late = uniqueStreams();
        es.stop();
        try {
            // This one starts while Elasticsearch is down: its templates go in once it is back.
            Indexer startedDuringOutage = start(broker, es, late, b -> b.bulkWriter(writer));
            for (int i = 5; i < 25; i++) {
                publish(broker, "ping/127.0.0.1", v2("bee1", "127.0.0.1", t0.plusSeconds(i), 0.1));
            }
            publish(broker, "ping/127.0.0.1", ORIGINAL_OK);
            await().atMost(WAIT).until(() -> running.stats().messages() == 26
                    && running.stats().requestErrors() > 0 && startedDuringOutage.stats().messages() == 21);
            assertEquals(21, running.stats().queueDepth());
        } finally {
            es.start();
        }

        awaitCount(es, before.pings(), 26);
        awaitCount(es, late.pings(), 21);
        assertEquals(0, running.stats().documentsDropped());
        await().atMost(WAIT).until(() -> running.stats().queueDepth() == 0);
        assertEquals(26, running.stats().documentsWritten() + running.stats().duplicates());
    }

    @Test
    void whenClosed_thenFinalFlushWritesWhatIsQueuedAndCloseIsIdempotent(MosquittoBroker broker,
            ElasticsearchNode es) {
        Streams s = uniqueStreams();
        Indexer indexer = start(broker, es, s);
        publish(broker, "ping/127.0.0.1", ORIGINAL_OK);
        await().atMost(WAIT).until(() -> indexer.stats().messages() == 1);

        long t0 = System.nanoTime();
        indexer.close();
        long closeMillis = (System.nanoTime() - t0) / 1_000_000;
        indexer.close();

        assertEquals(1, count(es, s.pings()));
        // Nothing left for the next start, and no waiting out the 5 s shutdown timeout for an answer already in.
        assertEquals(0, indexer.stats().queueDepth());
        assertTrue(closeMillis < 4_000, "close took " + closeMillis + " ms");
        assertFalse(indexer.allBrokersConnected());
    }

    @Test
    void whenMetricsEnabled_thenPrometheusEndpointServesTheIndexerSeries(MosquittoBroker broker,
            ElasticsearchNode es) throws Exception {
        Streams s = uniqueStreams();
        Indexer indexer = start(broker, es, s, b -> b.metricsHost("127.0.0.1").metricsPort(0));
        publish(broker, "ping/127.0.0.1", ORIGINAL_OK);
        publish(broker, "ping/127.0.0.1", "garbage");
        awaitCount(es, s.pings(), 1);
        awaitCount(es, s.deadLetters(), 1);
        await().atMost(WAIT).until(() -> indexer.stats().documentsWritten() == 2);

        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + indexer.metricsPort() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());

        String text = response.body();
        assertEquals(200, response.statusCode());
        for (String line : List.of(
                "swarm_indexer_messages_total{broker=\"" + broker.hostPort() + "\"} 2.0",
                "swarm_indexer_documents_written_total 2.0",
                "swarm_indexer_duplicates_total 0.0",
                "swarm_indexer_bad_messages_total{reason=\"not_json\"} 1.0",
                "swarm_indexer_es_errors_total{kind=\"request\"} 0.0",
                "swarm_indexer_queue_depth 0.0",
                "swarm_indexer_spool_full 0.0",
                "swarm_indexer_unacknowledged_messages 0.0",
                "swarm_indexer_broker_connected{broker=\"" + broker.hostPort() + "\"} 1.0",
                "swarm_indexer_bulk_seconds_count")) {
            assertTrue(text.contains(line), "no '" + line + "' in:\n" + text);
        }
    }

    /** Not a benchmark: checks that a burst through the size-triggered flush arrives whole, and logs the rate. */
    @Test
    void whenBurstPublished_thenEveryDocumentArrives(MosquittoBroker broker, ElasticsearchNode es) throws Exception {
        Streams s = uniqueStreams();
        Indexer indexer = start(broker, es, s, b -> b.bulkSize(1000).flushInterval(Duration.ofSeconds(1)));
        int n = 20_000;
        StringBuilder lines = new StringBuilder(n * 300);
        Instant t0 = Instant.parse("2026-11-21T20:00:00Z");
        for (int i = 0; i < n; i++) {
            lines.append(v2("bee" + (i % 50), "127.0.0." + (1 + i / 50 % 250), t0.plusSeconds(i / 12_500)
                    .plusMillis(i % 1000), 0.1, 0.2, null, 0.3)).append('\n');
        }

        long start = System.nanoTime();
        Process pub = new ProcessBuilder("mosquitto_pub", "-h", broker.host(), "-p", Integer.toString(broker.port()),
                "-t", "ping/127.0.0.1", "-q", "1", "-l").redirectErrorStream(true).start();
        try (OutputStream in = pub.getOutputStream()) {
            in.write(lines.toString().getBytes(StandardCharsets.UTF_8));
        }
        assertTrue(pub.waitFor(120, TimeUnit.SECONDS), "mosquitto_pub finished");
        assertEquals(0, pub.exitValue(), new String(pub.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        double published = (System.nanoTime() - start) / 1e9;
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(50))
                .until(() -> indexer.stats().messages() >= n);
        double received = (System.nanoTime() - start) / 1e9;
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(50))
                .until(() -> indexer.stats().documentsWritten() + indexer.stats().duplicates() >= n);
        double seconds = (System.nanoTime() - start) / 1e9;
        LOG.info("burst of {} results: published in {} s, received in {} s, indexed in {} s: {} docs/s end to end"
                + " (mosquitto_pub, broker, indexer and Elasticsearch on one machine)", n, fmt(published),
                fmt(received), fmt(seconds), String.format(Locale.ROOT, "%.0f", n / seconds));

        awaitCount(es, s.pings(), n);
        assertEquals(0, indexer.stats().documentsDropped());
        assertEquals(0, indexer.stats().documentErrors());
    }

    @Test
    void whenRestartedWithSameClientId_thenResultsPublishedMeanwhileArrive(MosquittoBroker broker,
            ElasticsearchNode es) {
        Streams s = uniqueStreams();
        Indexer first = start(broker, es, s);
        publish(broker, "ping/127.0.0.1", ORIGINAL_OK);
        awaitCount(es, s.pings(), 1);
        first.close();

        Instant t0 = Instant.parse("2026-11-21T21:00:00Z");
        for (int i = 0; i < 3; i++) {
            publish(broker, "ping/127.0.0.1", v2("bee1", "127.0.0.1", t0.plusSeconds(i), 0.1));
        }
        Indexer second = start(broker, es, s);

        awaitCount(es, s.pings(), 4);
        assertEquals(3, second.stats().documentsWritten());
    }

    private static String fmt(double seconds) {
        return String.format(Locale.ROOT, "%.2f", seconds);
    }
}
