package net.swarming.indexer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import net.swarming.common.cli.ExitCodes;
import net.swarming.common.mqtt.BrokerAddress;
import net.swarming.common.mqtt.InboundMessage;
import net.swarming.common.mqtt.MqttLink;
import net.swarming.common.mqtt.MqttLinkConfig;
import net.swarming.common.mqtt.MqttSecurity;
import net.swarming.common.wire.PingCodec;
import net.swarming.common.wire.PingResult;
import net.swarming.common.wire.ProbeType;
import net.swarming.common.wire.Topics;
import net.swarming.indexer.internal.bench.MqttFramePublisher;
import net.swarming.indexer.internal.cli.Converters;
import net.swarming.indexer.internal.document.DocumentMapper;
import net.swarming.indexer.internal.document.IndexDocument;
import net.swarming.indexer.internal.intake.BrokerIntake;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code swarm-indexer benchmark}: in one run, the same N results (1) as documents through a plain {@code _bulk} loop
 * (prepared NDJSON, {@code create} with the same ids, as many parallel requests as the indexer uses) and (2) as MQTT
 * messages through a broker and an in-process indexer with its spool, into the same Elasticsearch node; prints both
 * rates and their ratio, then measures the lag from publish to searchable at a steady rate, and writes a report.
 */
@Command(name = "benchmark", mixinStandardHelpOptions = true, sortOptions = false, usageHelpAutoWidth = true,
        description = "Indexer throughput against a raw _bulk loop on the same node, and publish-to-searchable lag.")
public final class BenchmarkCommand implements Callable<Integer> {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Most QoS 1 publishes the benchmark keeps unacknowledged, with either publisher. */
    static final int PUBLISH_WINDOW = 20_000;
    /** Timed receive-only runs of each intake, taken in turns. */
    static final int INTAKE_CPU_RUNS = 3;

    @Spec
    CommandSpec spec;

    @Parameters(arity = "1", paramLabel = "host[:port]", converter = Converters.Broker.class,
            description = "The broker to publish through (use one with max_queued_messages 0).")
    BrokerAddress broker;

    @Option(names = "--elasticsearch", paramLabel = "URL", converter = Converters.ElasticsearchUrl.class,
            defaultValue = "http://localhost:9200", description = "Elasticsearch node. Default: ${DEFAULT-VALUE}.")
    URI elasticsearch;

    @Option(names = "--results", paramLabel = "N", defaultValue = "100000",
            description = "Results per run. Default: ${DEFAULT-VALUE}.")
    int results;

    @Option(names = "--bulk-size", paramLabel = "DOCS", defaultValue = "" + IndexerConfig.DEFAULT_BULK_SIZE,
            description = "Documents per bulk request, for both runs. Default: ${DEFAULT-VALUE}.")
    int bulkSize;

    @Option(names = "--bulk-concurrency", paramLabel = "N", defaultValue = "" + IndexerConfig.DEFAULT_BULK_CONCURRENCY,
            description = "Parallel bulk requests, for both runs. Default: ${DEFAULT-VALUE}.")
    int concurrency;

    @Option(names = "--lag-rate", paramLabel = "PER_SECOND", defaultValue = "500",
            description = "Steady publish rate of the lag measurement. Default: ${DEFAULT-VALUE}.")
    int lagRate;

    @Option(names = "--lag-results", paramLabel = "N", defaultValue = "5000",
            description = "Results of the lag measurement. Default: ${DEFAULT-VALUE}.")
    int lagResults;

    @Option(names = "--writers", paramLabel = "WRITER", split = ",", defaultValue = "INGESTER,OWN",
            description = "Bulk writers to compare, each through its own indexer after the raw loop; the first one's "
                    + "rate makes the ratio and measures the lag. Default: ${DEFAULT-VALUE}.")
    List<IndexerConfig.BulkWriter> writers;

    /** How the benchmark publishes its results. */
    public enum Publisher {
        /** Pre-encoded QoS 1 PUBLISH frames over one plain socket ({@link MqttFramePublisher}). */
        FRAMES,
        /** The project's MQTT link (Paho) in this JVM, at QoS 1. */
        PAHO
    }

