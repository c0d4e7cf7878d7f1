package net.swarming.e2e;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** What a test started: child processes are killed first, then the rest is closed in reverse order of start. */
final class TestResources {

    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final List<Process> processes = new ArrayList<>();

    <T extends AutoCloseable> T add(T resource) {
        closeables.add(resource);
        return resource;
    }

    Process add(Process process) {
        processes.add(process);
        return process;
    }

    /**
     * Starts the agent jar ({@code -Dswarm.agent.jar}, else the module's build output) with fast rounds and no metrics
     * endpoint, output to {@code log}.
     */
    Process startAgent(Path log, Path spoolDir, List<String> args) throws IOException {
        Path jar = Path.of(System.getProperty("swarm.agent.jar", "../swarm-agent/target/swarm-agent.jar"));
        assertTrue(Files.isRegularFile(jar), "the agent jar is built before integration tests: " + jar.toAbsolutePath());
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx128m", "-jar", jar.toString(),
                "--step", "1s", "--pings", "3", "--ping-interval", "100ms", "--timeout", "500ms",
                "--metrics-port", "-1", "--spool-dir", spoolDir.toString()));
        cmd.addAll(args);
        return add(new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start());
    }

    void closeAll() {
        processes.forEach(Process::destroyForcibly);
        for (int i = closeables.size() - 1; i >= 0; i--) {
            try {
                closeables.get(i).close();
            } catch (Exception e) {
                // best effort: the next resource must still be closed
            }
        }
    }
}
