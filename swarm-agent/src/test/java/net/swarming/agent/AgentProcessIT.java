package net.swarming.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
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

/** The packaged agent ({@code target/swarm-agent.jar}) as an operator runs it: signals, will, exit codes. */
@ExtendWith(MosquittoExtension.class)
@Timeout(120)
class AgentProcessIT {

    private final List<AutoCloseable> toClose = new ArrayList<>();
    private ServerSocket listener;
    private String name;
    private Path log;
    @TempDir
    Path spoolDir;

    @BeforeEach
    void setUp() throws IOException {
        listener = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
        toClose.add(listener);
        name = "bee-proc-" + UUID.randomUUID().toString().substring(0, 8);
        log = Files.createTempFile("swarm-agent-", ".log");
    }

    @AfterEach
    void tearDown() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
        Files.deleteIfExists(log);
    }

    private Process launch(MosquittoBroker broker) throws IOException {
        Path jar = Path.of(System.getProperty("swarm.build.dir", "target"), "swarm-agent.jar");
        assertTrue(Files.isRegularFile(jar), jar + " is built by the package phase");
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(java.toString(), "-jar", jar.toString(),
                "--name", name, "--step", "1s", "--pings", "3", "--ping-interval", "100ms", "--timeout", "500ms",
                "--tcp-port", Integer.toString(listener.getLocalPort()), "--metrics-port", "-1",
                "--spool-dir", spoolDir.toString(), broker.hostPort())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        toClose.add(() -> {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        });
        return p;
    }

    private Subscription subscribe(MosquittoBroker broker, String filter) {
        Subscription sub = MosquittoClients.subscribe(broker, filter, 1, Duration.ofSeconds(110));
        toClose.add(sub);
        return sub.awaitSubscribed(Duration.ofSeconds(10));
    }

    @Test
    void whenSigterm_thenOrderlyShutdownWithoutWill(MosquittoBroker broker) throws Exception {
        MosquittoClients.publish(broker, "watch", "127.0.0.1", 1, true);
        Subscription results = subscribe(broker, "ping/+");
        Subscription rip = subscribe(broker, "rip/#");
        Process agent = launch(broker);
        Message first = results.next(Duration.ofSeconds(30));
        assertEquals("ping/127.0.0.1", first.topic());
        // v2 is the default payload.
        assertTrue(first.payload().startsWith("{\"v\":2,\"agent\":\"" + name + "\","), first.payload());
        assertTrue(first.payload().contains("\"status\":\"ok\""), first.payload());

        agent.destroy();

        assertTrue(agent.waitFor(20, TimeUnit.SECONDS), "agent did not stop on SIGTERM; log:\n" + logText());
        assertEquals(143, agent.exitValue(), logText());
        String text = logText();
        for (String step : List.of("shutdown requested", "stopping: no new rounds", "disconnecting from the broker",
                "agent " + name + " stopped")) {
            assertTrue(text.contains(step), "'" + step + "' missing from the log:\n" + text);
        }
        assertNull(rip.poll(Duration.ofSeconds(2)), "a clean shutdown must not trigger the will");
    }

    @Test
    void whenSigtermWhileBrokerDown_thenResultsWaitInTheSpoolAndGoOutAfterTheRestart(MosquittoBroker broker)
            throws Exception {
        MosquittoClients.publish(broker, "watch", "127.0.0.1", 1, true);
        Subscription results = subscribe(broker, "ping/+");
        Process agent = launch(broker);
        results.next(Duration.ofSeconds(30));
        broker.stop();
        java.time.Instant down = java.time.Instant.now();
        results.close();
        // Three steps of 1 s: rounds run and their results cannot go anywhere but the spool.
        TimeUnit.MILLISECONDS.sleep(3_500);
        agent.destroy();
        assertTrue(agent.waitFor(20, TimeUnit.SECONDS), "agent did not stop on SIGTERM; log:\n" + logText());
        java.time.Instant stopped = java.time.Instant.now();
        try (java.util.stream.Stream<Path> files = Files.list(spoolDir)) {
            assertTrue(files.anyMatch(f -> f.toString().endsWith(".seg")), "no spool segment after the stop");
        }

        broker.start();
        Subscription after = subscribe(broker, "ping/+");
        launch(broker);
        List<java.time.Instant> spooled = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (spooled.size() < 2 && System.nanoTime() < deadline) {
            Message m = after.poll(Duration.ofMillis(200));
            if (m == null) {
                continue;
            }
            String start = new com.fasterxml.jackson.databind.ObjectMapper().readTree(m.payload()).get("start")
                    .asText();
            java.time.Instant t = java.time.Instant.parse(start);
            if (t.isAfter(down) && t.isBefore(stopped)) {
                spooled.add(t);
            }
        }
        assertTrue(spooled.size() >= 2, "results of rounds run while the broker was down should arrive after the "
                + "restart; log:\n" + logText());
    }

    @Test
    void whenKilled_thenBrokerPublishesTheWill(MosquittoBroker broker) throws Exception {
        MosquittoClients.publish(broker, "watch", "127.0.0.1", 1, true);
        Subscription results = subscribe(broker, "ping/+");
        Subscription rip = subscribe(broker, "rip/#");
        Process agent = launch(broker);
        results.next(Duration.ofSeconds(30));

        agent.destroyForcibly();

        Message will = rip.next(Duration.ofSeconds(20));
        assertEquals("rip/agent/" + name, will.topic());
        assertEquals("", will.payload());
        assertTrue(!will.retained());
    }

    @Test
    void whenOptionsAreBad_thenExitTwoWithEveryProblem(MosquittoBroker broker) throws Exception {
        Path jar = Path.of(System.getProperty("swarm.build.dir", "target"), "swarm-agent.jar");
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(java.toString(), "-jar", jar.toString(), "--step", "never", "--pings", "0",
                broker.hostPort())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();

        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(2, p.exitValue(), logText());
        assertTrue(logText().contains("error: --step: 'never' is not a duration"), logText());
        assertTrue(logText().contains("error: --pings: must be 1-1000, got 0"), logText());
    }

    private String logText() throws IOException {
        return Files.readString(log);
    }
}
