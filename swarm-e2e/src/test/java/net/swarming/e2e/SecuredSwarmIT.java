package net.swarming.e2e;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import net.swarming.broker.BrokerConfig;
import net.swarming.broker.SwarmBroker;
import net.swarming.broker.TlsListener;
import net.swarming.common.cli.ExitCodes;
import net.swarming.common.cli.SwarmCli;
import net.swarming.common.mqtt.BrokerAddress;
import net.swarming.common.mqtt.InboundMessage;
import net.swarming.common.mqtt.MqttLink;
import net.swarming.common.mqtt.MqttLinkConfig;
import net.swarming.common.mqtt.MqttSecurity;
import net.swarming.common.mqtt.Will;
import net.swarming.common.wire.Topics;
import net.swarming.indexer.Indexer;
import net.swarming.indexer.IndexerConfig;
import net.swarming.indexer.IndexerMain;
import net.swarming.testkit.ElasticsearchExtension;
import net.swarming.testkit.ElasticsearchNode;
import net.swarming.testkit.MosquittoPasswd;
import net.swarming.testkit.TestCertificates;
import net.swarming.testkit.TestCertificates.Authority;
import net.swarming.testkit.TestCertificates.KeyPair;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * A secured queen: swarm-broker with a password file (written by the real {@code mosquitto_passwd}), the default role
 * policy, and a TLS listener whose certificate a CA made for the test signed. The agent (its jar), the indexer and
 * its {@code watch} command connect with their own users over TLS, trusting only that CA.
 */
