package net.swarming.indexer.internal;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import net.swarming.indexer.IndexerStats;

/**
 * The indexer's Prometheus metrics, in its own registry (several indexers may share a JVM in tests and in the local
 * swarm), plus plain totals for {@link IndexerStats}.
 */
public final class IndexerMetrics {

    /** Values of the {@code kind} label of {@code swarm_indexer_es_errors_total}. */
    public static final String ES_ERROR_REQUEST = "request";
    public static final String ES_ERROR_ITEM = "item";
    public static final String ES_ERROR_TEMPLATE = "template";

    private final PrometheusRegistry registry;
    private final Counter messages;
    private final Counter written;
    private final Counter duplicates;
    private final Counter badMessages;
    private final Counter esErrors;
    private final Counter dropped;
    private final Histogram bulkSeconds;

    private final LongAdder messagesTotal = new LongAdder();
    private final LongAdder writtenTotal = new LongAdder();
    private final LongAdder duplicatesTotal = new LongAdder();
    private final LongAdder badTotal = new LongAdder();
    private final LongAdder itemErrorsTotal = new LongAdder();
    private final LongAdder requestErrorsTotal = new LongAdder();
    private final LongAdder droppedTotal = new LongAdder();
    private volatile LongSupplier spoolBytes;
    private volatile BooleanSupplier spoolFull;
    private volatile IntSupplier unacknowledged;

    /**
     * @param brokers broker labels, pre-registered at zero so dashboards see every broker from the start
     * @param queueDepth the buffer's current size
     * @param connected whether the link to a broker is connected
     */
    public IndexerMetrics(PrometheusRegistry registry, List<String> brokers, IntSupplier queueDepth,
                          Predicate<String> connected) {
        this.registry = registry;
        messages = Counter.builder().name("swarm_indexer_messages_total")
                .help("MQTT messages received, by broker").labelNames("broker").register(registry);
        written = Counter.builder().name("swarm_indexer_documents_written_total")
                .help("Documents created in Elasticsearch").register(registry);
        duplicates = Counter.builder().name("swarm_indexer_duplicates_total")
                .help("Documents Elasticsearch already had (409 on a deterministic _id: a redelivery)")
                .register(registry);
        badMessages = Counter.builder().name("swarm_indexer_bad_messages_total")
                .help("MQTT messages that could not be indexed and went to the dead-letter stream, by reason")
                .labelNames("reason").register(registry);
        esErrors = Counter.builder().name("swarm_indexer_es_errors_total")
                .help("Elasticsearch failures: whole requests (request), refused documents (item), template"
                        + " installation attempts (template)")
                .labelNames("kind").register(registry);
        dropped = Counter.builder().name("swarm_indexer_documents_dropped_total")
                .help("Documents lost: left unwritten in a temporary spool at shutdown")
                .register(registry);
        bulkSeconds = Histogram.builder().name("swarm_indexer_bulk_seconds")
                .help("Duration of _bulk requests, failed ones included")
                .classicOnly()
                .classicUpperBounds(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
                .register(registry);
        GaugeWithCallback.builder().name("swarm_indexer_queue_depth")
                .help("Documents waiting in the spool for Elasticsearch (spool depth)")
                .callback(cb -> cb.call(queueDepth.getAsInt()))
                .register(registry);
        GaugeWithCallback.builder().name("swarm_indexer_broker_connected")
                .help("1 while the MQTT link to the broker is connected, else 0")
                .labelNames("broker")
                .callback(cb -> {
                    for (String b : brokers) {
                        cb.call(connected.test(b) ? 1 : 0, b);
                    }
                })
                .register(registry);
        for (String b : brokers) {
            messages.initLabelValues(b);
        }
        for (String kind : List.of(ES_ERROR_REQUEST, ES_ERROR_ITEM, ES_ERROR_TEMPLATE)) {
            esErrors.initLabelValues(kind);
        }
    }

    /** Adds the spool gauges: bytes on disk and whether it is full (acknowledgements held back). */
    public void registerSpool(LongSupplier bytes, BooleanSupplier full, IntSupplier unacknowledged) {
        this.spoolBytes = bytes;
        this.spoolFull = full;
        this.unacknowledged = unacknowledged;
        GaugeWithCallback.builder().name("swarm_indexer_unacknowledged_messages")
                .help("MQTT messages received and not yet acknowledged (not yet durable in the spool)")
                .callback(cb -> cb.call(unacknowledged.getAsInt()))
                .register(registry);
        GaugeWithCallback.builder().name("swarm_indexer_spool_bytes")
                .help("Bytes of spool segment files on disk")
                .callback(cb -> cb.call(bytes.getAsLong()))
                .register(registry);
        GaugeWithCallback.builder().name("swarm_indexer_spool_full")
                .help("1 while the spool is at its disk limit and messages are not acknowledged, else 0")
                .callback(cb -> cb.call(full.getAsBoolean() ? 1 : 0))
                .register(registry);
    }

    public PrometheusRegistry registry() {
        return registry;
    }

    public void message(String broker) {
        messages.labelValues(broker).inc();
        messagesTotal.increment();
    }

    public void badMessage(String reason) {
        badMessages.labelValues(reason).inc();
        badTotal.increment();
    }

    public void written(int n) {
        if (n > 0) {
            written.inc(n);
            writtenTotal.add(n);
        }
    }

    public void duplicates(int n) {
        if (n > 0) {
            duplicates.inc(n);
            duplicatesTotal.add(n);
        }
    }

    public void itemErrors(int n) {
        if (n > 0) {
            esErrors.labelValues(ES_ERROR_ITEM).inc(n);
            itemErrorsTotal.add(n);
        }
    }

    public void requestError() {
        esErrors.labelValues(ES_ERROR_REQUEST).inc();
        requestErrorsTotal.increment();
    }

    public void templateError() {
        esErrors.labelValues(ES_ERROR_TEMPLATE).inc();
    }

    public void dropped(int n) {
        if (n > 0) {
            dropped.inc(n);
            droppedTotal.add(n);
        }
    }

    public void bulkSeconds(double seconds) {
        bulkSeconds.observe(seconds);
    }

    public IndexerStats snapshot(int queueDepth) {
        return new IndexerStats(messagesTotal.sum(), badTotal.sum(), writtenTotal.sum(), duplicatesTotal.sum(),
                itemErrorsTotal.sum(), requestErrorsTotal.sum(), droppedTotal.sum(), queueDepth,
                spoolBytes == null ? 0 : spoolBytes.getAsLong(), spoolFull != null && spoolFull.getAsBoolean(),
                unacknowledged == null ? 0 : unacknowledged.getAsInt());
    }
}
