package net.swarming.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import net.swarming.agent.AgentConfigException.Problem;
import net.swarming.common.mqtt.BrokerAddress;
import net.swarming.common.wire.ProbeType;
import org.junit.jupiter.api.Test;

class AgentConfigTest {

    @Test
    void whenNothingSet_thenTheOriginalsDefaults() {
        AgentConfig c = AgentConfig.builder().build();

        assertEquals(List.of(BrokerAddress.tcp("localhost", 1883), BrokerAddress.tcp("127.0.0.1", 1884)),
                c.brokers());
        assertEquals(AgentConfig.localHostName(), c.name());
        assertTrue(c.clientId().startsWith("swarm-agent-"), c.clientId());
        assertEquals(ResultFormat.V2, c.format());
        assertEquals(ProbeType.ICMP, c.probe()); // "ICMP echo first"
        assertEquals(80, c.tcpPort());
        assertEquals(Duration.ofSeconds(60), c.step());
        assertEquals(20, c.pings());
        assertEquals(Duration.ofSeconds(1), c.pingInterval());
        assertEquals(Duration.ofSeconds(1), c.timeout());
        assertEquals(64, c.maxParallel());
        assertEquals("127.0.0.1", c.metricsHost());
        assertEquals(9461, c.metricsPort());
        assertTrue(c.metricsEnabled());
        assertEquals(10_000, c.queueCapacity());
    }

    @Test
    void whenTwoAgentsUseDefaults_thenTheirClientIdsDiffer() {
        assertFalse(AgentConfig.builder().build().clientId().equals(AgentConfig.builder().build().clientId()));
    }

    @Test
    void whenSeveralValuesAreBad_thenAllAreReportedTogether() {
        AgentConfigException e = assertThrows(AgentConfigException.class, () -> AgentConfig.builder()
                .brokers(List.of())
                .name("bee/1")
                .tcpPort(0)
                .step(Duration.ZERO)
                .pings(0)
                .maxParallel(0)
                .metricsPort(-2)
                .queueCapacity(0)
                .build());

        assertEquals(List.of("brokers", "name", "tcp-port", "step", "pings", "max-parallel", "metrics-port",
                "queue-capacity"), e.problems().stream().map(Problem::key).toList());
        assertTrue(e.getMessage().contains("step: must be between 100ms and 1d, got 0ms"), e.getMessage());
    }

    @Test
    void whenRoundDoesNotFitInStep_thenStepIsNamed() {
        AgentConfigException e = assertThrows(AgentConfigException.class, () -> AgentConfig.builder()
                .step(Duration.ofSeconds(10)).pings(20).pingInterval(Duration.ofSeconds(1)).build());

        assertEquals(1, e.problems().size());
        assertEquals("step", e.problems().get(0).key());
        assertTrue(e.problems().get(0).message().contains("20s"), e.problems().get(0).message());
    }

    @Test
    void whenRoundExactlyFills_thenAccepted() {
        AgentConfig c = AgentConfig.builder().step(Duration.ofSeconds(2)).pings(3)
                .pingInterval(Duration.ofMillis(500)).timeout(Duration.ofSeconds(1)).build();

        assertEquals(Duration.ofSeconds(2), c.step());
    }

    @Test
    void whenMetricsPortIsMinusOne_thenMetricsAreOff() {
        assertFalse(AgentConfig.builder().metricsPort(AgentConfig.METRICS_OFF).build().metricsEnabled());
    }

    @Test
    void nameMustBeOneTopicLevel() {
        assertEquals(null, AgentConfig.nameProblem("bee-AU10.example"));
        for (String bad : new String[] {"", " ", "a/b", "a+b", "a#", "a b", "a\nb"}) {
            assertTrue(AgentConfig.nameProblem(bad) != null, bad);
        }
    }

    @Test
    void toBuilder_roundTrips() {
        AgentConfig c = AgentConfig.builder().name("bee").clientId("id-1").build();

        assertEquals(c, c.toBuilder().build());
    }
}
