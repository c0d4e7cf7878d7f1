package net.swarming.e2e;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.swarming.broker.BrokerConfig;
import net.swarming.broker.SwarmBroker;
import net.swarming.common.mqtt.BrokerAddress;
import net.swarming.indexer.Indexer;
import net.swarming.indexer.IndexerConfig;
import net.swarming.testkit.ElasticsearchExtension;
import net.swarming.testkit.ElasticsearchNode;
import net.swarming.testkit.MosquittoBroker;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The walking skeleton end to end: an agent process, two brokers (a real mosquitto and a swarm-broker), the indexer
 * and a real Elasticsearch node, checked the way an operator would check them.
 */
@ExtendWith(ElasticsearchExtension.class)
class SwarmIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> TARGETS = List.of("127.0.0.1", "localhost", "::1");
    /** An original-format line as mosquitto_sub -v prints it. */
    private static final Pattern ORIGINAL_LINE = Pattern.compile(
            "^ping/(\\S+) \\[\"(bee-e2e-[a-z0-9]+)\", \"ok\", \\{\"Error\": null, \"loss\": ([0-9.]+), "
                    + "\"Round trip\": \\[([0-9.]+), ([0-9.]+), ([0-9.]+), ([0-9.]+)\\]\\}\\]$");

    private final TestResources resources = new TestResources();

    @TempDir
    Path tmp;

    @AfterEach
    void tearDown() {
        resources.closeAll();
    }

    @Test
    @Timeout(value = 4, unit = TimeUnit.MINUTES)
    void whenWatchIsRetained_thenResultsFlowToElasticsearch_surviveFailover_andDeathIsRecorded(ElasticsearchNode es)
            throws Exception {
        String suffix = Long.toString(ThreadLocalRandom.current().nextLong(1L << 40), 36);
        String agentName = "bee-e2e-" + suffix;
        String pings = "swarm-pings-e2e" + suffix;
        String agents = "swarm-agents-e2e" + suffix;

        MosquittoBroker mosquitto = MosquittoBroker.launch();
        resources.add(mosquitto);
        SwarmBroker queen = SwarmBroker.start(BrokerConfig.defaults()
                .withListener("127.0.0.1", 0)
                .withDataDir(tmp.resolve("queen"))
                .withMetrics("127.0.0.1", BrokerConfig.METRICS_OFF));
        resources.add(queen);
        String mosquittoAddress = mosquitto.hostPort();
        String queenAddress = "127.0.0.1:" + queen.port();

        // The operator's retained watch on every broker, as in the original tutorial.
        for (String broker : List.of(mosquittoAddress, queenAddress)) {
            run("mosquitto_pub", "-h", "127.0.0.1", "-p", port(broker), "-t", "watch",
                    "-m", String.join(" ", TARGETS), "-q", "1", "-r");
        }
        Path subMosquitto = tmp.resolve("sub-mosquitto.txt");
        Path subQueen = tmp.resolve("sub-queen.txt");
        startSubscriber(mosquittoAddress, subMosquitto);
        startSubscriber(queenAddress, subQueen);

        Indexer indexer = Indexer.start(IndexerConfig.builder()
                .brokers(List.of(BrokerAddress.parse(mosquittoAddress), BrokerAddress.parse(queenAddress)))
                .elasticsearch(List.of(URI.create(es.url())))
                .pingsStream(pings)
                .agentsStream(agents)
                .flushInterval(Duration.ofMillis(200))
                .metricsPort(IndexerConfig.METRICS_DISABLED)
                .build(), Clock.systemUTC());
        resources.add(indexer);

        Process agent = startAgent(agentName, mosquittoAddress, queenAddress);

        // 1. Results for all three targets land in Elasticsearch with the fields dashboards use.
        await("documents for every target").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                .until(() -> targetsIndexed(es, pings, agentName).containsAll(TARGETS));
        JsonNode doc = latest(es, pings, agentName, "127.0.0.1", null);
        assertEquals(agentName, doc.at("/observer/name").asText());
        assertEquals("127.0.0.1", doc.at("/destination/address").asText());
        assertEquals("127.0.0.1", doc.at("/destination/ip").asText());
        assertEquals("success", doc.at("/event/outcome").asText());
        assertEquals(0.0, doc.at("/swarm/loss_pct").asDouble(), 1e-9);
        double min = doc.at("/swarm/rtt/min").asDouble();
        double avg = doc.at("/swarm/rtt/avg").asDouble();
        double max = doc.at("/swarm/rtt/max").asDouble();
        assertTrue(min > 0 && min <= avg && avg <= max && max < 1000, doc.toString());
        Instant stamp = Instant.parse(doc.at("/@timestamp").asText());
        assertTrue(Duration.between(stamp, Instant.now()).abs().compareTo(Duration.ofMinutes(2)) < 0, doc.toString());
        JsonNode localhost = latest(es, pings, agentName, "localhost", null);
        assertEquals("localhost", localhost.at("/destination/domain").asText());
        JsonNode mapping = JSON.readTree(es.get("/" + pings + "/_mapping"));
        assertEquals("ip", mapping.findPath("destination").at("/properties/ip/type").asText(), mapping.toString());
        assertEquals("date", mapping.findPath("@timestamp").at("/type").asText(), mapping.toString());

        // 2. mosquitto_sub shows the original payload shape on whichever broker the agent uses.
        await("original payloads on mosquitto_sub").atMost(Duration.ofSeconds(30))
                .until(() -> originalLines(subMosquitto, subQueen).size() >= 3);
        Set<String> seen = new HashSet<>();
        for (Matcher m : originalLines(subMosquitto, subQueen)) {
            assertEquals(agentName, m.group(2));
            assertEquals(0.0, Double.parseDouble(m.group(3)), 1e-9);
            assertTrue(Double.parseDouble(m.group(4)) <= Double.parseDouble(m.group(6)));
            seen.add(m.group(1));
        }
        assertEquals(Set.copyOf(TARGETS), seen);

        // 3. Stopping the agent's broker: it fails over to the other one and results continue there.
        String first = latest(es, pings, agentName, null, null).at("/swarm/broker").asText();
        String other = first.equals(mosquittoAddress) ? queenAddress : mosquittoAddress;
        assertTrue(first.equals(mosquittoAddress) || first.equals(queenAddress), first);
        Instant stoppedAt = Instant.now();
        if (first.equals(mosquittoAddress)) {
            mosquitto.stop();
        } else {
            queen.close();
        }
        await("results through the other broker").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                .until(() -> {
                    JsonNode after = latest(es, pings, agentName, null, other);
                    return after != null && Instant.parse(after.at("/event/ingested").asText()).isAfter(stoppedAt);
                });
        assertTrue(agent.isAlive(), "the agent survives losing its broker");

        // 4. kill -9 of the agent: its will on rip/agent/<name> becomes a presence document. (A broker that shuts
        // down may already have published the will of the agent it dropped, so count from here.)
        long ripsBefore = countRip(es, agents, agentName, other);
        agent.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        await("rip document").atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500))
                .until(() -> countRip(es, agents, agentName, other) > ripsBefore);
        JsonNode rip = search(es, agents, "{\"size\":1,\"sort\":[{\"@timestamp\":\"desc\"}],"
                + "\"query\":{\"term\":{\"swarm.broker\":\"" + other + "\"}}}").get(0);
        assertEquals("rip", rip.at("/event/action").asText());
        assertEquals(agentName, rip.at("/observer/name").asText());
        assertTrue(Instant.parse(rip.at("/@timestamp").asText()).isAfter(stoppedAt), rip.toString());
        assertFalse(agent.isAlive());
    }

    private Process startAgent(String name, String... brokers) throws IOException {
        List<String> args = new ArrayList<>(List.of("--name", name, "--format", "original"));
        args.addAll(List.of(brokers));
        return resources.startAgent(tmp.resolve("agent.log"), tmp.resolve("spool"), args);
    }

    private void startSubscriber(String broker, Path out) throws IOException {
        Process p = new ProcessBuilder("mosquitto_sub", "-h", "127.0.0.1", "-p", port(broker), "-t", "ping/+", "-v",
                "-W", "200")
                .redirectErrorStream(true)
                .redirectOutput(out.toFile())
                .start();
        resources.add(p);
    }

    private static List<Matcher> originalLines(Path... files) throws IOException {
        List<Matcher> lines = new ArrayList<>();
        for (Path f : files) {
            if (!Files.exists(f)) {
                continue;
            }
            for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
                Matcher m = ORIGINAL_LINE.matcher(line);
                if (m.matches()) {
                    lines.add(m);
                }
            }
        }
        return lines;
    }

    private static Set<String> targetsIndexed(ElasticsearchNode es, String stream, String agent) throws IOException {
        Set<String> targets = new HashSet<>();
        for (JsonNode hit : search(es, stream, "{\"size\":100,\"query\":{\"term\":{\"observer.name\":\"" + agent + "\"}}}")) {
            targets.add(hit.at("/destination/address").asText());
        }
        return targets;
    }

    /** The newest document of an agent, optionally for one target and through one broker; null when none. */
    private static JsonNode latest(ElasticsearchNode es, String stream, String agent, String target, String broker)
            throws IOException {
        StringBuilder filters = new StringBuilder("{\"term\":{\"observer.name\":\"" + agent + "\"}}");
        if (target != null) {
            filters.append(",{\"term\":{\"destination.address\":\"").append(target).append("\"}}");
        }
        if (broker != null) {
            filters.append(",{\"term\":{\"swarm.broker\":\"").append(broker).append("\"}}");
        }
        List<JsonNode> hits = search(es, stream, "{\"size\":1,\"sort\":[{\"event.ingested\":\"desc\"}],"
                + "\"query\":{\"bool\":{\"filter\":[" + filters + "]}}}");
        return hits.isEmpty() ? null : hits.get(0);
    }

    private static long countRip(ElasticsearchNode es, String stream, String agent, String broker) throws IOException {
        return search(es, stream, "{\"size\":100,\"query\":{\"bool\":{\"filter\":["
                + "{\"term\":{\"observer.name\":\"" + agent + "\"}},{\"term\":{\"event.action\":\"rip\"}},"
                + "{\"term\":{\"swarm.broker\":\"" + broker + "\"}}]}}}").size();
    }

    private static List<JsonNode> search(ElasticsearchNode es, String stream, String query) throws IOException {
        es.refresh(stream + "*");
        if (es.count(stream + "*") == 0) {
            return List.of();
        }
        JsonNode res = JSON.readTree(es.post("/" + stream + "/_search", query));
        List<JsonNode> out = new ArrayList<>();
        res.at("/hits/hits").forEach(h -> out.add(h.get("_source")));
        return out;
    }

    private static String port(String hostPort) {
        return hostPort.substring(hostPort.lastIndexOf(':') + 1);
    }

    private static void run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), String.join(" ", cmd));
        assertEquals(0, p.exitValue(), String.join(" ", cmd).toLowerCase(Locale.ROOT) + ": " + out);
    }
}
