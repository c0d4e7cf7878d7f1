package net.swarming.indexer.internal.sink.elasticsearch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import co.elastic.clients.elasticsearch.core.BulkResponse;
import co.elastic.clients.elasticsearch.core.bulk.BulkResponseItem;
import co.elastic.clients.elasticsearch.core.bulk.OperationType;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import net.swarming.indexer.internal.document.IndexDocument;
import net.swarming.indexer.internal.pipeline.BulkOutcome;
import net.swarming.indexer.internal.pipeline.RejectedDocument;
import net.swarming.indexer.internal.pipeline.SinkUnavailableException;
import org.junit.jupiter.api.Test;

class ElasticsearchSinkTest {

    private static IndexDocument doc(int n) {
        return new IndexDocument("swarm-pings-t", "id-" + n, ("{\"n\":" + n + "}").getBytes(StandardCharsets.UTF_8));
    }

    private static BulkResponseItem item(int status, String errorType) {
        return BulkResponseItem.of(b -> {
            b.operationType(OperationType.Create).index(".ds-swarm-pings-t-000001").status(status);
            if (errorType != null) {
                b.error(e -> e.type(errorType).reason("because"));
            }
            return b;
        });
    }

    @Test
    void whenItemsMixed_thenEachCountedByItsStatus() {
        List<IndexDocument> batch = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            batch.add(doc(i));
        }
        BulkResponse response = BulkResponse.of(b -> b.errors(true).took(3).items(List.of(
                item(201, null),
                item(409, "version_conflict_engine_exception"),
                item(400, "document_parsing_exception"),
                item(429, "es_rejected_execution_exception"),
                item(201, null),
                item(503, "unavailable_shards_exception"))));

        List<RejectedDocument> rejected = new ArrayList<>();
        BulkOutcome outcome = ElasticsearchSink.outcome(batch, response, rejected);

        assertEquals(2, outcome.written());
        assertEquals(1, outcome.duplicates());
        assertEquals(1, outcome.failed());
        assertEquals(List.of(batch.get(3), batch.get(5)), outcome.retry());
        assertEquals(List.of(new RejectedDocument(batch.get(2), 400, "document_parsing_exception", "because")),
                rejected);
    }

    @Test
    void whenAnItemIsRefusedForPrivileges_thenItIsKeptForRetryNotDeadLettered() {
        BulkResponse response = BulkResponse.of(b -> b.errors(true).took(1).items(List.of(
                item(201, null), item(403, "security_exception"))));
        List<RejectedDocument> rejected = new ArrayList<>();

        BulkOutcome outcome = ElasticsearchSink.outcome(List.of(doc(1), doc(2)), response, rejected);

        assertEquals(1, outcome.written());
        assertEquals(0, outcome.failed());
        assertEquals(List.of(doc(2)), outcome.retry());
        assertEquals(List.of(), rejected);
    }

    @Test
    void whenFewerItemsThanDocuments_thenMissingOnesCountAsFailed() {
        BulkResponse response = BulkResponse.of(b -> b.errors(false).took(1).items(List.of(item(201, null))));

        BulkOutcome outcome = ElasticsearchSink.outcome(List.of(doc(1), doc(2)), response, new ArrayList<>());

        assertEquals(1, outcome.written());
        assertEquals(1, outcome.failed());
    }

    @Test
    void whenNothingListens_thenWriteAndPrepareSayUnavailable() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        ElasticsearchSink sink = new ElasticsearchSink(List.of(URI.create("http://127.0.0.1:" + port)), net.swarming.indexer.ElasticsearchAuth.NONE);
        try {
            SinkUnavailableException e = assertThrows(SinkUnavailableException.class, () -> sink.write(List.of(doc(1))));
            assertTrue(e.getMessage().contains("_bulk"), e.getMessage());
            assertThrows(SinkUnavailableException.class, sink::prepare);
        } finally {
            sink.close();
            sink.close();
        }
    }

    @Test
    void whenTemplatesLoaded_thenAllPresentWithVersions() {
        assertEquals(List.of("swarm-pings", "swarm-agents", "swarm-deadletter"),
                IndexTemplates.ALL.stream().map(IndexTemplates.Template::name).toList());
        IndexTemplates.ALL.forEach(t -> assertTrue(t.version() >= 1, t.name()));
        IndexTemplates.ALL.forEach(t -> assertTrue(t.body().contains("\"" + t.name() + "-*\""), t.name()));
    }
}
