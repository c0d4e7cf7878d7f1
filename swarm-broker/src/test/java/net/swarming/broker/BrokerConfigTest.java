package net.swarming.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class BrokerConfigTest {

    @Test
    void whenDefaults_thenTheDocumentedValues() {
        BrokerConfig c = BrokerConfig.defaults();
        assertEquals("0.0.0.0", c.host());
        assertEquals(1883, c.port());
        assertEquals(Path.of("data"), c.dataDir());
        assertEquals(16 * 1024 * 1024, c.maxMessageBytes());
        assertEquals("0.0.0.0", c.metricsHost());
        assertEquals(9463, c.metricsPort());
        assertTrue(c.metricsEnabled());
    }

    @Test
    void whenEverythingIsWrong_thenOneExceptionNamesEveryProblem() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new BrokerConfig(" ", -1, null, 0, "", -2));
        String m = e.getMessage();
        for (String key : new String[] {"host=", "port=-1", "data-dir=", "max-message-bytes=0", "metrics-host=",
                "metrics-port=-2"}) {
            assertTrue(m.contains(key), key + " not reported in: " + m);
        }
    }

    @Test
    void whenLimitsAreAtTheEdges_thenAccepted() {
        new BrokerConfig("127.0.0.1", 0, Path.of("d"), 1, "127.0.0.1", 0);
        new BrokerConfig("127.0.0.1", 65535, Path.of("d"), BrokerConfig.MQTT_MAX_PACKET_BYTES, "::1", 65535);
        assertThrows(IllegalArgumentException.class,
                () -> BrokerConfig.defaults().withMaxMessageBytes(BrokerConfig.MQTT_MAX_PACKET_BYTES + 1));
        assertThrows(IllegalArgumentException.class, () -> BrokerConfig.defaults().withListener("h", 65536));
    }

    @Test
    void whenOutboundLimitsAreSet_thenKeptByEveryCopyAndValidated() {
        assertEquals(32L * 1024 * 1024, BrokerConfig.defaults().maxQueuedBytes());
        assertEquals(20, BrokerConfig.defaults().maxInflightMessages());
        BrokerConfig c = BrokerConfig.defaults().withMaxQueuedBytes(1).withMaxInflightMessages(65_535)
                .withListener("127.0.0.1", 0).withSessionExpiry(Duration.ZERO).withWebsocketPort(0);
        assertEquals(1, c.maxQueuedBytes());
        assertEquals(65_535, c.maxInflightMessages());

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BrokerConfig.defaults().withMaxQueuedBytes(0).withMaxInflightMessages(0));
        assertTrue(e.getMessage().contains("max-queued-bytes=0 must be at least 1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> BrokerConfig.defaults().withMaxInflightMessages(65_536));
        assertTrue(e.getMessage().contains("max-inflight-messages=65536 must be 1..65535"), e.getMessage());
    }

    @Test
    void whenMaxQueuedMessagesIsSet_thenKeptByEveryCopyAndValidated() {
        assertEquals(1_000_000, BrokerConfig.defaults().maxQueuedMessages());
        assertTrue(BrokerConfig.defaults().queuedMessagesLimited());
        BrokerConfig c = BrokerConfig.defaults().withMaxQueuedMessages(100).withMaxQueuedBytes(1)
                .withMaxInflightMessages(5).withListener("127.0.0.1", 0).withDataDir(Path.of("d"));
        assertEquals(100, c.maxQueuedMessages());
        assertEquals(0, c.withMaxQueuedMessages(0).maxQueuedMessages());
        assertFalse(c.withMaxQueuedMessages(0).queuedMessagesLimited());

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BrokerConfig.defaults().withMaxQueuedMessages(-1));
        assertTrue(e.getMessage().contains("max-queued-messages=-1 must be at least 1, or 0 for no limit"),
                e.getMessage());
    }

    @Test
    void whenMetricsPortIsMinusOne_thenMetricsAreOff() {
        assertFalse(BrokerConfig.defaults().withMetrics("127.0.0.1", BrokerConfig.METRICS_OFF).metricsEnabled());
    }

    @Test
    void whenSessionExpiryIsOutsideWhatMoquetteHandles_thenRefusedWithTheLimits() {
        assertEquals(Duration.ofDays(7), BrokerConfig.defaults().sessionExpiry());
        assertTrue(BrokerConfig.defaults().sessionsExpire());
        assertFalse(BrokerConfig.defaults().withSessionExpiry(Duration.ZERO).sessionsExpire());
        BrokerConfig.defaults().withSessionExpiry(Duration.ofSeconds(1));
        BrokerConfig.defaults().withSessionExpiry(BrokerConfig.MAX_SESSION_EXPIRY);
        assertEquals(2_147_483, BrokerConfig.MAX_SESSION_EXPIRY.toSeconds());
        for (Duration bad : new Duration[] {Duration.ofDays(25), Duration.ofMillis(1500), Duration.ofSeconds(-1),
                BrokerConfig.MAX_SESSION_EXPIRY.plusSeconds(1), null}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> BrokerConfig.defaults().withSessionExpiry(bad));
            assertTrue(e.getMessage().contains("session-expiry=") && e.getMessage().contains("2147483s"),
                    e.getMessage());
        }
    }
}
