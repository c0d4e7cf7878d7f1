package net.swarming.indexer.internal.intake.netty;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import net.swarming.broker.BrokerConfig;
import net.swarming.broker.SwarmBroker;
import net.swarming.broker.TlsListener;
import net.swarming.common.mqtt.BrokerAddress;
import net.swarming.common.mqtt.InboundMessage;
import net.swarming.common.mqtt.LinkState;
import net.swarming.common.mqtt.MqttLinkConfig;
import net.swarming.common.mqtt.MqttSecurity;
import net.swarming.testkit.MosquittoBroker;
import net.swarming.testkit.MosquittoExtension;
import net.swarming.testkit.TestCertificates;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The Netty intake link against a real mosquitto and a real swarm-broker: resubscribing after a broker restart,
 * persistent sessions, redelivery of what was not acknowledged (and no ack on a later connection), keep-alive and a
 * frozen broker, a broker down at start, TLS with a CA file, user names and passwords.
 */
@ExtendWith(MosquittoExtension.class)
@Timeout(120)
class NettyIntakeLinkIT {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String INDEXER_PW = "indexer-pw";
    private static final String AGENT_PW = "agent-pw";

    @TempDir
    Path tmp;

    private EventLoopGroup group;
    private final List<AutoCloseable> cleanup = new ArrayList<>();
    private final ListAppender<ILoggingEvent> logs = new ListAppender<>();

    @BeforeEach
    void setUp() {
        group = new NioEventLoopGroup(1, new DefaultThreadFactory("test-mqtt-io", true));
        logs.start();
        linkLogger().addAppender(logs);
    }

    @AfterEach
    void tearDown() throws Exception {
        for (int i = cleanup.size() - 1; i >= 0; i--) {
            cleanup.get(i).close();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        linkLogger().detachAppender(logs);
    }

    private static Logger linkLogger() {
        return (Logger) LoggerFactory.getLogger(NettyIntakeLink.class);
    }

    /** Collects what the link delivers, and the threads it was delivered on. */
    private static final class Inbox {
        final LinkedBlockingQueue<InboundMessage> messages = new LinkedBlockingQueue<>();
        final Set<String> threads = ConcurrentHashMap.newKeySet();

        void accept(InboundMessage m) {
            threads.add(Thread.currentThread().getName());
            messages.add(m);
        }

        InboundMessage next() throws InterruptedException {
            InboundMessage m = messages.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertNotNull(m, "a message within " + WAIT);
            return m;
        }
    }

    private NettyIntakeLink link(BrokerAddress broker, String clientId, boolean persistent, MqttSecurity security,
            Duration keepAlive, Inbox inbox) {
        MqttLinkConfig config = MqttLinkConfig.builder()
                .broker(broker)
                .shuffle(false)
                .clientId(clientId)
                .cleanSession(!persistent)
                .keepAlive(keepAlive)
                .connectTimeout(Duration.ofSeconds(5))
                .backoff(Duration.ofMillis(100), Duration.ofMillis(500))
                .subscribe("ping/+", 1)
                .subscribe("rip/#", 1)
                .manualAcks(true)
                .security(security)
                .build();
        NettyIntakeLink link = new NettyIntakeLink(config, inbox::accept, Clock.systemUTC(), group);
        cleanup.add(link);
        link.start();
        return link;
    }

    private NettyIntakeLink link(BrokerAddress broker, String clientId, boolean persistent, Inbox inbox) {
        return link(broker, clientId, persistent, MqttSecurity.NONE, Duration.ofSeconds(60), inbox);
    }

    private static String clientId() {
        return "intake-it-" + Long.toString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE, 36);
    }

