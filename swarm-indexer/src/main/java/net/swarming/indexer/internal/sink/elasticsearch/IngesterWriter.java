package net.swarming.indexer.internal.sink.elasticsearch;

import co.elastic.clients.elasticsearch.ElasticsearchAsyncClient;
import co.elastic.clients.elasticsearch._helpers.bulk.BulkIngester;
import co.elastic.clients.elasticsearch._helpers.bulk.BulkListener;
import co.elastic.clients.elasticsearch._types.ElasticsearchException;
import co.elastic.clients.elasticsearch.core.BulkRequest;
import co.elastic.clients.elasticsearch.core.BulkResponse;
import co.elastic.clients.elasticsearch.core.bulk.BulkOperation;
import co.elastic.clients.elasticsearch.core.bulk.CreateOperation;
import co.elastic.clients.transport.BackoffPolicy;
import co.elastic.clients.util.BinaryData;
import co.elastic.clients.util.ContentType;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import net.swarming.indexer.internal.IndexerMetrics;
import net.swarming.indexer.internal.document.IndexDocument;
import net.swarming.indexer.internal.pipeline.BulkOutcome;
import net.swarming.indexer.internal.pipeline.Outage;
import net.swarming.indexer.internal.pipeline.SinkUnavailableException;
import net.swarming.indexer.internal.pipeline.SpoolDrain;
import net.swarming.indexer.internal.spool.Spool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drains the spool through the client's {@link BulkIngester} (count, size and interval limits, bounded concurrency),
 * and keeps the spool's guarantees the ingester does not give by itself:
 * <ul>
 *   <li>every bulk response is checked item by item in the {@link BulkListener};</li>
 *   <li>the spool is committed in order: each read from the spool is a "slice" whose documents count down as their
 *       items are answered, and the checkpoint only moves over the contiguous prefix of finished slices;</li>
 *   <li>a request that failed as a whole (refused, reset, timeout, 5xx; or 401/403: credentials an operator must
 *       fix), and items pushed back with 429/5xx, are not lost: nothing more is read or committed, and once every
 *       request in flight has answered, the spool is rewound to the last commit and read again after a capped
 *       exponential backoff (the ingester itself would drop them); documents already written come back as 409
 *       duplicates;</li>
 *   <li>responses complete on our own completion thread ({@link CompletingTransport}), which avoids the ingester's
 *       deadlock while Elasticsearch refuses connections (elastic/elasticsearch-java#925).</li>
 * </ul>
 * Everything except the listener runs on the indexer's single flush executor; the listener only counts, records a
 * failure and asks the flush executor to commit.
 */
public final class IngesterWriter implements SpoolDrain {

    private static final Logger LOG = LoggerFactory.getLogger(IngesterWriter.class);

    public static final String COMPLETION_THREAD = "swarm-indexer-es-completion";
    /**
     * Batches read per turn of the flush thread. While intake keeps the spool ahead, a drain that read until the spool
     * ran dry would hold back every answer (the ingester queues its listener calls on this thread) for as long as
     * intake lasts: nothing committed, every sent document kept in memory, {@code written} stuck.
     */
    static final int MAX_BATCHES_PER_DRAIN = 4;
    /** Largest request body; far below Elasticsearch's default {@code http.max_content_length} of 100 MB. */
    static final long MAX_REQUEST_BYTES = 20L << 20;

    /** Consecutive documents of one spool read, committed together once all were answered. */
    private static final class Slice {
        final Spool.Position end;
        final int count;
        final AtomicInteger remaining;

        Slice(Spool.Position end, int count) {
            this.end = end;
            this.count = count;
            this.remaining = new AtomicInteger(count);
        }
    }

    /** The ingester's per-operation context. */
    private record Op(Slice slice, IndexDocument doc) {}

    /** Marks items pushed back with 429/5xx: retried like a failed request. */
    private static final class PushedBack extends Exception {
        private static final long serialVersionUID = 1L;

        PushedBack(int n) {
            super(n + " documents pushed back by Elasticsearch (429/5xx)");
        }
    }

    private final Spool spool;
    private final ElasticsearchSink sink;
    private final IndexerMetrics metrics;
    private final int bulkSize;
    private final Outage outage;
    private final LongSupplier nanoTime;
    private final Runnable wakeUp;
    private final ExecutorService completion;
    private final ScheduledExecutorService flushExecutor;
    private final BulkIngester<Op> ingester;
    private final AtomicBoolean sizeFlushPending = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Operations handed to the ingester and not answered yet (buffered or in flight). */
    private final AtomicInteger outstanding = new AtomicInteger();
    /** First failure since the last rewind; while set nothing is read or committed. */
    private final AtomicReference<Exception> failure = new AtomicReference<>();
    private final Map<Long, Long> requestStarts = new ConcurrentHashMap<>();

    // Flush executor only.
    private final ArrayDeque<Slice> slices = new ArrayDeque<>();
    /** Documents read from the spool and not committed yet; written by the flush executor only. */
    private volatile long slicedDocs;
    private boolean prepared;
    /** A periodic drain yielded after {@link #MAX_BATCHES_PER_DRAIN}: the next turn also sends the partial tail. */
    private boolean resumeWithPartial;

    /**
     * @param flushExecutor the indexer's flush executor: runs the ingester's interval flush too, so it never races a drain
     * @param wakeUp schedules {@link #tick()}-like commit work on the flush executor (called from the completion thread)
     */
    public IngesterWriter(Spool spool, ElasticsearchSink sink, IndexerMetrics metrics, int bulkSize, int concurrency,
                          Duration flushInterval, ScheduledExecutorService flushExecutor, Duration maxBackoff,
                          LongSupplier nanoTime, Runnable wakeUp) {
        this.spool = Objects.requireNonNull(spool, "spool");
        this.sink = Objects.requireNonNull(sink, "sink");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.bulkSize = bulkSize;
        this.outage = new Outage(LOG, maxBackoff, nanoTime);
        this.nanoTime = nanoTime;
        this.wakeUp = Objects.requireNonNull(wakeUp, "wakeUp");
        this.flushExecutor = flushExecutor;
        this.completion = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, COMPLETION_THREAD);
            t.setDaemon(true);
            return t;
        });
        ElasticsearchAsyncClient client = new ElasticsearchAsyncClient(
                new CompletingTransport(new OneBufferTransport(sink.transport()), completion));
        this.ingester = BulkIngester.of(b -> b
                .client(client)
                .maxOperations(bulkSize)
                .maxSize(MAX_REQUEST_BYTES)
                .maxConcurrentRequests(concurrency)
                .flushInterval(flushInterval.toMillis(), TimeUnit.MILLISECONDS)
                .scheduler(flushExecutor)
                // 429s are retried by rewinding the spool (below), with the same backoff as failed requests.
                .backoffPolicy(BackoffPolicy.noBackoff())
                .listener(new Listener()));
    }

    @Override
    public boolean documentAdded() {
        return spool.depth() - slicedDocs >= bulkSize && sizeFlushPending.compareAndSet(false, true);
    }

    @Override
    public void tick() {
        try {
            drain(false);
        } catch (Throwable t) {
            LOG.error("flush failed unexpectedly; the next flush will try again", t);
        }
    }

    @Override
    public void flushFullBatches() {
        sizeFlushPending.set(false);
        try {
            drain(true);
        } catch (Throwable t) {
            LOG.error("flush failed unexpectedly; the next flush will try again", t);
        }
    }

    /** Commits what was answered (asked for by the completion thread). Never throws. */
    public void answered() {
        try {
            if (settle()) {
                boolean partial = resumeWithPartial;
                resumeWithPartial = false;
                drain(!partial);
            }
        } catch (Throwable t) {
            LOG.error("commit failed unexpectedly; the next flush will try again", t);
        }
    }

    @Override
    public int finalFlush(Duration timeout) {
        long deadline = nanoTime.getAsLong() + timeout.toNanos();
        while (true) {
            outage.retryNow();
            try {
                drain(false, false);
            } catch (Throwable t) {
                LOG.error("final flush failed unexpectedly", t);
            }
            int left = (int) Math.min(Integer.MAX_VALUE, spool.depth());
            long now = nanoTime.getAsLong();
            if (left == 0 || now >= deadline) {
                return left;
            }
            try {
                runQueuedTasks(Math.min(TimeUnit.MILLISECONDS.toNanos(20), deadline - now));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return (int) Math.min(Integer.MAX_VALUE, spool.depth());
            }
        }
    }

    /**
     * Waits up to {@code nanos} for a task due on the flush executor and runs it here. The final flush holds the flush
     * thread, and the ingester hands its answers to that thread ({@code scheduler}): without this no request answered
     * during the final flush would count down, and the flush would wait its whole timeout and leave the last
     * documents in the spool although Elasticsearch took them.
     */
    private void runQueuedTasks(long nanos) throws InterruptedException {
        if (flushExecutor instanceof ScheduledThreadPoolExecutor pool) {
            Runnable task = pool.getQueue().poll(nanos, TimeUnit.NANOSECONDS);
            if (task != null) {
                task.run();
            }
        } else {
            TimeUnit.NANOSECONDS.sleep(nanos);
        }
    }

    /**
     * Commits the finished prefix; after a failure, once nothing is outstanding, rewinds the spool and backs off.
     *
     * @return true when reading may go on
     */
    private boolean settle() {
        Exception failed = failure.get();
        if (failed == null) {
            commitFinished();
            return true;
        }
        if (outstanding.get() > 0) {
            // Let buffered operations go out so that every request answers; then read again from the last commit.
            ingester.flush();
            return false;
        }
        spool.rewind();
        slices.clear();
        slicedDocs = 0;
        failure.set(null);
        if (failed instanceof PushedBack) {
            LOG.warn("{}; they will be sent again", failed.getMessage());
            outage.backOff();
        } else {
            outage.failed(failed, "bulk request failed", spool.depth());
        }
        return false;
    }

    /** Moves the checkpoint over the contiguous prefix of slices whose every document was answered. */
    private void commitFinished() {
        if (failure.get() != null) {
            return;
        }
        Slice done = null;
        int count = 0;
        while (!slices.isEmpty() && slices.peek().remaining.get() == 0) {
            done = slices.poll();
            count += done.count;
        }
        if (done == null) {
            return;
        }
        slicedDocs -= count;
        try {
            spool.commit(done.end, count);
        } catch (IOException e) {
            LOG.error("cannot record progress in the spool {}: {}; documents may be sent again after a restart",
                    spool.directory(), e.toString());
        }
        outage.recovered();
    }

    private void drain(boolean fullBatchesOnly) {
        drain(fullBatchesOnly, true);
    }

    /** @param mayYield whether to hand the thread over after {@link #MAX_BATCHES_PER_DRAIN} (not in the final flush) */
    private void drain(boolean fullBatchesOnly, boolean mayYield) {
        if (!settle() || outage.waiting()) {
            return;
        }
        if (!prepared) {
            if (spool.depth() == 0 && fullBatchesOnly) {
                return;
            }
            try {
                sink.prepare();
                prepared = true;
            } catch (SinkUnavailableException | RuntimeException e) {
                metrics.templateError();
                outage.failed(e, "cannot install index templates", spool.depth());
                return;
            }
        }
        boolean added = false;
        int batches = 0;
        while (failure.get() == null && !Thread.currentThread().isInterrupted()) {
            if (fullBatchesOnly && spool.depth() - slicedDocs < bulkSize) {
                break;
            }
            if (mayYield && batches == MAX_BATCHES_PER_DRAIN) {
                // The ingester runs its listener on this same thread: yield to the answers queued meanwhile (they
                // count, commit and free the documents they hold), and go on reading after them.
                resumeWithPartial = !fullBatchesOnly;
                wakeUp.run();
                return;
            }
            batches++;
            Spool.Batch read;
            try {
                read = spool.read(bulkSize);
            } catch (IOException | RuntimeException e) {
                LOG.error("cannot read the spool {}: {}", spool.directory(), e.toString());
                failure.compareAndSet(null, new SinkUnavailableException("spool read failed", e));
                break;
            }
            List<IndexDocument> docs = read.documents();
            if (docs.isEmpty()) {
                break;
            }
            Slice slice = new Slice(read.end(), docs.size());
            slices.add(slice);
            slicedDocs += docs.size();
            outstanding.addAndGet(docs.size());
            for (IndexDocument doc : docs) {
                // Blocks while maxConcurrentRequests are in flight and a full request is waiting.
                ingester.add(operation(doc), new Op(slice, doc));
            }
            added = true;
            commitFinished();
        }
        if (added && !fullBatchesOnly) {
            // Periodic flush: a partial request goes out now rather than after another interval.
            ingester.flush();
        }
    }

    static BulkOperation operation(IndexDocument doc) {
        CreateOperation.Builder<BinaryData> create = new CreateOperation.Builder<BinaryData>()
                .index(doc.index())
                .document(BinaryData.of(doc.source(), ContentType.APPLICATION_JSON));
        if (doc.id() != null) {
            create.id(doc.id());
        }
        return new BulkOperation(create.build());
    }

    /** Runs on the completion thread (or the caller of {@code add}/{@code flush} for beforeBulk): never blocks. */
    private final class Listener implements BulkListener<Op> {

        @Override
        public void beforeBulk(long executionId, BulkRequest request, List<Op> contexts) {
            requestStarts.put(executionId, nanoTime.getAsLong());
        }

        @Override
        public void afterBulk(long executionId, BulkRequest request, List<Op> contexts, BulkResponse response) {
            try {
                took(executionId);
                List<IndexDocument> docs = new ArrayList<>(contexts.size());
                for (Op op : contexts) {
                    docs.add(op.doc());
                }
                BulkOutcome outcome = sink.outcome(docs, response);
                metrics.written(outcome.written());
                metrics.duplicates(outcome.duplicates());
                metrics.itemErrors(outcome.failed());
                if (!outcome.retry().isEmpty()) {
                    // Recorded before the countdown, so the flush thread never commits over a pushed-back item.
                    failure.compareAndSet(null, new PushedBack(outcome.retry().size()));
                }
                done(contexts);
            } catch (RuntimeException e) {
                failure.compareAndSet(null, e);
                done(contexts);
            }
        }

        @Override
        public void afterBulk(long executionId, BulkRequest request, List<Op> contexts, Throwable failed) {
            took(executionId);
            Throwable cause = failed;
            while ((cause instanceof CompletionException
                    || cause instanceof ExecutionException) && cause.getCause() != null) {
                cause = cause.getCause();
            }
            if (cause instanceof ElasticsearchException e && CredentialsRefusedException.isRefusal(e)) {
                // Not the documents' fault: keep them in the spool until the credentials are fixed.
                metrics.requestError();
                failure.compareAndSet(null, new SinkUnavailableException("_bulk request of " + contexts.size()
                        + " documents failed", new CredentialsRefusedException(e)));
            } else if (cause instanceof ElasticsearchException e && e.status() != 429 && e.status() < 500) {
                // A request refused as a whole with a 4xx would be refused again: its documents become dead letters.
                List<IndexDocument> docs = new ArrayList<>(contexts.size());
                for (Op op : contexts) {
                    docs.add(op.doc());
                }
                metrics.itemErrors(sink.refusedAsAWhole(docs, e).failed());
            } else {
                metrics.requestError();
                failure.compareAndSet(null, new SinkUnavailableException("_bulk request of " + contexts.size()
                        + " documents failed", cause));
            }
            done(contexts);
        }

        private void took(long executionId) {
            Long start = requestStarts.remove(executionId);
            if (start != null) {
                metrics.bulkSeconds((nanoTime.getAsLong() - start) / 1e9);
            }
        }

        private void done(List<Op> contexts) {
            for (Op op : contexts) {
                op.slice().remaining.decrementAndGet();
            }
            outstanding.addAndGet(-contexts.size());
            wakeUp.run();
        }
    }


    /** Closes the ingester (after the final flush nothing is pending) and the completion thread; idempotent. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            try {
                ingester.close();
            } catch (RuntimeException e) {
                LOG.warn("closing the bulk ingester failed: {}", e.toString());
            }
            completion.shutdownNow();
        }
    }
}
