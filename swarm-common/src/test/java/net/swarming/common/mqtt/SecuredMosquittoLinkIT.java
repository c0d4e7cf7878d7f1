package net.swarming.common.mqtt;

import static net.swarming.common.mqtt.LinkTesting.CONNECT;
import static net.swarming.common.mqtt.LinkTesting.DELIVERY;
import static net.swarming.common.mqtt.LinkTesting.uniqueTopic;
import static net.swarming.common.mqtt.LinkTesting.utf8;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import net.swarming.testkit.MosquittoBroker;
import net.swarming.testkit.MosquittoOptions;
import net.swarming.testkit.MosquittoPasswd;
import net.swarming.testkit.TestCertificates;
import net.swarming.testkit.TestCertificates.Authority;
import net.swarming.testkit.TestCertificates.KeyPair;
import net.swarming.testkit.internal.FreePorts;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The link against a real mosquitto with a password file (written by the real {@code mosquitto_passwd}), no anonymous
 * access, and a TLS listener whose certificate a CA made for this test signed.
 */
@Timeout(60)
class SecuredMosquittoLinkIT {

    private static final String USER = "agent-1";
    private static final String PASSWORD = "agent-pw";

    @TempDir
    static Path dir;

    private static Authority ca;
    private static MosquittoBroker mosquitto;
    private static int tlsPort;
    private static int otherAddressTlsPort;

    private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
    private MqttLink link;

    @BeforeAll
    static void startMosquitto() throws Exception {
        ca = TestCertificates.newAuthority(dir, "ca", "swarm-test-ca");
        KeyPair server = ca.issueServerCertificate(dir, "mosquitto");
        Path passwords = dir.resolve("passwd");
        MosquittoPasswd.create(passwords, USER, PASSWORD);
        tlsPort = FreePorts.pick();
        otherAddressTlsPort = FreePorts.pick();
        mosquitto = MosquittoBroker.launch(MosquittoOptions.defaults().withExtraConfig(
                "allow_anonymous false",
                "password_file " + passwords,
                "listener " + tlsPort + " 127.0.0.1",
                "cafile " + ca.certificate(),
                "certfile " + server.certificate(),
                "keyfile " + server.key(),
                "listener " + otherAddressTlsPort + " 127.0.0.2",
                "cafile " + ca.certificate(),
                "certfile " + server.certificate(),
                "keyfile " + server.key()));
    }

    @AfterAll
    static void stopMosquitto() {
        if (mosquitto != null) {
            mosquitto.close();
        }
    }

    @BeforeEach
    void captureLinkLogs() {
        logs.start();
        ((Logger) LoggerFactory.getLogger(MqttLink.class)).addAppender(logs);
    }

    @AfterEach
    void closeLink() {
        if (link != null) {
            link.close();
        }
        ((Logger) LoggerFactory.getLogger(MqttLink.class)).detachAppender(logs);
    }

    private MqttLink start(String broker, MqttSecurity security, MessageHandler handler) {
        MqttLinkConfig config = MqttLinkConfig.builder()
                .broker(BrokerAddress.parse(broker))
                .clientId(MqttLink.defaultClientId("secured-it"))
                .connectTimeout(Duration.ofSeconds(3))
                .backoff(Duration.ofMillis(50), Duration.ofMillis(300))
                .subscribe("it/secured/#", 1)
                .security(security)
                .build();
        link = new MqttLink(config, handler, Clock.systemUTC());
        link.start();
        return link;
    }

    private List<String> warnings() {
        return logs.list.stream().filter(e -> e.getLevel() == ch.qos.logback.classic.Level.WARN)
                .map(ILoggingEvent::getFormattedMessage).toList();
    }

