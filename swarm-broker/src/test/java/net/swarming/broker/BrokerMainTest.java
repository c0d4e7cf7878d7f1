package net.swarming.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import net.swarming.common.cli.ExitCodes;
import net.swarming.common.cli.SwarmCli;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(60)
class BrokerMainTest {

    @TempDir
    Path tmp;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(Map<String, String> env, String... args) {
        return SwarmCli.run(new BrokerMain(), "SWARM_BROKER_", env, args, new PrintWriter(out, true),
                new PrintWriter(err, true));
    }

    private int run(String... args) {
        return run(Map.of(), args);
    }

    @Test
    void whenHelp_thenUsageOnStdoutAndExitZero() {
        assertEquals(ExitCodes.OK, run("--help"));
        assertTrue(out.toString().contains("Usage: swarm-broker"), out.toString());
        for (String option : List.of("--host", "--port", "--data-dir", "--max-message-bytes", "--metrics-host",
                "--metrics-port", "--tls-host", "--tls-port", "--tls-cert", "--tls-key", "--tls-pkcs12",
                "--tls-pkcs12-password", "--websocket-port", "--password-file", "--acl-file", "--allow-anonymous",
                "--session-expiry", "--max-queued-bytes", "--max-inflight-messages", "--max-queued-messages",
                "--config")) {
            assertTrue(out.toString().contains(option), option + " missing from help: " + out);
        }
    }

    @Test
    void whenVersion_thenVersionOnStdoutAndExitZero() {
        assertEquals(ExitCodes.OK, run("--version"));
        assertTrue(out.toString().startsWith("swarm-broker "), out.toString());
    }

    @Test
    void whenUnknownFlag_thenUsageErrorExitTwo() {
        assertEquals(ExitCodes.USAGE, run("--no-such-flag"));
        assertTrue(err.toString().contains("--no-such-flag"), err.toString());
    }

    @Test
    void whenConfigFileHasUnknownKey_thenExitTwoNamingTheKey() throws IOException {
        Path config = Files.writeString(tmp.resolve("broker.properties"), "port=1883\nprot=1884\n");
        assertEquals(ExitCodes.USAGE, run("--config", config.toString()));
        assertTrue(err.toString().contains("prot"), err.toString());
    }

    @Test
    void whenValuesInvalid_thenExitTwoListingEveryProblem() {
        assertEquals(ExitCodes.USAGE, run("--port", "70000", "--max-message-bytes", "0", "--metrics-port", "-2"));
        String e = err.toString();
        assertTrue(e.contains("port=70000") && e.contains("max-message-bytes=0") && e.contains("metrics-port=-2"), e);
    }

    @Test
    void whenSecurityFilesAreBrokenInTheConfigFile_thenExitTwoListingEveryProblemAndNothingStarts()
            throws IOException {
        Path passwords = Files.writeString(tmp.resolve("passwd"), "agent-1:plaintext\nindexer-1\n");
        Path acl = Files.writeString(tmp.resolve("acl"), "user agent-1\ntopic sometimes watch now\n");
        Path cert = Files.writeString(tmp.resolve("cert.pem"), "not a certificate\n");
        Path config = Files.writeString(tmp.resolve("broker.properties"), String.join("\n",
                "port=0",
                "data-dir=" + tmp.resolve("data"),
                "metrics-port=-1",
                "password-file=" + passwords,
                "acl-file=" + acl,
                "tls-port=0",
                "tls-cert=" + cert,
                "tls-key=" + tmp.resolve("missing.key"),
                ""));

        assertEquals(ExitCodes.USAGE, run("--config", config.toString()));

        String e = err.toString();
        assertTrue(e.contains("tls-key=" + tmp.resolve("missing.key") + " is not a readable file"), e);
        assertTrue(Files.notExists(tmp.resolve("data")), "nothing may be created before the configuration is valid");

        Files.writeString(tmp.resolve("missing.key"), "not a key either\n");
        err.getBuffer().setLength(0);

        assertEquals(ExitCodes.USAGE, run("--config", config.toString()));

        e = err.toString();
        assertTrue(e.contains("password-file " + passwords + ": line 1: user 'agent-1': unknown hash format"), e);
        assertTrue(e.contains("line 2: expected user:hash"), e);
        assertTrue(e.contains("acl-file " + acl + ": line 2 'topic sometimes watch now'"), e);
        assertTrue(e.contains("tls-cert " + cert), e);
        assertTrue(Files.notExists(tmp.resolve("data")), "nothing may be created before the configuration is valid");
    }