@ExtendWith(ElasticsearchExtension.class)
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class SecuredSwarmIT {

    private static final String AGENT = "agent-1";
    private static final String AGENT_PW = "agent-secret-1";
    private static final String INDEXER = "indexer-1";
    private static final String INDEXER_PW = "indexer-secret-1";

    @TempDir
    Path tmp;

    private Authority ca;
    private SwarmBroker queen;
    private String queenTls;
    private final TestResources resources = new TestResources();
    private final ListAppender<ILoggingEvent> linkLogs = new ListAppender<>();

    @BeforeEach
    void startQueen() {
        ca = TestCertificates.newAuthority(tmp.resolve("ca"), "ca", "swarm-e2e-ca");
        KeyPair server = ca.issueServerCertificate(tmp.resolve("queen-tls"), "queen");
        Path passwords = tmp.resolve("passwd");
        MosquittoPasswd.create(passwords, AGENT, AGENT_PW);
        MosquittoPasswd.add(passwords, INDEXER, INDEXER_PW);
        queen = SwarmBroker.start(BrokerConfig.defaults()
                .withListener("127.0.0.1", 0)
                .withDataDir(tmp.resolve("queen"))
                .withMetrics("127.0.0.1", BrokerConfig.METRICS_OFF)
                .withTls(TlsListener.pem("127.0.0.1", 0, server.certificate(), server.key()))
                .withPasswordFile(passwords));
        resources.add(queen);
        queenTls = "ssl://127.0.0.1:" + queen.tlsPort();
        linkLogs.start();
        ((Logger) LoggerFactory.getLogger(MqttLink.class)).addAppender(linkLogs);
    }

    @AfterEach
    void tearDown() {
        ((Logger) LoggerFactory.getLogger(MqttLink.class)).detachAppender(linkLogs);
        resources.closeAll();
    }

    @Test
    void whenAgentAndIndexerUseTheirUsersOverTls_thenResultsReachElasticsearch(ElasticsearchNode es)
            throws Exception {
        String suffix = Long.toString(ThreadLocalRandom.current().nextLong(1L << 40), 36);
        String agentName = "bee-sec-" + suffix;
        String pings = "swarm-pings-sec" + suffix;

        // The operator sets the targets with the indexer's account, the password from the environment.
        StringWriter watchErr = new StringWriter();
        int watch = SwarmCli.run(new IndexerMain(), "SWARM_INDEXER_", Map.of("SWARM_INDEXER_MQTT_PASSWORD", INDEXER_PW),
                new String[] {"watch", "-t", "127.0.0.1", "--mqtt-username", INDEXER, "--mqtt-ca",
                    ca.certificate().toString(), queenTls},
                new PrintWriter(new StringWriter(), true), new PrintWriter(watchErr, true));
        assertEquals(ExitCodes.OK, watch, watchErr.toString());

        Indexer indexer = Indexer.start(IndexerConfig.builder()
                .brokers(List.of(BrokerAddress.parse(queenTls)))
                .elasticsearch(List.of(URI.create(es.url())))
                .pingsStream(pings)
                .agentsStream("swarm-agents-sec" + suffix)
                .flushInterval(Duration.ofMillis(200))
                .metricsPort(IndexerConfig.METRICS_DISABLED)
                .mqttSecurity(new MqttSecurity(INDEXER, INDEXER_PW, ca.certificate()))
                .build(), Clock.systemUTC());
        resources.add(indexer);

        Path passwordFile = Files.writeString(tmp.resolve("agent-password"), AGENT_PW + "\n");
        Path agentLog = tmp.resolve("agent.log");
        resources.startAgent(agentLog, tmp.resolve("spool"), List.of("--name", agentName, "--mqtt-username", AGENT, "--mqtt-password-file",
                passwordFile.toString(), "--mqtt-ca", ca.certificate().toString(), queenTls));

        await("results of the agent in Elasticsearch").atMost(Duration.ofSeconds(45))
                .pollInterval(Duration.ofMillis(500))
                .until(() -> {
                    es.refresh(pings + "*");
                    return es.count(pings + "*") > 0;
                });
        String agentOutput = Files.readString(agentLog);
        assertTrue(agentOutput.contains("user " + AGENT + " (password set), CA " + ca.certificate()), agentOutput);
        assertFalse(agentOutput.contains(AGENT_PW), agentOutput);
        assertTrue(es.post("/" + pings + "/_search", "{\"query\":{\"term\":{\"observer.name\":\"" + agentName
                + "\"}}}").contains("\"127.0.0.1\""));
    }

    @Test
    void whenThePasswordIsWrong_thenRefusedWithTheOptionsNamed_andAnAgentUserCannotSetTheWatch() throws Exception {
        MqttLink wrong = link(AGENT, "not-the-password", m -> { });
        await().atMost(Duration.ofSeconds(20)).until(() -> wrong.credentialsRefusedCount() >= 2);
        assertFalse(wrong.awaitConnected(Duration.ZERO));
        String warning = linkLogs.list.stream().filter(e -> e.getLevel() == Level.WARN)
                .map(ILoggingEvent::getFormattedMessage).findFirst().orElseThrow();
        assertTrue(warning.contains("bad user name or password (CONNACK 4) for user name 'agent-1'")
                && warning.contains("check --mqtt-username and --mqtt-password (or --mqtt-password-file)"), warning);
        wrong.close();

        MqttLink indexer = link(INDEXER, INDEXER_PW, m -> { });
        assertTrue(indexer.awaitConnected(Duration.ofSeconds(15)));
        indexer.publish(Topics.WATCH, "127.0.0.1".getBytes(StandardCharsets.UTF_8), 1, true).get(10, TimeUnit.SECONDS);

        // The agent's own account: its publish to watch is acknowledged (so it stays connected) and dropped.
        MqttLink agent = link(AGENT, AGENT_PW, m -> { });
        assertTrue(agent.awaitConnected(Duration.ofSeconds(15)));
        agent.publish(Topics.WATCH, "evil.example".getBytes(StandardCharsets.UTF_8), 1, true)
                .get(10, TimeUnit.SECONDS);

        BlockingQueue<InboundMessage> watches = new LinkedBlockingQueue<>();
        MqttLink reader = link(AGENT, AGENT_PW, watches::add);
        assertTrue(reader.awaitConnected(Duration.ofSeconds(15)));
        InboundMessage retained = watches.poll(10, TimeUnit.SECONDS);
        assertNotNull(retained, "no retained watch");
        assertEquals("127.0.0.1", new String(retained.payload(), StandardCharsets.UTF_8));
    }

    /** A link configured as the agent's (will, watch subscription) with the given credentials and the test CA. */
    private MqttLink link(String user, String password, net.swarming.common.mqtt.MessageHandler handler) {
        MqttLink link = new MqttLink(MqttLinkConfig.builder()
                .broker(BrokerAddress.parse(queenTls))
                .clientId(MqttLink.defaultClientId("secured-e2e"))
                .connectTimeout(Duration.ofSeconds(3))
                .backoff(Duration.ofMillis(50), Duration.ofMillis(300))
                .will(new Will(Topics.ripAgent("bee-sec"), new byte[0], 1, false))
                .subscribe(Topics.WATCH, 1)
                .security(new MqttSecurity(user, password, ca.certificate()))
                .build(), handler, Clock.systemUTC());
        resources.add(link);
        link.start();
        return link;
    }
}