    @Option(names = "--publisher", paramLabel = "KIND", split = ",", defaultValue = "FRAMES",
            description = "How the throughput runs publish: FRAMES (QoS 1 PUBLISH frames encoded up front, written "
                    + "over a plain socket, as cheap as the raw loop's prepared NDJSON) or PAHO (the MQTT link); "
                    + "several (FRAMES,PAHO) measure the first writer once with each publisher every round. "
                    + "Default: ${DEFAULT-VALUE}.")
    List<Publisher> publishers;

    @Option(names = "--intakes", paramLabel = "CLIENT", split = ",", defaultValue = "NETTY",
            description = "MQTT clients of the indexer's intake to compare: NETTY, PAHO; every one after the first "
                    + "adds the first writer with that intake as one more contender, and each is measured alone "
                    + "(receive and acknowledge only) for its CPU per message. Default: ${DEFAULT-VALUE}.")
    List<IndexerConfig.MqttIntake> intakes;

    @Option(names = "--intake-cpu-messages", paramLabel = "N", defaultValue = "50000",
            description = "Messages of the receive-only CPU measurement of each intake; 0 skips it. "
                    + "Default: ${DEFAULT-VALUE}.")
    int intakeCpuMessages;

    @Option(names = "--warm-up-runs", paramLabel = "N", defaultValue = "1",
            description = "Untimed full-size raw runs that warm Elasticsearch up (JIT, first segments) before "
                    + "anything is timed; a node on few CPUs needs more. Default: ${DEFAULT-VALUE}.")
    int warmUpRuns;

    @Option(names = "--rounds", paramLabel = "N", defaultValue = "1",
            description = "Times the raw loop and every writer are measured, in turn; medians are reported. "
                    + "Default: ${DEFAULT-VALUE}.")
    int rounds;

    @Option(names = "--spool-dir", paramLabel = "DIR",
            description = "Spool directory of the indexer under test (default: a temporary one).")
    Path spoolDir;

    @Option(names = "--report", paramLabel = "FILE", defaultValue = "indexer-benchmark.md",
            description = "Where the report is written. Default: ${DEFAULT-VALUE}.")
    Path report;

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    /** What one run measured. */
    public record Result(int results, double rawDocsPerSecond, double indexerDocsPerSecond, double ratio,
                         double lagP50Millis, double lagP99Millis, String report,
                         Map<String, Double> writerDocsPerSecond, Map<String, Double> intakeCpuMicrosPerMessage) {}

    private Result last;
    private String lastTimeline = "";

    /** The figures of the last {@link #call()}, for tests. */
    public Result lastResult() {
        return last;
    }

    /** One MQTT contender: a bulk writer in its own indexer with one intake, fed by one kind of publisher. */
    private record Contender(IndexerConfig.BulkWriter writer, Publisher publisher, IndexerConfig.MqttIntake intake,
                             String label, String key) {}