    @Test
    void whenUserAndPasswordOverTlsWithTheCaFile_thenConnectedAndMessagesFlow() throws Exception {
        BlockingQueue<InboundMessage> inbox = new LinkedBlockingQueue<>();
        start("ssl://127.0.0.1:" + tlsPort, new MqttSecurity(USER, PASSWORD, ca.certificate()), inbox::add);

        assertTrue(link.awaitConnected(CONNECT), "not connected: " + warnings());
        String topic = uniqueTopic("secured").replace("it/", "it/secured/");
        link.publish(topic, utf8("over tls"), 1, false).get(DELIVERY.toSeconds(), TimeUnit.SECONDS);

        InboundMessage m = inbox.poll(DELIVERY.toSeconds(), TimeUnit.SECONDS);
        assertNotNull(m, "nothing received");
        assertEquals(topic, m.topic());
        assertEquals("over tls", new String(m.payload(), StandardCharsets.UTF_8));
        assertEquals(0, link.credentialsRefusedCount());
    }

    @Test
    void whenPasswordIsWrong_thenAWarningNamesTheOptionsAndTheLinkKeepsTrying() throws Exception {
        start(mosquitto.hostPort(), new MqttSecurity(USER, "wrong", null), m -> { });

        await().atMost(Duration.ofSeconds(20)).until(() -> link.credentialsRefusedCount() >= 3);
        assertFalse(link.awaitConnected(Duration.ZERO));
        String warning = warnings().get(0);
        // mosquitto answers a wrong password with CONNACK 5 in MQTT 3.1.1
        assertTrue(warning.contains("refused MQTT link") && warning.contains("not authorized (CONNACK 5)")
                && warning.contains("user name 'agent-1'")
                && warning.contains("check --mqtt-username and --mqtt-password (or --mqtt-password-file)"), warning);
        assertFalse(warnings().stream().anyMatch(w -> w.contains("wrong")), warnings().toString());
    }

    @Test
    void whenNoCredentials_thenTheWarningSaysTheBrokerAdmitsNoAnonymousClients() throws Exception {
        start(mosquitto.hostPort(), MqttSecurity.NONE, m -> { });

        await().atMost(Duration.ofSeconds(20)).until(() -> link.credentialsRefusedCount() >= 1);
        assertTrue(warnings().get(0).contains("with no user name; the broker admits no anonymous clients: set "
                + "--mqtt-username and --mqtt-password"), warnings().get(0));
    }

    @Test
    void whenAnotherCaSignedTheBrokerCertificate_thenNoConnectionAndNoCredentialsBlamed() throws Exception {
        Authority other = TestCertificates.newAuthority(dir.resolve("other"), "other-ca", "other-test-ca");
        start("ssl://127.0.0.1:" + tlsPort, new MqttSecurity(USER, PASSWORD, other.certificate()), m -> { });

        await().atMost(Duration.ofSeconds(20)).until(() -> link.connectFailureCount() >= 2);
        assertFalse(link.awaitConnected(Duration.ZERO));
        assertEquals(0, link.credentialsRefusedCount());
        String warning = warnings().get(0);
        assertTrue(warning.contains("the broker's certificate is not signed by a CA in --mqtt-ca "
                + other.certificate()), warning);
    }

    @Test
    void whenTheBrokerAddressIsNotInItsCertificate_thenTheHostNameCheckRefusesIt() throws Exception {
        // Same CA, same certificate (for 127.0.0.1 and localhost), reached as 127.0.0.2: trusting the CA is not enough.
        start("ssl://127.0.0.2:" + otherAddressTlsPort, new MqttSecurity(USER, PASSWORD, ca.certificate()), m -> { });

        await().atMost(Duration.ofSeconds(20)).until(() -> link.connectFailureCount() >= 2);
        assertFalse(link.awaitConnected(Duration.ZERO));
        String warning = warnings().get(0);
        assertTrue(warning.contains("127.0.0.2"), warning);
        assertTrue(warning.contains("No subject alternative names matching IP address 127.0.0.2")
                && warning.contains("the broker's certificate does not name 127.0.0.2"), warning);
    }
}