    private static void publish(BrokerAddress broker, String topic, String payload) throws Exception {
        // An explicit client id: Moquette refuses empty ones.
        Process p = new ProcessBuilder("mosquitto_pub", "-h", broker.host(), "-p", Integer.toString(broker.port()),
                "-i", clientId(), "-t", topic, "-m", payload, "-q", "1").redirectErrorStream(true).start();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "mosquitto_pub finished");
        assertEquals(0, p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    private static void awaitConnected(NettyIntakeLink link) throws InterruptedException {
        assertTrue(link.awaitConnected(WAIT), "connected within " + WAIT);
    }

    /** A swarm-broker that can be restarted on the same port with the same data. */
    private final class Queen implements AutoCloseable {
        private BrokerConfig config;
        private SwarmBroker broker;

        Queen(BrokerConfig config) {
            this.config = config;
            this.broker = SwarmBroker.start(config);
            this.config = config.withListener("127.0.0.1", broker.port());
            cleanup.add(this);
        }

        BrokerAddress address() {
            return BrokerAddress.tcp("127.0.0.1", broker.port());
        }

        void restart() {
            broker.close();
            broker = SwarmBroker.start(config);
        }

        @Override
        public void close() {
            broker.close();
        }
    }

    private Queen queen() {
        return new Queen(BrokerConfig.defaults().withListener("127.0.0.1", 0).withDataDir(tmp.resolve("queen"))
                .withMetrics("127.0.0.1", BrokerConfig.METRICS_OFF));
    }

    // ---- resubscribe after a restart ---------------------------------------------------------------------------------

    @Test
    void whenMosquittoRestarts_thenTheLinkResubscribesAndResumes(MosquittoBroker broker) throws Exception {
        BrokerAddress address = BrokerAddress.parse(broker.hostPort());
        restartAndResume(address, () -> {
            broker.stop();
            broker.start();
        });
    }

    @Test
    void whenSwarmBrokerRestarts_thenTheLinkResubscribesAndResumes() throws Exception {
        Queen queen = queen();
        restartAndResume(queen.address(), queen::restart);
    }

    /** A clean session: after the restart only a new SUBSCRIBE brings messages. */
    private void restartAndResume(BrokerAddress address, Runnable restart) throws Exception {
        Inbox inbox = new Inbox();
        String id = clientId();
        NettyIntakeLink link = link(address, id, false, inbox);
        awaitConnected(link);
        publish(address, "ping/a", "before");
        InboundMessage before = inbox.next();
        assertEquals("before", before.payloadAsString());
        assertEquals(1, before.qos());
        link.ack(before);

        restart.run();
        await().atMost(WAIT).until(() -> link.connectCount() == 2 && link.state() == LinkState.CONNECTED);
        publish(address, "rip/agent/bee1", "after");

        InboundMessage after = inbox.next();
        assertEquals("rip/agent/bee1", after.topic());
        assertEquals("after", after.payloadAsString());
        assertEquals(Set.of("swarm-mqtt-dispatch-" + id), inbox.threads);
        assertEquals(1, link.connectionLostCount());
    }

    // ---- persistent sessions, redelivery, acks only on their own connection -----------------------------------------

    @Test
    void whenUnackedOnMosquitto_thenRedeliveredOnTheNextConnectionAndTheOldAckIsNotSent(MosquittoBroker broker)
            throws Exception {
        redeliverAndQueue(BrokerAddress.parse(broker.hostPort()));
    }

    @Test
    void whenUnackedOnSwarmBroker_thenRedeliveredOnTheNextConnectionAndTheOldAckIsNotSent() throws Exception {
        redeliverAndQueue(queen().address());
    }

    private void redeliverAndQueue(BrokerAddress address) throws Exception {
        String id = clientId();
        Inbox inbox = new Inbox();
        NettyIntakeLink link = link(address, id, true, inbox);
        awaitConnected(link);
        publish(address, "ping/a", "unacked");
        InboundMessage first = inbox.next();
        assertFalse(first.duplicate());

        link.dropConnection();
        InboundMessage again = inbox.next();
        assertEquals("unacked", again.payloadAsString());
        assertTrue(again.duplicate(), "a redelivery is flagged: " + again);
        assertTrue(again.connectionId() > first.connectionId());
        link.ack(first);
        assertEquals(1, link.acksDropped(), "the ack of the first connection is not sent on the second");
        assertEquals(0, link.acksSent());
        link.ack(again);
        await().atMost(WAIT).until(() -> link.acksSent() == 1);

        // Away: the broker queues for the persistent session.
        link.close();
        publish(address, "ping/b", "queued");
        Inbox next = new Inbox();
        NettyIntakeLink resumed = link(address, id, true, next);
        InboundMessage queued = next.next();
        assertEquals("queued", queued.payloadAsString());
        resumed.ack(queued);
        await().atMost(WAIT).until(() -> resumed.acksSent() == 1);
        resumed.close();

        // Everything acknowledged: the next connection gets only what is new.
        Inbox last = new Inbox();
        NettyIntakeLink third = link(address, id, true, last);
        awaitConnected(third);
        publish(address, "ping/c", "new");
        assertEquals("new", last.next().payloadAsString());
        assertNull(last.messages.poll(500, TimeUnit.MILLISECONDS), "nothing acknowledged came back");
    }

    /** Far above Netty's default of 8092 bytes: the indexer, not the decoder, decides what is oversized. */
    @Test
    void whenAMessageIsLarge_thenDeliveredWholeAndTheConnectionStaysUp(MosquittoBroker broker) throws Exception {
        BrokerAddress address = BrokerAddress.parse(broker.hostPort());
        Inbox inbox = new Inbox();
        NettyIntakeLink link = link(address, clientId(), false, inbox);
        awaitConnected(link);
        byte[] big = new byte[2 * 1024 * 1024];
        java.util.Arrays.fill(big, (byte) 'x');
        Path file = tmp.resolve("big.txt");
        java.nio.file.Files.write(file, big);
        Process p = new ProcessBuilder("mosquitto_pub", "-h", address.host(), "-p", Integer.toString(address.port()),
                "-i", clientId(), "-t", "ping/big", "-f", file.toString(), "-q", "1").redirectErrorStream(true).start();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        publish(address, "ping/small", "after");

        InboundMessage m = inbox.next();
        assertEquals(big.length, m.payload().length);
        assertEquals("after", inbox.next().payloadAsString());
        assertEquals(0, link.connectionLostCount());
    }

    // ---- keep-alive, a frozen broker, a broker down at start --------------------------------------------------------

    @Test
    void whenIdle_thenPingsKeepTheConnection_andWhenTheBrokerFreezes_thenTheDeadConnectionIsDroppedAndConnectTimesOut(
            MosquittoBroker broker) throws Exception {
        Inbox inbox = new Inbox();
        NettyIntakeLink link = link(BrokerAddress.parse(broker.hostPort()), clientId(), false, MqttSecurity.NONE,
                Duration.ofSeconds(1), inbox);
        awaitConnected(link);
        // mosquitto drops a client silent for 1.5 keep-alive periods: only PINGREQs keep this one up.
        Thread.sleep(3_500);
        assertEquals(LinkState.CONNECTED, link.state());
        assertEquals(0, link.connectionLostCount());

        ProcessHandle mosquitto = ProcessHandle.current().descendants()
                .filter(p -> p.info().command().orElse("").endsWith("mosquitto")
                        && p.info().arguments().map(a -> List.of(a).contains(broker.configFile().toString()))
                        .orElse(false))
                .findFirst().orElseThrow(() -> new AssertionError("mosquitto process of " + broker));
        signal("STOP", mosquitto.pid());
        try {
            await().atMost(Duration.ofSeconds(10)).until(() -> link.connectionLostCount() == 1);
            assertTrue(logs.list.stream().anyMatch(e -> e.getFormattedMessage().contains("the connection is dead")),
                    "the reason is logged");
            // The frozen broker's kernel still accepts TCP connections: the connect timeout ends the attempt.
            await().atMost(Duration.ofSeconds(20)).until(() -> link.connectFailureCount() >= 1);
            assertTrue(logs.list.stream().anyMatch(e -> e.getFormattedMessage().contains("no CONNACK within PT5S")),
                    messages());
        } finally {
            signal("CONT", mosquitto.pid());
        }
        await().atMost(WAIT).until(() -> link.connectCount() == 2 && link.state() == LinkState.CONNECTED);
    }

    private static void signal(String name, long pid) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(pid)).start();
        assertTrue(kill.waitFor(10, TimeUnit.SECONDS));
        assertEquals(0, kill.exitValue());
    }

    @Test
    void whenBrokerDownAtStart_thenTheLinkRetriesAndConnectsOnceItIsUp(MosquittoBroker broker) throws Exception {
        BrokerAddress address = BrokerAddress.parse(broker.hostPort());
        broker.stop();
        Inbox inbox = new Inbox();
        NettyIntakeLink link = link(address, clientId(), false, inbox);
        await().atMost(WAIT).until(() -> link.connectFailureCount() >= 2);
        assertEquals(0, link.connectCount());
        assertFalse(link.state() == LinkState.CONNECTED);

        broker.start();
        awaitConnected(link);
        publish(address, "ping/a", "up");
        assertEquals("up", inbox.next().payloadAsString());
    }

    // ---- TLS and passwords ------------------------------------------------------------------------------------------

    private SwarmBroker securedQueen() throws Exception {
        TestCertificates.Authority ca = TestCertificates.newAuthority(tmp.resolve("ca"), "ca", "intake test CA");
        TestCertificates.KeyPair server = ca.issueServerCertificate(tmp.resolve("server"), "broker");
        Path passwords = tmp.resolve("passwd");
        Process p = new ProcessBuilder("mosquitto_passwd", "-c", "-b", passwords.toString(), "indexer-1", INDEXER_PW)
                .redirectErrorStream(true).start();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue());
        p = new ProcessBuilder("mosquitto_passwd", "-b", passwords.toString(), "agent-1", AGENT_PW)
                .redirectErrorStream(true).start();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue());
        SwarmBroker queen = SwarmBroker.start(new BrokerConfig("127.0.0.1", 0, tmp.resolve("data"),
                BrokerConfig.DEFAULT_MAX_MESSAGE_BYTES, "127.0.0.1", BrokerConfig.METRICS_OFF,
                TlsListener.pem("127.0.0.1", 0, server.certificate(), server.key()), passwords, null, null,
                BrokerConfig.LISTENER_OFF));
        cleanup.add(queen);
        return queen;
    }

    @Test
    void whenTlsWithCaFileAndPassword_thenConnectedAndReceiving_andWithAWrongPasswordRefusedClearlyAndRetried()
            throws Exception {
        SwarmBroker queen = securedQueen();
        Path caFile = tmp.resolve("ca").resolve("ca.pem");
        BrokerAddress address = BrokerAddress.parse("ssl://localhost:" + queen.tlsPort());

        Inbox inbox = new Inbox();
        NettyIntakeLink link = link(address, clientId(), false, new MqttSecurity("indexer-1", INDEXER_PW, caFile),
                Duration.ofSeconds(60), inbox);
        awaitConnected(link);
        Process pub = new ProcessBuilder("mosquitto_pub", "-h", "localhost", "-p", Integer.toString(queen.tlsPort()),
                "--cafile", caFile.toString(), "-u", "agent-1", "-P", AGENT_PW, "-i", clientId(),
                "-t", "ping/tls", "-m", "over tls", "-q", "1").redirectErrorStream(true).start();
        assertTrue(pub.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, pub.exitValue(), new String(pub.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        assertEquals("over tls", inbox.next().payloadAsString());

        NettyIntakeLink wrong = link(address, clientId(), false, new MqttSecurity("indexer-1", "wrong", caFile),
                Duration.ofSeconds(60), new Inbox());
        await().atMost(WAIT).until(() -> wrong.connectFailureCount() >= 2);
        assertEquals(0, wrong.connectCount());
        assertTrue(logs.list.stream().anyMatch(e -> e.getFormattedMessage().contains("broker refused the connection")
                && e.getFormattedMessage().contains("user name")), messages());

        // No CA file: the JVM's trust store does not know the test CA.
        NettyIntakeLink untrusted = link(address, clientId(), false, new MqttSecurity("indexer-1", INDEXER_PW, null),
                Duration.ofSeconds(60), new Inbox());
        await().atMost(WAIT).until(() -> untrusted.connectFailureCount() >= 1);
        assertEquals(0, untrusted.connectCount());
        assertTrue(logs.list.stream().anyMatch(e -> e.getFormattedMessage().contains("TLS handshake with")),
                messages());
    }

    /** A certificate the test CA signed for another host: trusted, but not for the name the link connects to. */
    @Test
    void whenTheCertificateNamesAnotherHost_thenTheHandshakeFailsOnTheHostName() throws Exception {
        TestCertificates.Authority ca = TestCertificates.newAuthority(tmp.resolve("ca"), "ca", "intake test CA");
        Path dir = tmp.resolve("elsewhere");
        java.nio.file.Files.createDirectories(dir);
        Path config = dir.resolve("ext.cnf");
        java.nio.file.Files.writeString(config, "[v3]\nsubjectAltName = DNS:elsewhere.invalid\n"
                + "extendedKeyUsage = serverAuth\n");
        Path key = dir.resolve("server.key");
        Path csr = dir.resolve("server.csr");
        Path cert = dir.resolve("server.pem");
        openssl(dir, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", key.toString(), "-out", csr.toString(), "-subj", "/CN=elsewhere.invalid");
        openssl(dir, "x509", "-req", "-in", csr.toString(), "-CA", ca.certificate().toString(), "-CAkey",
                ca.key().toString(), "-set_serial", "0x1234", "-days", "1", "-extfile", config.toString(),
                "-extensions", "v3", "-out", cert.toString());
        SwarmBroker queen = SwarmBroker.start(new BrokerConfig("127.0.0.1", 0, tmp.resolve("data"),
                BrokerConfig.DEFAULT_MAX_MESSAGE_BYTES, "127.0.0.1", BrokerConfig.METRICS_OFF,
                TlsListener.pem("127.0.0.1", 0, cert, key), null, null, null, BrokerConfig.LISTENER_OFF));
        cleanup.add(queen);

        NettyIntakeLink link = link(BrokerAddress.parse("ssl://localhost:" + queen.tlsPort()), clientId(), false,
                new MqttSecurity(null, null, ca.certificate()), Duration.ofSeconds(60), new Inbox());

        await().atMost(WAIT).until(() -> link.connectFailureCount() >= 1);
        assertEquals(0, link.connectCount());
        assertTrue(logs.list.stream().anyMatch(e -> e.getFormattedMessage().contains("TLS handshake with")
                && e.getFormattedMessage().contains("localhost")), messages());
    }

    private static void openssl(Path dir, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), output);
    }

    private String messages() {
        StringBuilder b = new StringBuilder();
        logs.list.forEach(e -> b.append(e.getFormattedMessage()).append('\n'));
        return b.toString();
    }
}
