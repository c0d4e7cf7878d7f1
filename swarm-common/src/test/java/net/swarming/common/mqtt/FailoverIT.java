package net.swarming.common.mqtt;

import static net.swarming.common.mqtt.LinkTesting.CONNECT;
import static net.swarming.common.mqtt.LinkTesting.DELIVERY;
import static net.swarming.common.mqtt.LinkTesting.config;
import static net.swarming.common.mqtt.LinkTesting.started;
import static net.swarming.common.mqtt.LinkTesting.uniqueTopic;
import static net.swarming.common.mqtt.LinkTesting.utf8;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import net.swarming.testkit.MosquittoBroker;
import net.swarming.testkit.MoquetteBroker;
import net.swarming.testkit.MqttBrokerHandle;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Failover between brokers, a first connect that fails, and re-subscription on reconnect; each test owns its brokers. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class FailoverIT {

    private static final Logger log = LoggerFactory.getLogger(FailoverIT.class);
    private static final Duration FAILOVER_LIMIT = Duration.ofSeconds(5);

    private final List<AutoCloseable> resources = new ArrayList<>();

    private <T extends AutoCloseable> T own(T t) {
        resources.add(0, t);
        return t;
    }

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : resources) {
            c.close();
        }
    }

    private static BrokerAddress address(MqttBrokerHandle b) {
        return BrokerAddress.parse(b.hostPort());
    }

    @Test
    void whenConnectedBrokerStops_thenLinkFailsOverToTheOther_andResubscribes_andBack() throws Exception {
        MosquittoBroker a = own(MosquittoBroker.launch());
        MoquetteBroker b = own(MoquetteBroker.launch());
        String topic = uniqueTopic("failover");
        Inbox inbox = new Inbox();
        MqttLink link = own(new MqttLink(config("bee", a, b).subscribe(topic + "/#", 1).build(), inbox,
                Clock.systemUTC()));
        // Times of the state changes, seen on the link's own thread.
        List<long[]> lostAndBack = new CopyOnWriteArrayList<>();
        link.addStateListener(s -> {
            if (s == LinkState.DISCONNECTED) {
                lostAndBack.add(new long[] {System.nanoTime(), 0});
            } else if (s == LinkState.CONNECTED && !lostAndBack.isEmpty()) {
                lostAndBack.get(lostAndBack.size() - 1)[1] = System.nanoTime();
            }
        });
        link.start();
        assertTrue(link.awaitConnected(CONNECT));
        assertEquals(Optional.of(address(a)), link.currentBroker());

        // Separate single-broker links stand in for other bees publishing on each broker.
        MqttLink onA = own(started(config("pubA", a).build(), new Inbox()));
        MqttLink onB = own(started(config("pubB", b).build(), new Inbox()));
        onA.publish(topic + "/x", utf8("via A"), 1, false).get(10, TimeUnit.SECONDS);
        inbox.awaitPayload(topic + "/x", "via A", DELIVERY);

        long t0 = System.nanoTime();
        a.stop();
        await().atMost(FAILOVER_LIMIT).pollInterval(Duration.ofMillis(5))
                .until(() -> link.currentBroker().equals(Optional.of(address(b))));
        long[] first = lostAndBack.get(0);
        log.info("failover mosquitto -> Moquette: {} ms from loss to connected and subscribed, {} ms from the "
                + "start of the broker's stop", TimeUnit.NANOSECONDS.toMillis(first[1] - first[0]),
                TimeUnit.NANOSECONDS.toMillis(first[1] - t0));
        assertEquals(1, link.connectionLostCount());
        assertEquals(2, link.connectCount());

        // The subscription was re-established on B: another bee's publish on B reaches the handler.
        onB.publish(topic + "/y", utf8("via B"), 1, false).get(10, TimeUnit.SECONDS);
        inbox.awaitPayload(topic + "/y", "via B", DELIVERY);
        // And the link's own publishes, after failover, go out through B.
        link.publish(topic + "/z", utf8("own after failover"), 1, false).get(10, TimeUnit.SECONDS);
        inbox.awaitPayload(topic + "/z", "own after failover", DELIVERY);
        assertTrue(inbox.threadNames.stream().allMatch(n -> n.startsWith("swarm-mqtt-dispatch")), inbox.threadNames
                .toString());

        // Back to A when B goes away and A is up again.
        a.start();
        t0 = System.nanoTime();
        b.stop();
        await().atMost(FAILOVER_LIMIT).pollInterval(Duration.ofMillis(5))
                .until(() -> link.currentBroker().equals(Optional.of(address(a))));
        long[] second = lostAndBack.get(lostAndBack.size() - 1);
        log.info("failover Moquette -> mosquitto: {} ms from loss to connected and subscribed, {} ms from the "
                + "start of the broker's stop", TimeUnit.NANOSECONDS.toMillis(second[1] - second[0]),
                TimeUnit.NANOSECONDS.toMillis(second[1] - t0));
        assertEquals(2, lostAndBack.size(), "no failed attempt in between: each failover went straight through");
        await().atMost(CONNECT).until(() -> onA.state() == LinkState.CONNECTED);
        onA.publish(topic + "/w", utf8("via A again"), 1, false).get(10, TimeUnit.SECONDS);
        inbox.awaitPayload(topic + "/w", "via A again", DELIVERY);
        assertEquals(2, link.connectionLostCount());
        assertEquals(3, link.connectCount());
    }

    @Test
    void whenConnectionLost_thenUnackedPublishesFailWithNotConnected() throws Exception {
        MosquittoBroker a = own(MosquittoBroker.launch());
        String topic = uniqueTopic("lost");
        MqttLink link = own(started(config("lost", a).maxInflight(5).build(), new Inbox()));
        List<CompletableFuture<Void>> futures = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            futures.add(link.publish(topic, utf8("p" + i), 1, false));
        }
        a.kill();
        for (CompletableFuture<Void> f : futures) {
            try {
                f.get(10, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                assertInstanceOf(NotConnectedException.class, e.getCause());
            }
        }
        await().atMost(DELIVERY).until(() -> link.state() != LinkState.CONNECTED);
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> link.publish(topic, utf8("late"), 1, false).get(1, TimeUnit.SECONDS));
        assertInstanceOf(NotConnectedException.class, e.getCause());
    }

    @Test
    void whenNoBrokerListensAtFirst_thenLinkKeepsTryingAndConnectsWhenItAppears() throws Exception {
        MosquittoBroker a = own(MosquittoBroker.launch());
        a.stop(); // the port is known, nothing listens on it
        String topic = uniqueTopic("late-broker");
        Inbox inbox = new Inbox();
        MqttLink link = own(new MqttLink(config("early", a).subscribe(topic, 1).build(), inbox, Clock.systemUTC()));
        link.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> link.connectFailureCount() >= 3);
        assertTrue(link.state() != LinkState.CONNECTED);
        a.start();
        assertTrue(link.awaitConnected(Duration.ofSeconds(10)), "connected after the broker appeared");
        assertEquals(Optional.of(address(a)), link.currentBroker());
        link.publish(topic, utf8("finally"), 1, false).get(10, TimeUnit.SECONDS);
        inbox.awaitPayload(topic, "finally", DELIVERY);
        log.info("connected after {} failed attempts", link.connectFailureCount());
    }

    @ParameterizedTest
    @ValueSource(strings = {"mosquitto", "moquette"})
    void whenBrokerRestarts_thenLinkReconnectsAndRetainedIsDeliveredAgain(String kind) throws Exception {
        MqttBrokerHandle a = own(kind.equals("mosquitto") ? MosquittoBroker.launch() : MoquetteBroker.launch());
        String topic = uniqueTopic("resubscribe");
        MqttLink publisher = own(started(config("pub", a).build(), new Inbox()));
        publisher.publish(topic, utf8("watch list"), 1, true).get(10, TimeUnit.SECONDS);
        Inbox inbox = new Inbox();
        MqttLink link = own(started(config("sub", a).subscribe(topic, 1).build(), inbox));
        inbox.awaitPayload(topic, "watch list", DELIVERY);

        a.stop();
        a.start(); // persistence keeps the retained message
        await().atMost(CONNECT).until(() -> link.connectCount() == 2 && link.state() == LinkState.CONNECTED);
        await().atMost(DELIVERY).until(() -> inbox.on(topic).size() == 2);
        if (kind.equals("mosquitto")) {
            assertTrue(inbox.on(topic).get(1).retained()); // Moquette 0.17 clears RETAIN on QoS 1 subscriptions
        }
        assertTrue(inbox.on(topic).get(1).connectionId() > inbox.on(topic).get(0).connectionId());
    }

    @Test
    void whenOnlyBrokerIsDown_thenBackoffGrowsButStaysBounded() throws Exception {
        MosquittoBroker a = own(MosquittoBroker.launch());
        a.stop();
        MqttLink link = own(new MqttLink(config("bounded", a).backoff(Duration.ofMillis(20), Duration.ofMillis(200))
                .build(), new Inbox(), Clock.systemUTC()));
        link.start();
        Thread.sleep(2000);
        long failures = link.connectFailureCount();
        // Full jitter below 20, 40, 80, 160, then 200 ms: far fewer than a busy loop, at least a handful.
        log.info("{} failed attempts in 2 s with backoff 20-200 ms", failures);
        assertTrue(failures >= 5 && failures <= 200, "failures: " + failures);
    }
}
