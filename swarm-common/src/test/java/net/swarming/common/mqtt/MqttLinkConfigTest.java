package net.swarming.common.mqtt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MqttLinkConfigTest {

    @Test
    void whenBuiltWithOnlyABroker_thenDefaultsApply() {
        MqttLinkConfig c = MqttLinkConfig.builder().broker("queen").build();
        assertEquals(List.of(BrokerAddress.parse("queen:1883")), c.brokers());
        assertTrue(c.shuffle());
        assertTrue(c.cleanSession());
        assertEquals(Duration.ofSeconds(60), c.keepAlive());
        assertEquals(1000, c.maxInflight());
        assertEquals(Duration.ofSeconds(10), c.connectTimeout());
        assertEquals(Duration.ofMillis(200), c.backoffInitial());
        assertEquals(Duration.ofSeconds(30), c.backoffMax());
        assertNull(c.will());
        assertEquals(List.of(), c.subscriptions());
        assertFalse(c.manualAcks());
        assertTrue(c.clientId().startsWith("swarm-"), c.clientId());
    }

    @Test
    void whenEverythingIsWrong_thenOneExceptionListsEveryProblem() {
        MqttLinkConfig.Builder b = MqttLinkConfig.builder()
                .clientId(" ")
                .keepAlive(Duration.ofMillis(1500))
                .maxInflight(0)
                .connectTimeout(Duration.ZERO)
                .backoff(Duration.ofSeconds(5), Duration.ofSeconds(1))
                .subscribe("ping/+", 2)
                .subscribe("ping/+", 1)
                .manualAcks(true);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, b::build);
        String m = e.getMessage();
        for (String expected : List.of("brokers: empty", "clientId: blank", "keepAlive: PT1.5S is not a whole number",
                "maxInflight: 0", "connectTimeout: PT0S", "backoffMax: PT1S is shorter than backoffInitial PT5S",
                "'ping/+' is listed twice", "manualAcks needs qos 0 or 1")) {
            assertTrue(m.contains(expected), "missing [" + expected + "] in: " + m);
        }
    }

    @Test
    void whenBrokerListedTwiceOrNull_thenRejected() {
        BrokerAddress a = BrokerAddress.parse("a");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MqttLinkConfig.builder().brokers(Arrays.asList(a, a, null)).build());
        assertTrue(e.getMessage().contains("lists a broker twice"), e.getMessage());
        assertTrue(e.getMessage().contains("brokers: contains null"), e.getMessage());
    }

    @Test
    void whenToBuilder_thenSameConfig() {
        MqttLinkConfig c = MqttLinkConfig.builder().broker("a").broker("ssl://b").clientId("x").cleanSession(false)
                .keepAlive(Duration.ofSeconds(5)).maxInflight(7).connectTimeout(Duration.ofSeconds(2))
                .backoff(Duration.ofMillis(10), Duration.ofMillis(20)).will("rip/agent/x", null, 1, false)
                .subscribe("watch", 1).manualAcks(true).shuffle(false).build();
        assertEquals(c, c.toBuilder().build());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "a/#/b", "a/b#", "a+/b", "#/a"})
    void whenSubscriptionFilterInvalid_thenRejected(String filter) {
        assertThrows(IllegalArgumentException.class, () -> new Subscription(filter, 0));
    }

    @ParameterizedTest
    @ValueSource(strings = {"#", "+", "ping/+", "rip/#", "+/+/x", "/", "a//b"})
    void whenSubscriptionFilterValid_thenAccepted(String filter) {
        assertEquals(filter, new Subscription(filter, 1).filter());
    }

    @Test
    void whenSubscriptionQosInvalid_thenRejected() {
        assertThrows(IllegalArgumentException.class, () -> new Subscription("a", 3));
        assertThrows(IllegalArgumentException.class, () -> new Subscription("a", -1));
    }

    @Test
    void whenWillTopicHasWildcardOrBadQos_thenRejected() {
        assertThrows(IllegalArgumentException.class, () -> new Will("rip/+", new byte[0], 1, false));
        assertThrows(IllegalArgumentException.class, () -> new Will("", new byte[0], 1, false));
        assertThrows(IllegalArgumentException.class, () -> new Will("rip/agent/x", new byte[0], 3, false));
    }

    @Test
    void whenWillPayloadNull_thenEmpty_andPayloadIsCopied() {
        Will w = new Will("rip/agent/x", null, 1, false);
        assertArrayEquals(new byte[0], w.payload());
        byte[] p = {1, 2};
        Will w2 = new Will("rip/agent/x", p, 1, false);
        p[0] = 9;
        assertArrayEquals(new byte[] {1, 2}, w2.payload());
        assertEquals(new Will("rip/agent/x", new byte[] {1, 2}, 1, false), w2);
    }

    @Test
    void whenDefaultClientId_thenRoleHostRandomAndUnique() {
        String a = MqttLink.defaultClientId("agent");
        String b = MqttLink.defaultClientId("agent");
        assertNotEquals(a, b);
        assertTrue(Pattern.matches("agent-[A-Za-z0-9._-]+-[0-9a-z]{6}", a), a);
        assertTrue(a.length() <= 64);
    }

    @Test
    void whenRoleIsLongOrOdd_thenClientIdCappedAndSanitized() {
        String id = MqttLink.defaultClientId("indexer/with spaces/" + "x".repeat(100));
        assertTrue(id.length() <= 64, id);
        assertTrue(Pattern.matches("[A-Za-z0-9._-]+-[0-9a-z]{6}", id), id);
        assertTrue(id.startsWith("indexer-with-spaces-"), id);
        assertTrue(MqttLink.defaultClientId(null).startsWith("swarm-"));
    }
}
