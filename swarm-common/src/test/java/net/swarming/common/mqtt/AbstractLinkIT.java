package net.swarming.common.mqtt;

import static net.swarming.common.mqtt.LinkTesting.CONNECT;
import static net.swarming.common.mqtt.LinkTesting.DELIVERY;
import static net.swarming.common.mqtt.LinkTesting.config;
import static net.swarming.common.mqtt.LinkTesting.started;
import static net.swarming.common.mqtt.LinkTesting.uniqueTopic;
import static net.swarming.common.mqtt.LinkTesting.utf8;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import net.swarming.testkit.MqttBrokerHandle;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What every broker must do with a link; run against mosquitto and Moquette by the subclasses. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
abstract class AbstractLinkIT {

    private static final Logger log = LoggerFactory.getLogger(AbstractLinkIT.class);

    private final MqttBrokerHandle broker;
    private final List<MqttLink> links = new ArrayList<>();

    AbstractLinkIT(MqttBrokerHandle broker) {
        this.broker = broker;
    }

    /** Whether the broker keeps RETAIN=1 on retained messages sent to a QoS ≥ 1 subscription (Moquette 0.17: no). */
    abstract boolean keepsRetainFlagOnQos1();

    private MqttLink link(MqttLinkConfig config, MessageHandler handler) throws InterruptedException {
        MqttLink l = started(config, handler);
        links.add(l);
        return l;
    }

    @AfterEach
    void closeLinks() {
        links.forEach(MqttLink::close);
    }

    @Test
    void whenPublishedOnSubscribedTopic_thenHandlerGetsItOnTheDispatchThread() throws Exception {
        String topic = uniqueTopic("roundtrip");
        Inbox inbox = new Inbox();
        Set<String> listenerThreads = ConcurrentHashMap.newKeySet();
        MqttLinkConfig c = config("rt", broker).subscribe(topic + "/#", 1).build();
        MqttLink link = new MqttLink(c, inbox, Clock.systemUTC());
        links.add(link);
        List<LinkState> states = new CopyOnWriteArrayList<>();
        link.addStateListener(s -> {
            states.add(s);
            listenerThreads.add(Thread.currentThread().getName());
        });
        assertEquals(LinkState.DISCONNECTED, link.state());
        link.start();
        assertTrue(link.awaitConnected(CONNECT));
        assertEquals(Optional.of(BrokerAddress.parse(broker.hostPort())), link.currentBroker());
        assertEquals(1, link.connectCount());
        assertTrue(link.connectedSince().isPresent());

        Set<String> completionThreads = ConcurrentHashMap.newKeySet();
        for (int qos = 0; qos <= 2; qos++) {
            link.publish(topic + "/q" + qos, utf8("hello " + qos), qos, false)
                    .whenComplete((v, e) -> completionThreads.add(Thread.currentThread().getName()))
                    .get(10, TimeUnit.SECONDS);
        }
        for (int qos = 0; qos <= 2; qos++) {
            InboundMessage m = inbox.awaitPayload(topic + "/q" + qos, "hello " + qos, DELIVERY);
            assertEquals(Math.min(qos, 1), m.qos());
            assertFalse(m.retained());
            assertEquals(BrokerAddress.parse(broker.hostPort()), m.broker());
            assertTrue(m.connectionId() > 0);
        }
        assertEquals(Set.of("swarm-mqtt-dispatch-" + c.clientId()), inbox.threadNames);
        assertEquals(Set.of("swarm-mqtt-" + c.clientId()), listenerThreads);
        // Completed on the publish thread (or on this thread when already complete: never on a Paho thread).
        for (String t : completionThreads) {
            assertTrue(t.startsWith("swarm-mqtt-publish-") || t.equals(Thread.currentThread().getName()), t);
        }
        assertEquals(List.of(LinkState.CONNECTING, LinkState.CONNECTED), states);

        link.close();
        assertEquals(LinkState.CLOSED, link.state());
        assertEquals(List.of(LinkState.CONNECTING, LinkState.CONNECTED, LinkState.CLOSED), states);
        // Ours (swarm-mqtt-*) and Paho's (MQTT Rec/Snd/Call/Ping: <clientId>) threads are all gone.
        await().atMost(Duration.ofSeconds(10)).until(() -> Thread.getAllStackTraces().keySet().stream()
                .noneMatch(t -> t.isAlive() && t.getName().contains(c.clientId())));
    }

    @Test
    void whenHandlerThrows_thenNextMessagesStillDelivered() throws Exception {
        String topic = uniqueTopic("throws");
        Inbox inbox = new Inbox().onEach(m -> {
            throw new IllegalStateException("handler bug on " + m.topic());
        });
        MqttLink link = link(config("throws", broker).subscribe(topic, 1).build(), inbox);
        for (int i = 0; i < 3; i++) {
            link.publish(topic, utf8("m" + i), 1, false).get(10, TimeUnit.SECONDS);
        }
        await().atMost(DELIVERY).until(() -> inbox.on(topic).size() == 3);
        assertEquals(List.of("m0", "m1", "m2"), inbox.payloadsOn(topic));
    }

