package net.swarming.broker.internal.moquette;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moquette.broker.Server;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import net.swarming.broker.BrokerConfig;
import net.swarming.broker.BrokerThreads;
import net.swarming.broker.Mosquitto;
import net.swarming.broker.SwarmBroker;
import net.swarming.broker.internal.net.ListenAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Moquette 0.17 itself, without the swarm broker's guards: the defects are real and the cleanup handles them. */
@Timeout(120)
class MoquetteDefectsIT {

    @TempDir
    Path tmp;

    /** Leaves a data directory in the state of defect (1), using the broker with its guards. */
    private static void persistentThenCleanSession(Path dataDir) {
        try (SwarmBroker broker = SwarmBroker.start(new BrokerConfig("127.0.0.1", 0, dataDir,
                BrokerConfig.DEFAULT_MAX_MESSAGE_BYTES, "127.0.0.1", BrokerConfig.METRICS_OFF))) {
            int port = broker.port();
            assertEquals(0, Mosquitto.sub(port, "-i", "indexer-1", "-c", "-q", "1", "-t", "ping/+", "-E").exitCode());
            assertEquals(0, Mosquitto.sub(port, "-i", "indexer-1", "-q", "1", "-t", "ping/+", "-E").exitCode());
        }
    }

    @Test
    void whenDefectOneStateIsStored_thenPlainMoquetteFailsAndTheCleanupLeavesNoThread() throws Exception {
        Path dataDir = tmp.resolve("data").toAbsolutePath();
        persistentThenCleanSession(dataDir);
        Set<Thread> before = BrokerThreads.snapshot();
        Server server = new Server();

        RuntimeException e = assertThrows(RuntimeException.class, () -> server.startServer(
                MoquetteProperties.config("127.0.0.1", ListenAddress.reserve("127.0.0.1", 0), dataDir, 1 << 20),
                List.of()));
        FailedStartCleanup.cleanUp(server, before);

        assertTrue(String.valueOf(e.getMessage()).contains(SessionStoreRepair.MOQUETTE_EXPIRY_DEFECT), e.toString());
        assertEquals(List.of(), BrokerThreads.leftoverSince(before, Duration.ofSeconds(15)));
    }

    @Test
    void whenDefectOneStateIsRepaired_thenPlainMoquetteStarts() throws Exception {
        Path dataDir = tmp.resolve("data").toAbsolutePath();
        persistentThenCleanSession(dataDir);

        List<String> repaired = SessionStoreRepair.repair(dataDir);

        assertTrue(repaired.contains("indexer-1"), repaired.toString());
        Server server = new Server();
        server.startServer(
                MoquetteProperties.config("127.0.0.1", ListenAddress.reserve("127.0.0.1", 0), dataDir, 1 << 20),
                List.of());
        server.stopServer();
    }

    @Test
    void whenMoquetteItselfCannotBind_thenTheCleanupLeavesNoThread() throws Exception {
        Set<Thread> before = BrokerThreads.snapshot();
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            Server server = new Server();

            assertThrows(RuntimeException.class, () -> server.startServer(MoquetteProperties.config("127.0.0.1",
                    taken.getLocalPort(), tmp.resolve("data").toAbsolutePath(), 1 << 20), List.of()));
            FailedStartCleanup.cleanUp(server, before);
        }
        assertEquals(List.of(), BrokerThreads.leftoverSince(before, Duration.ofSeconds(15)));
    }
}
