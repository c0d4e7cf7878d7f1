package net.swarming.broker;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocketFactory;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import net.swarming.common.tls.PemTrust;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A broker with TLS, a password file written by the real {@code mosquitto_passwd} and the default role policy, driven by
 * the real mosquitto clients and by Paho.
 */
@Timeout(120)
class SecureBrokerIT {

    private static final String AGENT_PW = "agent-pw";
    private static final String INDEXER_PW = "indexer-pw";

    @TempDir
    Path tmp;

    private TestCerts certs;
    private Path passwords;
    private SwarmBroker broker;
    private final List<Process> processes = new ArrayList<>();

    @BeforeEach
    void files() throws Exception {
        certs = TestCerts.create(tmp);
        passwords = tmp.resolve("passwd");
        mosquittoPasswd("-c", "-b", passwords.toString(), "agent-1", AGENT_PW);
        mosquittoPasswd("-b", passwords.toString(), "indexer-1", INDEXER_PW);
    }

    @AfterEach
    void stop() throws InterruptedException {
        for (Process p : processes) {
            p.destroy();
            p.waitFor(10, TimeUnit.SECONDS);
        }
        if (broker != null) {
            broker.close();
        }
    }

    private static void mosquittoPasswd(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("mosquitto_passwd"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue());
    }

    private BrokerConfig secured(TlsListener tls) {
        return new BrokerConfig("127.0.0.1", 0, tmp.resolve("data"), BrokerConfig.DEFAULT_MAX_MESSAGE_BYTES,
                "127.0.0.1", BrokerConfig.METRICS_OFF, tls, passwords, null, null, BrokerConfig.LISTENER_OFF);
    }

    private TlsListener pem(String host) {
        return TlsListener.pem(host, 0, certs.serverCert(), certs.serverKey());
    }

    /** mosquitto_pub/sub over TLS, verifying the server against the test CA, as {@code user}. */
    private Mosquitto.Result tls(String tool, String host, String user, String password, String... args) {
        List<String> all = new ArrayList<>(List.of("--cafile", certs.caCert().toString(), "-u", user, "-P", password));
        all.addAll(List.of(args));
        return Mosquitto.run(tool, host, broker.tlsPort(), all.toArray(String[]::new));
    }

