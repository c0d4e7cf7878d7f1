package net.swarming.agent;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import net.swarming.common.wire.WatchRejectedException;
import net.swarming.testkit.MosquittoBroker;
import net.swarming.testkit.MosquittoClients;
import net.swarming.testkit.MosquittoClients.Message;
import net.swarming.testkit.MosquittoClients.Subscription;
import net.swarming.testkit.MosquittoExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The agent against a real mosquitto, driven and observed with mosquitto_pub / mosquitto_sub as an operator would.
 * Targets are loopback addresses only; the probes connect to a local listening socket.
 */
@ExtendWith(MosquittoExtension.class)
@Timeout(120)
class AgentIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration STEP = Duration.ofSeconds(1);
    private static final Duration WAIT = Duration.ofSeconds(20);

    private final List<AutoCloseable> toClose = new ArrayList<>();
    private ServerSocket listener;
    private String name;
    @TempDir
    Path spoolDir;

    @BeforeEach
    void setUp() throws IOException {
        listener = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
        toClose.add(listener);
        name = "bee-it-" + UUID.randomUUID().toString().substring(0, 8);
    }

    @AfterEach
    void tearDown() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    private AgentConfig.Builder config(MosquittoBroker broker) {
        return AgentConfig.builder()
                .brokers(broker.hostPort())
                .name(name)
                .step(STEP)
                .pings(3)
                .pingInterval(Duration.ofMillis(100))
                .timeout(Duration.ofMillis(500))
                .tcpPort(listener.getLocalPort())
                .spoolDir(spoolDir)
                .metricsPort(AgentConfig.METRICS_OFF);
    }

    private Agent start(AgentConfig config, Clock clock) {
        Agent agent = Agent.start(config, clock);
        toClose.add(agent);
        return agent;
    }

    private Subscription subscribe(MosquittoBroker broker, String... extraArgs) {
        Subscription sub = MosquittoClients.subscribe(broker, "ping/+", 1, Duration.ofSeconds(110), extraArgs);
        toClose.add(sub);
        return sub.awaitSubscribed(Duration.ofSeconds(10));
    }

    private static void watch(MosquittoBroker broker, String payload) {
        MosquittoClients.publish(broker, "watch", payload, 1, true);
    }

    @Test
    void whenWatchPublished_thenEveryTargetGetsResultsInTheOriginalFormat(MosquittoBroker broker) throws Exception {
        watch(broker, "127.0.0.1 localhost ::1");
        Subscription sub = subscribe(broker);
        Agent agent = start(config(broker).format(ResultFormat.ORIGINAL).metricsPort(0).build(), Clock.systemUTC());

        Map<String, String> first = firstPayloadPerTopic(sub, Set.of("ping/127.0.0.1", "ping/localhost", "ping/::1"));

        for (Map.Entry<String, String> e : first.entrySet()) {
            // What `mosquitto_sub -t 'ping/+' -v` prints: the topic, a space, the payload.
            String line = e.getKey() + " " + e.getValue();
            assertTrue(line.startsWith(e.getKey() + " [\"" + name + "\", \"ok\", {\"Error\": null, \"loss\": 0.0, "
                    + "\"Round trip\": ["), line);
            JsonNode array = JSON.readTree(e.getValue());
            assertEquals(3, array.size(), line);
            assertEquals(name, array.get(0).asText());
            assertEquals("ok", array.get(1).asText());
            JsonNode body = array.get(2);
            assertEquals(List.of("Error", "loss", "Round trip"), fieldNames(body), line);
            assertTrue(body.get("Error").isNull());
            assertEquals(0.0, body.get("loss").asDouble());
            JsonNode rt = body.get("Round trip");
            assertEquals(4, rt.size(), line);
            rt.forEach(v -> assertTrue(v.isNumber() && v.asDouble() >= 0, line));
            assertTrue(rt.get(0).asDouble() <= rt.get(1).asDouble() && rt.get(1).asDouble() <= rt.get(2).asDouble(),
                    "min <= avg <= max: " + line);
        }

        String metrics = get("http://127.0.0.1:" + agent.metricsPort() + "/metrics");
        assertTrue(metrics.contains("swarm_agent_targets 3.0"), metrics);
        assertTrue(metrics.contains("swarm_agent_broker_connected 1.0"), metrics);
        for (String name : List.of("swarm_agent_rounds_total", "swarm_agent_probes_sent_total",
                "swarm_agent_probes_received_total", "swarm_agent_results_published_total",
                "swarm_agent_results_dropped_total", "swarm_agent_queue_depth", "swarm_agent_broker_reconnects_total",
                "swarm_agent_watch_rejected_total{reason=\"malformed_json\"}", "swarm_agent_rounds_late_total",
                "swarm_agent_rounds_refused_total", "swarm_agent_spool_messages 0.0", "swarm_agent_spool_bytes 0.0",
                "swarm_agent_spool_dropped_total 0.0")) {
            assertTrue(metrics.contains(name), name + " missing from /metrics");
        }
    }

    @Test
    void whenWatchChanges_thenRemovedTargetGetsNoResultsAfterOneStep(MosquittoBroker broker) throws Exception {
        watch(broker, "127.0.0.1 localhost");
        Subscription sub = subscribe(broker);
        Agent agent = start(config(broker).build(), Clock.systemUTC());
        firstPayloadPerTopic(sub, Set.of("ping/127.0.0.1", "ping/localhost"));

        watch(broker, "localhost");
        await().atMost(WAIT).until(() -> agent.targetCount() == 1);
        // A round started before the change may still report: allow one step plus one round.
        Thread.sleep(STEP.toMillis() + 700);
        drain(sub);

        List<Message> window = collect(sub, Duration.ofSeconds(3));
        assertTrue(window.stream().noneMatch(m -> m.topic().equals("ping/127.0.0.1")),
                "removed target still reported: " + window);
        assertTrue(window.stream().filter(m -> m.topic().equals("ping/localhost")).count() >= 2,
                "remaining target should report every step: " + window);
    }

    @Test
    void whenWatchIsInvalid_thenPreviousListIsKept(MosquittoBroker broker) throws Exception {
        watch(broker, "127.0.0.1");
        Subscription sub = subscribe(broker);
        Agent agent = start(config(broker).build(), Clock.systemUTC());
        firstPayloadPerTopic(sub, Set.of("ping/127.0.0.1"));

        MosquittoClients.publish(broker, "watch", "{not json", 1, false);

        await().atMost(WAIT).until(
                () -> agent.metrics().watchRejectedCount(WatchRejectedException.Reason.MALFORMED_JSON) == 1);
        assertEquals(1, agent.targetCount());
        drain(sub);
        List<Message> window = collect(sub, Duration.ofMillis(2500));
        assertTrue(window.stream().filter(m -> m.topic().equals("ping/127.0.0.1")).count() >= 2,
                "previous target should still report: " + window);
    }

    @Test
    void whenFormatIsV2_thenResultCarriesRoundStartAndEveryRtt(MosquittoBroker broker) throws Exception {
        Instant start = Instant.parse("2021-02-03T04:05:06.789Z");
        watch(broker, "127.0.0.1");
        Subscription sub = subscribe(broker);
        AgentConfig config = config(broker).format(ResultFormat.V2).build();
        start(config, Clock.fixed(start, ZoneOffset.UTC));

        String payload = firstPayloadPerTopic(sub, Set.of("ping/127.0.0.1")).get("ping/127.0.0.1");

        JsonNode v2 = JSON.readTree(payload);
        assertEquals(2, v2.get("v").asInt(), payload);
        assertEquals(name, v2.get("agent").asText());
        assertEquals(config.clientId(), v2.get("agent_id").asText());
        assertEquals("127.0.0.1", v2.get("target").asText());
        assertEquals("icmp", v2.get("probe").asText()); // the default probe
        assertEquals("127.0.0.1", v2.get("ip").asText());
        assertEquals("2021-02-03T04:05:06.789Z", v2.get("start").asText());
        assertEquals("ok", v2.get("status").asText());
        assertEquals(3, v2.get("sent").asInt());
        assertEquals(3, v2.get("received").asInt());
        assertEquals(0.0, v2.get("loss").asDouble());
        assertEquals(3, v2.get("rtts").size());
        assertTrue(v2.get("rtt").get("max").asDouble() >= v2.get("rtt").get("min").asDouble());
    }

    @Test
    void whenBrokerRestarts_thenQueuedResultsAreDrainedInOrderAndResultsContinue(MosquittoBroker broker)
            throws Exception {
        watch(broker, "127.0.0.1");
        // A persistent session: the broker keeps what is published while this subscriber reconnects.
        String subscriberId = "agent-it-" + UUID.randomUUID().toString().substring(0, 8);
        Subscription before = subscribe(broker, "-c", "-i", subscriberId);
        Agent agent = start(config(broker).format(ResultFormat.V2).build(), Clock.systemUTC());
        firstPayloadPerTopic(before, Set.of("ping/127.0.0.1"));

        broker.stop();
        Instant down = Instant.now();
        before.close();
        // Long enough for rounds to start (and queue their results) while the broker is surely down.
        await().atMost(WAIT).until(() -> agent.queueDepth() >= 2
                && Duration.between(down, Instant.now()).compareTo(STEP.multipliedBy(5).dividedBy(2)) > 0);
        assertTrue(agent.spooled() >= 1, "results wait in the on-disk spool while no broker is reachable");
        Instant up = Instant.now();
        broker.start();
        Subscription after = subscribe(broker, "-c", "-i", subscriberId);

        await().atMost(Duration.ofSeconds(60)).until(() -> agent.isConnected() && agent.queueDepth() == 0);
        Instant reconnected = Instant.now();
        List<Instant> starts = new ArrayList<>();
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline && starts.stream().filter(s -> s.isAfter(reconnected)).count() < 2) {
            Message m = after.poll(Duration.ofMillis(200));
            if (m != null) {
                starts.add(Instant.parse(JSON.readTree(m.payload()).get("start").asText()));
            }
        }

        assertTrue(starts.stream().anyMatch(s -> s.isAfter(down) && s.isBefore(up)),
                "results of rounds run while the broker was down should arrive after it is back: " + starts
                        + " (down " + down + ", up " + up + ")");
        assertTrue(starts.stream().filter(s -> s.isAfter(reconnected)).count() >= 2,
                "results should continue after the reconnect at " + reconnected + ": " + starts);
        // In order; a repeat is allowed (QoS 1: a result whose PUBACK was lost with the connection is sent again).
        for (int i = 1; i < starts.size(); i++) {
            assertTrue(!starts.get(i).isBefore(starts.get(i - 1)), "out of order: " + starts);
        }
        assertTrue(counterValue(agent, "swarm_agent_broker_reconnects") >= 1.0);
        assertEquals(0, agent.metrics().resultsDroppedCount());
    }

    @Test
    void whenConnected_thenRetainedBirthAnnouncesTheAgent_andCleanStopClearsIt(MosquittoBroker broker)
            throws Exception {
        Subscription births = MosquittoClients.subscribe(broker, "birth/#", 1, Duration.ofSeconds(110));
        toClose.add(births);
        births.awaitSubscribed(Duration.ofSeconds(10));
        Agent agent = start(config(broker).location("rack 3, Paris").build(), Clock.systemUTC());

        Message birth = births.next(WAIT);
        assertEquals("birth/agent/" + name, birth.topic());
        JsonNode node = JSON.readTree(birth.payload());
        assertEquals(name, node.get("agent").asText());
        assertEquals(agent.config().clientId(), node.get("agent_id").asText());
        assertEquals("rack 3, Paris", node.get("location").asText());
        assertEquals(net.swarming.common.cli.SwarmVersion.version(), node.get("version").asText());
        assertTrue(node.get("probes").toString().contains("\"tcp\""), birth.payload());
        Instant started = Instant.parse(node.get("started").asText());
        assertTrue(Duration.between(started, Instant.now()).abs().compareTo(Duration.ofMinutes(1)) < 0);

        // Retained: a reader that comes later still sees the live agent.
        Subscription late = MosquittoClients.subscribe(broker, "birth/#", 1, Duration.ofSeconds(110));
        toClose.add(late);
        Message retained = late.next(WAIT);
        assertTrue(retained.retained(), "the birth message is retained");
        assertEquals(birth.payload(), retained.payload());

        agent.close();
        Message cleared = births.next(WAIT);
        assertEquals("birth/agent/" + name, cleared.topic());
        assertEquals("", cleared.payload());
        Subscription after = MosquittoClients.subscribe(broker, "birth/#", 1, Duration.ofSeconds(110));
        toClose.add(after);
        after.awaitSubscribed(Duration.ofSeconds(10));
        assertEquals(null, after.poll(Duration.ofSeconds(1)), "a cleanly stopped agent leaves no retained birth");
    }

    @Test
    void whenStoppedCleanlyWithSpooledResults_thenTheyAreDeliveredAfterTheRestart(MosquittoBroker broker)
            throws Exception {
        watch(broker, "127.0.0.1");
        Subscription sub = subscribe(broker);
        Agent first = start(config(broker).build(), Clock.systemUTC());
        firstPayloadPerTopic(sub, Set.of("ping/127.0.0.1"));

        broker.stop();
        Instant down = Instant.now();
        sub.close();
        await().atMost(WAIT).until(() -> first.spooled() >= 3);
        first.close();
        Instant stopped = Instant.now();

        broker.start();
        Subscription after = subscribe(broker);
        Agent second = start(config(broker).build(), Clock.systemUTC());
        List<Instant> starts = new ArrayList<>();
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline && starts.stream().filter(t -> t.isAfter(stopped)).count() < 1) {
            Message m = after.poll(Duration.ofMillis(200));
            if (m != null) {
                starts.add(Instant.parse(JSON.readTree(m.payload()).get("start").asText()));
            }
        }
        assertTrue(starts.stream().filter(t -> t.isAfter(down) && t.isBefore(stopped)).count() >= 3,
                "results spooled before the clean stop arrive after the restart: " + starts + " (down " + down
                        + ", stopped " + stopped + ")");
        for (int i = 1; i < starts.size(); i++) {
            assertTrue(!starts.get(i).isBefore(starts.get(i - 1)), "out of order: " + starts);
        }
        await().atMost(WAIT).until(() -> second.spooled() == 0);
    }

    @Test
    void whenWatchAsksForAnHttpProbe_thenV2ResultCarriesStatusAndPhaseTimings(MosquittoBroker broker)
            throws Exception {
        com.sun.net.httpserver.HttpServer web = com.sun.net.httpserver.HttpServer.create(
                new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        web.createContext("/", exchange -> {
            exchange.sendResponseHeaders(503, -1);
            exchange.close();
        });
        web.start();
        toClose.add(() -> web.stop(0));
        String url = "http://127.0.0.1:" + web.getAddress().getPort() + "/status";
        watch(broker, "{\"version\":1,\"targets\":[{\"target\":\"" + url + "\",\"probe\":\"http\",\"pings\":2}]}");
        Subscription sub = subscribe(broker);
        start(config(broker).build(), Clock.systemUTC());

        String topic = net.swarming.common.wire.Topics.ping(url);
        JsonNode v2 = JSON.readTree(firstPayloadPerTopic(sub, Set.of(topic)).get(topic));
        assertEquals("http", v2.get("probe").asText());
        assertEquals(url, v2.get("target").asText());
        assertEquals(2, v2.get("sent").asInt());
        assertEquals(2, v2.get("received").asInt());
        assertEquals(503, v2.get("http_status").asInt());
        assertEquals(List.of("dns", "connect", "first_byte"), fieldNames(v2.get("phases")));
        assertTrue(v2.get("phases").get("connect").asDouble() >= 0);
    }

    private static Map<String, String> firstPayloadPerTopic(Subscription sub, Set<String> topics) {
        Map<String, String> first = new LinkedHashMap<>();
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!first.keySet().containsAll(topics)) {
            Message m = sub.poll(Duration.ofMillis(200));
            if (m != null && topics.contains(m.topic())) {
                first.putIfAbsent(m.topic(), m.payload());
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no result for " + topics + " within " + WAIT + "; got " + first.keySet()
                        + "; mosquitto_sub: " + sub.output());
            }
        }
        return first;
    }

    private static void drain(Subscription sub) {
        while (sub.poll(Duration.ZERO) != null) {
            // discard what arrived before the window of interest
        }
    }

    private static List<Message> collect(Subscription sub, Duration window) {
        List<Message> out = new ArrayList<>();
        long deadline = System.nanoTime() + window.toNanos();
        long left;
        while ((left = deadline - System.nanoTime()) > 0) {
            Message m = sub.poll(Duration.ofNanos(Math.min(left, 100_000_000L)));
            if (m != null) {
                out.add(m);
            }
        }
        return out;
    }

    private static double counterValue(Agent agent, String name) {
        for (MetricSnapshot snapshot : agent.registry().scrape()) {
            if (snapshot.getMetadata().getName().equals(name)) {
                return ((CounterSnapshot) snapshot).getDataPoints().get(0).getValue();
            }
        }
        throw new AssertionError(name + " is not registered");
    }

    private static List<String> fieldNames(JsonNode object) {
        List<String> names = new ArrayList<>();
        object.fieldNames().forEachRemaining(names::add);
        return names;
    }

    private static String get(String url) throws IOException, InterruptedException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(url))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode());
        return response.body();
    }
}