    @Test
    void whenSessionExpiryComesFromFlagEnvOrConfigFile_thenItIsParsedAndValidated() throws IOException {
        BrokerMain main = new BrokerMain();
        new picocli.CommandLine(main).parseArgs();
        assertEquals(BrokerConfig.DEFAULT_SESSION_EXPIRY, main.brokerConfig().sessionExpiry());
        new picocli.CommandLine(main).parseArgs("--session-expiry", "never");
        assertEquals(Duration.ZERO, main.brokerConfig().sessionExpiry());
        new picocli.CommandLine(main).parseArgs("--session-expiry", "12h");
        assertEquals(Duration.ofHours(12), main.brokerConfig().sessionExpiry());

        assertEquals(ExitCodes.USAGE, run(Map.of("SWARM_BROKER_SESSION_EXPIRY", "30d"), "--port", "70000"));
        String e = err.toString();
        assertTrue(e.contains("session-expiry=30d") && e.contains("port=70000"), e);

        err.getBuffer().setLength(0);
        Path config = Files.writeString(tmp.resolve("broker.properties"), "session-expiry=soon\n");
        assertEquals(ExitCodes.USAGE, run("--config", config.toString()));
        assertTrue(err.toString().contains("'soon' is not a duration"), err.toString());
    }

    @Test
    void whenOutboundLimitsComeFromFlagEnvOrConfigFile_thenTheyAreParsedAndValidated() throws IOException {
        BrokerMain main = new BrokerMain();
        new picocli.CommandLine(main).parseArgs();
        assertEquals(BrokerConfig.DEFAULT_MAX_QUEUED_BYTES, main.brokerConfig().maxQueuedBytes());
        assertEquals(BrokerConfig.DEFAULT_MAX_INFLIGHT_MESSAGES, main.brokerConfig().maxInflightMessages());
        new picocli.CommandLine(main).parseArgs("--max-queued-bytes", "1048576", "--max-inflight-messages", "50");
        assertEquals(1_048_576, main.brokerConfig().maxQueuedBytes());
        assertEquals(50, main.brokerConfig().maxInflightMessages());

        assertEquals(ExitCodes.USAGE, run(Map.of("SWARM_BROKER_MAX_QUEUED_BYTES", "0",
                "SWARM_BROKER_MAX_INFLIGHT_MESSAGES", "70000"), "--port", "70000"));
        String e = err.toString();
        assertTrue(e.contains("max-queued-bytes=0") && e.contains("max-inflight-messages=70000")
                && e.contains("port=70000"), e);

        err.getBuffer().setLength(0);
        Path config = Files.writeString(tmp.resolve("broker.properties"), "max-inflight-messages=0\n");
        assertEquals(ExitCodes.USAGE, run("--config", config.toString()));
        assertTrue(err.toString().contains("max-inflight-messages=0 must be 1..65535"), err.toString());
    }

    @Test
    void whenMaxQueuedMessagesComesFromFlagEnvOrConfigFile_thenItIsParsedAndValidated() throws IOException {
        BrokerMain main = new BrokerMain();
        new picocli.CommandLine(main).parseArgs();
        assertEquals(BrokerConfig.DEFAULT_MAX_QUEUED_MESSAGES, main.brokerConfig().maxQueuedMessages());
        new picocli.CommandLine(main).parseArgs("--max-queued-messages", "0");
        assertEquals(BrokerConfig.UNLIMITED, main.brokerConfig().maxQueuedMessages());
        assertFalse(main.brokerConfig().queuedMessagesLimited());

        assertEquals(ExitCodes.USAGE, run(Map.of("SWARM_BROKER_MAX_QUEUED_MESSAGES", "-1"), "--port", "70000"));
        String e = err.toString();
        assertTrue(e.contains("max-queued-messages=-1 must be at least 1, or 0 for no limit")
                && e.contains("port=70000"), e);

        err.getBuffer().setLength(0);
        Path config = Files.writeString(tmp.resolve("queue.properties"), "max-queued-messages=-5\n");
        assertEquals(ExitCodes.USAGE, run("--config", config.toString()));
        assertTrue(err.toString().contains("max-queued-messages=-5"), err.toString());
    }

