package net.swarming.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Clock;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import net.swarming.agent.probe.Probe;
import net.swarming.agent.probe.ProbeRound;
import net.swarming.common.cli.SwarmVersion;
import net.swarming.common.wire.BirthMessage;
import net.swarming.common.wire.ProbeType;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import net.swarming.agent.probe.ProbeRegistry;
import net.swarming.common.cli.StartupException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The agent without a broker: start-up checks and shutdown. Brokers point at a closed loopback port. */
@Timeout(60)
class AgentTest {

    @TempDir
    static Path spoolDir;

    private static AgentConfig.Builder config() throws IOException {
        return AgentConfig.builder()
                .spoolDir(spoolDir)
                .brokers("127.0.0.1:" + closedLoopbackPort())
                .name("bee-test")
                .step(Duration.ofSeconds(1))
                .pings(3)
                .pingInterval(Duration.ofMillis(100))
                .timeout(Duration.ofMillis(500))
                .metricsPort(AgentConfig.METRICS_OFF);
    }

    @Test
    void whenNoBrokerIsReachable_thenStartReturnsAndCloseIsQuickAndIdempotent() throws Exception {
        Agent agent = Agent.start(config().build(), Clock.systemUTC());
        assertFalse(agent.isConnected());
        assertEquals(0, agent.targetCount());

        long t0 = System.nanoTime();
        agent.close();
        agent.close();

        assertTrue(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0) < 5, "close took too long");
        assertTrue(agentThreads().isEmpty(), "threads left: " + agentThreads());
    }

    @Test
    void whenStarted_thenBirthNamesTheAgentItsLocationVersionAndTheProbesItHas() throws Exception {
        Instant now = Instant.parse("2026-11-21T18:00:00.123Z");
        ProbeRegistry registry = ProbeRegistry.empty()
                .with(ProbeType.TCP, net.swarming.agent.probe.tcp.TcpConnectProbe::new)
                .with(ProbeType.DNS, ctx -> new Probe() {
                    @Override
                    public ProbeType type() {
                        return ProbeType.DNS;
                    }

                    @Override
                    public java.util.concurrent.CompletableFuture<ProbeRound> round(
                            net.swarming.agent.probe.ProbeRequest request) {
                        return new java.util.concurrent.CompletableFuture<>();
                    }
                });
        AgentConfig config = config().location("lab").probe(ProbeType.TCP).build();
        try (Agent agent = Agent.start(config, Clock.fixed(now, ZoneOffset.UTC), registry)) {
            BirthMessage birth = agent.birth();
            assertEquals("bee-test", birth.name());
            assertEquals(agent.config().clientId(), birth.agentId());
            assertEquals("lab", birth.location());
            assertEquals(SwarmVersion.version(), birth.version());
            assertEquals(List.of(ProbeType.TCP, ProbeType.DNS), birth.probes());
            assertEquals(now, birth.started());
        }
    }

    @Test
    void whenSpoolDirectoryIsInUse_thenStartupExceptionNamingIt() throws Exception {
        Agent first = Agent.start(config().build(), Clock.systemUTC());
        try {
            StartupException e = assertThrows(StartupException.class,
                    () -> Agent.start(config().build(), Clock.systemUTC()));
            assertTrue(e.getMessage().contains("in use by another agent"), e.getMessage());
        } finally {
            first.close();
        }
        // Released by close: the next agent may use the directory.
        Agent.start(config().build(), Clock.systemUTC()).close();
    }

    @Test
    void whenMetricsPortIsTaken_thenStartupExceptionAndNothingLeaks() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            AgentConfig config = config().metricsHost("127.0.0.1").metricsPort(taken.getLocalPort()).build();

            StartupException e = assertThrows(StartupException.class, () -> Agent.start(config, Clock.systemUTC()));

            assertTrue(e.getMessage().contains(Integer.toString(taken.getLocalPort())), e.getMessage());
        }
        assertTrue(agentThreads().isEmpty(), "threads left: " + agentThreads());
    }

    @Test
    void whenMetricsPortIsZero_thenAFreePortIsServed() throws Exception {
        try (Agent agent = Agent.start(config().metricsPort(0).build(), Clock.systemUTC())) {
            assertTrue(agent.metricsPort() > 0);
        }
    }

    @Test
    void whenDefaultProbeIsNotAvailable_thenConfigProblemNamesProbe() throws Exception {
        AgentConfig config = config().build();

        AgentConfigException e = assertThrows(AgentConfigException.class,
                () -> Agent.start(config, Clock.systemUTC(), ProbeRegistry.empty()));

        assertEquals("probe", e.problems().get(0).key());
    }

    private static Set<String> agentThreads() throws InterruptedException {
        // Threads may take a moment to finish after their executor is shut down.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        Set<String> names;
        do {
            names = new java.util.TreeSet<>();
            for (Thread t : Thread.getAllStackTraces().keySet()) {
                if (t.isAlive() && (t.getName().startsWith("swarm-agent-") || t.getName().startsWith("swarm-probe-")
                        || t.getName().startsWith("swarm-mqtt-swarm-agent-")
                        || t.getName().startsWith("swarm-mqtt-dispatch-swarm-agent-")
                        || t.getName().startsWith("swarm-mqtt-publish-swarm-agent-"))) {
                    names.add(t.getName());
                }
            }
            if (names.isEmpty()) {
                return names;
            }
            TimeUnit.MILLISECONDS.sleep(50);
        } while (System.nanoTime() < deadline);
        return names;
    }

    private static int closedLoopbackPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
