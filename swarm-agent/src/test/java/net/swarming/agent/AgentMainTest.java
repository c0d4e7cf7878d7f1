package net.swarming.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import net.swarming.agent.AgentConfigException.Problem;
import net.swarming.common.cli.ExitCodes;
import net.swarming.common.cli.SwarmCli;
import net.swarming.common.cli.SwarmVersion;
import net.swarming.common.mqtt.BrokerAddress;
import net.swarming.common.mqtt.MqttSecurity;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class AgentMainTest {

    private record Run(int code, String out, String err) {}

    private static Run run(Map<String, String> env, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = SwarmCli.run(new AgentMain(), "SWARM_AGENT_", env, args, new PrintWriter(out, true),
                new PrintWriter(err, true));
        return new Run(code, out.toString(), err.toString());
    }

    private static Run run(String... args) {
        return run(Map.of(), args);
    }

    @Test
    void whenHelp_thenUsageAndExitZero() {
        Run r = run("--help");

        assertEquals(ExitCodes.OK, r.code());
        assertTrue(r.out().contains("swarm-agent [-hV]"), r.out());
        for (String option : List.of("--name", "--client-id", "--format", "--probe", "--tcp-port", "--step",
                "--pings", "--ping-interval", "--timeout", "--max-parallel", "--metrics-host", "--metrics-port",
                "--config", "host[:port]")) {
            assertTrue(r.out().contains(option), option + " missing from help: " + r.out());
        }
        assertTrue(r.out().contains("Default: 60s"), r.out());
    }

    @Test
    void whenVersion_thenVersionAndExitZero() {
        Run r = run("--version");

        assertEquals(ExitCodes.OK, r.code());
        assertTrue(r.out().contains("swarm-agent " + SwarmVersion.version()), r.out());
    }

    @Test
    void whenStepIsBad_thenExitTwoNamingTheOption() {
        Run r = run("--step", "soon");

        assertEquals(ExitCodes.USAGE, r.code());
        assertTrue(r.err().contains("error: --step: 'soon' is not a duration"), r.err());
    }

    @Test
    void whenSeveralOptionsAreBad_thenAllAreReportedTogether() {
        Run r = run("--step", "0s", "--pings", "many", "--format", "json", "--tcp-port", "70000", "--timeout", "-1s",
                "--probe", "smtp", "--metrics-port", "-5", "--name", "a/b", "nohost:", "127.0.0.1:1884");

        assertEquals(ExitCodes.USAGE, r.code());
        for (String expected : List.of("--step: must be between", "--pings: 'many' is not a whole number",
                "--format: 'json' is not a format", "--tcp-port: must be 1-65535, got 70000",
                "--timeout: '-1s' is not a duration", "--probe: unknown probe type",
                "--metrics-port: must be 0-65535, or -1", "--name: must be one MQTT topic level",
                "host[:port]: invalid broker address 'nohost:'")) {
            assertTrue(r.err().contains("error: " + expected), expected + " missing from: " + r.err());
        }
        assertFalse(r.err().contains("Exception"), r.err());
    }

    @Test
    void whenRoundDoesNotFitTheStep_thenStepIsNamed() {
        Run r = run("--step", "5s");

        assertEquals(ExitCodes.USAGE, r.code());
        assertTrue(r.err().contains("error: --step: a round"), r.err());
    }

    @Test
    void whenEnvironmentValueIsBad_thenItIsReportedUnderItsOption() {
        Run r = run(Map.of("SWARM_AGENT_PINGS", "lots"));

        assertEquals(ExitCodes.USAGE, r.code());
        assertTrue(r.err().contains("error: --pings: 'lots' is not a whole number"), r.err());
    }

    @Test
    void whenConfigFileHasUnknownKey_thenExitTwo(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("agent.properties");
        Files.writeString(file, "stepp=30s\n");

        Run r = run("--config", file.toString());

        assertEquals(ExitCodes.USAGE, r.code());
        assertTrue(r.err().contains("stepp"), r.err());
    }

    @Test
    void whenNoOptions_thenTheConfigHasTheDocumentedDefaults() {
        AgentMain main = new AgentMain();
        new CommandLine(main).parseArgs();
        List<Problem> problems = new ArrayList<>();

        AgentConfig c = main.toConfig(problems);

        assertEquals(List.of(), problems);
        assertNotNull(c);
        AgentConfig defaults = AgentConfig.builder().name(c.name()).clientId(c.clientId()).build();
        assertEquals(defaults, c);
    }

    @Test
    void whenOptionsFromFileEnvAndCommandLine_thenCommandLineWinsThenEnvThenFile(@TempDir Path dir)
            throws Exception {
        Path file = dir.resolve("agent.properties");
        Files.writeString(file, "step=30s\npings=5\nformat=v2\n");
        AgentMain main = new AgentMain();
        CommandLine cli = new CommandLine(main);
        cli.setDefaultValueProvider(net.swarming.common.cli.SwarmDefaults.fromArgs("SWARM_AGENT_",
                Map.of("SWARM_AGENT_PINGS", "7"), new String[] {"--config", file.toString()}));
        cli.parseArgs("--config", file.toString(), "--format", "original", "--name", "bee-1", "queen",
                "[::1]:1884");
        List<Problem> problems = new ArrayList<>();

        AgentConfig c = main.toConfig(problems);

        assertEquals(List.of(), problems);
        assertEquals(Duration.ofSeconds(30), c.step());
        assertEquals(7, c.pings());
        assertEquals(ResultFormat.ORIGINAL, c.format());
        assertEquals("bee-1", c.name());
        assertEquals(List.of(BrokerAddress.tcp("queen", 1883), BrokerAddress.tcp("::1", 1884)), c.brokers());
    }

    @Test
    void whenMqttOptionsAreBad_thenEachIsNamedWithTheOtherProblems() {
        Run r = run("--mqtt-password", "pw", "--mqtt-ca", "/nonexistent/ca.pem", "--step", "0s", "queen1");

        assertEquals(ExitCodes.USAGE, r.code());
        for (String expected : List.of("error: --mqtt-password: needs --mqtt-username",
                "error: --mqtt-ca: '/nonexistent/ca.pem' is not a readable file",
                "error: --mqtt-ca: is set but no broker is ssl://", "error: --step: must be between")) {
            assertTrue(r.err().contains(expected), expected + " missing from: " + r.err());
        }
        assertFalse(r.err().contains("pw,") || r.err().contains("'pw'"), r.err());
    }

    @Test
    void whenMqttCredentialsComeFromFileAndEnvironment_thenTheyReachTheConfiguration(@TempDir Path dir)
            throws Exception {
        Path file = Files.writeString(dir.resolve("agent.properties"), "mqtt-username=agent-paris\n");
        Path password = Files.writeString(dir.resolve("mqtt-password"), "from-file\n");
        AgentMain main = new AgentMain();
        CommandLine cli = new CommandLine(main);
        cli.setDefaultValueProvider(net.swarming.common.cli.SwarmDefaults.fromArgs("SWARM_AGENT_",
                Map.of("SWARM_AGENT_MQTT_PASSWORD_FILE", password.toString()),
                new String[] {"--config", file.toString()}));
        cli.parseArgs("--config", file.toString(), "queen");
        List<Problem> problems = new ArrayList<>();

        AgentConfig c = main.toConfig(problems);

        assertEquals(List.of(), problems);
        assertEquals(new MqttSecurity("agent-paris", "from-file", null), c.mqttSecurity());
    }

    private static AgentConfig parse(List<Problem> problems, String... args) {
        AgentMain main = new AgentMain();
        new CommandLine(main).parseArgs(args);
        return main.toConfig(problems);
    }

    @Test
    void whenNothingSet_thenV2AndASpoolUnderTheWorkingDirectory() {
        List<Problem> problems = new ArrayList<>();
        AgentConfig c = parse(problems);
        assertEquals(List.of(), problems);
        assertEquals(ResultFormat.V2, c.format());
        assertEquals(Path.of("swarm-agent-spool"), c.spoolDir());
        assertEquals(256L * 1024 * 1024, c.spoolMaxBytes());
        assertEquals(Duration.ofMillis(100), c.minProbeInterval());
        assertEquals(null, c.location());
    }

    @Test
    void whenSpoolLocationAndMinIntervalGiven_thenTheyAreUsed(@TempDir Path dir) {
        List<Problem> problems = new ArrayList<>();
        AgentConfig c = parse(problems, "--spool-dir", dir.toString(), "--spool-max-bytes", "65536",
                "--location", "Paris, AS3215", "--min-probe-interval", "1s");
        assertEquals(List.of(), problems);
        assertEquals(dir, c.spoolDir());
        assertEquals(65536, c.spoolMaxBytes());
        assertEquals("Paris, AS3215", c.location());
        assertEquals(Duration.ofSeconds(1), c.minProbeInterval());

        AgentConfig none = parse(problems, "--spool-dir", "none");
        assertEquals(null, none.spoolDir());
    }

    @Test
    void whenSpoolSizeBad_thenReportedWithTheOtherProblems() {
        Run r = run("--spool-max-bytes", "lots", "--min-probe-interval", "soon", "--pings", "0");
        assertEquals(ExitCodes.USAGE, r.code());
        assertTrue(r.err().contains("error: --spool-max-bytes: 'lots' is not a whole number"), r.err());
        assertTrue(r.err().contains("error: --min-probe-interval:"), r.err());
        assertTrue(r.err().contains("error: --pings: must be 1-1000, got 0"), r.err());
        Run small = run("--spool-max-bytes", "100");
        assertTrue(small.err().contains("error: --spool-max-bytes: must be at least 4096, got 100"), small.err());
    }
}