    @Override
    public Integer call() throws Exception {
        if (results < 1 || lagResults < 1 || lagRate < 1 || bulkSize < 1 || concurrency < 1 || rounds < 1
                || writers == null || writers.isEmpty() || publishers == null || publishers.isEmpty()
                || intakes == null || intakes.isEmpty() || intakeCpuMessages < 0) {
            throw new IllegalArgumentException("--results, --lag-results, --lag-rate, --bulk-size, --bulk-concurrency "
                    + "and --rounds must be positive, --intake-cpu-messages not negative, --writers, --publisher and "
                    + "--intakes not empty");
        }
        PrintWriter out = spec == null ? new PrintWriter(System.out, true) : spec.commandLine().getOut();
        String suffix = "bench" + Long.toString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE, 36);
        String rawStream = "swarm-pings-" + suffix + "raw";
        Instant t0 = Instant.parse("2026-01-01T00:00:00Z");
        // Every writer with the first publisher; then the first writer with every other publisher.
        // Every writer with the first publisher and intake; then the first writer with every other publisher, and
        // with every other intake.
        IndexerConfig.MqttIntake intake0 = intakes.get(0);
        String intake0Label = intakes.size() > 1 ? ", " + intake0 + " intake" : "";
        List<Contender> contenders = new ArrayList<>();
        for (IndexerConfig.BulkWriter writer : writers) {
            contenders.add(new Contender(writer, publishers.get(0), intake0, (publishers.size() > 1
                    ? writer + ", " + publishers.get(0) + " publisher" : writer.toString()) + intake0Label,
                    writer.name()));
        }
        for (Publisher publisher : publishers.subList(1, publishers.size())) {
            contenders.add(new Contender(writers.get(0), publisher, intake0, writers.get(0) + ", " + publisher
                    + " publisher" + intake0Label, writers.get(0).name() + "+" + publisher.name()));
        }
        for (IndexerConfig.MqttIntake intake : intakes.subList(1, intakes.size())) {
            contenders.add(new Contender(writers.get(0), publishers.get(0), intake, writers.get(0) + ", " + intake
                    + " intake", writers.get(0).name() + "+" + intake.name() + "_INTAKE"));
        }
        Map<String, Double> cpu = new LinkedHashMap<>();
        StringBuilder cpuLines = new StringBuilder();
        if (intakeCpuMessages > 0) {
            MqttFramePublisher.Frames frames = frames(generate(intakeCpuMessages, t0.minus(Duration.ofDays(400))));
            // One untimed pass of every intake warms the JIT up; then they take turns, and medians are reported.
            double[][] perRun = new double[intakes.size()][INTAKE_CPU_RUNS];
            for (int run = -1; run < INTAKE_CPU_RUNS; run++) {
                for (int i = 0; i < intakes.size(); i++) {
                    double micros = intakeCpu(intakes.get(i), frames, out);
                    if (run >= 0) {
                        perRun[i][run] = micros;
                    }
                }
            }
            for (int i = 0; i < intakes.size(); i++) {
                double micros = median(perRun[i]);
                cpu.put(intakes.get(i).name(), micros);
                StringBuilder runs = new StringBuilder();
                for (double r : perRun[i]) {
                    runs.append(runs.length() == 0 ? "" : " / ").append(String.format(Locale.ROOT, "%.1f", r));
                }
                cpuLines.append(String.format(Locale.ROOT, "- intake alone (receive, hand over, acknowledge in groups "
                        + "from another thread as the spool writer does, no disk; %d QoS 1 messages a run, median of "
                        + "%d alternating runs after a warm-up), %s: %.1f µs of CPU per message (process CPU less the "
                        + "publisher's threads; runs %s)%n", intakeCpuMessages, INTAKE_CPU_RUNS, intakes.get(i),
                        micros, runs));
            }
        }
        double[] raw = new double[rounds];
        StringBuilder rows = new StringBuilder();
        double[] lag = null;
        int day = 0;
        // Elasticsearch warms up (JIT, first segments) for a while: full-size raw runs, not timed, go first. A cold
        // node makes the raw loop slow, which would flatter the ratio.
        for (int w = 0; w < warmUpRuns; w++) {
            rawBulk(generate(results, t0.minus(Duration.ofDays(1 + w))), rawStream, out);
        }
        double[][] pipedByIndex = new double[contenders.size()][rounds];
        String[][] timelineByIndex = new String[contenders.size()][rounds];
        for (int round = 0; round < rounds; round++) {
            out.printf(Locale.ROOT, "round %d of %d%n", round + 1, rounds);
            // The order turns every round (raw first, then each contender first), so no contender always runs on the
            // warmest node or right after another's merges.
            int count = contenders.size() + 1;
            for (int k = 0; k < count; k++) {
                int c = (k + round) % count;
                if (c == 0) {
                    raw[round] = rawBulk(generate(results, t0.plus(Duration.ofDays(++day))), rawStream, out);
                    continue;
                }
                Contender contender = contenders.get(c - 1);
                String stream = "swarm-pings-" + suffix + "mqtt" + (c - 1) + "-"
                        + contender.writer().name().toLowerCase(Locale.ROOT);
                try (Indexer indexer = startIndexer(contender.writer(), contender.intake(), stream,
                        suffix + round + "c" + (c - 1))) {
                    // Its data stream is created and the code warmed up before anything is timed.
                    throughMqtt(generate(concurrency * bulkSize, t0.minus(Duration.ofDays(++day))), indexer,
                            contender.publisher(), out);
                    out.print(contender.label() + ": ");
                    pipedByIndex[c - 1][round] = throughMqtt(generate(results, t0.plus(Duration.ofDays(++day))),
                            indexer, contender.publisher(), out);
                    timelineByIndex[c - 1][round] = lastTimeline;
                    if (round == rounds - 1 && c == 1) {
                        lag = lag(indexer, stream, t0.plus(Duration.ofDays(++day)), out);
                    }
                }
            }
            StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "| %d | %.0f |", round + 1, raw[round]));
            for (int w = 0; w < contenders.size(); w++) {
                double rate = pipedByIndex[w][round];
                row.append(String.format(Locale.ROOT, " %.0f (%.2f; %s) |", rate, rate / raw[round],
                        timelineByIndex[w][round]));
            }
            rows.append(row).append('\n');
        }
        Contender first = contenders.get(0);
        double rawMedian = median(raw);
        double pipedMedian = median(pipedByIndex[0]);
        double ratio = pipedMedian / rawMedian;
        StringBuilder header = new StringBuilder("| round | raw `_bulk` docs/s |");
        StringBuilder rule = new StringBuilder("|---|---|");
        StringBuilder medians = new StringBuilder();
        Map<String, Double> perContender = new LinkedHashMap<>();
        for (int w = 0; w < contenders.size(); w++) {
            Contender contender = contenders.get(w);
            header.append(" MQTT → indexer (").append(contender.label()).append(") docs/s (ratio; timeline) |");
            rule.append("---|");
            double m = median(pipedByIndex[w]);
            medians.append(String.format(Locale.ROOT, "- median MQTT → indexer (spool, fsync, acks) → Elasticsearch "
                    + "with the %s writer (%s publisher, %s intake): %.0f docs/s, ratio to the median raw rate "
                    + "%.2f%n", contender.writer(), contender.publisher(), contender.intake(), m, m / rawMedian));
            perContender.put(contender.key(), m);
        }
        String text = String.format(Locale.ROOT, """
                ## Indexer benchmark (%s)

                - results: %d v2 results (~%d-byte documents) per run, %d round(s), bulk %d docs × %d concurrent \
                requests, `create` with deterministic ids, broker %s, Elasticsearch %s; every data stream created \
                and every indexer warmed up, and Elasticsearch by %d untimed full-size raw run(s), before anything is \
                timed; the order of raw loop and contenders turns every round; MQTT payloads (%s publisher) and raw \
                NDJSON prepared up front
                - CPUs: %s
                - median raw `_bulk` loop (prepared NDJSON): %.0f docs/s
                %s%s- ratio indexer (%s) / raw: %.2f (target ≥ 0.8)
                - publish → searchable at %d results/s with the %s writer (%d results, default 1 s refresh, published \
                through the MQTT link): p50 %.0f ms, p99 %.0f ms

                %s
                %s
                %s""", Instant.now(), results, averageSize(generate(1, t0), rawStream), rounds, bulkSize,
                concurrency, broker, elasticsearch, warmUpRuns, first.publisher(), cpus(), rawMedian, medians, cpuLines, first.label(), ratio,
                lagRate, first.writer(), lagResults, lag[0], lag[1], header, rule, rows);
        out.println(text);
        if (report.getParent() != null) {
            Files.createDirectories(report.getParent());
        }
        Files.writeString(report, text, StandardCharsets.UTF_8);
        out.println("report written to " + report.toAbsolutePath());
        last = new Result(results, rawMedian, pipedMedian, ratio, lag[0], lag[1], text, perContender, cpu);
        return ExitCodes.OK;
    }

    private Indexer startIndexer(IndexerConfig.BulkWriter writer, IndexerConfig.MqttIntake intake, String stream,
                                 String id) throws Exception {
        IndexerConfig config = IndexerConfig.builder()
                .brokers(List.of(broker))
                .elasticsearch(List.of(elasticsearch))
                .pingsStream(stream)
                .agentsStream("swarm-agents-" + stream.substring("swarm-pings-".length()))
                .deadLetterStream("swarm-deadletter-" + stream.substring("swarm-pings-".length()))
                .clientId("swarm-indexer-" + id + writer.name().toLowerCase(Locale.ROOT))
                .persistentSession(false)
                .spoolDir(spoolDir == null ? null : spoolDir.resolve(id + writer.name().toLowerCase(Locale.ROOT)))
                .bulkSize(bulkSize)
                .bulkConcurrency(concurrency)
                .bulkWriter(writer)
                .mqttIntake(intake)
                .metricsPort(IndexerConfig.METRICS_DISABLED)
                .build();
        Indexer indexer = Indexer.start(config, Clock.systemUTC());
        try {
            long waitUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!indexer.allBrokersConnected() && System.nanoTime() < waitUntil) {
                Thread.sleep(50);
            }
            if (!indexer.allBrokersConnected()) {
                throw new IllegalStateException("the indexer could not connect to " + broker);
            }
            // The template must be in place before the first document: the indexer installs it.
            while (!templateInstalled() && System.nanoTime() < waitUntil) {
                Thread.sleep(50);
            }
            return indexer;
        } catch (Exception | Error e) {
            indexer.close();
            throw e;
        }
    }

    private static MqttFramePublisher.Frames frames(List<PingResult> generated) {
        List<byte[]> payloads = new ArrayList<>(generated.size());
        List<String> topics = new ArrayList<>(generated.size());
        for (PingResult r : generated) {
            payloads.add(PingCodec.encodeV2(r));
            topics.add(Topics.ping(r.target()));
        }
        return MqttFramePublisher.encode(topics, payloads);
    }

    /**
     * One intake alone: subscribed on a clean session, fed pre-encoded frames; what it delivers is acknowledged in
     * groups by one other thread, as the spool writer does after each fsync, but with no spool and no Elasticsearch.
     * Returns the process CPU from the first publish until every message was acknowledged, less the CPU of the
     * publishing threads, per message. Only this intake is subscribed meanwhile.
     */
    private double intakeCpu(IndexerConfig.MqttIntake kind, MqttFramePublisher.Frames frames, PrintWriter out)
            throws Exception {
        AtomicLong delivered = new AtomicLong();
        LinkedBlockingQueue<InboundMessage> handedOver = new LinkedBlockingQueue<>();
        BrokerIntake[] self = new BrokerIntake[1];
        Thread acker = new Thread(() -> {
            List<InboundMessage> group = new ArrayList<>();
            try {
                while (true) {
                    group.add(handedOver.take());
                    handedOver.drainTo(group, 999);
                    for (InboundMessage m : group) {
                        self[0].ack(m);
                    }
                    delivered.addAndGet(group.size());
                    group.clear();
                }
            } catch (InterruptedException e) {
                // the run is over
            }
        }, "swarm-bench-acker");
        try (BrokerIntake intake = new BrokerIntake(List.of(broker), MqttLink.defaultClientId("swarm-bench-intake"),
                false, MqttSecurity.NONE, kind, MqttLinkConfig.DEFAULT_KEEP_ALIVE, handedOver::add,
                Clock.systemUTC())) {
            self[0] = intake;
            acker.setDaemon(true);
            acker.start();
            intake.start();
            long waitUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!intake.allConnected()) {
                if (System.nanoTime() > waitUntil) {
                    throw new IllegalStateException("the " + kind + " intake could not connect to " + broker);
                }
                Thread.sleep(20);
            }
            ThreadCpu publisherCpu = new ThreadCpu();
            long cpuStart = processCpuNanos();
            long start = System.nanoTime();
            try (MqttFramePublisher frameLink = MqttFramePublisher.connect(broker,
                    MqttLink.defaultClientId("swarm-bench"), 30_000)) {
                publisherCpu.track(Thread.currentThread());
                publisherCpu.trackByName("swarm-bench-puback");
                frameLink.publish(frames, PUBLISH_WINDOW, 5, TimeUnit.MINUTES);
                publisherCpu.sample();
            }
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
            while (delivered.get() < frames.count()) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the " + kind + " intake received only " + delivered.get()
                            + " of " + frames.count());
                }
                Thread.sleep(1);
            }
            long cpu = processCpuNanos() - cpuStart - publisherCpu.used();
            double seconds = (System.nanoTime() - start) / 1e9;
            double micros = cpu / 1e3 / frames.count();
            out.printf(Locale.ROOT, "%s intake alone: %d messages in %.2f s, %.1f µs CPU per message%n", kind,
                    frames.count(), seconds, micros);
            return micros;
        } finally {
            acker.interrupt();
        }
    }

    private static long processCpuNanos() {
        java.lang.management.OperatingSystemMXBean os = java.lang.management.ManagementFactory
                .getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
            return sun.getProcessCpuTime();
        }
        throw new IllegalStateException("this JVM does not report process CPU time");
    }

    /** CPU used by chosen threads between {@link #track} and {@link #sample}. */
    private static final class ThreadCpu {
        private final java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory
                .getThreadMXBean();
        private final Map<Long, Long> start = new LinkedHashMap<>();
        private long used;

        void track(Thread t) {
            start.put(t.getId(), threads.getThreadCpuTime(t.getId()));
        }

        void trackByName(String name) {
            Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals(name)).forEach(this::track);
        }

        void sample() {
            for (Map.Entry<Long, Long> e : start.entrySet()) {
                long now = threads.getThreadCpuTime(e.getKey());
                if (now >= 0 && e.getValue() >= 0) {
                    used += now - e.getValue();
                }
            }
        }

        long used() {
            return used;
        }
    }

    static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    static List<PingResult> generate(int n, Instant t0) {
        List<PingResult> list = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            String agent = "bee" + (i % 50);
            String target = "10.0." + (i / 50 / 250 % 250) + "." + (1 + i / 50 % 250);
            list.add(PingResult.ofRound(agent, agent + "-id", target, ProbeType.ICMP, target,
                    t0.plusMillis(i / 50 * 10L), Arrays.asList(0.41, 0.52, null, 0.47), 0));
        }
        return list;
    }

    private static int averageSize(List<PingResult> generated, String stream) {
        DocumentMapper mapper = new DocumentMapper(stream, "swarm-agents-x");
        return mapper.ping(generated.get(0), "b:1883", Instant.EPOCH).source().length;
    }

    /** The raw loop: NDJSON prepared up front, then {@code concurrency} requests in flight; counts 201s. */
    private double rawBulk(List<PingResult> generated, String stream, PrintWriter out) throws Exception {
        DocumentMapper mapper = new DocumentMapper(stream, "swarm-agents-x");
        List<byte[]> bodies = new ArrayList<>();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        int inBody = 0;
        Instant received = Instant.now();
        for (PingResult r : generated) {
            IndexDocument d = mapper.ping(r, broker.toString(), received);
            body.write(("{\"create\":{\"_index\":\"" + stream + "\",\"_id\":\"" + d.id() + "\"}}\n")
                    .getBytes(StandardCharsets.UTF_8));
            body.write(d.source());
            body.write('\n');
            if (++inBody == bulkSize) {
                bodies.add(body.toByteArray());
                body.reset();
                inBody = 0;
            }
        }
        if (inBody > 0) {
            bodies.add(body.toByteArray());
        }
        AtomicInteger next = new AtomicInteger();
        AtomicInteger created = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(concurrency);
        long start = System.nanoTime();
        try {
            List<Future<?>> workers = new ArrayList<>();
            for (int w = 0; w < concurrency; w++) {
                workers.add(pool.submit(() -> {
                    for (int i = next.getAndIncrement(); i < bodies.size(); i = next.getAndIncrement()) {
                        created.addAndGet(bulk(bodies.get(i)));
                    }
                    return null;
                }));
            }
            for (Future<?> f : workers) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        if (created.get() != generated.size()) {
            throw new IllegalStateException("raw _bulk created " + created.get() + " of " + generated.size());
        }
        double rate = generated.size() / seconds;
        out.printf(Locale.ROOT, "raw _bulk: %d docs in %.2f s: %.0f docs/s%n", generated.size(), seconds, rate);
        return rate;
    }

    private int bulk(byte[] ndjson) throws IOException, InterruptedException {
        for (int attempt = 0; ; attempt++) {
            HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(elasticsearch.resolve("/_bulk"))
                    .header("Content-Type", "application/x-ndjson")
                    .timeout(Duration.ofSeconds(60))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(ndjson)).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            if (r.statusCode() == 429 && attempt < 10) {
                Thread.sleep(100L << Math.min(attempt, 5));
                continue;
            }
            if (r.statusCode() != 200) {
                throw new IOException("_bulk answered " + r.statusCode());
            }
            int ok = 0;
            for (JsonNode item : JSON.readTree(r.body()).path("items")) {
                if (item.path("create").path("status").asInt() == 201) {
                    ok++;
                }
            }
            return ok;
        }
    }

    /** Publishes every result once at QoS 1 and waits until the indexer has written them all. */
    private double throughMqtt(List<PingResult> generated, Indexer indexer, Publisher publisher, PrintWriter out)
            throws Exception {
        long before = indexer.stats().documentsWritten() + indexer.stats().duplicates();
        long messagesBefore = indexer.stats().messages();
        long start;
        long published;
        // Payloads encoded up front, as the raw loop's NDJSON is: the timed part is MQTT, indexer and Elasticsearch.
        List<byte[]> payloads = new ArrayList<>(generated.size());
        List<String> topics = new ArrayList<>(generated.size());
        for (PingResult r : generated) {
            payloads.add(PingCodec.encodeV2(r));
            topics.add(Topics.ping(r.target()));
        }
        if (publisher == Publisher.FRAMES) {
            MqttFramePublisher.Frames frames = MqttFramePublisher.encode(topics, payloads);
            try (MqttFramePublisher frameLink = MqttFramePublisher.connect(broker,
                    MqttLink.defaultClientId("swarm-bench"), 30_000)) {
                start = System.nanoTime();
                frameLink.publish(frames, PUBLISH_WINDOW, 5, TimeUnit.MINUTES);
                published = System.nanoTime();
            }
        } else {
            try (MqttLink link = publisher()) {
                start = System.nanoTime();
                publishAll(link, generated, payloads, 0);
                published = System.nanoTime();
            }
        }
        long received = 0;
        long writtenAtReceived = -1;
        long writtenAtPublished = indexer.stats().documentsWritten() + indexer.stats().duplicates() - before;
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(30);
        while (indexer.stats().documentsWritten() + indexer.stats().duplicates() - before < generated.size()) {
            if (received == 0 && indexer.stats().messages() - messagesBefore >= generated.size()) {
                received = System.nanoTime();
                writtenAtReceived = indexer.stats().documentsWritten() + indexer.stats().duplicates() - before;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the indexer wrote only " + (indexer.stats().documentsWritten()
                        - before) + " of " + generated.size() + " in 30 minutes");
            }
            Thread.sleep(5);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        double rate = generated.size() / seconds;
        if (received == 0) {
            received = System.nanoTime();
            writtenAtReceived = generated.size();
        }
        out.printf(Locale.ROOT, "MQTT -> indexer -> Elasticsearch: %d docs in %.2f s: %.0f docs/s (all published "
                + "after %.2f s, all received by the indexer after %.2f s)%n", generated.size(), seconds, rate,
                (published - start) / 1e9, (received - start) / 1e9);
        // What was written while intake ran tells intake-bound from Elasticsearch-bound runs apart.
        lastTimeline = String.format(Locale.ROOT, "published after %.1f s (%d written), received after %.1f s (%d "
                + "written), written after %.1f s", (published - start) / 1e9, writtenAtPublished,
                (received - start) / 1e9, writtenAtReceived, seconds);
        return rate;
    }

    private MqttLink publisher() throws InterruptedException {
        MqttLink link = new MqttLink(MqttLinkConfig.builder().broker(broker).shuffle(false)
                .clientId(MqttLink.defaultClientId("swarm-bench")).cleanSession(true).build(), m -> { },
                Clock.systemUTC());
        link.start();
        if (!link.awaitConnected(Duration.ofSeconds(30))) {
            link.close();
            throw new IllegalStateException("cannot connect to " + broker);
        }
        return link;
    }

    /**
     * Publishes at QoS 1, keeping at most {@value #PUBLISH_WINDOW} publishes outstanding; with {@code ratePerSecond} > 0, paced and
     * returning each result's publish time (ns).
     */
    private long[] publishAll(MqttLink link, List<PingResult> list, List<byte[]> payloads, int ratePerSecond)
            throws Exception {
        long[] sentAt = new long[list.size()];
        List<CompletableFuture<Void>> window = new ArrayList<>();
        long start = System.nanoTime();
        for (int i = 0; i < list.size(); i++) {
            if (ratePerSecond > 0) {
                long due = start + (long) (i * 1e9 / ratePerSecond);
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    TimeUnit.NANOSECONDS.sleep(wait);
                }
            }
            PingResult r = list.get(i);
            sentAt[i] = System.nanoTime();
            window.add(link.publish(Topics.ping(r.target()), payloads != null ? payloads.get(i) : PingCodec.encodeV2(r),
                    1, false));
            if (window.size() >= PUBLISH_WINDOW) {
                CompletableFuture.allOf(window.toArray(CompletableFuture[]::new)).get(5, TimeUnit.MINUTES);
                window.clear();
            }
        }
        CompletableFuture.allOf(window.toArray(CompletableFuture[]::new)).get(5, TimeUnit.MINUTES);
        return sentAt;
    }

    /**
     * Lag from publish to searchable: publishes at a steady rate while another thread polls {@code _count} (no
     * refresh forced) every 10 ms; when the count first reaches k, the k-th result (in publish order) is counted as
     * searchable then. Returns p50 and p99 in milliseconds.
     */
    private double[] lag(Indexer indexer, String stream, Instant t0, PrintWriter out) throws Exception {
        List<PingResult> list = generate(lagResults, t0);
        // Everything of the earlier runs searchable first, so the count only moves for this run's results.
        http.send(HttpRequest.newBuilder(elasticsearch.resolve("/" + stream + "/_refresh"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.discarding());
        long base = count(stream);
        long[] searchableAt = new long[list.size()];
        Arrays.fill(searchableAt, -1);
        Thread poller = new Thread(() -> {
            int seen = 0;
            long until = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
            while (seen < searchableAt.length && System.nanoTime() < until) {
                try {
                    long c = count(stream) - base;
                    long now = System.nanoTime();
                    while (seen < Math.min(c, searchableAt.length)) {
                        searchableAt[seen++] = now;
                    }
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    return;
                } catch (IOException | RuntimeException e) {
                    // A transient error only delays the next sample.
                }
            }
        }, "swarm-bench-lag");
        poller.start();
        long[] sentAt;
        try (MqttLink link = publisher()) {
            sentAt = publishAll(link, list, null, lagRate);
        }
        poller.join(TimeUnit.MINUTES.toMillis(10));
        double[] lags = new double[list.size()];
        for (int i = 0; i < lags.length; i++) {
            if (searchableAt[i] < 0) {
                throw new IllegalStateException("result " + i + " of the lag run never became searchable");
            }
            lags[i] = Math.max(0, searchableAt[i] - sentAt[i]) / 1e6;
        }
        Arrays.sort(lags);
        double p50 = lags[(int) Math.ceil(0.50 * lags.length) - 1];
        double p99 = lags[(int) Math.ceil(0.99 * lags.length) - 1];
        out.printf(Locale.ROOT, "publish -> searchable at %d/s: p50 %.0f ms, p99 %.0f ms (%d written so far)%n",
                lagRate, p50, p99, indexer.stats().documentsWritten());
        return new double[] {p50, p99};
    }

    private boolean templateInstalled() throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(elasticsearch.resolve("/_index_template/swarm-pings"))
                .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.discarding())
                .statusCode() == 200;
    }

    /**
     * Which CPUs each side had, as the JVM and Elasticsearch see them (both honour the CPU affinity a benchmark may
     * set, such as Elasticsearch alone on one core and everything else on the others).
     */
    private String cpus() {
        String es = "unknown";
        try {
            HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(elasticsearch.resolve("/_nodes/_local/os"))
                    .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
            if (r.statusCode() == 200) {
                for (com.fasterxml.jackson.databind.JsonNode node : JSON.readTree(r.body()).path("nodes")) {
                    es = node.path("os").path("allocated_processors").asText("?") + " of "
                            + node.path("os").path("available_processors").asText("?");
                }
            }
        } catch (IOException e) {
            es = "unknown (" + e.getMessage() + ")";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return "Elasticsearch uses " + es + " processors; this process (benchmark, publisher, indexer, raw loop) "
                + Runtime.getRuntime().availableProcessors() + " (the broker is another process)";
    }

    private long count(String stream) throws IOException, InterruptedException {
        HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(elasticsearch.resolve("/" + stream + "/_count"))
                .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        if (r.statusCode() == 404) {
            return 0;
        }
        if (r.statusCode() != 200) {
            throw new IOException("_count answered " + r.statusCode());
        }
        return JSON.readTree(r.body()).path("count").asLong();
    }
}
