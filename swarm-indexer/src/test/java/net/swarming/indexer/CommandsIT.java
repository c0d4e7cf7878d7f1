package net.swarming.indexer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import net.swarming.common.cli.ExitCodes;
import net.swarming.common.cli.SwarmCli;
import net.swarming.testkit.ElasticsearchExtension;
import net.swarming.testkit.ElasticsearchNode;
import net.swarming.testkit.MoquetteBroker;
import net.swarming.testkit.MoquetteExtension;
import net.swarming.testkit.MosquittoBroker;
import net.swarming.testkit.MosquittoClients;
import net.swarming.testkit.MosquittoExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The {@code setup} and {@code watch} subcommands against real Elasticsearch, mosquitto and Moquette. */
@ExtendWith({MosquittoExtension.class, MoquetteExtension.class, ElasticsearchExtension.class})
@Timeout(180)
class CommandsIT {

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        return SwarmCli.run(new IndexerMain(), "SWARM_INDEXER_", Map.of(), args, new PrintWriter(out, true),
                new PrintWriter(err, true));
    }

    @Test
    void whenSetup_thenEveryTemplateInstalledAndExit0(ElasticsearchNode es) throws Exception {
        assertEquals(ExitCodes.OK, run("setup", "--elasticsearch", es.url()), err.toString());

        for (String t : new String[] {"swarm-pings", "swarm-agents", "swarm-deadletter"}) {
            assertTrue(es.get("/_index_template/" + t).contains("\"" + t + "-*\""), t);
        }
    }

    @Test
    void whenSetupAndElasticsearchUnreachable_thenExit1() {
        assertEquals(ExitCodes.FAILURE, run("setup", "--elasticsearch", "http://127.0.0.1:1"));
    }

    @Test
    void whenWatchPublished_thenEveryBrokerKeepsItRetained(MosquittoBroker mosquitto, MoquetteBroker moquette) {
        assertEquals(ExitCodes.OK, run("watch", "-t", "free.fr yahoo.fr", "-t", "127.0.0.1",
                mosquitto.hostPort(), moquette.hostPort()), err.toString());

        for (var broker : new net.swarming.testkit.MqttBrokerHandle[] {mosquitto, moquette}) {
            try (MosquittoClients.Subscription sub = MosquittoClients.subscribe(broker, "watch", 1,
                    Duration.ofSeconds(20))) {
                MosquittoClients.Message m = sub.next(Duration.ofSeconds(10));
                assertEquals("free.fr yahoo.fr 127.0.0.1", m.payload(), broker.toString());
            }
        }
    }

    @Test
    void whenWatchFollowsAFile_thenAnEditIsPublishedAgain(MosquittoBroker broker, @TempDir Path dir)
            throws Exception {
        Path file = dir.resolve("targets.txt");
        Files.writeString(file, "# the swarm's targets\nfree.fr\nyahoo.fr  # a comment\n");
        Thread follower = new Thread(() -> run("watch", "--file", file.toString(), "--follow", "--poll", "100ms",
                broker.hostPort()), "test-watch-follow");
        follower.start();
        try (MosquittoClients.Subscription sub = MosquittoClients.subscribe(broker, "watch", 1,
                Duration.ofSeconds(60))) {
            sub.awaitSubscribed(Duration.ofSeconds(10));
            String first = null;
            for (int i = 0; i < 20 && !"free.fr yahoo.fr".equals(first); i++) {
                MosquittoClients.Message m = sub.poll(Duration.ofSeconds(1));
                first = m == null ? first : m.payload();
            }
            assertEquals("free.fr yahoo.fr", first);

            Files.writeString(file, "free.fr\nvoila.fr\n");

            assertEquals("free.fr voila.fr", sub.next(Duration.ofSeconds(10)).payload());
        } finally {
            follower.interrupt();
            follower.join(10_000);
        }
    }
}
