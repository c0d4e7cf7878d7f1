package net.swarming.indexer;

/**
 * Running totals of an {@link Indexer}, the same figures its Prometheus endpoint serves, for embedders and tests.
 *
 * @param messages MQTT messages received on all brokers
 * @param badMessages messages that could not be decoded or routed (logged and counted, never indexed)
 * @param documentsWritten documents Elasticsearch created
 * @param duplicates documents Elasticsearch already had (409: the same result delivered twice)
 * @param documentErrors documents Elasticsearch refused for good
 * @param requestErrors whole {@code _bulk} requests that failed (Elasticsearch unreachable or overloaded) and were retried
 * @param documentsDropped documents lost from the in-memory buffer (overflow during an outage, or left at shutdown)
 * @param queueDepth documents waiting in memory right now
 */
public record IndexerStats(
        long messages,
        long badMessages,
        long documentsWritten,
        long duplicates,
        long documentErrors,
        long requestErrors,
        long documentsDropped,
        int queueDepth) {}
