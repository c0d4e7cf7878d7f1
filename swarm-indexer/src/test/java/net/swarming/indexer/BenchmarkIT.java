package net.swarming.indexer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import net.swarming.common.cli.ExitCodes;
import net.swarming.testkit.CpuAffinity;
import net.swarming.testkit.ElasticsearchExtension;
import net.swarming.testkit.ElasticsearchNode;
import net.swarming.testkit.MosquittoBroker;
import net.swarming.testkit.MosquittoExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import picocli.CommandLine;

/**
 * Runs the benchmark command end to end on a small N and checks its report; asserts nothing about speed. The figures
 * of docs/performance.md come from the same test with {@code -Dswarm.benchmark.results=100000}: its report is written
 * to {@code target/indexer-benchmark.md}.
 */
@ExtendWith({MosquittoExtension.class, ElasticsearchExtension.class})
@Timeout(1800)
class BenchmarkIT {

    private static String text(Path report) throws java.io.IOException {
        return Files.readString(report);
    }

    @Test
    void whenBenchmarkRuns_thenBothRatesRatioAndLagReported(MosquittoBroker broker, ElasticsearchNode es)
            throws Exception {
        // Optional: this JVM (benchmark, indexer, raw loop) on other CPUs than Elasticsearch (swarm.test.elasticsearch.cpus).
        CpuAffinity.pinThisJvm("swarm.benchmark.cpus");
        int n = Integer.getInteger("swarm.benchmark.results", 5_000);
        int lag = Integer.getInteger("swarm.benchmark.lag-results", 1_000);
        int rounds = Integer.getInteger("swarm.benchmark.rounds", 1);
        String intakes = System.getProperty("swarm.benchmark.intakes", "NETTY,PAHO");
        int cpuMessages = Integer.getInteger("swarm.benchmark.intake-cpu-messages", 5_000);
        Path report = Path.of("target", "indexer-benchmark.md");
        BenchmarkCommand command = new BenchmarkCommand();
        StringWriter out = new StringWriter();
        CommandLine cli = new CommandLine(command);
        cli.setOut(new PrintWriter(out, true));

        int code = cli.execute("--elasticsearch", es.url(), "--results", Integer.toString(n), "--lag-results",
                Integer.toString(lag), "--lag-rate", "500", "--rounds", Integer.toString(rounds),
                "--warm-up-runs", System.getProperty("swarm.benchmark.warm-up-runs", "1"), "--bulk-size",
                System.getProperty("swarm.benchmark.bulk-size", "1000"), "--publisher",
                System.getProperty("swarm.benchmark.publisher", "FRAMES,PAHO"), "--intakes", intakes,
                "--intake-cpu-messages", Integer.toString(cpuMessages), "--report", report.toString(),
                broker.hostPort());

        assertEquals(ExitCodes.OK, code, out.toString());
        BenchmarkCommand.Result r = command.lastResult();
        assertEquals(n, r.results());
        assertTrue(r.rawDocsPerSecond() > 0 && r.indexerDocsPerSecond() > 0, out.toString());
        assertEquals(r.indexerDocsPerSecond() / r.rawDocsPerSecond(), r.ratio(), 1e-9);
        // Both writers measured in the same run, the first (the default, INGESTER) making the ratio; then the first
        // writer again with each further publisher.
        List<String> contenders = List.copyOf(r.writerDocsPerSecond().keySet());
        assertEquals(List.of("INGESTER", "OWN"), contenders.subList(0, 2));
        if (System.getProperty("swarm.benchmark.publisher", "FRAMES,PAHO").equals("FRAMES,PAHO")
                && intakes.equals("NETTY,PAHO")) {
            assertEquals(List.of("INGESTER", "OWN", "INGESTER+PAHO", "INGESTER+PAHO_INTAKE"), contenders);
            assertTrue(r.writerDocsPerSecond().get("INGESTER+PAHO") > 0, out.toString());
            assertTrue(r.writerDocsPerSecond().get("INGESTER+PAHO_INTAKE") > 0, out.toString());
            // Each intake measured alone: CPU per message of receiving and acknowledging.
            assertEquals(List.of("NETTY", "PAHO"), List.copyOf(r.intakeCpuMicrosPerMessage().keySet()));
            assertTrue(r.intakeCpuMicrosPerMessage().values().stream().allMatch(v -> v > 0), out.toString());
            assertTrue(text(report).contains("intake alone"), out.toString());
        }
        assertEquals(r.indexerDocsPerSecond(), r.writerDocsPerSecond().get("INGESTER"), 1e-9);
        assertTrue(r.writerDocsPerSecond().get("OWN") > 0, out.toString());
        assertTrue(r.lagP50Millis() <= r.lagP99Millis(), out.toString());
        String text = text(report);
        assertTrue(text.contains("ratio indexer (INGESTER"), text);
        assertEquals(r.report(), text);
    }
}
