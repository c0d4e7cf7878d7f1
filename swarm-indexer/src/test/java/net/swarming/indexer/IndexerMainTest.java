package net.swarming.indexer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import net.swarming.common.cli.ExitCodes;
import net.swarming.common.cli.SwarmCli;
import net.swarming.common.mqtt.MqttSecurity;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IndexerMainTest {

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(Map<String, String> env, String... args) {
        return SwarmCli.run(new IndexerMain(), "SWARM_INDEXER_", env, args, new PrintWriter(out, true),
                new PrintWriter(err, true));
    }

    private int run(String... args) {
        return run(Map.of(), args);
    }

    @Test
    void whenHelp_thenUsageWithEveryOptionAndExit0() {
        assertEquals(ExitCodes.OK, run("--help"));

        String usage = out.toString();
        for (String option : new String[] {"host[:port]", "--elasticsearch", "--pings-stream", "--agents-stream",
            "--client-id", "--bulk-size", "--flush-interval", "--metrics-host", "--metrics-port", "--config"}) {
            assertTrue(usage.contains(option), "usage lacks " + option + ":\n" + usage);
        }
    }

    @Test
    void whenVersion_thenNameAndVersionAndExit0() {
        assertEquals(ExitCodes.OK, run("--version"));

        assertTrue(out.toString().startsWith("swarm-indexer "), out.toString());
    }

    @Test
    void whenNoBroker_thenUsageErrorExit2() {
        assertEquals(ExitCodes.USAGE, run("--metrics-port", "-1"));

        assertTrue(err.toString().contains("Missing required parameter: 'host[:port]'"), err.toString());
    }

    @Test
    void whenBadElasticsearchUrl_thenExit2NamingIt() {
        assertEquals(ExitCodes.USAGE, run("--elasticsearch", "localhost:9200", "queen"));

        assertTrue(err.toString().contains("--elasticsearch"), err.toString());
        assertTrue(err.toString().contains("'localhost:9200' must start with http:// or https://"), err.toString());
    }

    @Test
    void whenBadBroker_thenExit2NamingIt() {
        assertEquals(ExitCodes.USAGE, run("queen:notaport"));

        assertTrue(err.toString().contains("queen:notaport"), err.toString());
    }

    @Test
    void whenBadFlushInterval_thenExit2WithTheAcceptedForms() {
        assertEquals(ExitCodes.USAGE, run("--flush-interval", "soon", "queen"));

        assertTrue(err.toString().contains("'soon' is not a duration"), err.toString());
    }

    @Test
    void whenConfigurationInvalid_thenExit2WithEveryProblem() {
        assertEquals(ExitCodes.USAGE, run("--pings-stream", "pings", "--bulk-size", "0", "--metrics-port", "-1",
                "queen"));

        assertTrue(err.toString().contains("pings-stream: 'pings'"), err.toString());
        assertTrue(err.toString().contains("bulk-size: 0"), err.toString());
    }

    @Test
    void whenEnvironmentAndConfigFileGiveValues_thenTheyReachTheConfiguration(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("indexer.properties");
        Files.writeString(file, "bulk-size=250\nelasticsearch=http://es1:9200,http://es2:9200\n");
        IndexerMain main = new IndexerMain();
        picocli.CommandLine cli = new picocli.CommandLine(main);
        cli.setDefaultValueProvider(net.swarming.common.cli.SwarmDefaults.fromArgs("SWARM_INDEXER_",
                Map.of("SWARM_INDEXER_FLUSH_INTERVAL", "250ms"), new String[] {"--config", file.toString()}));

        cli.parseArgs("--config", file.toString(), "queen", "[::1]:1884");
        IndexerConfig c = main.toConfig();

        assertEquals(250, c.bulkSize());
        assertEquals(java.time.Duration.ofMillis(250), c.flushInterval());
        assertEquals(2, c.elasticsearch().size());
        assertEquals("[queen:1883, [::1]:1884]", c.brokers().toString());
    }

    @Test
    void whenMqttOptionsAndOthersAreBad_thenExit2WithEveryProblem() {
        assertEquals(ExitCodes.USAGE, run("--mqtt-password", "pw", "--mqtt-ca", "/nonexistent/ca.pem",
                "--bulk-size", "0", "--metrics-port", "-1", "queen"));

        for (String expected : new String[] {"bulk-size: 0", "mqtt-password: needs --mqtt-username",
            "mqtt-ca: '/nonexistent/ca.pem' is not a readable file", "mqtt-ca: is set but no broker is ssl://"}) {
            assertTrue(err.toString().contains(expected), expected + " missing from: " + err);
        }
    }

    @Test
    void whenMqttCredentialsComeFromEnvironmentAndFile_thenTheyReachTheConfiguration(@TempDir Path dir)
            throws Exception {
        Path file = dir.resolve("indexer.properties");
        Files.writeString(file, "mqtt-username=indexer-1\n");
        IndexerMain main = new IndexerMain();
        picocli.CommandLine cli = new picocli.CommandLine(main);
        cli.setDefaultValueProvider(net.swarming.common.cli.SwarmDefaults.fromArgs("SWARM_INDEXER_",
                Map.of("SWARM_INDEXER_MQTT_PASSWORD", "from-env"), new String[] {"--config", file.toString()}));

        cli.parseArgs("--config", file.toString(), "queen");
        IndexerConfig c = main.toConfig();

        assertEquals(new MqttSecurity("indexer-1", "from-env", null), c.mqttSecurity());
    }

    @Test
    void whenTheConfigFileGivesMqttKeys_thenTheWatchCommandReadsThemToo(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("indexer.properties");
        Files.writeString(file, "mqtt-username=indexer-1\nmqtt-password-file=" + dir.resolve("missing") + "\n");

        assertEquals(ExitCodes.USAGE, run("--config", file.toString(), "watch", "-t", "free.fr", "queen"));

        assertTrue(err.toString().contains("--mqtt-password-file: '" + dir.resolve("missing")
                + "' is not a readable file"), err.toString());
    }

    @Test
    void whenWatchHasAPasswordWithoutUser_thenExit2NamingIt() {
        assertEquals(ExitCodes.USAGE, run("watch", "-t", "free.fr", "--mqtt-password", "pw", "queen"));

        assertTrue(err.toString().contains("--mqtt-password: needs --mqtt-username"), err.toString());
    }

    @Test
    void whenMqttIntakeGiven_thenItReachesTheConfiguration_andNettyIsTheDefault_andABadOneIsNamed() {
        IndexerMain main = new IndexerMain();
        new picocli.CommandLine(main).parseArgs("queen");
        assertEquals(IndexerConfig.MqttIntake.NETTY, main.toConfig().mqttIntake());
        IndexerMain paho = new IndexerMain();
        new picocli.CommandLine(paho).parseArgs("--mqtt-intake", "PAHO", "queen");
        assertEquals(IndexerConfig.MqttIntake.PAHO, paho.toConfig().mqttIntake());

        assertEquals(ExitCodes.USAGE, run("--mqtt-intake", "HIVEMQ", "queen"));
        assertTrue(err.toString().contains("--mqtt-intake") && err.toString().contains("HIVEMQ")
                && err.toString().contains("NETTY"), err.toString());
    }

    @Test
    void whenUnknownKeyInConfigFile_thenExit2(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("indexer.properties");
        Files.writeString(file, "bulksize=250\n");

        assertEquals(ExitCodes.USAGE, run("--config", file.toString(), "queen"));

        assertTrue(err.toString().contains("bulksize"), err.toString());
    }

    @Test
    void whenSubcommandHelp_thenItsUsageWithoutAskingForBrokersOfTheIndexer() {
        assertEquals(ExitCodes.OK, run("setup", "--help"));
        assertTrue(out.toString().contains("--elasticsearch-api-key"), out.toString());
        assertEquals(ExitCodes.OK, run("watch", "--help"));
        assertTrue(out.toString().contains("--follow"), out.toString());
        assertEquals(ExitCodes.OK, run("benchmark", "--help"));
        assertTrue(out.toString().contains("--lag-rate"), out.toString());
    }

    @Test
    void whenWatchWithoutTargetsOrFollowWithoutFile_thenExit2() {
        assertEquals(ExitCodes.USAGE, run("watch", "queen"));
        assertTrue(err.toString().contains("no targets"), err.toString());
        assertEquals(ExitCodes.USAGE, run("watch", "--follow", "-t", "free.fr", "queen"));
        assertTrue(err.toString().contains("--follow needs --file"), err.toString());
    }

    @Test
    void whenSpoolSizeHasAUnit_thenParsedAndBadOneNamed() {
        assertEquals(ExitCodes.USAGE, run("--spool-max-size", "lots", "queen"));
        assertTrue(err.toString().contains("'lots' is not a size"), err.toString());
        assertEquals(512L << 20, net.swarming.indexer.internal.cli.Converters.parseBytes("512m"));
        assertEquals(2L << 30, net.swarming.indexer.internal.cli.Converters.parseBytes("2G"));
        assertEquals(1000L, net.swarming.indexer.internal.cli.Converters.parseBytes("1000"));
    }
}
