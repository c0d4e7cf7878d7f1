package net.swarming.broker.internal.moquette;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moquette.broker.Server;
import io.moquette.broker.config.IConfig;
import io.moquette.broker.config.MemoryConfig;
import io.moquette.broker.security.IAuthorizatorPolicy;
import io.moquette.broker.subscriptions.Topic;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.mqtt.MqttPublishMessage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import net.swarming.broker.PahoCollector;
import net.swarming.broker.internal.net.ListenAddress;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The QoS 0 relay in a real Moquette 0.17: plain QoS 0 publishes never reach Moquette's handler (a counter sits between
 * the relay and it), yet every matching, connected subscriber gets each one once, in order, at QoS 0 with RETAIN=0, and
 * the policy still refuses what it refuses; everything else still goes through Moquette.
 */
@Timeout(90)
class Qos0RelayIT {

    private static final int MESSAGES = 500;

    @TempDir
    Path tmp;

    private Server server;
    private int port;
    /** PUBLISH packets that got past the relay to Moquette, by QoS. */
    private final Map<Integer, AtomicInteger> reachedMoquette = new ConcurrentHashMap<>();
    private final List<MqttClient> clients = new ArrayList<>();

    /** Like the role policy: only the client "indexer" may write watch. */
    private static final IAuthorizatorPolicy POLICY = new IAuthorizatorPolicy() {
        @Override
        public boolean canWrite(Topic topic, String user, String client) {
            return !topic.toString().equals("watch") || "indexer".equals(client);
        }

        @Override
        public boolean canRead(Topic topic, String user, String client) {
            return true;
        }
    };

