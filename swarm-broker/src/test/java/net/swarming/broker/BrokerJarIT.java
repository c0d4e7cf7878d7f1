package net.swarming.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The shaded {@code swarm-broker.jar} run as operators run it: a separate JVM, stopped by a signal. */
@Timeout(120)
class BrokerJarIT {

    /** What a JVM stopped by SIGTERM reports once its shutdown hooks have run: 128 + 15. */
    private static final int EXIT_AFTER_SIGTERM = 143;

    private static Path jar;

    @TempDir
    Path tmp;

    private Process process;

    @BeforeAll
    static void findJar() {
        jar = Path.of(System.getProperty("swarm.build.dir", "target"), "swarm-broker.jar");
        assertTrue(Files.isRegularFile(jar), jar + " is missing: run mvn verify (the IT runs after package)");
    }

    @AfterEach
    void killLeftover() {
        if (process != null && process.isAlive()) {
            process.destroyForcibly();
        }
    }

    private Process startJar(Path log, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", jar.toString()));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return s.getLocalPort();
        }
    }

    private static String awaitLine(Process p, Path log, String fragment) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            String text = Files.readString(log);
            if (text.contains(fragment)) {
                return text;
            }
            if (!p.isAlive()) {
                throw new AssertionError("broker exited with " + p.exitValue() + " before logging '" + fragment
                        + "':\n" + text);
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no '" + fragment + "' within 60 s:\n" + Files.readString(log));
    }

    @Test
    void whenJarRunsAndGetsSigterm_thenItServesMqttAndStopsCleanlyWith143() throws Exception {
        int port = freePort();
        Path log = tmp.resolve("broker.log");
        process = startJar(log, "--host", "127.0.0.1", "--port", Integer.toString(port),
                "--data-dir", tmp.resolve("data").toString(), "--metrics-port", "-1");
        awaitLine(process, log, "swarm-broker listening on 127.0.0.1:" + port);

        assertEquals(0, Mosquitto.pub(port, "-t", "watch", "-m", "a b", "-q", "1", "-r").exitCode());
        Mosquitto.Result sub = Mosquitto.sub(port, "-t", "watch", "-C", "1", "-W", "5");
        assertEquals("a b\n", sub.out(), sub.stderr());

        process.destroy(); // SIGTERM
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "broker did not stop after SIGTERM");

        String text = Files.readString(log);
        assertEquals(EXIT_AFTER_SIGTERM, process.exitValue(), text);
        assertTrue(text.contains("swarm-broker stopped cleanly"), text);
        assertTrue(Files.isRegularFile(tmp.resolve("data").resolve("moquette_store.h2")), "no store written");
    }

    @Test
    void whenRestartedJarFindsTheDataDir_thenRetainedWatchIsStillThere() throws Exception {
        int port = freePort();
        Path data = tmp.resolve("data");
        Path log1 = tmp.resolve("first.log");
        process = startJar(log1, "--host", "127.0.0.1", "--port", Integer.toString(port), "--data-dir",
                data.toString(), "--metrics-port", "-1");
        awaitLine(process, log1, "listening on");
        assertEquals(0, Mosquitto.pub(port, "-t", "watch", "-m", "kept", "-q", "1", "-r").exitCode());
        process.destroy();
        assertTrue(process.waitFor(60, TimeUnit.SECONDS));

        Path log2 = tmp.resolve("second.log");
        process = startJar(log2, "--host", "127.0.0.1", "--port", Integer.toString(port), "--data-dir",
                data.toString(), "--metrics-port", "-1");
        awaitLine(process, log2, "listening on");

        Mosquitto.Result sub = Mosquitto.sub(port, "-t", "watch", "-C", "1", "-W", "5");
        assertEquals("kept\n", sub.out(), sub.stderr());
    }

    /** Moquette 0.17 defect (3): QoS 1 messages queued for an offline persistent session were lost by kill -9. */
    @Test
    void whenBrokerIsKilledWithSigkill_thenQos1MessagesQueuedForAnOfflineSessionSurvive() throws Exception {
        int port = freePort();
        Path data = tmp.resolve("data");
        Path log1 = tmp.resolve("first.log");
        process = startJar(log1, "--host", "127.0.0.1", "--port", Integer.toString(port), "--data-dir",
                data.toString(), "--metrics-port", "-1");
        awaitLine(process, log1, "listening on");
        assertEquals(0, Mosquitto.sub(port, "-i", "indexer-k9", "-c", "-q", "1", "-t", "ping/+", "-E").exitCode());
        Path lines = Files.write(tmp.resolve("lines.txt"),
                java.util.stream.IntStream.rangeClosed(1, 200).mapToObj(Integer::toString).toList());
        Process pub = new ProcessBuilder("mosquitto_pub", "-h", "127.0.0.1", "-p", Integer.toString(port),
                "-t", "ping/free.fr", "-q", "1", "-l").redirectInput(lines.toFile())
                .redirectErrorStream(true).redirectOutput(tmp.resolve("pub.log").toFile()).start();
        assertTrue(pub.waitFor(60, TimeUnit.SECONDS), "mosquitto_pub did not finish");
        assertEquals(0, pub.exitValue(), Files.readString(tmp.resolve("pub.log")));
        // Past the store's commit interval (1 s), then SIGKILL: no shutdown hook, no store close.
        Thread.sleep(3_000);
        process.destroyForcibly();
        assertTrue(process.waitFor(30, TimeUnit.SECONDS));
        assertEquals(137, process.exitValue(), "SIGKILL");

        Path log2 = tmp.resolve("second.log");
        process = startJar(log2, "--host", "127.0.0.1", "--port", Integer.toString(port), "--data-dir",
                data.toString(), "--metrics-port", "-1");
        awaitLine(process, log2, "listening on");

        Mosquitto.Result sub = Mosquitto.sub(port, "-i", "indexer-k9", "-c", "-q", "1", "-t", "ping/+",
                "-C", "200", "-W", "20");
        assertEquals(0, sub.exitCode(), sub.stderr());
        assertEquals(Files.readString(lines), sub.out());
    }

    @Test
    void whenStoreIsCorrupt_thenJarExitsThreeNamingIt() throws Exception {
        Path data = Files.createDirectories(tmp.resolve("data"));
        Path store = Files.writeString(data.resolve("moquette_store.h2"), "not an H2 store ".repeat(512));
        Path log = tmp.resolve("broker.log");

        process = startJar(log, "--host", "127.0.0.1", "--port", Integer.toString(freePort()),
                "--data-dir", data.toString(), "--metrics-port", "-1");

        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "broker hung instead of exiting");
        String text = Files.readString(log);
        assertEquals(3, process.exitValue(), text);
        assertTrue(text.contains("error: cannot read the broker store " + store), text);
    }

    @Test
    void whenPortIsInUse_thenJarExitsThreeWithClearMessage() throws Exception {
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            int port = taken.getLocalPort();
            Path log = tmp.resolve("broker.log");

            process = startJar(log, "--host", "127.0.0.1", "--port", Integer.toString(port),
                    "--data-dir", tmp.resolve("data").toString(), "--metrics-port", "-1");

            assertTrue(process.waitFor(60, TimeUnit.SECONDS), "broker hung instead of exiting");
            String text = Files.readString(log);
            assertEquals(3, process.exitValue(), text);
            assertTrue(text.contains("error: port " + port + " on 127.0.0.1 is in use"), text);
        }
    }
}
