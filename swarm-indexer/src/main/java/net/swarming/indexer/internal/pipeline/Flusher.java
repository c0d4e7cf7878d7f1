package net.swarming.indexer.internal.pipeline;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;
import net.swarming.indexer.internal.IndexerMetrics;
import net.swarming.indexer.internal.document.IndexDocument;
import net.swarming.indexer.internal.spool.Spool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves documents from the {@link Spool} to the {@link DocumentSink} in batches of at most {@code bulkSize}, and
 * commits them in the spool once the sink answered for every one of them. Every method except {@link #documentAdded}
 * runs on the single flush executor, so its state needs no locks.
 *
 * <p>A batch whose request failed as a whole is read again from the spool and retried after a capped exponential
 * backoff; documents pushed back one by one (429, 5xx) are retried alone. Deterministic ids make a retry harmless if
 * the failed request was in fact indexed (the document comes back as a duplicate).
 */
public final class Flusher implements SpoolDrain {

    private static final Logger LOG = LoggerFactory.getLogger(Flusher.class);

    private final Spool spool;
    private final DocumentSink sink;
    private final IndexerMetrics metrics;
    private final int bulkSize;
    private final int concurrency;
    private final ExecutorService bulkExecutor;
    private final Outage outage;
    private final LongSupplier nanoTime;
    private final AtomicBoolean sizeFlushPending = new AtomicBoolean();

    private boolean prepared;
    /** Documents of the current batch Elasticsearch pushed back, to send again before reading further. */
    private List<IndexDocument> retry;
    private Spool.Position batchEnd;
    private int batchCount;

    /** One request at a time, on the calling thread. */
    public Flusher(Spool spool, DocumentSink sink, IndexerMetrics metrics, int bulkSize,
                   Duration maxBackoff, LongSupplier nanoTime) {
        this(spool, sink, metrics, bulkSize, 1, null, maxBackoff, nanoTime);
    }

    /**
     * @param concurrency bulk requests of {@code bulkSize} documents kept in flight at once on {@code bulkExecutor}
     * @param bulkExecutor runs the parallel requests; null only with {@code concurrency} 1
     */
    public Flusher(Spool spool, DocumentSink sink, IndexerMetrics metrics, int bulkSize, int concurrency,
                   ExecutorService bulkExecutor, Duration maxBackoff, LongSupplier nanoTime) {
        if (concurrency < 1 || (concurrency > 1 && bulkExecutor == null)) {
            throw new IllegalArgumentException("concurrency " + concurrency + " needs an executor when above 1");
        }
        this.concurrency = concurrency;
        this.bulkExecutor = bulkExecutor;
        this.spool = Objects.requireNonNull(spool, "spool");
        this.sink = Objects.requireNonNull(sink, "sink");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.bulkSize = bulkSize;
        this.outage = new Outage(LOG, maxBackoff, nanoTime);
        this.nanoTime = nanoTime;
    }

    /**
     * Called after documents were spooled (any thread): true when the caller should schedule
     * {@link #flushFullBatches()}, i.e. a full batch is waiting and no such flush is already scheduled.
     */
    @Override
    public boolean documentAdded() {
        return spool.depth() >= bulkSize && sizeFlushPending.compareAndSet(false, true);
    }

    /** Periodic task: sends everything queued. Never throws, so the schedule survives anything. */
    @Override
    public void tick() {
        try {
            drain(false);
        } catch (Throwable t) {
            LOG.error("flush failed unexpectedly; the next flush will try again", t);
        }
    }

    /** Size-triggered task: sends full batches only, leaving a partial one for the next tick. Never throws. */
    @Override
    public void flushFullBatches() {
        sizeFlushPending.set(false);
        try {
            drain(true);
        } catch (Throwable t) {
            LOG.error("flush failed unexpectedly; the next flush will try again", t);
        }
    }

    /**
     * Shutdown: sends everything, ignoring the backoff and retrying until {@code timeout} runs out.
     *
     * @return documents left in the spool (for the next start) when it gave up; 0 when everything went out
     */
    @Override
    public int finalFlush(Duration timeout) {
        long deadline = nanoTime.getAsLong() + timeout.toNanos();
        while (true) {
            outage.retryNow();
            try {
                drain(false);
            } catch (Throwable t) {
                LOG.error("final flush failed unexpectedly", t);
            }
            int left = (int) Math.min(Integer.MAX_VALUE, spool.depth());
            long now = nanoTime.getAsLong();
            if (left == 0 || now >= deadline) {
                return left;
            }
            long pause = Math.min(Math.max(outage.backoffNanos(), Outage.INITIAL_BACKOFF.toNanos()), deadline - now);
            try {
                TimeUnit.NANOSECONDS.sleep(pause);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return (int) Math.min(Integer.MAX_VALUE, spool.depth());
            }
        }
    }

    private void drain(boolean fullBatchesOnly) {
        if (outage.waiting()) {
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
        if (concurrency > 1) {
            drainPipelined(fullBatchesOnly);
            return;
        }
        while (!Thread.currentThread().isInterrupted()) {
            List<IndexDocument> batch;
            if (retry != null) {
                batch = retry;
            } else {
                if (fullBatchesOnly && spool.depth() < bulkSize) {
                    return;
                }
                Spool.Batch read;
                try {
                    read = spool.read(bulkSize);
                } catch (IOException | RuntimeException e) {
                    spool.rewind();
                    LOG.error("cannot read the spool {}: {}", spool.directory(), e.toString());
                    outage.backOff();
                    return;
                }
                if (read.documents().isEmpty()) {
                    return;
                }
                batch = read.documents();
                batchEnd = read.end();
                batchCount = batch.size();
            }
            BulkOutcome outcome;
            long start = nanoTime.getAsLong();
            try {
                outcome = sink.write(batch);
            } catch (SinkUnavailableException | RuntimeException e) {
                // Whatever went wrong, the batch is still in the spool: read it again after the backoff.
                metrics.bulkSeconds((nanoTime.getAsLong() - start) / 1e9);
                metrics.requestError();
                retry = null;
                spool.rewind();
                outage.failed(e, "bulk request of " + batch.size() + " documents failed", spool.depth());
                return;
            }
            long tookNanos = nanoTime.getAsLong() - start;
            metrics.bulkSeconds(tookNanos / 1e9);
            if (LOG.isDebugEnabled()) {
                LOG.debug("bulk of {} documents in {} ms: {} written, {} duplicates, {} refused, {} to retry; {} spooled",
                        batch.size(), TimeUnit.NANOSECONDS.toMillis(tookNanos), outcome.written(),
                        outcome.duplicates(), outcome.failed(), outcome.retry().size(), spool.depth());
            }
            metrics.written(outcome.written());
            metrics.duplicates(outcome.duplicates());
            metrics.itemErrors(outcome.failed());
            if (!outcome.retry().isEmpty()) {
                // Elasticsearch pushed back on some documents (429/5xx): keep them and slow down.
                retry = outcome.retry();
                outage.backOff();
                return;
            }
            retry = null;
            try {
                spool.commit(batchEnd, batchCount);
            } catch (IOException e) {
                LOG.error("cannot record progress in the spool {}: {}; documents may be sent again after a restart",
                        spool.directory(), e.toString());
            }
            outage.recovered();
        }
    }

    /** A bulk request on its way: its documents, where they end in the spool, and its answer to come. */
    private record InFlight(int count, Spool.Position end, Future<BulkOutcome> result, long startNanos) {}

    /**
     * Keeps up to {@code concurrency} requests of {@code bulkSize} documents in flight, reading the next batch as soon as
     * one answers, and commits them in spool order. After any failure (a request failed as a whole, or items pushed
     * back with 429/5xx) nothing more is sent or committed: once every request has answered, the spool is rewound to
     * the last commit and read again after the backoff; documents already written then come back as duplicates.
     */
    private void drainPipelined(boolean fullBatchesOnly) {
        ArrayDeque<InFlight> inFlight = new ArrayDeque<>();
        long inFlightDocs = 0;
        boolean stop = false;
        Exception failure = null;
        boolean pushedBack = false;
        while (true) {
            while (!stop && inFlight.size() < concurrency && !Thread.currentThread().isInterrupted()) {
                if (fullBatchesOnly && spool.depth() - inFlightDocs < bulkSize) {
                    break;
                }
                Spool.Batch read;
                try {
                    read = spool.read(bulkSize);
                } catch (IOException | RuntimeException e) {
                    LOG.error("cannot read the spool {}: {}", spool.directory(), e.toString());
                    stop = true;
                    pushedBack = true;
                    break;
                }
                if (read.documents().isEmpty()) {
                    break;
                }
                List<IndexDocument> docs = read.documents();
                inFlight.add(new InFlight(docs.size(), read.end(), bulkExecutor.submit(() -> sink.write(docs)),
                        nanoTime.getAsLong()));
                inFlightDocs += docs.size();
            }
            InFlight head = inFlight.poll();
            if (head == null) {
                break;
            }
            inFlightDocs -= head.count();
            BulkOutcome outcome;
            try {
                outcome = head.result().get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                inFlight.forEach(f -> f.result().cancel(true));
                inFlight.clear();
                spool.rewind();
                return;
            } catch (ExecutionException e) {
                metrics.bulkSeconds((nanoTime.getAsLong() - head.startNanos()) / 1e9);
                metrics.requestError();
                Throwable cause = e.getCause();
                if (failure == null) {
                    failure = cause instanceof Exception ex ? ex : new IllegalStateException(cause);
                }
                stop = true;
                continue;
            }
            long tookNanos = nanoTime.getAsLong() - head.startNanos();
            metrics.bulkSeconds(tookNanos / 1e9);
            metrics.written(outcome.written());
            metrics.duplicates(outcome.duplicates());
            metrics.itemErrors(outcome.failed());
            if (LOG.isDebugEnabled()) {
                LOG.debug("bulk of {} documents in {} ms: {} written, {} duplicates, {} refused, {} to retry; {} spooled",
                        head.count(), TimeUnit.NANOSECONDS.toMillis(tookNanos), outcome.written(),
                        outcome.duplicates(), outcome.failed(), outcome.retry().size(), spool.depth());
            }
            if (!outcome.retry().isEmpty()) {
                stop = true;
                pushedBack = true;
            }
            if (stop) {
                continue;
            }
            try {
                spool.commit(head.end(), head.count());
            } catch (IOException e) {
                LOG.error("cannot record progress in the spool {}: {}; documents may be sent again after a restart",
                        spool.directory(), e.toString());
            }
            outage.recovered();
        }
        if (failure != null || pushedBack) {
            spool.rewind();
            if (failure != null) {
                outage.failed(failure, "bulk request failed", spool.depth());
            } else {
                outage.backOff();
            }
        }
    }

}
