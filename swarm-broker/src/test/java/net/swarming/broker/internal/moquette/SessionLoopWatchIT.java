package net.swarming.broker.internal.moquette;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.moquette.broker.Server;
import io.moquette.broker.config.MemoryConfig;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import net.swarming.broker.internal.net.ListenAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A real Moquette 0.17 session loop that dies is reported and counted. */
@Timeout(60)
class SessionLoopWatchIT {

    @TempDir
    Path tmp;

    @Test
    void whenACommandThrowsOnASessionLoop_thenTheLoopsDeathIsCounted() throws Exception {
        int port = ListenAddress.reserve("127.0.0.1", 0);
        SessionLoopWatch watch = new SessionLoopWatch(new PrometheusRegistry());
        Server server = new Server();
        server.startServer(new MemoryConfig(MoquetteProperties.of("127.0.0.1", port, tmp.resolve("data"), 1 << 20,
                true)), List.of(watch));
        try {
            SessionLoops loops = SessionLoops.of(server);

            loops.route(0, () -> {
                throw new IllegalStateException("as Moquette's own commands do when its store has closed itself");
            });

            await().atMost(Duration.ofSeconds(10)).until(() -> watch.failures() == 1);
            assertEquals(1, watch.failures());
        } finally {
            server.stopServer();
        }
    }
}
