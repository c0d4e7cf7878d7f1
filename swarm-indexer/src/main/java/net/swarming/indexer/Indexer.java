package net.swarming.indexer;

import net.swarming.common.cli.MqttSecurityOptions;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import net.swarming.common.cli.StartupException;
import net.swarming.common.mqtt.InboundMessage;
import net.swarming.common.mqtt.MqttLinkConfig;
import net.swarming.common.metrics.MetricsServer;
import net.swarming.indexer.internal.IndexerMetrics;
import net.swarming.indexer.internal.document.DocumentMapper;
import net.swarming.indexer.internal.document.IndexDocument;
import net.swarming.indexer.internal.intake.BrokerIntake;
import net.swarming.indexer.internal.intake.MessageRouter;
import net.swarming.indexer.internal.pipeline.DocumentSink;
import net.swarming.indexer.internal.pipeline.Flusher;
import net.swarming.indexer.internal.pipeline.RejectedDocument;
import net.swarming.indexer.internal.pipeline.SpoolDrain;
import net.swarming.indexer.internal.sink.elasticsearch.IngesterWriter;
import net.swarming.indexer.internal.sink.elasticsearch.ElasticsearchSink;
import net.swarming.indexer.internal.spool.ClientIds;
import net.swarming.indexer.internal.spool.Spool;
import net.swarming.indexer.internal.spool.SpoolWriter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Swarming indexer, embeddable: listens to every broker on {@code ping/+} and {@code rip/#} and writes one
 * document per result (and per agent will) into Elasticsearch data streams, in bulk.
 *
 * <p>{@link #start} returns once everything runs in the background; neither the brokers nor Elasticsearch need to be up
 * yet. Every message becomes a document (a result, a presence event or a dead letter) appended to the durable spool;
 * the message is acknowledged to its broker only after the spool was fsynced, and the flush thread drains the spool to
 * Elasticsearch. While Elasticsearch is unreachable the spool grows up to its disk limit, then acknowledgements stop
 * and the brokers hold messages back.
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
    /** The threads of the own writer's parallel bulk requests ({@code --bulk-writer OWN}), numbered. */
    public static final String BULK_THREAD = "swarm-indexer-bulk";

    private final IndexerConfig config;
    private final String clientId;
    private final Spool spool;
    private final Path temporarySpool;
    private final SpoolWriter spoolWriter;
    private final IndexerMetrics metrics;
    private final DocumentSink sink;
    private final SpoolDrain flusher;
    private final ScheduledThreadPoolExecutor flushExecutor;
    private final ExecutorService bulkExecutor;
    private final CountDownLatch terminated = new CountDownLatch(1);
    private volatile BrokerIntake intake;
    private ScheduledFuture<?> periodicFlush;
    private MetricsServer metricsServer;
    private boolean closed;

    private Indexer(IndexerConfig config, String clientId, Spool spool, Path temporarySpool, DocumentSink sink) {
        this.config = config;
        this.clientId = clientId;
        this.spool = spool;
        this.temporarySpool = temporarySpool;
        List<String> brokerLabels = config.brokers().stream().map(Object::toString).toList();
        this.metrics = new IndexerMetrics(new PrometheusRegistry(), brokerLabels,
                () -> (int) Math.min(Integer.MAX_VALUE, spool.depth()),
                b -> intake != null && intake.isConnected(b));
        this.spoolWriter = new SpoolWriter(spool, this::spooled);
        metrics.registerSpool(spool::diskBytes, spool::isFull, spoolWriter::unacknowledged);
        this.sink = sink;
        AtomicInteger bulkThreads = new AtomicInteger();
        this.bulkExecutor = Executors.newFixedThreadPool(config.bulkConcurrency(), r -> {
            Thread t = new Thread(r, BULK_THREAD + "-" + bulkThreads.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.flushExecutor = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, FLUSH_THREAD);
            t.setDaemon(true);
            return t;
        });
        flushExecutor.setRemoveOnCancelPolicy(true);
        flushExecutor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        flushExecutor.setContinueExistingPeriodicTasksAfterShutdownPolicy(false);
        if (config.bulkWriter() == IndexerConfig.BulkWriter.INGESTER && sink instanceof ElasticsearchSink es) {
            IngesterWriter[] self = new IngesterWriter[1];
            self[0] = new IngesterWriter(spool, es, metrics, config.bulkSize(), config.bulkConcurrency(),
                    config.flushInterval(), flushExecutor, config.maxRetryBackoff(), System::nanoTime,
                    () -> runOnFlushThread(() -> self[0].answered()));
            this.flusher = self[0];
        } else {
            this.flusher = new Flusher(spool, sink, metrics, config.bulkSize(), config.bulkConcurrency(),
                    bulkExecutor, config.maxRetryBackoff(), System::nanoTime);
        }
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
        Path temporary = null;
        Spool spool;
        String clientId;
        try {
            Path dir = config.spoolDir();
            if (dir == null) {
                temporary = Files.createTempDirectory("swarm-indexer-spool");
                dir = temporary;
            }
            spool = Spool.open(dir, config.spoolMaxBytes(), segmentBytes(config.spoolMaxBytes()));
            clientId = config.clientId() != null ? config.clientId() : ClientIds.persisted(dir);
        } catch (IOException | RuntimeException e) {
            throw new StartupException("cannot open the spool in " + (config.spoolDir() == null ? "a temporary "
                    + "directory" : config.spoolDir()) + ": " + e.getMessage(), e);
        }
        ElasticsearchSink sink;
        try {
            sink = new ElasticsearchSink(config.elasticsearch(), config.elasticsearchAuth());
        } catch (RuntimeException e) {
            spool.close();
            if (temporary != null) {
                deleteRecursively(temporary);
            }
            throw e;
        }
        Indexer indexer = new Indexer(config, clientId, spool, temporary, sink);
        try {
            indexer.startUp(clock);
        } catch (RuntimeException e) {
            indexer.close();
            throw e;
        }
        return indexer;
    }

    /** Segments of an eighth of the limit (at most 64 MiB), so confirmed ones are deleted long before it is reached. */
    static long segmentBytes(long maxBytes) {
        return Math.max(64 * 1024, Math.min(64L << 20, maxBytes / 8));
    }

    private synchronized void startUp(Clock clock) {
        long interval = config.flushInterval().toNanos();
        // First run at once: installs the templates before any document is waiting.
        periodicFlush = flushExecutor.scheduleWithFixedDelay(flusher::tick, 0, interval, TimeUnit.NANOSECONDS);
        if (config.metricsPort() != IndexerConfig.METRICS_DISABLED) {
            metricsServer = MetricsServer.start(config.metricsHost(), config.metricsPort(), metrics.registry());
        }
        spoolWriter.start();
        DocumentMapper mapper = new DocumentMapper(config.pingsStream(), config.agentsStream(),
                config.deadLetterStream(), DocumentMapper.DEFAULT_DEAD_LETTER_PAYLOAD);
        sink.onRejected(rejected -> deadLetter(rejected, mapper, clock));
        MessageRouter router = new MessageRouter(mapper, this::enqueue, metrics, clock, config.maxMessageBytes());
        BrokerIntake links = new BrokerIntake(config.brokers(), clientId, config.persistentSession(),
                config.mqttSecurity(), config.mqttIntake(), MqttLinkConfig.DEFAULT_KEEP_ALIVE, router, clock);
        intake = links;
        links.start();
        LOG.info("indexer started: brokers {} as {} ({}, {} intake; {}), Elasticsearch {} ({}), streams {}, {} and {}, "
                + "bulk {} docs every {} ms, spool {} (up to {} bytes)",
                links.brokers(), clientId, config.persistentSession() ? "persistent sessions"
                        : "clean sessions: set --spool-dir to have brokers keep results while it is down",
                config.mqttIntake(), MqttSecurityOptions.describe(config.mqttSecurity()),
                config.elasticsearch(), config.elasticsearchAuth(), config.pingsStream(), config.agentsStream(),
                config.deadLetterStream(), config.bulkSize(), config.flushInterval().toMillis(), spool.directory(),
                config.spoolMaxBytes());
    }

    /** Called on the MQTT dispatch threads: hands over to the spool writer, which acknowledges once it is durable. */
    private void enqueue(IndexDocument doc, InboundMessage m) {
        BrokerIntake links = intake;
        spoolWriter.submit(doc, () -> {
            if (links != null) {
                links.ack(m);
            }
        });
    }

    /**
     * Documents Elasticsearch refused for good become dead letters through the spool like any other document. A
     * refused dead letter has nowhere left to go: it is logged with its source.
     */
    private void deadLetter(List<RejectedDocument> rejected, DocumentMapper mapper, Clock clock) {
        for (RejectedDocument r : rejected) {
            if (r.doc().index().equals(config.deadLetterStream())) {
                LOG.error("Elasticsearch refused a dead letter ({} {}: {}); it is dropped: {}", r.status(), r.type(),
                        r.reason(), r.doc().sourceText());
                continue;
            }
            metrics.badMessage(DocumentMapper.REASON_REJECTED);
            spoolWriter.submit(mapper.rejected(r.doc(), r.status(), r.type(), r.reason(), clock.instant()), () -> { });
        }
    }

    private void runOnFlushThread(Runnable task) {
        try {
            flushExecutor.execute(task);
        } catch (RejectedExecutionException e) {
            LOG.debug("flush executor stopped; documents stay in the spool");
        }
    }

    /** Called by the spool writer after each durable group. */
    private void spooled() {
        if (flusher.documentAdded()) {
            try {
                flushExecutor.execute(flusher::flushFullBatches);
            } catch (RejectedExecutionException e) {
                LOG.debug("flush executor stopped; documents stay in the spool");
            }
        }
    }

    /** The configuration this indexer runs with. */
    public IndexerConfig config() {
        return config;
    }

    /** The MQTT client id on every broker: the configured one, or the one kept in the spool directory. */
    public String clientId() {
        return clientId;
    }

    /** Running totals (the figures of the metrics endpoint). */
    public IndexerStats stats() {
        return metrics.snapshot((int) Math.min(Integer.MAX_VALUE, spool.depth()));
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
     * Stops in order: intake (links closed, so brokers keep queueing for the persistent sessions), the spool writer
     * (what was handed over is spooled), a final flush bounded by {@link IndexerConfig#shutdownTimeout()}, the
     * Elasticsearch client, the flush executor, the spool, the metrics endpoint. Idempotent. Documents the final flush
     * could not write stay in the spool for the next start; with a temporary spool they are counted as dropped.
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
            spoolWriter.close();
            finalFlush();
            sink.close();
            flusher.close();
            flushExecutor.shutdownNow();
            bulkExecutor.shutdownNow();
            try {
                if (!flushExecutor.awaitTermination(5, TimeUnit.SECONDS)) {
                    LOG.warn("flush thread did not stop within 5 s");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            spool.close();
            if (temporarySpool != null) {
                long left = spool.depth();
                if (left > 0) {
                    metrics.dropped(left > Integer.MAX_VALUE ? Integer.MAX_VALUE : (int) left);
                    LOG.error("shutdown: {} documents were not written to Elasticsearch and are lost with the "
                            + "temporary spool; give a spool directory to keep them", left);
                }
                deleteRecursively(temporarySpool);
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
            left = (int) Math.min(Integer.MAX_VALUE, spool.depth());
        } catch (ExecutionException e) {
            LOG.error("final flush failed", e.getCause());
            left = (int) Math.min(Integer.MAX_VALUE, spool.depth());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            f.cancel(true);
            left = (int) Math.min(Integer.MAX_VALUE, spool.depth());
        }
        if (left > 0 && temporarySpool == null) {
            LOG.warn("shutdown: {} documents not yet in Elasticsearch stay in the spool {} for the next start", left,
                    spool.directory());
        }
    }

    private static void deleteRecursively(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    LOG.debug("cannot delete {}: {}", p, e.toString());
                }
            });
        } catch (IOException e) {
            LOG.warn("cannot delete the temporary spool {}: {}", dir, e.toString());
        }
    }
}
