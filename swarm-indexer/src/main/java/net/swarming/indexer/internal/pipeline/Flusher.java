package net.swarming.indexer.internal.pipeline;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;
import net.swarming.indexer.internal.IndexerMetrics;
import net.swarming.indexer.internal.document.IndexDocument;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves documents from the {@link DocumentBuffer} to the {@link DocumentSink} in batches of at most {@code bulkSize}.
 * Every method except {@link #documentAdded} runs on the single flush executor, so its state needs no locks.
 *
 * <p>A batch whose request failed as a whole goes back to the head of the buffer and is retried after a capped
 * exponential backoff; deterministic ids make the retry harmless if the failed request was in fact indexed.
 */
public final class Flusher {

    private static final Logger LOG = LoggerFactory.getLogger(Flusher.class);

    static final Duration INITIAL_BACKOFF = Duration.ofMillis(200);
    /** While Elasticsearch stays down, one WARN line per this period rather than one per attempt. */
    static final Duration OUTAGE_LOG_PERIOD = Duration.ofSeconds(30);

    private final DocumentBuffer buffer;
    private final DocumentSink sink;
    private final IndexerMetrics metrics;
    private final int bulkSize;
    private final long maxBackoffNanos;
    private final LongSupplier nanoTime;
    private final AtomicBoolean sizeFlushPending = new AtomicBoolean();

    private boolean prepared;
    private long backoffNanos;
    private long notBeforeNanos;
    private int failedAttempts;
    private long outageStartNanos;
    private long lastOutageLogNanos;

    public Flusher(DocumentBuffer buffer, DocumentSink sink, IndexerMetrics metrics, int bulkSize,
                   Duration maxBackoff, LongSupplier nanoTime) {
        this.buffer = Objects.requireNonNull(buffer, "buffer");
        this.sink = Objects.requireNonNull(sink, "sink");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.bulkSize = bulkSize;
        this.maxBackoffNanos = maxBackoff.toNanos();
        this.nanoTime = nanoTime;
    }

    /**
     * Called by intake after adding a document (any thread): true when the caller should schedule
     * {@link #flushFullBatches()}, i.e. a full batch is waiting and no such flush is already scheduled.
     */
    public boolean documentAdded(int sizeAfter) {
        return sizeAfter >= bulkSize && sizeFlushPending.compareAndSet(false, true);
    }

    /** Periodic task: sends everything queued. Never throws, so the schedule survives anything. */
    public void tick() {
        try {
            drain(false);
        } catch (Throwable t) {
            LOG.error("flush failed unexpectedly; the next flush will try again", t);
        }
    }

    /** Size-triggered task: sends full batches only, leaving a partial one for the next tick. Never throws. */
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
     * @return documents still buffered (not written) when it gave up; 0 when everything went out
     */
    public int finalFlush(Duration timeout) {
        long deadline = nanoTime.getAsLong() + timeout.toNanos();
        while (true) {
            notBeforeNanos = 0;
            try {
                drain(false);
            } catch (Throwable t) {
                LOG.error("final flush failed unexpectedly", t);
            }
            int left = buffer.size();
            long now = nanoTime.getAsLong();
            if (left == 0 || now >= deadline) {
                return left;
            }
            long pause = Math.min(Math.max(backoffNanos, INITIAL_BACKOFF.toNanos()), deadline - now);
            try {
                TimeUnit.NANOSECONDS.sleep(pause);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return buffer.size();
            }
        }
    }

    private void drain(boolean fullBatchesOnly) {
        if (nanoTime.getAsLong() < notBeforeNanos) {
            return;
        }
        if (!prepared) {
            if (buffer.size() == 0 && fullBatchesOnly) {
                return;
            }
            try {
                sink.prepare();
                prepared = true;
            } catch (SinkUnavailableException | RuntimeException e) {
                metrics.templateError();
                failed(e, "cannot install index templates");
                return;
            }
        }
        while (!Thread.currentThread().isInterrupted()) {
            if (fullBatchesOnly && buffer.size() < bulkSize) {
                return;
            }
            List<IndexDocument> batch = buffer.poll(bulkSize);
            if (batch.isEmpty()) {
                return;
            }
            BulkOutcome outcome;
            long start = nanoTime.getAsLong();
            try {
                outcome = sink.write(batch);
            } catch (SinkUnavailableException | RuntimeException e) {
                // Whatever went wrong, the batch is still ours: put it back rather than lose it.
                metrics.bulkSeconds((nanoTime.getAsLong() - start) / 1e9);
                metrics.requestError();
                metrics.dropped(buffer.requeue(batch));
                failed(e, "bulk request of " + batch.size() + " documents failed");
                return;
            }
            long tookNanos = nanoTime.getAsLong() - start;
            metrics.bulkSeconds(tookNanos / 1e9);
            if (LOG.isDebugEnabled()) {
                LOG.debug("bulk of {} documents in {} ms: {} written, {} duplicates, {} refused, {} to retry; {} queued",
                        batch.size(), TimeUnit.NANOSECONDS.toMillis(tookNanos), outcome.written(),
                        outcome.duplicates(), outcome.failed(), outcome.retry().size(), buffer.size());
            }
            metrics.written(outcome.written());
            metrics.duplicates(outcome.duplicates());
            metrics.itemErrors(outcome.failed());
            if (!outcome.retry().isEmpty()) {
                // Elasticsearch pushed back on some documents (429/5xx): keep them and slow down.
                metrics.dropped(buffer.requeue(outcome.retry()));
                backOff();
                return;
            }
            recovered();
        }
    }

    private void failed(Exception e, String what) {
        long now = nanoTime.getAsLong();
        failedAttempts++;
        backOff();
        if (!(e instanceof SinkUnavailableException)) {
            LOG.error("unexpected failure while writing to Elasticsearch", e);
        }
        String cause = e instanceof SinkUnavailableException && e.getCause() != null ? e.getCause().toString()
                : e.toString();
        if (failedAttempts == 1) {
            outageStartNanos = now;
            lastOutageLogNanos = now;
            LOG.error("Elasticsearch unavailable: {}: {}; {} documents kept in memory, retrying in {} ms", what,
                    cause, buffer.size(), TimeUnit.NANOSECONDS.toMillis(backoffNanos));
        } else if (now - lastOutageLogNanos >= OUTAGE_LOG_PERIOD.toNanos()) {
            lastOutageLogNanos = now;
            LOG.warn("Elasticsearch still unavailable after {} attempts ({} s): {}: {}; {} documents in memory",
                    failedAttempts, TimeUnit.NANOSECONDS.toSeconds(now - outageStartNanos), what, cause,
                    buffer.size());
        } else {
            LOG.debug("Elasticsearch still unavailable (attempt {}): {}", failedAttempts, cause);
        }
    }

    private void backOff() {
        backoffNanos = backoffNanos == 0 ? INITIAL_BACKOFF.toNanos() : Math.min(backoffNanos * 2, maxBackoffNanos);
        backoffNanos = Math.min(backoffNanos, maxBackoffNanos);
        notBeforeNanos = nanoTime.getAsLong() + backoffNanos;
    }

    private void recovered() {
        if (failedAttempts > 0) {
            LOG.info("Elasticsearch reachable again after {} failed attempts ({} s)", failedAttempts,
                    TimeUnit.NANOSECONDS.toSeconds(nanoTime.getAsLong() - outageStartNanos));
        }
        failedAttempts = 0;
        backoffNanos = 0;
        notBeforeNanos = 0;
    }
}
