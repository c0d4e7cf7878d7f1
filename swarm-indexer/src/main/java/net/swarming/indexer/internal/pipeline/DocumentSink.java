package net.swarming.indexer.internal.pipeline;

import java.util.List;
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

    /** Releases connections; idempotent. */
    @Override
    void close();
}