    @Test
    void whenRetainedPublished_thenLateSubscriberGetsIt() throws Exception {
        String topic = uniqueTopic("retained");
        MqttLink publisher = link(config("pub", broker).build(), new Inbox());
        publisher.publish(topic, utf8("targets a b c"), 1, true).get(10, TimeUnit.SECONDS);

        Inbox inbox = new Inbox();
        link(config("late", broker).subscribe(topic, 0).build(), inbox);
        InboundMessage m = inbox.awaitPayload(topic, "targets a b c", DELIVERY);
        assertTrue(m.retained(), "retained flag on a QoS 0 subscription");

        Inbox inbox1 = new Inbox();
        link(config("late1", broker).subscribe(topic, 1).build(), inbox1);
        InboundMessage m1 = inbox1.awaitPayload(topic, "targets a b c", DELIVERY);
        if (keepsRetainFlagOnQos1()) {
            assertTrue(m1.retained());
        }
        publisher.publish(topic, new byte[0], 1, true).get(10, TimeUnit.SECONDS); // clear it
    }

    @Test
    void whenNotConnected_thenPublishFailsFastWithNotConnected() throws Exception {
        MqttLink link = new MqttLink(config("nc", broker).build(), new Inbox(), Clock.systemUTC());
        links.add(link);
        CompletableFuture<Void> before = link.publish("it/nc", utf8("x"), 1, false);
        assertTrue(before.isCompletedExceptionally());
        ExecutionException e = assertThrows(ExecutionException.class, before::get);
        assertInstanceOf(NotConnectedException.class, e.getCause());

        link.start();
        assertTrue(link.awaitConnected(CONNECT));
        link.publish("it/nc", utf8("x"), 1, false).get(10, TimeUnit.SECONDS);
        link.close();
        CompletableFuture<Void> after = link.publish("it/nc", utf8("x"), 1, false);
        assertInstanceOf(NotConnectedException.class, assertThrows(ExecutionException.class, after::get).getCause());
        assertThrows(IllegalStateException.class, link::start);
        assertThrows(IllegalArgumentException.class, () -> link.publish("it/+", new byte[0], 1, false));
    }

    @Test
    void whenBurstOf5000Qos1_thenAllAcknowledged() throws Exception {
        String topic = uniqueTopic("burst");
        Inbox inbox = new Inbox();
        MqttLink link = link(config("burst", broker).subscribe(topic, 1).build(), inbox);
        int n = 5000;
        List<CompletableFuture<Void>> futures = new ArrayList<>(n);
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            futures.add(link.publish(topic, utf8("burst " + i), 1, false));
        }
        assertTrue(link.inflightPublishes() <= link.config().maxInflight());
        CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        log.info("{}: {} QoS 1 publishes acknowledged in {} ms", broker, n, ms);
        for (CompletableFuture<Void> f : futures) {
            assertFalse(f.isCompletedExceptionally());
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> inbox.on(topic).size() >= n);
        assertEquals(0, link.inflightPublishes());
        assertEquals(0, link.queuedPublishes());
    }

    @Test
    void whenSmallWindow_thenBurstStillCompletesInOrder() throws Exception {
        String topic = uniqueTopic("window");
        Inbox inbox = new Inbox();
        MqttLink link = link(config("window", broker).maxInflight(3).subscribe(topic, 1).build(), inbox);
        List<CompletableFuture<Void>> futures = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            futures.add(link.publish(topic, utf8(Integer.toString(i)), 1, false));
            assertTrue(link.inflightPublishes() <= 3);
        }
        CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(30)).until(() -> inbox.on(topic).size() >= 300);
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            expected.add(Integer.toString(i));
        }
        assertEquals(expected, inbox.payloadsOn(topic).subList(0, 300));
    }

    @Test
    void whenManualAcks_thenMessagesBeyondTheBrokerWindowFlowOnlyBecauseOfAcks() throws Exception {
        String topic = uniqueTopic("acks");
        MqttLink publisher = link(config("pub", broker).build(), new Inbox());

        // Without acks: the broker stops after its in-flight window (mosquitto 20, Moquette 10).
        Inbox silent = new Inbox();
        link(config("noack", broker).manualAcks(true).subscribe(topic, 1).build(), silent);
        // With acks from the handler (on the dispatch thread): everything arrives.
        MqttLink[] acking = new MqttLink[1];
        Inbox acked = new Inbox().onEach(m -> acking[0].ack(m));
        acking[0] = link(config("ack", broker).manualAcks(true).subscribe(topic, 1).build(), acked);

        int n = 60;
        for (int i = 0; i < n; i++) {
            publisher.publish(topic, utf8("a" + i), 1, false).get(10, TimeUnit.SECONDS);
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> acked.on(topic).size() >= n);
        Thread.sleep(500);
        int withoutAcks = silent.on(topic).size();
        log.info("{}: {} of {} messages reached the subscriber that never acks", broker, withoutAcks, n);
        assertTrue(withoutAcks > 0 && withoutAcks < n, "without acks: " + withoutAcks);
    }

    @Test
    void whenClosedTwice_thenSecondCloseIsNoOp_andCloseFromHandlerWorks() throws Exception {
        String topic = uniqueTopic("close");
        MqttLink[] self = new MqttLink[1];
        Inbox inbox = new Inbox().onEach(m -> self[0].close());
        self[0] = link(config("close", broker).subscribe(topic, 1).build(), inbox);
        self[0].publish(topic, utf8("bye"), 1, false);
        await().atMost(DELIVERY).until(() -> self[0].state() == LinkState.CLOSED);
        self[0].close();
        self[0].close();
        assertEquals(LinkState.CLOSED, self[0].state());
        assertFalse(self[0].awaitConnected(Duration.ofMillis(10)));
    }
}
