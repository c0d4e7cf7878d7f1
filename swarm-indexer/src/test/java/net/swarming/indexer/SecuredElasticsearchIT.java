package net.swarming.indexer;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import net.swarming.common.cli.ExitCodes;
import net.swarming.common.cli.SwarmCli;
import net.swarming.common.mqtt.BrokerAddress;
import net.swarming.common.wire.PingCodec;
import net.swarming.common.wire.PingResult;
import net.swarming.common.wire.ProbeType;
import net.swarming.testkit.ElasticsearchNode;
import net.swarming.testkit.MosquittoBroker;
import net.swarming.testkit.MosquittoClients;
import net.swarming.testkit.MosquittoExtension;
import net.swarming.testkit.SecuredElasticsearchExtension;
import net.swarming.testkit.SecuredElasticsearchNode;
import net.swarming.testkit.SecuredElasticsearchNode.ApiKey;
import net.swarming.testkit.TestCertificates;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.slf4j.LoggerFactory;

/**
 * The indexer against a real Elasticsearch node with security on (https with a CA made for the test, a file-realm
 * user, API keys) and a real mosquitto: issue 4's options end to end, and what a wrong password, a revoked key or a
 * wrong CA do to the results (they stay in the spool).
 */
@ExtendWith({MosquittoExtension.class, SecuredElasticsearchExtension.class})
@Timeout(240)
class SecuredElasticsearchIT {

    private static final Duration WAIT = Duration.ofSeconds(60);

    private final List<Indexer> indexers = new ArrayList<>();
    private final ListAppender<ILoggingEvent> logs = new ListAppender<>();

    private record Streams(String pings, String agents, String deadLetters) {}

