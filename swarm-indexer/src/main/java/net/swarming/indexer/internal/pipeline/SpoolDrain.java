package net.swarming.indexer.internal.pipeline;

import java.time.Duration;

/**
 * What drains the spool to Elasticsearch, driven by the indexer's single flush executor: {@link Flusher} (its own
 * {@code _bulk} requests) or the sink's BulkIngester-based writer. Every method except {@link #documentAdded} runs on
 * the flush executor.
 */
public interface SpoolDrain extends AutoCloseable {

    /**
     * Called after documents were spooled (any thread): true when the caller should schedule
     * {@link #flushFullBatches()}.
     */
    boolean documentAdded();

    /** Periodic task: sends everything queued. Never throws. */
    void tick();

    /** Size-triggered task: sends full batches. Never throws. */
    void flushFullBatches();

    /**
     * Shutdown: sends everything, retrying until {@code timeout} runs out.
     *
     * @return documents left in the spool when it gave up; 0 when everything went out
     */
    int finalFlush(Duration timeout);

    /** Releases what the drain owns (not the spool, not the sink); idempotent. */
    @Override
    default void close() {
    }
}