    @Test
    void whenPlainPortClosedWithoutTls_thenExitTwo() {
        assertEquals(ExitCodes.USAGE, run("--port", "-1", "--websocket-port", "0"));
        assertTrue(err.toString().contains("port=-1 closes the plain listener but no TLS listener"), err.toString());
        assertTrue(err.toString().contains("websocket-port=0 listens on the plain listener's address"),
                err.toString());

        err.getBuffer().setLength(0);
        assertEquals(ExitCodes.USAGE, run("--port", "-1", "--tls-key", tmp.resolve("k").toString()));
        String e = err.toString();
        assertTrue(e.contains("tls-key is set but tls-cert is missing"), e);
        assertTrue(e.contains("tls-key=" + tmp.resolve("k") + " is not a readable file"), e);
    }

    @Test
    void whenPortInUse_thenExitThreeWithClearMessageAndNoBrokerThreadLeft() throws Exception {
        Set<Thread> before = BrokerThreads.snapshot();
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            int port = taken.getLocalPort();

            int code = run("--host", "127.0.0.1", "--port", Integer.toString(port),
                    "--data-dir", tmp.resolve("data").toString(), "--metrics-port", "-1");

            assertEquals(ExitCodes.STARTUP, code, err.toString());
            assertTrue(err.toString().contains("port " + port + " on 127.0.0.1 is in use"), err.toString());
        }
        assertEquals(List.of(), BrokerThreads.leftoverSince(before, Duration.ofSeconds(10)));
    }

    @Test
    void whenPortInUseComesFromConfigFileAndEnvironment_thenTheyAreRead() throws Exception {
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            int port = taken.getLocalPort();
            Path config = Files.writeString(tmp.resolve("broker.properties"),
                    "host=127.0.0.1\nport=" + port + "\nmetrics-port=-1\n");

            int code = run(Map.of("SWARM_BROKER_DATA_DIR", tmp.resolve("env-data").toString()),
                    "--config", config.toString());

            assertEquals(ExitCodes.STARTUP, code, err.toString());
            assertTrue(err.toString().contains("port " + port + " on 127.0.0.1 is in use"), err.toString());
            assertTrue(Files.isDirectory(tmp.resolve("env-data")), "data dir from the environment was not used");
        }
    }

    @Test
    void whenDataDirCannotBeCreated_thenExitThreeNamingIt() throws IOException {
        Path file = Files.writeString(tmp.resolve("not-a-dir"), "x");
        int code = run("--host", "127.0.0.1", "--port", "0", "--data-dir", file.resolve("data").toString(),
                "--metrics-port", "-1");
        assertEquals(ExitCodes.STARTUP, code, err.toString());
        assertTrue(err.toString().contains("data directory " + file.resolve("data")), err.toString());
    }

    @Test
    void whenStopRequested_thenCallClosesTheBrokerAndReturnsZero() throws Exception {
        Set<Thread> before = BrokerThreads.snapshot();
        BrokerMain main = new BrokerMain();
        main.host = "127.0.0.1";
        main.port = 0;
        main.dataDir = tmp.resolve("data");
        main.maxMessageBytes = BrokerConfig.DEFAULT_MAX_MESSAGE_BYTES;
        main.metricsHost = "127.0.0.1";
        main.metricsPort = BrokerConfig.METRICS_OFF;
        main.stopRequested.countDown();

        assertEquals(ExitCodes.OK, main.call());
        assertEquals(List.of(), BrokerThreads.leftoverSince(before, Duration.ofSeconds(10)));
    }
}