    private static Streams uniqueStreams() {
        String suffix = "sec" + Long.toString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE, 36)
                .toLowerCase(Locale.ROOT);
        return new Streams("swarm-pings-" + suffix, "swarm-agents-" + suffix, "swarm-deadletter-" + suffix);
    }

    @BeforeEach
    void captureLogs() {
        logs.start();
        root().addAppender(logs);
    }

    @AfterEach
    void closeIndexersAndStopCapturing() {
        indexers.forEach(Indexer::close);
        root().detachAppender(logs);
        logs.stop();
    }

    private static Logger root() {
        return (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    }

    /** Formatted messages (with the exception's text) of ERROR and WARN events logged by the indexer. */
    private List<String> indexerProblems() {
        synchronized (logs.list) {
            return logs.list.stream()
                    .filter(e -> e.getLevel().isGreaterOrEqual(Level.WARN))
                    .filter(e -> e.getLoggerName().startsWith("net.swarming.indexer"))
                    .map(e -> e.getFormattedMessage()
                            + (e.getThrowableProxy() == null ? "" : " " + e.getThrowableProxy().getMessage()))
                    .collect(Collectors.toList());
        }
    }

    private boolean logged(String text) {
        return indexerProblems().stream().anyMatch(m -> m.contains(text));
    }

    private Indexer start(MosquittoBroker broker, List<URI> urls, ElasticsearchAuth auth, Streams streams,
            UnaryOperator<IndexerConfig.Builder> customize) {
        IndexerConfig.Builder builder = IndexerConfig.builder()
                .brokers(List.of(BrokerAddress.parse(broker.hostPort())))
                .elasticsearch(urls)
                .elasticsearchAuth(auth)
                .pingsStream(streams.pings())
                .agentsStream(streams.agents())
                .deadLetterStream(streams.deadLetters())
                .clientId("indexer-" + streams.pings())
                .bulkSize(50)
                .flushInterval(Duration.ofMillis(200))
                .maxRetryBackoff(Duration.ofSeconds(1))
                .shutdownTimeout(Duration.ofSeconds(2))
                .metricsPort(IndexerConfig.METRICS_DISABLED);
        Indexer indexer = Indexer.start(customize.apply(builder).build(), Clock.systemUTC());
        indexers.add(indexer);
        await().atMost(WAIT).until(indexer::allBrokersConnected);
        return indexer;
    }

    private Indexer start(MosquittoBroker broker, SecuredElasticsearchNode es, ElasticsearchAuth auth,
            Streams streams) {
        return start(broker, List.of(URI.create(es.url())), auth, streams, b -> b);
    }

    private static ElasticsearchAuth basic(SecuredElasticsearchNode es) {
        return new ElasticsearchAuth(es.username(), es.password(), null, es.caCertificate());
    }

    private static ElasticsearchAuth apiKey(SecuredElasticsearchNode es, ApiKey key) {
        return new ElasticsearchAuth(null, null, key.encoded(), es.caCertificate());
    }

    private static void publishResults(MosquittoBroker broker, int from, int to) {
        Instant t0 = Instant.parse("2026-11-21T22:00:00Z");
        for (int i = from; i < to; i++) {
            PingResult r = PingResult.ofRound("bee1", "bee1-id", "127.0.0.1", ProbeType.ICMP, "127.0.0.1",
                    t0.plusSeconds(i), Arrays.asList(0.1, 0.2), 0);
            MosquittoClients.publish(broker, "ping/127.0.0.1", new String(PingCodec.encodeV2(r),
                    StandardCharsets.UTF_8), 1, false);
        }
    }

    private static long count(ElasticsearchNode es, String stream) {
        es.refresh(stream);
        return es.count(stream);
    }

    private static void awaitCount(ElasticsearchNode es, String stream, long expected) {
        // A brand-new backing index answers 503 until its shard is active: retry through that.
        await().atMost(WAIT).pollInterval(Duration.ofMillis(250)).ignoreExceptions()
                .until(() -> count(es, stream) >= expected);
        assertEquals(expected, count(es, stream), "documents in " + stream);
    }

    /**
     * The indexer counts a write when its bulk response has been read, which may be just after a refresh already
     * shows the documents.
     */
    private static void awaitWritten(Indexer indexer, long expected) {
        await().atMost(WAIT).until(() -> indexer.stats().documentsWritten() >= expected);
        assertEquals(expected, indexer.stats().documentsWritten(), indexer.stats().toString());
    }

    private static void assertNothingLost(Indexer indexer, int spooled) {
        IndexerStats s = indexer.stats();
        assertEquals(0, s.documentsWritten(), "written: " + s);
        assertEquals(0, s.documentErrors(), "refused for good (dropped): " + s);
        assertEquals(0, s.documentsDropped(), "dropped: " + s);
        assertEquals(spooled, s.queueDepth(), "kept in the spool: " + s);
    }

    @ParameterizedTest
    @EnumSource(IndexerConfig.BulkWriter.class)
    void whenBasicAuthOverHttpsWithCaFile_thenResultsIndexed(IndexerConfig.BulkWriter writer, MosquittoBroker broker,
            SecuredElasticsearchNode es) {
        Streams s = uniqueStreams();
        Indexer indexer = start(broker, List.of(URI.create(es.url())), basic(es), s, b -> b.bulkWriter(writer));

        publishResults(broker, 0, 5);

        awaitCount(es, s.pings(), 5);
        awaitWritten(indexer, 5);
        assertEquals(0, indexer.stats().requestErrors());
    }

    @ParameterizedTest
    @EnumSource(IndexerConfig.BulkWriter.class)
    void whenApiKeyOverHttpsWithCaFile_thenResultsIndexedAndCountedWithThatKey(IndexerConfig.BulkWriter writer,
            MosquittoBroker broker, SecuredElasticsearchNode es) {
        Streams s = uniqueStreams();
        ApiKey key = es.createApiKey("indexer-" + s.pings());
        start(broker, List.of(URI.create(es.url())), apiKey(es, key), s, b -> b.bulkWriter(writer));

        publishResults(broker, 0, 5);

        awaitCount(es.withAuthorization(key.authorization()), s.pings(), 5);
    }

    @Test
    void whenOneHostIsDead_thenTheOtherTakesTheResults(MosquittoBroker broker, SecuredElasticsearchNode es)
            throws IOException {
        Streams s = uniqueStreams();
        URI dead;
        try (ServerSocket free = new ServerSocket(0)) {
            dead = URI.create("https://127.0.0.1:" + free.getLocalPort());
        }
        Indexer indexer = start(broker, List.of(dead, URI.create(es.url())), basic(es), s, b -> b);

        publishResults(broker, 0, 5);

        awaitCount(es, s.pings(), 5);
        awaitWritten(indexer, 5);
        assertEquals(0, indexer.stats().documentsDropped());
    }

    @Test
    void whenWrongPassword_thenAuthenticationErrorLoggedAndResultsKeptInTheSpool(MosquittoBroker broker,
            SecuredElasticsearchNode es, @TempDir Path spool) {
        Streams s = uniqueStreams();
        ElasticsearchAuth wrong = new ElasticsearchAuth(es.username(), es.password() + "-wrong", null,
                es.caCertificate());
        Indexer indexer = start(broker, List.of(URI.create(es.url())), wrong, s, b -> b.spoolDir(spool));

        publishResults(broker, 0, 3);

        await().atMost(WAIT).until(() -> indexer.stats().messages() == 3
                && logged("unable to authenticate user [" + es.username() + "]"));
        assertTrue(logged("Elasticsearch refused the credentials (HTTP 401")
                && logged("check --elasticsearch-username and --elasticsearch-password"),
                "the refusal and the options to check are named: " + indexerProblems());
        assertNothingLost(indexer, 3);
        indexer.close();
        assertEquals(0, count(es, s.pings()));

        // The same spool with the right password: everything arrives.
        Indexer fixed = start(broker, List.of(URI.create(es.url())), basic(es), s, b -> b.spoolDir(spool));
        awaitCount(es, s.pings(), 3);
        awaitWritten(fixed, 3);
    }

    @ParameterizedTest
    @EnumSource(IndexerConfig.BulkWriter.class)
    void whenApiKeyRevokedWhileRunning_thenResultsKeptInTheSpoolUntilAValidKeyIsGiven(
            IndexerConfig.BulkWriter writer, MosquittoBroker broker, SecuredElasticsearchNode es,
            @TempDir Path spool) {
        Streams s = uniqueStreams();
        ApiKey first = es.createApiKey("revoked-" + s.pings());
        Indexer indexer = start(broker, List.of(URI.create(es.url())), apiKey(es, first), s,
                b -> b.bulkWriter(writer).spoolDir(spool));
        publishResults(broker, 0, 2);
        awaitCount(es, s.pings(), 2);
        awaitWritten(indexer, 2);

        es.invalidateApiKey(first);
        publishResults(broker, 2, 5);

        await().atMost(WAIT).until(() -> indexer.stats().messages() == 5
                && logged("Elasticsearch refused the credentials (HTTP 401"));
        IndexerStats stats = indexer.stats();
        assertEquals(2, stats.documentsWritten(), stats.toString());
        assertEquals(0, stats.documentErrors(), "nothing refused for good (dropped): " + stats);
        assertEquals(3, stats.queueDepth(), "kept in the spool: " + stats);
        indexer.close();

        ApiKey second = es.createApiKey("replacement-" + s.pings());
        start(broker, List.of(URI.create(es.url())), apiKey(es, second), s, b -> b.bulkWriter(writer).spoolDir(spool));
        awaitCount(es, s.pings(), 5);
    }

    @Test
    void whenCaFileIsAnotherCa_thenTlsErrorLoggedAndResultsKeptInTheSpool(MosquittoBroker broker,
            SecuredElasticsearchNode es, @TempDir Path dir) {
        Streams s = uniqueStreams();
        TestCertificates.Authority other = TestCertificates.newAuthority(dir, "other-ca", "not-the-es-ca");
        ElasticsearchAuth wrongCa = new ElasticsearchAuth(es.username(), es.password(), null, other.certificate());
        Indexer indexer = start(broker, List.of(URI.create(es.url())), wrongCa, s, b -> b.spoolDir(dir.resolve("spool")));

        publishResults(broker, 0, 3);

        await().atMost(WAIT).until(() -> indexer.stats().messages() == 3 && logged("SSLHandshakeException"));
        assertTrue(logged("PKIX path building failed"), "the certificate problem is named: " + indexerProblems());
        assertNothingLost(indexer, 3);
    }

    @Test
    void whenSetupWithCredentialsAndCa_thenExit0AndWithWrongPasswordExit1(SecuredElasticsearchNode es) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        List<String> common = List.of("setup", "--elasticsearch", es.url(), "--elasticsearch-ca",
                es.caCertificate().toString(), "--elasticsearch-username", es.username());

        List<String> ok = new ArrayList<>(common);
        ok.addAll(List.of("--elasticsearch-password", es.password()));
        assertEquals(ExitCodes.OK, SwarmCli.run(new IndexerMain(), "SWARM_INDEXER_", Map.of(),
                ok.toArray(String[]::new), new PrintWriter(out, true), new PrintWriter(err, true)), err.toString());
        assertTrue(es.get("/_index_template/swarm-pings").contains("swarm-pings-*"));

        List<String> wrong = new ArrayList<>(common);
        wrong.addAll(List.of("--elasticsearch-password", "wrong"));
        assertEquals(ExitCodes.FAILURE, SwarmCli.run(new IndexerMain(), "SWARM_INDEXER_", Map.of(),
                wrong.toArray(String[]::new), new PrintWriter(out, true), new PrintWriter(err, true)));
        assertTrue(logged("unable to authenticate user [" + es.username() + "]"), indexerProblems().toString());
    }
}