    private Process background(String... cmd) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        processes.add(p);
        return p;
    }

    private static String readAll(Process p) throws IOException, InterruptedException {
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "client did not finish");
        try (InputStream in = p.getInputStream()) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void whenMosquittoClientsUseTlsWithCafile_thenTheRetainedWatchReachesTheAgent() {
        broker = SwarmBroker.start(secured(pem("127.0.0.1")));

        Mosquitto.Result pub = tls("mosquitto_pub", "127.0.0.1", "indexer-1", INDEXER_PW,
                "-t", "watch", "-m", "free.fr yahoo.fr", "-q", "1", "-r");
        assertEquals(0, pub.exitCode(), pub.stderr());

        Mosquitto.Result sub = tls("mosquitto_sub", "127.0.0.1", "agent-1", AGENT_PW,
                "-t", "watch", "-C", "1", "-W", "10");
        assertEquals(0, sub.exitCode(), sub.stderr());
        assertEquals("free.fr yahoo.fr\n", sub.out());
    }

    /** Defect (5) is fixed on the TLS path too (the TLS listener relays to Moquette's plain listener). */
    @Test
    void whenTheAgentReadsTheRetainedWatchOverTlsAtQos1_thenRetainIsSet() {
        broker = SwarmBroker.start(secured(pem("127.0.0.1")));
        assertEquals(0, tls("mosquitto_pub", "127.0.0.1", "indexer-1", INDEXER_PW,
                "-t", "watch", "-m", "free.fr", "-q", "1", "-r").exitCode());

        Mosquitto.Result sub = tls("mosquitto_sub", "127.0.0.1", "agent-1", AGENT_PW,
                "-t", "watch", "-q", "1", "-F", "retain=%r %p", "-C", "1", "-W", "10");

        assertEquals("retain=1 free.fr\n", sub.out(), sub.stderr());
    }

    @Test
    void whenServerIsNotSignedByTheGivenCa_thenMosquittoClientRefusesIt() throws Exception {
        broker = SwarmBroker.start(secured(pem("127.0.0.1")));
        Path otherDir = Files.createDirectory(tmp.resolve("other"));
        TestCerts other = TestCerts.create(otherDir);

        Mosquitto.Result pub = Mosquitto.run("mosquitto_pub", "127.0.0.1", broker.tlsPort(),
                "--cafile", other.caCert().toString(), "-u", "indexer-1", "-P", INDEXER_PW, "-t", "watch", "-m", "x");

        assertNotEquals(0, pub.exitCode());
        assertTrue(pub.stderr().contains("TLS error"), pub.stderr());
    }

    @Test
    void whenTlsComesFromAPkcs12Store_thenMosquittoClientsConnect() {
        broker = SwarmBroker.start(secured(TlsListener.pkcs12("127.0.0.1", 0, certs.pkcs12(),
                certs.pkcs12Password())));

        Mosquitto.Result pub = tls("mosquitto_pub", "127.0.0.1", "indexer-1", INDEXER_PW,
                "-t", "watch", "-m", "p12", "-q", "1", "-r");
        assertEquals(0, pub.exitCode(), pub.stderr());
        Mosquitto.Result sub = tls("mosquitto_sub", "127.0.0.1", "agent-1", AGENT_PW,
                "-t", "watch", "-C", "1", "-W", "10");
        assertEquals("p12\n", sub.out(), sub.stderr());
    }

    @Test
    void whenPasswordIsWrongOrMissing_thenTheConnectionIsRefusedAndCounted() throws Exception {
        broker = SwarmBroker.start(secured(pem("127.0.0.1")).withMetrics("127.0.0.1", 0));

        Mosquitto.Result wrong = tls("mosquitto_pub", "127.0.0.1", "agent-1", "not-the-password",
                "-t", "ping/x", "-m", "x");
        Mosquitto.Result unknown = Mosquitto.pub(broker.port(), "-u", "mallory", "-P", AGENT_PW, "-t", "ping/x",
                "-m", "x");
        Mosquitto.Result anonymous = Mosquitto.pub(broker.port(), "-t", "ping/x", "-m", "x");
        Mosquitto.Result right = Mosquitto.pub(broker.port(), "-u", "agent-1", "-P", AGENT_PW, "-t", "ping/x",
                "-m", "x");

        // Moquette answers CONNACK 4 where mosquitto answers 5 ("not authorised"): both refuse.
        assertNotEquals(0, wrong.exitCode());
        assertTrue(wrong.stderr().contains("Connection Refused: bad user name or password"), wrong.stderr());
        assertNotEquals(0, unknown.exitCode());
        assertTrue(unknown.stderr().contains("Connection Refused: bad user name or password"), unknown.stderr());
        assertNotEquals(0, anonymous.exitCode(), "anonymous clients are refused once a password file is set");
        assertEquals(0, right.exitCode(), right.stderr());
        HttpRequest scrape = HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + broker.metricsPort() + "/metrics")).build();
        String body = HttpClient.newHttpClient().send(scrape, HttpResponse.BodyHandlers.ofString()).body();
        assertTrue(body.contains("swarm_broker_auth_failures_total 2.0"), body);
    }

    @Test
    void whenAnonymousIsExplicitlyAllowed_thenClientsWithoutUserConnectButCannotWriteWatch() throws Exception {
        broker = SwarmBroker.start(secured(null).withAllowAnonymous(true));
        Process sub = background("mosquitto_sub", "-h", "127.0.0.1", "-p", Integer.toString(broker.port()),
                "-u", "indexer-1", "-P", INDEXER_PW, "-t", "watch", "-C", "1", "-W", "20", "-q", "1");
        await().atMost(Duration.ofSeconds(10)).until(() -> connected(1));

        assertEquals(0, Mosquitto.pub(broker.port(), "-t", "watch", "-m", "anonymous").exitCode());
        assertEquals(0, Mosquitto.pub(broker.port(), "-t", "status/x", "-m", "fine").exitCode());
        assertEquals(0, Mosquitto.pub(broker.port(), "-u", "indexer-1", "-P", INDEXER_PW, "-t", "watch", "-m",
                "indexer", "-q", "1").exitCode());

        assertEquals("indexer\n", readAll(sub));
    }

    private boolean connected(int n) {
        return broker.metricsRegistry().scrape().stream()
                .filter(m -> m.getMetadata().getPrometheusName().equals("swarm_broker_clients_connected"))
                .map(GaugeSnapshot.class::cast)
                .anyMatch(g -> g.getDataPoints().get(0).getValue() == n);
    }

    @Test
    void whenAnAgentPublishesWatch_thenTheBrokerRefusesIt() throws Exception {
        broker = SwarmBroker.start(secured(pem("127.0.0.1")));
        // The indexer waits for the first two messages on watch; the agent's must never be one of them.
        Process sub = background("mosquitto_sub", "-h", "127.0.0.1", "-p", Integer.toString(broker.port()),
                "-u", "indexer-1", "-P", INDEXER_PW, "-t", "watch", "-C", "2", "-W", "20", "-q", "1");
        await().atMost(Duration.ofSeconds(10)).until(() -> connected(1));

        Mosquitto.Result agent = tls("mosquitto_pub", "127.0.0.1", "agent-1", AGENT_PW,
                "-t", "watch", "-m", "forged");
        Mosquitto.Result agentSubscribesPings = tls("mosquitto_sub", "127.0.0.1", "agent-1", AGENT_PW,
                "-t", "ping/+", "-C", "1", "-W", "3");
        assertEquals(0, Mosquitto.pub(broker.port(), "-u", "indexer-1", "-P", INDEXER_PW, "-t", "watch", "-m",
                "first", "-q", "1").exitCode());
        assertEquals(0, Mosquitto.pub(broker.port(), "-u", "indexer-1", "-P", INDEXER_PW, "-t", "watch", "-m",
                "second", "-q", "1").exitCode());

        assertEquals(0, agent.exitCode(), "MQTT 3.1.1 has no way to refuse a QoS 0 publish: it is dropped");
        assertTrue(agentSubscribesPings.stderr().contains("All subscription requests were denied"),
                agentSubscribesPings.exitCode() + " " + agentSubscribesPings.stderr());
        assertEquals("", agentSubscribesPings.out());
        assertEquals("first\nsecond\n", readAll(sub));
        assertEquals(1.0, counter("swarm_broker_publish_messages_refused"));
        assertEquals(1.0, counter("swarm_broker_subscriptions_refused"));
        // Received counts include the refused publish, as mosquitto's do.
        assertEquals(3.0, counter("swarm_broker_publish_messages_received"));
        assertEquals((double) "forgedfirstsecond".length(), counter("swarm_broker_publish_bytes_received"));
    }

    private double counter(String name) {
        return broker.metricsRegistry().scrape().stream()
                .filter(m -> m.getMetadata().getPrometheusName().equals(name))
                .map(CounterSnapshot.class::cast)
                .mapToDouble(c -> c.getDataPoints().get(0).getValue())
                .findFirst().orElseThrow(() -> new AssertionError("no metric " + name));
    }

    @Test
    void whenAnAclFileIsSet_thenItReplacesTheRolesAndIsEnforced() throws Exception {
        Path acl = Files.writeString(tmp.resolve("acl"), String.join("\n",
                "user indexer-1",
                "topic read ping/#",
                "user agent-1",
                "topic readwrite watch",
                "pattern write ping/%u/#",
                ""));
        broker = SwarmBroker.start(secured(pem("127.0.0.1")).withAclFile(acl));
        Process sub = background("mosquitto_sub", "-h", "127.0.0.1", "-p", Integer.toString(broker.port()),
                "-u", "indexer-1", "-P", INDEXER_PW, "-t", "ping/#", "-C", "1", "-W", "20", "-q", "1", "-v");
        await().atMost(Duration.ofSeconds(10)).until(() -> connected(1));

        // Under this ACL the agent may write watch (the roles would refuse it) but only its own ping/<user>/… topics.
        Mosquitto.Result watch = tls("mosquitto_pub", "127.0.0.1", "agent-1", AGENT_PW,
                "-t", "watch", "-m", "allowed by acl", "-q", "1", "-r");
        Mosquitto.Result foreign = tls("mosquitto_pub", "127.0.0.1", "agent-1", AGENT_PW,
                "-t", "ping/agent-2/x", "-m", "forged");
        Mosquitto.Result own = tls("mosquitto_pub", "127.0.0.1", "agent-1", AGENT_PW,
                "-t", "ping/agent-1/x", "-m", "own", "-q", "1");
        Mosquitto.Result indexerWritesWatch = Mosquitto.pub(broker.port(), "-u", "indexer-1", "-P", INDEXER_PW,
                "-t", "watch", "-m", "refused");

        assertEquals(0, watch.exitCode(), watch.stderr());
        assertEquals(0, foreign.exitCode(), foreign.stderr());
        assertEquals(0, own.exitCode(), own.stderr());
        assertEquals(0, indexerWritesWatch.exitCode(), indexerWritesWatch.stderr());
        assertEquals("ping/agent-1/x own\n", readAll(sub));
        Mosquitto.Result retained = tls("mosquitto_sub", "127.0.0.1", "agent-1", AGENT_PW,
                "-t", "watch", "-C", "1", "-W", "10");
        assertEquals("allowed by acl\n", retained.out(), retained.stderr());
        assertEquals(2.0, counter("swarm_broker_publish_messages_refused"));
    }

    @Test
    void whenBrokerRestarts_thenTheRetainedWatchIsDeliveredOverTls() {
        broker = SwarmBroker.start(secured(pem("127.0.0.1")));
        assertEquals(0, tls("mosquitto_pub", "127.0.0.1", "indexer-1", INDEXER_PW,
                "-t", "watch", "-m", "a.example b.example", "-q", "1", "-r").exitCode());
        broker.close();

        broker = SwarmBroker.start(secured(pem("127.0.0.1")));

        Mosquitto.Result sub = tls("mosquitto_sub", "127.0.0.1", "agent-1", AGENT_PW,
                "-t", "watch", "-C", "1", "-W", "10");
        assertEquals(0, sub.exitCode(), sub.stderr());
        assertEquals("a.example b.example\n", sub.out());
    }

    @Test
    void whenPlainListenerIsOnLocalhostOnly_thenOnlyTlsAnswersOnTheOtherAddress() {
        // 127.0.0.2 stands for the public interface: Linux answers all of 127.0.0.0/8 on lo.
        broker = SwarmBroker.start(secured(pem("127.0.0.2")));

        Mosquitto.Result plainElsewhere = Mosquitto.run("mosquitto_pub", "127.0.0.2", broker.port(),
                "-u", "indexer-1", "-P", INDEXER_PW, "-t", "watch", "-m", "x");
        Mosquitto.Result tlsElsewhere = tls("mosquitto_pub", "127.0.0.2", "indexer-1", INDEXER_PW,
                "-t", "watch", "-m", "via tls", "-r", "-q", "1");
        Mosquitto.Result plainLocal = Mosquitto.sub(broker.port(), "-u", "agent-1", "-P", AGENT_PW,
                "-t", "watch", "-C", "1", "-W", "10");

        assertNotEquals(0, plainElsewhere.exitCode());
        assertTrue(plainElsewhere.stderr().contains("Connection refused"), plainElsewhere.stderr());
        assertEquals(0, tlsElsewhere.exitCode(), tlsElsewhere.stderr());
        assertEquals("via tls\n", plainLocal.out(), plainLocal.stderr());
    }

    @Test
    void whenPlainPortIsClosed_thenTlsStillServes() {
        broker = SwarmBroker.start(secured(pem("127.0.0.1")).withListener("127.0.0.1", BrokerConfig.LISTENER_OFF));

        assertEquals(BrokerConfig.LISTENER_OFF, broker.port());
        Mosquitto.Result pub = tls("mosquitto_pub", "127.0.0.1", "indexer-1", INDEXER_PW,
                "-t", "watch", "-m", "tls only", "-r", "-q", "1");
        Mosquitto.Result sub = tls("mosquitto_sub", "127.0.0.1", "agent-1", AGENT_PW,
                "-t", "watch", "-C", "1", "-W", "10");
        assertEquals(0, pub.exitCode(), pub.stderr());
        assertEquals("tls only\n", sub.out(), sub.stderr());
    }

    @Test
    void whenPahoAgentPublishesOverTls_thenPahoIndexerOnPlainReceivesIt() throws Exception {
        broker = SwarmBroker.start(secured(pem("127.0.0.1")));
        BlockingQueue<String> received = new LinkedBlockingQueue<>();
        MqttClient indexer = new MqttClient("tcp://127.0.0.1:" + broker.port(), "indexer-" + UUID.randomUUID(),
                new MemoryPersistence());
        MqttClient agent = new MqttClient("ssl://127.0.0.1:" + broker.tlsPort(), "agent-" + UUID.randomUUID(),
                new MemoryPersistence());
        try {
            indexer.connect(options("indexer-1", INDEXER_PW, null));
            indexer.subscribe("ping/+", 1, (topic, msg) -> received.add(topic + " " + new String(msg.getPayload(),
                    StandardCharsets.UTF_8)));
            agent.connect(options("agent-1", AGENT_PW, trusting(certs.caCert())));

            agent.publish("ping/free.fr", "rtt=1.5".getBytes(StandardCharsets.UTF_8), 1, false);

            assertEquals("ping/free.fr rtt=1.5", received.poll(10, TimeUnit.SECONDS));
            MqttException refused = org.junit.jupiter.api.Assertions.assertThrows(MqttException.class,
                    () -> new MqttClient("ssl://127.0.0.1:" + broker.tlsPort(), "agent-x", new MemoryPersistence())
                            .connect(options("agent-1", "wrong", trusting(certs.caCert()))));
            assertEquals(MqttException.REASON_CODE_FAILED_AUTHENTICATION, refused.getReasonCode());
        } finally {
            if (agent.isConnected()) {
                agent.disconnect();
            }
            if (indexer.isConnected()) {
                indexer.disconnect();
            }
            agent.close();
            indexer.close();
        }
    }

    @Test
    void whenWebsocketListenerIsOn_thenPahoOverWebsocketIsAuthenticatedAndReceives() throws Exception {
        broker = SwarmBroker.start(secured(null).withWebsocketPort(0));
        assertNotEquals(BrokerConfig.LISTENER_OFF, broker.websocketPort());
        BlockingQueue<String> received = new LinkedBlockingQueue<>();
        String ws = "ws://127.0.0.1:" + broker.websocketPort() + BrokerConfig.WEBSOCKET_PATH;
        MqttClient indexer = new MqttClient(ws, "indexer-ws-" + UUID.randomUUID(), new MemoryPersistence());
        try {
            MqttClient intruder = new MqttClient(ws, "intruder-ws", new MemoryPersistence());
            try {
                // Paho 1.2.5's WebSocket module reports the refusal as "Already connected" (reason 0), not as
                // CONNACK 4; the counter below shows the broker refused the credentials.
                org.junit.jupiter.api.Assertions.assertThrows(MqttException.class,
                        () -> intruder.connect(options("indexer-1", "wrong", null)));
                assertTrue(!intruder.isConnected());
            } finally {
                intruder.close();
            }
            assertEquals(1.0, counter("swarm_broker_auth_failures"));
            indexer.connect(options("indexer-1", INDEXER_PW, null));
            indexer.subscribe("ping/+", 1, (topic, msg) -> received.add(topic + " " + new String(msg.getPayload(),
                    StandardCharsets.UTF_8)));

            assertEquals(0, Mosquitto.pub(broker.port(), "-u", "agent-1", "-P", AGENT_PW, "-t", "ping/ws.example",
                    "-m", "rtt=2", "-q", "1").exitCode());

            assertEquals("ping/ws.example rtt=2", received.poll(10, TimeUnit.SECONDS));
        } finally {
            if (indexer.isConnected()) {
                indexer.disconnect();
            }
            indexer.close();
        }
    }

    private static MqttConnectOptions options(String user, String password, SSLSocketFactory tls) {
        MqttConnectOptions o = new MqttConnectOptions();
        o.setUserName(user);
        o.setPassword(password.toCharArray());
        o.setCleanSession(true);
        o.setConnectionTimeout(10);
        if (tls != null) {
            o.setSocketFactory(tls);
        }
        return o;
    }

    private static SSLSocketFactory trusting(Path caPem) {
        return PemTrust.sslContext(caPem, "test CA").getSocketFactory();
    }
}