    @BeforeEach
    void start() throws Exception {
        port = ListenAddress.reserve("127.0.0.1", 0);
        IConfig config = new MemoryConfig(MoquetteProperties.of("127.0.0.1", port, tmp.resolve("data"), 1 << 20, true));
        server = new Server();
        server.startServer(config, List.of(), null, null, POLICY);
        ChannelHooks.install(server, List.of(Qos0Relay.hook(server, MatchCache.install(server), POLICY),
                pipeline -> pipeline.addBefore(ChannelHooks.HANDLER, "behind-relay", new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        if (msg instanceof MqttPublishMessage p) {
                            reachedMoquette.computeIfAbsent(p.fixedHeader().qosLevel().value(),
                                    k -> new AtomicInteger()).incrementAndGet();
                        }
                        ctx.fireChannelRead(msg);
                    }
                })));
    }

    @AfterEach
    void stop() throws MqttException {
        for (MqttClient c : clients) {
            if (c.isConnected()) {
                c.disconnect();
            }
            c.close();
        }
        server.stopServer();
    }

    private MqttClient connect(String clientId, boolean cleanSession) throws MqttException {
        MqttClient c = new MqttClient("tcp://127.0.0.1:" + port, clientId, new MemoryPersistence());
        MqttConnectOptions o = new MqttConnectOptions();
        o.setCleanSession(cleanSession);
        o.setMaxInflight(1000);
        c.setTimeToWait(10_000);
        c.connect(o);
        clients.add(c);
        // Moquette 0.17 may drop a SUBSCRIBE sent before it marked the connection connected (docs/broker.md, (10)).
        await().atMost(Duration.ofSeconds(10)).until(() -> server.listConnectedClients().stream()
                .anyMatch(d -> d.getClientID().equals(clientId)));
        return c;
    }

    /** Collects what a client receives on {@code filter}. */
    private static List<MqttMessage> subscribe(MqttClient c, String filter, int qos) throws MqttException {
        List<MqttMessage> got = new CopyOnWriteArrayList<>();
        c.subscribe(filter, qos, (topic, m) -> got.add(m));
        return got;
    }

    private static List<MqttMessage> collect(MqttClient c) {
        return PahoCollector.collect(c);
    }

    private int reached(int qos) {
        AtomicInteger n = reachedMoquette.get(qos);
        return n == null ? 0 : n.get();
    }

    @Test
    void whenQos0IsPublished_thenEveryMatchingConnectedSubscriberGetsEachMessageOnceInOrder() throws Exception {
        List<MqttMessage> wildcard = subscribe(connect("s-wildcard", true), "ping/+", 0);
        List<MqttMessage> exactAtQos1 = subscribe(connect("s-exact", true), "ping/a", 1);
        // One callback for the whole client: Paho would call each matching filter's own listener for one PUBLISH.
        MqttClient overlapping = connect("s-overlap", true);
        List<MqttMessage> overlap = collect(overlapping);
        overlapping.subscribe(new String[] {"ping/#", "ping/+"}, new int[] {1, 0});
        List<MqttMessage> elsewhere = subscribe(connect("s-rip", true), "rip/#", 1);

        MqttClient publisher = connect("agent-1", true);
        for (int i = 0; i < MESSAGES; i++) {
            publisher.publish("ping/a", ("r" + i).getBytes(StandardCharsets.UTF_8), 0, false);
        }
        publisher.publish("ping/a", "last".getBytes(StandardCharsets.UTF_8), 1, false);

        for (List<MqttMessage> got : List.of(wildcard, exactAtQos1, overlap)) {
            await().atMost(Duration.ofSeconds(20)).until(() -> got.size() >= MESSAGES + 1);
        }
        for (List<MqttMessage> got : List.of(wildcard, exactAtQos1, overlap)) {
            List<String> payloads = got.stream().map(m -> new String(m.getPayload(), StandardCharsets.UTF_8))
                    .filter(p -> !p.equals("last")).toList();
            List<String> expected = new ArrayList<>();
            for (int i = 0; i < MESSAGES; i++) {
                expected.add("r" + i);
            }
            assertEquals(expected.size(), payloads.size(), "each once");
            assertTrue(expected.equals(payloads), "in order");
            assertTrue(got.stream().filter(m -> !new String(m.getPayload(), StandardCharsets.UTF_8).equals("last"))
                    .allMatch(m -> m.getQos() == 0 && !m.isRetained()), "QoS 0, RETAIN=0");
        }
        Thread.sleep(300); // nothing more may come: no duplicate for the overlapping subscriptions
        assertEquals(MESSAGES + 1, overlap.size());
        assertTrue(elsewhere.isEmpty(), elsewhere.toString());
        assertEquals(0, reached(0), "the QoS 0 publishes were all relayed");
        assertEquals(1, reached(1), "QoS 1 still goes through Moquette");
    }

    @Test
    void whenTheRelayDeliversQos0_thenAPersistentSessionThatIsAwayGetsOnlyItsQos1MessagesLater() throws Exception {
        MqttClient away = connect("indexer-away", false);
        away.subscribe("ping/+", 1);
        away.disconnect();
        MqttClient publisher = connect("agent-2", true);
        publisher.publish("ping/b", "q0".getBytes(StandardCharsets.UTF_8), 0, false);
        publisher.publish("ping/b", "q1".getBytes(StandardCharsets.UTF_8), 1, false);

        MqttClient back = new MqttClient("tcp://127.0.0.1:" + port, "indexer-away", new MemoryPersistence());
        clients.add(back);
        List<MqttMessage> got = collect(back);
        MqttConnectOptions o = new MqttConnectOptions();
        o.setCleanSession(false);
        back.connect(o);
        await().atMost(Duration.ofSeconds(10)).until(() -> !got.isEmpty());
        Thread.sleep(300);
        assertEquals(List.of("q1"), got.stream().map(m -> new String(m.getPayload(), StandardCharsets.UTF_8)).toList(),
                "QoS 0 is not queued for a session that is away (as Moquette and mosquitto)");
    }

    @Test
    void whenAClientPublishesQos0WhereThePolicyRefuses_thenNobodyGetsItAndItStaysConnected() throws Exception {
        List<MqttMessage> watch = subscribe(connect("reader", true), "watch", 1);
        MqttClient agent = connect("agent-3", true);
        agent.publish("watch", "forged".getBytes(StandardCharsets.UTF_8), 0, false);
        MqttClient indexer = connect("indexer", true);
        indexer.publish("watch", "real".getBytes(StandardCharsets.UTF_8), 0, false);

        await().atMost(Duration.ofSeconds(10)).until(() -> !watch.isEmpty());
        Thread.sleep(300);
        assertEquals(List.of("real"), watch.stream().map(m -> new String(m.getPayload(), StandardCharsets.UTF_8))
                .toList());
        assertTrue(agent.isConnected());
        assertEquals(0, reached(0));
    }

    @Test
    void whenAQos0PublishIsRetained_thenMoquetteHandlesIt() throws Exception {
        MqttClient publisher = connect("indexer", true);
        List<MqttMessage> live = subscribe(connect("live", true), "watch", 0);
        publisher.publish("watch", "a b".getBytes(StandardCharsets.UTF_8), 0, true);
        await().atMost(Duration.ofSeconds(10)).until(() -> !live.isEmpty());
        assertEquals(1, reached(0), "retained publishes change the retained store: Moquette's to handle");
        assertFalse(live.get(0).isRetained(), "a live delivery has RETAIN=0");
    }
}
