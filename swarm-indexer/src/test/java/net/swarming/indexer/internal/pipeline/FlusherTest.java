package net.swarming.indexer.internal.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.net.ConnectException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import net.swarming.indexer.IndexerStats;
import net.swarming.indexer.internal.IndexerMetrics;
import net.swarming.indexer.internal.document.IndexDocument;
import net.swarming.indexer.internal.spool.Spool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FlusherTest {

    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final FakeSink sink = new FakeSink();
    private Spool spool;
    private IndexerMetrics metrics;
    private Flusher flusher;

    @BeforeEach
    void openSpool(@TempDir Path dir) throws IOException {
        spool = Spool.open(dir, 1 << 20, 1 << 16);
        metrics = new IndexerMetrics(new PrometheusRegistry(), List.of(), () -> (int) spool.depth(), b -> false);
        flusher = new Flusher(spool, sink, metrics, 3, Duration.ofSeconds(2), now::get);
    }

    @AfterEach
    void closeSpool() {
        spool.close();
    }

    static IndexDocument doc(int n) {
        return new IndexDocument("swarm-pings-test", "id-" + n, ("{\"n\":" + n + "}").getBytes(StandardCharsets.UTF_8));
    }

    static List<String> ids(List<IndexDocument> docs) {
        return docs.stream().map(IndexDocument::id).toList();
    }

    /** A sink whose next answers are scripted; by default it writes everything. */
    static final class FakeSink implements DocumentSink {
        final Deque<Function<List<IndexDocument>, Object>> script = new ArrayDeque<>();
        final List<List<String>> batches = new ArrayList<>();
        int prepareFailures;
        int prepares;

        @Override
        public void prepare() throws SinkUnavailableException {
            prepares++;
            if (prepareFailures > 0) {
                prepareFailures--;
                throw new SinkUnavailableException("down", new ConnectException("Connection refused"));
            }
        }

        @Override
        public BulkOutcome write(List<IndexDocument> batch) throws SinkUnavailableException {
            batches.add(ids(batch));
            Function<List<IndexDocument>, Object> next = script.poll();
            Object answer = next == null ? BulkOutcome.allWritten(batch.size()) : next.apply(batch);
            if (answer instanceof SinkUnavailableException e) {
                throw e;
            }
            if (answer instanceof RuntimeException e) {
                throw e;
            }
            return (BulkOutcome) answer;
        }

        @Override
        public void close() {}
    }

    private void add(int from, int to) {
        List<IndexDocument> docs = new ArrayList<>();
        for (int i = from; i <= to; i++) {
            docs.add(doc(i));
        }
        try {
            assertTrue(spool.append(docs));
        } catch (IOException | InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    private IndexerStats stats() {
        return metrics.snapshot((int) spool.depth());
    }

    @Test
    void whenTick_thenEverythingSentInBatchesOfBulkSize() {
        add(1, 7);

        flusher.tick();

        assertEquals(List.of(List.of("id-1", "id-2", "id-3"), List.of("id-4", "id-5", "id-6"), List.of("id-7")),
                sink.batches);
        assertEquals(7, stats().documentsWritten());
        assertEquals(0L, spool.depth());
    }

    @Test
    void whenFullBatchesOnly_thenPartialBatchWaitsForTheTick() {
        add(1, 4);

        flusher.flushFullBatches();

        assertEquals(List.of(List.of("id-1", "id-2", "id-3")), sink.batches);
        assertEquals(1L, spool.depth());
    }

    @Test
    void whenBulkSizeReached_thenOneSizeFlushRequestedUntilItRuns() {
        add(1, 2);
        assertFalse(flusher.documentAdded());
        add(3, 3);
        assertTrue(flusher.documentAdded());
        add(4, 4);
        assertFalse(flusher.documentAdded(), "one pending size flush is enough");

        flusher.flushFullBatches();
        add(5, 6);

        assertTrue(flusher.documentAdded());
    }

    @Test
    void whenRequestFails_thenBatchKeptAndRetriedOnlyAfterBackoff() {
        add(1, 2);
        sink.script.add(b -> new SinkUnavailableException("down", new ConnectException("Connection refused")));

        flusher.tick();
        assertEquals(2L, spool.depth());
        assertEquals(1, stats().requestErrors());

        flusher.tick();
        assertEquals(1, sink.batches.size(), "no attempt before the backoff has passed");

        now.addAndGet(Outage.INITIAL_BACKOFF.toNanos());
        flusher.tick();

        assertEquals(List.of(List.of("id-1", "id-2"), List.of("id-1", "id-2")), sink.batches);
        assertEquals(2, stats().documentsWritten());
        assertEquals(0L, spool.depth());
    }

    @Test
    void whenFailuresRepeat_thenBackoffDoublesUpToTheCap() {
        add(1, 1);
        for (int i = 0; i < 10; i++) {
            sink.script.add(b -> new SinkUnavailableException("down", null));
        }
        long[] expectedWaitsMs = {200, 400, 800, 1600, 2000, 2000};
        flusher.tick();
        for (long waitMs : expectedWaitsMs) {
            int attempts = sink.batches.size();
            now.addAndGet(Duration.ofMillis(waitMs).toNanos() - 1);
            flusher.tick();
            assertEquals(attempts, sink.batches.size(), "too early by 1 ns for a wait of " + waitMs + " ms");
            now.addAndGet(1);
            flusher.tick();
            assertEquals(attempts + 1, sink.batches.size(), "due after " + waitMs + " ms");
        }
    }

    @Test
    void whenSinkThrowsUnexpectedly_thenBatchKeptAndNextTickStillRuns() {
        add(1, 2);
        sink.script.add(b -> new IllegalStateException("bug"));

        flusher.tick();
        now.addAndGet(Duration.ofSeconds(1).toNanos());
        flusher.tick();

        assertEquals(2, stats().documentsWritten());
    }

    @Test
    void whenPrepareFails_thenNothingWrittenUntilItSucceeds() {
        sink.prepareFailures = 1;
        add(1, 2);

        flusher.tick();
        assertEquals(List.of(), sink.batches);

        now.addAndGet(Outage.INITIAL_BACKOFF.toNanos());
        flusher.tick();
        flusher.tick();

        assertEquals(2, sink.prepares, "prepared once successfully, then never again");
        assertEquals(2, stats().documentsWritten());
    }

    @Test
    void whenDuplicatesAndItemErrors_thenCountedNotRetried() {
        add(1, 3);
        sink.script.add(b -> new BulkOutcome(1, 1, 1, List.of()));

        flusher.tick();

        IndexerStats s = stats();
        assertEquals(1, s.documentsWritten());
        assertEquals(1, s.duplicates());
        assertEquals(1, s.documentErrors());
        assertEquals(0L, spool.depth());
    }

    @Test
    void whenItemsPushedBack_thenSentAloneFirstAfterBackoffAndCommittedAfter() {
        add(1, 4);
        sink.script.add(b -> new BulkOutcome(1, 0, 0, b.subList(1, 3)));

        flusher.tick();
        assertEquals(4L, spool.depth(), "nothing committed while part of the batch is pending");

        now.addAndGet(Outage.INITIAL_BACKOFF.toNanos());
        flusher.tick();

        assertEquals(List.of("id-2", "id-3"), sink.batches.get(1));
        assertEquals(List.of("id-4"), sink.batches.get(2));
        assertEquals(4, stats().documentsWritten());
        assertEquals(0L, spool.depth());
    }

    @Test
    void whenFinalFlushAndSinkDown_thenGivesUpAtTheDeadlineWithTheCount() {
        add(1, 5);
        // The real clock moves here: finalFlush sleeps between attempts.
        FakeSink down = new FakeSink();
        for (int i = 0; i < 1000; i++) {
            down.script.add(b -> new SinkUnavailableException("down", null));
        }
        Flusher real = new Flusher(spool, down, metrics, 3, Duration.ofMillis(100), System::nanoTime);

        long start = System.nanoTime();
        int left = real.finalFlush(Duration.ofMillis(500));
        long tookMs = (System.nanoTime() - start) / 1_000_000;

        assertEquals(5, left);
        assertTrue(tookMs >= 450 && tookMs < 3000, "took " + tookMs + " ms");
    }

    @Test
    void whenFinalFlush_thenIgnoresBackoffAndSendsEverything() {
        add(1, 5);
        sink.script.add(b -> new SinkUnavailableException("down", null));
        flusher.tick();

        assertEquals(0, flusher.finalFlush(Duration.ofSeconds(5)));

        assertEquals(5, stats().documentsWritten());
    }

    @Test
    void whenConcurrencyTwo_thenTwoRequestsInFlightCommittedInOrderAndAFailureRereadsFromTheLastCommit()
            throws Exception {
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
        List<List<String>> sent = java.util.Collections.synchronizedList(new ArrayList<>());
        java.util.concurrent.atomic.AtomicBoolean failOnce = new java.util.concurrent.atomic.AtomicBoolean(true);
        DocumentSink racy = new DocumentSink() {
            @Override
            public void prepare() {}

            @Override
            public BulkOutcome write(List<IndexDocument> batch) throws SinkUnavailableException {
                sent.add(ids(batch));
                if (ids(batch).contains("id-4") && failOnce.getAndSet(false)) {
                    throw new SinkUnavailableException("reset", null);
                }
                return BulkOutcome.allWritten(batch.size());
            }

            @Override
            public void close() {}
        };
        try {
            Flusher two = new Flusher(spool, racy, metrics, 3, 2, pool, Duration.ofSeconds(2), now::get);
            add(1, 8);

            two.tick();
            assertEquals(5L, spool.depth(), "the batch before the failure is committed, the rest stays");
            assertEquals(1, stats().requestErrors());

            now.addAndGet(Outage.INITIAL_BACKOFF.toNanos());
            two.tick();

            assertEquals(0L, spool.depth());
            assertEquals(List.of(List.of("id-1", "id-2", "id-3"), List.of("id-4", "id-5", "id-6"),
                    List.of("id-7", "id-8")), sent.subList(0, 3).stream().sorted((a, b) -> a.get(0)
                    .compareTo(b.get(0))).toList());
            assertEquals(List.of(List.of("id-4", "id-5", "id-6"), List.of("id-7", "id-8")),
                    sent.subList(3, sent.size()).stream().sorted((a, b) -> a.get(0).compareTo(b.get(0))).toList(),
                    "after the backoff: read again from the last commit");
        } finally {
            pool.shutdownNow();
        }
    }
}
