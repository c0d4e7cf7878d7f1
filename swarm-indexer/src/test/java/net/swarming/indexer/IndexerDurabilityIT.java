package net.swarming.indexer;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import net.swarming.common.mqtt.BrokerAddress;
import net.swarming.common.wire.PingCodec;
import net.swarming.common.wire.PingResult;
import net.swarming.common.wire.ProbeType;
import net.swarming.testkit.ElasticsearchExtension;
import net.swarming.testkit.ElasticsearchNode;
import net.swarming.testkit.MoquetteBroker;
import net.swarming.testkit.MoquetteExtension;
import net.swarming.testkit.MosquittoBroker;
import net.swarming.testkit.MosquittoExtension;
import net.swarming.testkit.MqttBrokerHandle;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Nothing acknowledged is lost: the indexer killed with SIGKILL mid-stream and restarted (through mosquitto and through
 * Moquette), and Elasticsearch stopped mid-stream long enough for the spool to fill. Counts generated against counts indexed, exactly.
 */
@ExtendWith({MosquittoExtension.class, MoquetteExtension.class, ElasticsearchExtension.class})
@Timeout(420)
class IndexerDurabilityIT {

    private static final Logger LOG = LoggerFactory.getLogger(IndexerDurabilityIT.class);
    private static final Duration WAIT = Duration.ofSeconds(180);

    private final List<Process> processes = new ArrayList<>();
    private final List<Indexer> indexers = new ArrayList<>();

    @TempDir
    Path tmp;

    @AfterEach
    void stopEverything() {
        indexers.forEach(Indexer::close);
        for (Process p : processes) {
            p.destroyForcibly();
        }
    }

