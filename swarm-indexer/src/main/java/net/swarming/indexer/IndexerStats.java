package net.swarming.indexer;

/**
 * Running totals of an {@link Indexer}, the same figures its Prometheus endpoint serves, for embedders and tests.
 *
 * @param messages MQTT messages received on all brokers
 * @param badMessages messages that could not be decoded or routed: each went to the dead-letter stream
 * @param documentsWritten documents Elasticsearch created
 * @param duplicates documents Elasticsearch already had (409: the same result delivered twice)
 * @param documentErrors documents Elasticsearch refused for good
 * @param requestErrors whole {@code _bulk} requests that failed (Elasticsearch unreachable or overloaded) and were retried
 * @param documentsDropped documents lost: left unwritten in a temporary spool at shutdown (never with a spool directory)
 * @param queueDepth documents waiting in the spool for Elasticsearch right now
 * @param spoolBytes bytes of spool segment files on disk
 * @param spoolFull whether the spool is at its limit right now (messages are not acknowledged meanwhile)
 * @param unacknowledged messages received and not yet acknowledged (waiting for the spool's fsync, or for room)
 */
public record IndexerStats(
        long messages,
        long badMessages,
        long documentsWritten,
        long duplicates,
        long documentErrors,
        long requestErrors,
        long documentsDropped,
        int queueDepth,
        long spoolBytes,
        boolean spoolFull,
        int unacknowledged) {}
