package net.swarming.common.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

class SwarmCliTest {

    @Command(name = "demo", mixinStandardHelpOptions = true, versionProvider = SwarmVersion.class)
    static final class Demo implements Callable<Integer> {
        @Option(names = "--config") Path config;
        @Option(names = "--step", defaultValue = "60s") String step;
        @Option(names = "--elasticsearch", split = ",", defaultValue = "http://localhost:9200") List<String> es;
        @Option(names = "--fail") String fail;

        @Override
        public Integer call() {
            if ("startup".equals(fail)) {
                throw new StartupException("port 1883 is in use");
            }
            if ("arg".equals(fail)) {
                throw new IllegalArgumentException("--step must be positive");
            }
            return ExitCodes.OK;
        }
    }

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(Demo demo, Map<String, String> env, String... args) {
        return SwarmCli.run(demo, "SWARM_DEMO_", env, args, new PrintWriter(out, true), new PrintWriter(err, true));
    }

    @Test
    void whenNothingGiven_thenOptionDefaultsApply() {
        Demo demo = new Demo();
        assertEquals(0, run(demo, Map.of()));
        assertEquals("60s", demo.step);
        assertEquals(List.of("http://localhost:9200"), demo.es);
    }

    @Test
    void whenFileEnvAndFlagAllSet_thenFlagBeatsEnvBeatsFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("demo.properties");
        Files.writeString(file, "step=10s\nelasticsearch=http://a:9200,http://b:9200\n");
        Demo fromFile = new Demo();
        assertEquals(0, run(fromFile, Map.of(), "--config", file.toString()));
        assertEquals("10s", fromFile.step);
        assertEquals(List.of("http://a:9200", "http://b:9200"), fromFile.es);

        Demo fromEnv = new Demo();
        assertEquals(0, run(fromEnv, Map.of("SWARM_DEMO_STEP", "20s", "SWARM_DEMO_CONFIG", file.toString())));
        assertEquals("20s", fromEnv.step);

        Demo fromFlag = new Demo();
        assertEquals(0, run(fromFlag, Map.of("SWARM_DEMO_STEP", "20s"), "--config=" + file, "--step", "30s"));
        assertEquals("30s", fromFlag.step);
    }

    @Test
    void whenConfigFileHasUnknownKey_thenUsageErrorNamesIt(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("demo.properties");
        Files.writeString(file, "stepp=10s\n");
        assertEquals(ExitCodes.USAGE, run(new Demo(), Map.of(), "--config", file.toString()));
        assertTrue(err.toString().contains("stepp"), err.toString());
    }

    @Test
    void whenConfigFileMissing_thenUsageErrorNamesIt(@TempDir Path dir) {
        Path missing = dir.resolve("nope.properties");
        assertEquals(ExitCodes.USAGE, run(new Demo(), Map.of(), "--config", missing.toString()));
        assertTrue(err.toString().contains(missing.toString()), err.toString());
    }

    @Test
    void whenStartFails_thenExitCodeSaysStartupAndMessageIsShown() {
        assertEquals(ExitCodes.STARTUP, run(new Demo(), Map.of(), "--fail", "startup"));
        assertTrue(err.toString().contains("port 1883 is in use"), err.toString());
        assertEquals(ExitCodes.USAGE, run(new Demo(), Map.of(), "--fail", "arg"));
    }

    @Test
    void whenUnknownFlagOrHelp_thenPicocliCodes() {
        assertEquals(ExitCodes.USAGE, run(new Demo(), Map.of(), "--nope"));
        assertEquals(ExitCodes.OK, run(new Demo(), Map.of(), "--help"));
        assertTrue(out.toString().contains("--step"));
        assertEquals(ExitCodes.OK, run(new Demo(), Map.of(), "--version"));
        assertTrue(out.toString().contains("demo "), out.toString());
        assertTrue(!SwarmVersion.version().equals("unknown"), "version resource is filtered into the jar");
    }
}
