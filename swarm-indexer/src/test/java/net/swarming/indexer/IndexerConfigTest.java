package net.swarming.indexer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import net.swarming.common.mqtt.BrokerAddress;
import org.junit.jupiter.api.Test;

class IndexerConfigTest {

    private static IndexerConfig.Builder valid() {
        return IndexerConfig.builder().brokers(List.of(BrokerAddress.parse("queen")));
    }

    @Test
    void whenOnlyBrokersGiven_thenDefaults() {
        IndexerConfig c = valid().build();

        assertEquals(List.of(URI.create("http://localhost:9200")), c.elasticsearch());
        assertEquals("swarm-pings-default", c.pingsStream());
        assertEquals("swarm-agents-default", c.agentsStream());
        assertEquals(1000, c.bulkSize());
        assertEquals(Duration.ofSeconds(1), c.flushInterval());
        assertEquals(IndexerConfig.DEFAULT_SPOOL_MAX_BYTES, c.spoolMaxBytes());
        assertEquals(null, c.spoolDir(), "embedded default: a temporary spool");
        assertEquals("swarm-deadletter-default", c.deadLetterStream());
        assertEquals(9462, c.metricsPort());
        assertTrue(c.clientId().startsWith("swarm-indexer"), c.clientId());
        assertFalse(c.persistentSession(), "a random client id must not leave persistent sessions behind");
        assertEquals(IndexerConfig.MqttIntake.NETTY, c.mqttIntake());
        assertEquals(net.swarming.common.mqtt.MqttSecurity.NONE, c.mqttSecurity());
    }

    @Test
    void whenClientIdGiven_thenPersistentSessionUnlessTurnedOff() {
        assertTrue(valid().clientId("indexer-1").build().persistentSession());
        assertFalse(valid().clientId("indexer-1").persistentSession(false).build().persistentSession());
        assertTrue(valid().persistentSession(true).build().persistentSession());
    }

    @Test
    void whenSeveralValuesBad_thenAllReportedAtOnce() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> IndexerConfig.builder()
                .pingsStream("logs-foo")
                .agentsStream("swarm-agents-UPPER")
                .bulkSize(0)
                .flushInterval(Duration.ZERO)
                .metricsPort(70000)
                .mqttIntake(null)
                .build());

        String m = e.getMessage();
        for (String key : List.of("brokers:", "pings-stream: 'logs-foo'", "agents-stream: 'swarm-agents-UPPER'",
                "bulk-size: 0", "flush-interval: PT0S", "metrics-port: 70000", "mqtt-intake: required; use one of "
                + "[NETTY, PAHO]")) {
            assertTrue(m.contains(key), "missing '" + key + "' in: " + m);
        }
    }

    @Test
    void whenSpoolTooSmallOrCredentialsMixed_thenRefusedNamingEach() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> valid().spoolMaxBytes(1000).deadLetterStream("dead")
                        .elasticsearchAuth(new ElasticsearchAuth("elastic", "pw", "a2V5", Path.of("/nonexistent.pem")))
                        .build());

        for (String key : List.of("spool-max-size: 1000", "dead-letter-stream: 'dead'", "elasticsearch-api-key",
                "elasticsearch-ca: '/nonexistent.pem'")) {
            assertTrue(e.getMessage().contains(key), "missing '" + key + "' in: " + e.getMessage());
        }
    }

    @Test
    void whenSpoolDirGiven_thenClientIdLeftToTheSpoolAndSessionsPersistent() {
        IndexerConfig c = valid().spoolDir(Path.of("/var/lib/swarm-indexer")).build();

        assertEquals(null, c.clientId());
        assertTrue(c.persistentSession());
        assertEquals("basic auth as elastic", new ElasticsearchAuth("elastic", "secret", null, null).toString());
    }

    @Test
    void whenElasticsearchUrlBad_thenMessageNamesItAndTheExpectedForm() {
        for (String bad : List.of("localhost:9200", "ftp://es:9200", "http://", "http://u:p@es:9200", "http://a b")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> IndexerConfig.parseElasticsearchUrl(bad), bad);
            assertTrue(e.getMessage().contains("http://localhost:9200"), e.getMessage());
        }
        assertEquals(URI.create("https://es.example:9243"), IndexerConfig.parseElasticsearchUrl("https://es.example:9243"));
    }
}
