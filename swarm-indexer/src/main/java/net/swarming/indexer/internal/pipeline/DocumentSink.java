package net.swarming.indexer.internal.pipeline;

import java.util.List;
import java.util.function.Consumer;
import net.swarming.indexer.internal.document.IndexDocument;

/**
 * Where the flush executor writes batches. Called from that one thread only.
 */
public interface DocumentSink extends AutoCloseable {

    /**
     * Makes the destination ready for writes (index templates installed); called before every write until it
     * succeeds once.
     *
     * @throws SinkUnavailableException when the destination cannot be reached; the caller retries with backoff
     */
    void prepare() throws SinkUnavailableException;

    /**
     * Writes one batch and reports what happened to every document.
     *
     * @throws SinkUnavailableException when the request as a whole failed and may be retried unchanged
     */
    BulkOutcome write(List<IndexDocument> batch) throws SinkUnavailableException;

    /**
     * Where documents refused for good go (instead of being only logged): called on whichever thread read the answer,
     * so the handler must not block. The default sink keeps no handler.
     */
    default void onRejected(Consumer<List<RejectedDocument>> handler) {
        // sinks that never refuse items need no handler
    }

    /** Releases connections; idempotent. */
    @Override
    void close();
}
