package net.swarming.agent.probe.icmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import net.swarming.agent.Agent;
import net.swarming.agent.AgentConfig;
import net.swarming.agent.ResultFormat;
import net.swarming.agent.probe.ProbeRegistry;
import net.swarming.common.wire.ProbeType;
import net.swarming.testkit.MosquittoBroker;
import net.swarming.testkit.MosquittoClients;
import net.swarming.testkit.MosquittoClients.Message;
import net.swarming.testkit.MosquittoClients.Subscription;
import net.swarming.testkit.MosquittoExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** ICMP through the whole agent: watch in, v2 results out, against a real mosquitto; loopback targets only. */
@ExtendWith(MosquittoExtension.class)
@Timeout(120)
class IcmpAgentIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path spoolDir;

    @Test
    void whenWatchHasIcmpTargets_thenResultsCarryEveryRttAndRefusalsAreErrors(MosquittoBroker broker)
            throws Exception {
        MosquittoClients.publish(broker, "watch", "127.0.0.1 ::1 224.0.0.1", 1, true);
        AgentConfig config = AgentConfig.builder()
                .brokers(broker.hostPort())
                .name("bee-icmp-" + UUID.randomUUID().toString().substring(0, 8))
                .probe(ProbeType.ICMP)
                .format(ResultFormat.V2)
                .step(Duration.ofSeconds(1))
                .pings(3)
                .pingInterval(Duration.ofMillis(100))
                .timeout(Duration.ofMillis(500))
                .spoolDir(spoolDir)
                .metricsPort(AgentConfig.METRICS_OFF)
                .build();
        try (Subscription sub = MosquittoClients.subscribe(broker, "ping/+", 1, Duration.ofSeconds(100))
                .awaitSubscribed(Duration.ofSeconds(10));
             Agent agent = Agent.start(config, Clock.systemUTC(), ProbeRegistry.builtIn().with(ProbeType.ICMP,
                     context -> new IcmpProbe(context, IcmpOptions.defaults().withMaxPps(100))))) {
            Set<String> topics = Set.of("ping/127.0.0.1", "ping/::1", "ping/224.0.0.1");
            Map<String, JsonNode> first = new HashMap<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (!first.keySet().containsAll(topics) && System.nanoTime() < deadline) {
                Message m = sub.poll(Duration.ofMillis(200));
                if (m != null && topics.contains(m.topic())) {
                    first.putIfAbsent(m.topic(), JSON.readTree(m.payload()));
                }
            }
            assertEquals(topics, first.keySet(), () -> "results: " + first + "; mosquitto_sub: " + sub.output());
            assertTrue(agent.birth().probes().contains(ProbeType.ICMP));

            for (String t : new String[] {"ping/127.0.0.1", "ping/::1"}) {
                JsonNode r = first.get(t);
                assertEquals("icmp", r.get("probe").asText(), r::toString);
                assertEquals("ok", r.get("status").asText(), r::toString);
                assertEquals(0.0, r.get("loss").asDouble(), r::toString);
                assertEquals(3, r.get("rtts").size(), r::toString);
                for (JsonNode rtt : r.get("rtts")) {
                    assertTrue(rtt.isNumber() && rtt.asDouble() > 0 && rtt.asDouble() < 50, r::toString);
                }
            }
            JsonNode refused = first.get("ping/224.0.0.1");
            assertEquals("error", refused.get("status").asText(), refused::toString);
            assertTrue(refused.get("error").asText().contains("multicast"), refused::toString);
        }
    }
}