    private static String suffix() {
        return "dur" + Long.toString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE, 36)
                .toLowerCase(Locale.ROOT);
    }

    /** {@code n} distinct v2 results (distinct agent/target/round start), one per line, for mosquitto_pub -l. */
    static String results(int n, Instant t0) {
        StringBuilder lines = new StringBuilder(n * 300);
        for (int i = 0; i < n; i++) {
            String agent = "bee" + (i % 50);
            String target = "127.0.0." + (1 + i / 50 % 250);
            PingResult r = PingResult.ofRound(agent, agent + "-id", target, ProbeType.ICMP, target,
                    t0.plusSeconds(i / 12_500).plusMillis(i % 1000), Arrays.asList(0.1, 0.2, null, 0.3), 0);
            lines.append(new String(PingCodec.encodeV2(r), StandardCharsets.UTF_8)).append('\n');
        }
        return lines.toString();
    }

    /** Publishes the lines at QoS 1 with mosquitto_pub -l and waits for it to finish. */
    static void publishLines(MqttBrokerHandle broker, String lines) throws IOException, InterruptedException {
        // An explicit client id: Moquette refuses empty ones.
        Process pub = new ProcessBuilder("mosquitto_pub", "-h", broker.host(), "-p", Integer.toString(broker.port()),
                "-i", "test-pub-" + ThreadLocalRandom.current().nextInt(1_000_000), "-t", "ping/127.0.0.1", "-q", "1",
                "-l").redirectErrorStream(true).start();
        try (OutputStream in = pub.getOutputStream()) {
            in.write(lines.getBytes(StandardCharsets.UTF_8));
        }
        assertTrue(pub.waitFor(120, TimeUnit.SECONDS), "mosquitto_pub finished");
        assertEquals(0, pub.exitValue(), new String(pub.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    static long count(ElasticsearchNode es, String stream) {
        try {
            es.refresh(stream);
            return es.count(stream);
        } catch (RuntimeException e) {
            return -1;
        }
    }

    private Process startIndexerProcess(MqttBrokerHandle broker, ElasticsearchNode es, Path spool, String suffix,
                                        Path log) throws IOException {
        Path jar = Path.of("target", "swarm-indexer.jar").toAbsolutePath();
        assertTrue(Files.isRegularFile(jar), "the runnable jar is built before integration tests: " + jar);
        String java = ProcessHandle.current().info().command().orElse("java");
        Process p = new ProcessBuilder(java, "-Xmx256m", "-jar", jar.toString(),
                "--elasticsearch", es.url(),
                "--pings-stream", "swarm-pings-" + suffix,
                "--agents-stream", "swarm-agents-" + suffix,
                "--dead-letter-stream", "swarm-deadletter-" + suffix,
                "--spool-dir", spool.toString(),
                "--bulk-size", "500",
                "--flush-interval", "200ms",
                "--metrics-port", "-1",
                broker.hostPort())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        processes.add(p);
        return p;
    }

    @Test
    void whenIndexerKilledMidStreamAndRestarted_thenEveryResultIndexedExactlyOnce(MosquittoBroker broker,
            ElasticsearchNode es) throws Exception {
        killAndRestart(broker, es, 20_000, 1_000);
    }

    /** The same through the Moquette broker the swarm-broker embeds (10 unacknowledged messages per session). */
    @Test
    void whenIndexerKilledMidStreamOnMoquetteAndRestarted_thenEveryResultIndexedExactlyOnce(MoquetteBroker broker,
            ElasticsearchNode es) throws Exception {
        killAndRestart(broker, es, 5_000, 500);
    }

    private void killAndRestart(MqttBrokerHandle broker, ElasticsearchNode es, int n, int killAfter)
            throws Exception {
        String suffix = suffix();
        String pings = "swarm-pings-" + suffix;
        Path spool = tmp.resolve("spool");
        Path log = tmp.resolve("indexer.log");
        Process first = startIndexerProcess(broker, es, spool, suffix, log);
        // The first result, sent until it arrives, proves the persistent session exists: the broker queues for it
        // from now on. Sent again it is the same document (same _id).
        String probe = results(1, Instant.parse("2026-11-21T10:00:00Z"));
        for (int i = 0; i < 60 && count(es, pings) < 1; i++) {
            publishLines(broker, probe);
            Thread.sleep(2_000);
        }
        assertEquals(1, count(es, pings));
        String clientId = Files.readString(spool.resolve("client-id")).trim();

        String lines = results(n, Instant.parse("2026-11-21T11:00:00Z"));
        Thread publisher = new Thread(() -> {
            try {
                publishLines(broker, lines);
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }, "test-publisher");
        publisher.start();
        await().atMost(WAIT).pollInterval(Duration.ofMillis(20)).until(() -> count(es, pings) > killAfter);
        first.destroyForcibly();
        assertTrue(first.waitFor(30, TimeUnit.SECONDS));
        long atKill = count(es, pings);
        LOG.info("indexer killed (SIGKILL) with {} of {} results in Elasticsearch (broker {})", atKill, n + 1,
                broker);
        assertTrue(atKill < n + 1, "killed mid-stream, not after the end: " + atKill);
        publisher.join(150_000);

        startIndexerProcess(broker, es, spool, suffix, log);

        await().atMost(WAIT).pollInterval(Duration.ofMillis(500)).until(() -> count(es, pings) >= n + 1);
        Thread.sleep(2_000);
        assertEquals(n + 1, count(es, pings), "every result exactly once");
        assertEquals(clientId, Files.readString(spool.resolve("client-id")).trim(), "same client id after restart");
        String output = Files.readString(log);
        assertTrue(output.contains(clientId), "the indexer logs its client id");
    }

    @Test
    void whenElasticsearchStoppedMidStreamAndSpoolFills_thenEveryResultIndexedOnceItIsBack(MosquittoBroker broker,
            ElasticsearchNode es) throws Exception {
        String suffix = suffix();
        String pings = "swarm-pings-" + suffix;
        Indexer indexer = Indexer.start(IndexerConfig.builder()
                .brokers(List.of(BrokerAddress.parse(broker.hostPort())))
                .elasticsearch(List.of(IndexerConfig.parseElasticsearchUrl(es.url())))
                .pingsStream(pings)
                .agentsStream("swarm-agents-" + suffix)
                .deadLetterStream("swarm-deadletter-" + suffix)
                .spoolDir(tmp.resolve("spool"))
                .spoolMaxBytes(IndexerConfig.MIN_SPOOL_MAX_BYTES)
                .bulkSize(500)
                .flushInterval(Duration.ofMillis(200))
                .maxRetryBackoff(Duration.ofSeconds(1))
                .metricsPort(IndexerConfig.METRICS_DISABLED)
                .build(), Clock.systemUTC());
        indexers.add(indexer);
        await().atMost(WAIT).until(indexer::allBrokersConnected);

        int n = 8_000;
        String first = results(2_000, Instant.parse("2026-11-21T12:00:00Z"));
        String rest = results(n, Instant.parse("2026-11-21T12:00:00Z")).substring(first.length());
        publishLines(broker, first);
        await().atMost(WAIT).pollInterval(Duration.ofMillis(20)).until(() -> count(es, pings) > 200);

        AtomicBoolean sawFull = new AtomicBoolean();
        es.stop();
        try {
            publishLines(broker, rest);
            // About 480 bytes a document: 8,000 do not fit in 1 MiB, so the spool fills and acks stop.
            await().atMost(WAIT).pollInterval(Duration.ofMillis(100)).until(() -> indexer.stats().spoolFull());
            sawFull.set(true);
            IndexerStats s = indexer.stats();
            LOG.info("spool full during the outage: {} documents, {} bytes, {} messages received, {} unacknowledged",
                    s.queueDepth(), s.spoolBytes(), s.messages(), s.unacknowledged());
            assertTrue(s.unacknowledged() > 0, "messages that do not fit are not acknowledged: " + s);
            assertTrue(s.spoolBytes() <= IndexerConfig.MIN_SPOOL_MAX_BYTES + Indexer.segmentBytes(
                    IndexerConfig.MIN_SPOOL_MAX_BYTES), "bounded: " + s.spoolBytes());
        } finally {
            es.start();
        }

        await().atMost(WAIT).pollInterval(Duration.ofMillis(500)).until(() -> count(es, pings) >= n);
        await().atMost(WAIT).until(() -> indexer.stats().queueDepth() == 0);
        assertTrue(sawFull.get());
        assertEquals(n, count(es, pings), "every result exactly once");
        assertEquals(0, indexer.stats().documentsDropped());
        assertTrue(indexer.stats().requestErrors() > 0, "the outage was seen");
    }
}
