package net.swarming.indexer;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import net.swarming.common.metrics.MetricsServer;
import net.swarming.indexer.internal.IndexerMetrics;
import net.swarming.indexer.internal.document.DocumentMapper;
import net.swarming.indexer.internal.document.IndexDocument;
import net.swarming.indexer.internal.intake.BrokerIntake;
import net.swarming.indexer.internal.intake.MessageRouter;
import net.swarming.indexer.internal.pipeline.DocumentBuffer;
import net.swarming.indexer.internal.pipeline.DocumentSink;
import net.swarming.indexer.internal.pipeline.Flusher;
import net.swarming.indexer.internal.sink.elasticsearch.ElasticsearchSink;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Swarming indexer, embeddable: listens to every broker on {@code ping/+} and {@code rip/#} and writes one
 * document per result (and per agent will) into Elasticsearch data streams, in bulk.
 *
 * <p>{@link #start} returns once everything runs in the background; neither the brokers nor Elasticsearch need to be up
 * yet. Documents wait in a bounded in-memory buffer while Elasticsearch is unreachable.
 *
 * <pre>{@code
 * try (Indexer indexer = Indexer.start(IndexerConfig.builder().brokers(List.of(BrokerAddress.parse("queen"))).build(),
 *         Clock.systemUTC())) {
 *     ...
 * }
 * }</pre>
 */
public final class Indexer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Indexer.class);

    /** The one thread that talks to Elasticsearch. */
    public static final String FLUSH_THREAD = "swarm-indexer-flush";

    private final IndexerConfig config;
    private final DocumentBuffer buffer;
    private final IndexerMetrics metrics;
    private final DocumentSink sink;
    private final Flusher flusher;
    private final ScheduledThreadPoolExecutor flushExecutor;
    private final CountDownLatch terminated = new CountDownLatch(1);
    private volatile BrokerIntake intake;
    private ScheduledFuture<?> periodicFlush;
    private MetricsServer metricsServer;
    private boolean closed;

    private Indexer(IndexerConfig config, DocumentSink sink) {
        this.config = config;
        this.buffer = new DocumentBuffer(config.bufferCapacity());
        List<String> brokerLabels = config.brokers().stream().map(Object::toString).toList();
        this.metrics = new IndexerMetrics(new PrometheusRegistry(), brokerLabels, buffer::size,
                b -> intake != null && intake.isConnected(b));
        this.sink = sink;
        this.flusher = new Flusher(buffer, sink, metrics, config.bulkSize(), config.maxRetryBackoff(),
                System::nanoTime);
        this.flushExecutor = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, FLUSH_THREAD);
            t.setDaemon(true);
            return t;
        });
        flushExecutor.setRemoveOnCancelPolicy(true);
        flushExecutor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        flushExecutor.setContinueExistingPeriodicTasksAfterShutdownPolicy(false);
    }

    /**
     * Starts an indexer: the flush executor (which installs the index templates as soon as Elasticsearch answers),
     * the metrics endpoint if enabled, and one MQTT link per broker.
     *
     * @param clock gives the receive time of messages ({@code event.ingested}, and {@code @timestamp} of results in
     *     the original format)
     * @throws net.swarming.common.cli.StartupException when the metrics port cannot be bound
     */
    public static Indexer start(IndexerConfig config, Clock clock) {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(clock, "clock");
        Indexer indexer = new Indexer(config, new ElasticsearchSink(config.elasticsearch()));
        try {
            indexer.startUp(clock);
        } catch (RuntimeException e) {
            indexer.close();
            throw e;
        }
        return indexer;
    }

    private synchronized void startUp(Clock clock) {
        long interval = config.flushInterval().toNanos();
        // First run at once: installs the templates before any document is waiting.
        periodicFlush = flushExecutor.scheduleWithFixedDelay(flusher::tick, 0, interval, TimeUnit.NANOSECONDS);
        if (config.metricsPort() != IndexerConfig.METRICS_DISABLED) {
            metricsServer = MetricsServer.start(config.metricsHost(), config.metricsPort(), metrics.registry());
        }
        DocumentMapper mapper = new DocumentMapper(config.pingsStream(), config.agentsStream());
        MessageRouter router = new MessageRouter(mapper, this::enqueue, metrics, clock);
        BrokerIntake links = new BrokerIntake(config.brokers(), config.clientId(), config.persistentSession(),
                router, clock);
        intake = links;
        links.start();
        LOG.info("indexer started: brokers {} as {} ({}), Elasticsearch {}, streams {} and {}, bulk {} docs every {} ms",
                links.brokers(), config.clientId(), config.persistentSession() ? "persistent sessions"
                        : "clean sessions: set --client-id to have brokers keep results while it is down",
                config.elasticsearch(), config.pingsStream(), config.agentsStream(), config.bulkSize(),
                config.flushInterval().toMillis());
    }

    /** Called on the MQTT dispatch threads: a short lock on the buffer, never a wait for Elasticsearch. */
    private void enqueue(IndexDocument doc) {
        DocumentBuffer.AddResult added = buffer.add(doc);
        if (added.dropped() > 0) {
            metrics.dropped(added.dropped());
            LOG.error("in-memory buffer full ({} documents): dropped the {} oldest", buffer.capacity(),
                    added.dropped());
        }
        if (flusher.documentAdded(added.size())) {
            try {
                flushExecutor.execute(flusher::flushFullBatches);
            } catch (RejectedExecutionException e) {
                LOG.debug("flush executor stopped; document left for the final flush");
            }
        }
    }

    /** The configuration this indexer runs with. */
    public IndexerConfig config() {
        return config;
    }

    /** Running totals (the figures of the metrics endpoint). */
    public IndexerStats stats() {
        return metrics.snapshot(buffer.size());
    }

    /** The registry behind the metrics endpoint, to serve or inspect elsewhere. */
    public PrometheusRegistry metricsRegistry() {
        return metrics.registry();
    }

    /** The bound metrics port, or -1 when the endpoint is disabled. */
    public synchronized int metricsPort() {
        return metricsServer == null ? IndexerConfig.METRICS_DISABLED : metricsServer.port();
    }

    /** Whether the link to every broker is connected and subscribed. */
    public boolean allBrokersConnected() {
        BrokerIntake links = intake;
        return links != null && links.allConnected();
    }

    /** Blocks until {@link #close()} has finished. */
    public void awaitTermination() throws InterruptedException {
        terminated.await();
    }

    /**
     * Stops in order: intake (links closed, so brokers keep queueing for the persistent sessions), a final flush
     * bounded by {@link IndexerConfig#shutdownTimeout()}, the Elasticsearch client, the flush executor, the metrics
     * endpoint. Idempotent; documents still in memory after the final flush are counted as dropped and logged.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        try {
            BrokerIntake links = intake;
            if (links != null) {
                links.close();
            }
            finalFlush();
            sink.close();
            flushExecutor.shutdownNow();
            try {
                if (!flushExecutor.awaitTermination(5, TimeUnit.SECONDS)) {
                    LOG.warn("flush thread did not stop within 5 s");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            synchronized (this) {
                if (metricsServer != null) {
                    metricsServer.close();
                }
            }
            IndexerStats s = stats();
            LOG.info("indexer stopped: {} messages, {} bad, {} documents written, {} duplicates, {} refused, {} dropped",
                    s.messages(), s.badMessages(), s.documentsWritten(), s.duplicates(), s.documentErrors(),
                    s.documentsDropped());
        } finally {
            terminated.countDown();
        }
    }

    private void finalFlush() {
        Duration timeout = config.shutdownTimeout();
        // Stop the periodic ticks; the final flush runs on the same thread so it never races a tick.
        synchronized (this) {
            if (periodicFlush != null) {
                periodicFlush.cancel(false);
            }
        }
        Future<Integer> f;
        try {
            f = flushExecutor.submit(() -> flusher.finalFlush(timeout));
        } catch (RejectedExecutionException e) {
            return;
        }
        int left;
        try {
            // A bulk request in flight when the deadline passes may take up to the socket timeout: allow a little.
            left = f.get(timeout.toMillis() + 2_000, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            f.cancel(true);
            left = buffer.size();
        } catch (ExecutionException e) {
            LOG.error("final flush failed", e.getCause());
            left = buffer.size();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            f.cancel(true);
            left = buffer.size();
        }
        if (left > 0) {
            metrics.dropped(left);
            LOG.error("shutdown: {} documents could not be written to Elasticsearch within {} ms and are lost", left,
                    timeout.toMillis());
        }
    }
}
