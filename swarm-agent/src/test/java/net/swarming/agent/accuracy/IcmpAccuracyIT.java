package net.swarming.agent.accuracy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.Inet4Address;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import net.swarming.agent.probe.icmp.IcmpOptions;
import net.swarming.testkit.netns.EchoBehavior;
import net.swarming.testkit.netns.Fping;
import net.swarming.testkit.netns.GroundTruth;
import net.swarming.testkit.netns.NetnsTestbed;
import net.swarming.testkit.netns.RandomDrop;
import net.swarming.testkit.netns.Samples;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The proof of the ICMP engine's accuracy: 2,000 probes (100 targets × 20 pings, 100 ms apart) through
 * {@code IcmpProbe} inside a {@link NetnsTestbed} whose responder answers after 50 ms ± 5 ms and loses 10 %; the median
 * round trip the engine reports must be within ±0.5 ms of the responder's ground truth and its loss within ±1.5
 * percentage points. fping probes another 100 targets of the same testbed at the same time, for reference; both are
 * printed and written to {@code target/accuracy/}.
 */
@Timeout(120)
class IcmpAccuracyIT {

    private static final int TARGETS = 100;
    private static final int PINGS = 20;
    private static final Duration INTERVAL = Duration.ofMillis(100);
    private static final Duration TIMEOUT = Duration.ofSeconds(1);
    private static final double MEDIAN_TOLERANCE_MS = 0.5;
    private static final double LOSS_TOLERANCE_PP = 1.5;
    private static final Duration DELAY = Duration.ofMillis(50);
    private static final Duration JITTER = Duration.ofMillis(5);

    private final ObjectMapper json = new ObjectMapper();

    @Test
    void whenTheEngineUsesADatagramSocketAgainstALossyResponder_thenMedianAndLossMatchTheGroundTruth()
            throws Exception {
        try (NetnsTestbed tb = NetnsTestbed.builder().behavior(EchoBehavior.uniform(DELAY, JITTER, 0.10)).seed(11)
                .groundTruthLog(reportDir().resolve("agent-datagram-responder-loss.csv")).start()) {
            SideBySide run = runSideBySide(tb, IcmpOptions.SocketMode.DATAGRAM);
            GroundTruth truth = tb.groundTruth().forTargets(run.agentTargets);
            GroundTruth fpingTruth = tb.groundTruth().forTargets(run.fpingTargets);
            report("agent-datagram-responder-loss", run, truth, truth.lossPercent(), fpingTruth,
                    fpingTruth.lossPercent());
            assertAccurate(run, truth, truth.lossPercent());
            assertTrue(run.datagram(), "a datagram socket: " + run.engine());
        }
    }

    @Test
    void whenTheEngineUsesARawSocketAgainstALossyResponder_thenMedianAndLossMatchTheGroundTruth() throws Exception {
        try (NetnsTestbed tb = NetnsTestbed.builder().behavior(EchoBehavior.uniform(DELAY, JITTER, 0.10)).seed(12)
                .unprivilegedPing(false).start()) {
            SideBySide run = runSideBySide(tb, IcmpOptions.SocketMode.RAW);
            GroundTruth truth = tb.groundTruth().forTargets(run.agentTargets);
            GroundTruth fpingTruth = tb.groundTruth().forTargets(run.fpingTargets);
            report("agent-raw-responder-loss", run, truth, truth.lossPercent(), fpingTruth, fpingTruth.lossPercent());
            assertAccurate(run, truth, truth.lossPercent());
            assertFalse(run.datagram(), "a raw socket: " + run.engine());
        }
    }

    @Test
    void whenNftablesDropsTenPercentOfReplies_thenTheReportedLossMatchesItsCounter() throws Exception {
        try (NetnsTestbed tb = NetnsTestbed.builder().behavior(EchoBehavior.uniform(DELAY, JITTER, 0)).seed(13)
                .start()) {
            RandomDrop agentDrop = tb.dropRepliesRandomly(100, tb.targets(0, TARGETS));
            RandomDrop fpingDrop = tb.dropRepliesRandomly(100, tb.targets(TARGETS, TARGETS));
            SideBySide run = runSideBySide(tb, IcmpOptions.SocketMode.AUTO);
            GroundTruth truth = tb.groundTruth().forTargets(run.agentTargets);
            GroundTruth fpingTruth = tb.groundTruth().forTargets(run.fpingTargets);
            assertEquals(0, truth.dropped(), "the responder itself drops nothing here");
            double trueLoss = 100.0 * agentDrop.droppedPackets() / truth.requests();
            double fpingTrueLoss = 100.0 * fpingDrop.droppedPackets() / fpingTruth.requests();
            report("agent-auto-nft-loss", run, truth, trueLoss, fpingTruth, fpingTrueLoss);
            assertTrue(trueLoss > 7 && trueLoss < 13, "numgen 10 % loss, got " + trueLoss);
            assertAccurate(run, truth, trueLoss);
            assertTrue(run.datagram(), "AUTO picks the datagram socket where ping_group_range allows it: "
                    + run.engine());
        }
    }

    private static void assertAccurate(SideBySide run, GroundTruth truth, double trueLossPercent) {
        assertEquals(TARGETS * PINGS, run.agentSent(), "probes the engine reported");
        assertEquals(run.agentSent(), truth.requests(), "every probe the engine reported reached the responder");
        assertEquals(truth.medianDelayMillis(), run.agentMedian(), MEDIAN_TOLERANCE_MS,
                "engine median vs ground truth median");
        assertEquals(trueLossPercent, run.agentLossPercent(), LOSS_TOLERANCE_PP, "engine loss vs ground truth loss");
    }

    /** What the engine (in a child JVM) and fping measured on disjoint targets of one testbed, at the same time. */
    private record SideBySide(List<Inet4Address> agentTargets, List<Inet4Address> fpingTargets, String engine,
                              boolean datagram, List<JsonNode> rounds, Fping.Result fping) {

        List<Double> agentRtts() {
            List<Double> out = new ArrayList<>();
            for (JsonNode r : rounds) {
                for (JsonNode rtt : r.get("rtts")) {
                    if (!rtt.isNull()) {
                        out.add(rtt.asDouble());
                    }
                }
            }
            return out;
        }

        int agentSent() {
            int n = 0;
            for (JsonNode r : rounds) {
                n += r.get("rtts").size();
            }
            return n;
        }

        double agentLossPercent() {
            return 100.0 * (agentSent() - agentRtts().size()) / agentSent();
        }

        double agentMedian() {
            return Samples.median(agentRtts());
        }

        int agentDuplicates() {
            int n = 0;
            for (JsonNode r : rounds) {
                n += r.get("duplicates").asInt();
            }
            return n;
        }
    }

    private SideBySide runSideBySide(NetnsTestbed tb, IcmpOptions.SocketMode mode) throws Exception {
        List<Inet4Address> agentTargets = tb.targets(0, TARGETS);
        List<Inet4Address> fpingTargets = tb.targets(TARGETS, TARGETS);
        Path out = reportDir().resolve("agent-rounds-" + mode.name().toLowerCase(Locale.ROOT) + ".jsonl");
        Path log = reportDir().resolve("agent-rounds-" + mode.name().toLowerCase(Locale.ROOT) + ".log");
        Files.deleteIfExists(out);
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-cp", System.getProperty("java.class.path"), IcmpRoundsMain.class.getName(),
                out.toString(), Integer.toString(PINGS), Long.toString(INTERVAL.toMillis()),
                Long.toString(TIMEOUT.toMillis()), mode.name()));
        agentTargets.forEach(t -> cmd.add(t.getHostAddress()));
        Process child = new ProcessBuilder(tb.inNamespace(cmd)).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        try {
            // Start fping once the engine has opened its socket, so that both probe at the same time.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!(Files.exists(out) && Files.size(out) > 0) && child.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            Fping.Result fping = Fping.run(tb, fpingTargets, PINGS, INTERVAL, Duration.ofMillis(1),
                    Duration.ofMillis(500));
            assertTrue(child.waitFor(60, TimeUnit.SECONDS), "the engine's child JVM did not finish within 60 s");
            String childLog = Files.readString(log, StandardCharsets.UTF_8);
            assertEquals(0, child.exitValue(), "engine child JVM failed:\n" + childLog);
            List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8);
            JsonNode head = json.readTree(lines.get(0));
            String engine = head.get("engine").asText();
            List<JsonNode> rounds = new ArrayList<>();
            Set<String> seen = new HashSet<>();
            for (String line : lines.subList(1, lines.size())) {
                JsonNode r = json.readTree(line);
                assertNull(r.get("error").textValue(), line);
                assertEquals(r.get("target").asText(), r.get("resolvedIp").asText());
                seen.add(r.get("target").asText());
                rounds.add(r);
            }
            assertEquals(TARGETS, seen.size(), "one round per target");
            return new SideBySide(agentTargets, fpingTargets, engine, head.get("datagram").asBoolean(), rounds,
                    fping);
        } finally {
            if (child.isAlive()) {
                child.destroyForcibly();
                child.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    private static Path reportDir() throws IOException {
        Path dir = Path.of(System.getProperty("swarm.build.dir", "target"), "accuracy");
        Files.createDirectories(dir);
        return dir;
    }

    private static void report(String name, SideBySide run, GroundTruth truth, double trueLoss, GroundTruth fpingTruth,
                               double fpingTrueLoss) throws IOException {
        Fping.Result f = run.fping();
        String text = String.format(Locale.ROOT, "%s (engine: %s)%n"
                        + "  %-7s probes %4d received %4d dup %d | median ms %.3f vs truth %.3f (%+.3f)"
                        + " | loss %% %.2f vs truth %.2f (%+.2f pp) | p95 ms %.3f vs truth %.3f%n"
                        + "  %-7s probes %4d received %4d       | median ms %.3f vs truth %.3f (%+.3f)"
                        + " | loss %% %.2f vs truth %.2f (%+.2f pp) | p95 ms %.3f vs truth %.3f%n"
                        + "  responder lateness ms: p50 %.3f p99 %.3f max %.3f%n",
                name, run.engine(),
                "engine", run.agentSent(), run.agentRtts().size(), run.agentDuplicates(), run.agentMedian(),
                truth.medianDelayMillis(), run.agentMedian() - truth.medianDelayMillis(), run.agentLossPercent(),
                trueLoss, run.agentLossPercent() - trueLoss, Samples.percentile(run.agentRtts(), 95),
                Samples.percentile(truth.appliedDelaysMillis(), 95),
                "fping", f.sent(), f.received(), f.medianMillis(), fpingTruth.medianDelayMillis(),
                f.medianMillis() - fpingTruth.medianDelayMillis(), f.lossPercent(), fpingTrueLoss,
                f.lossPercent() - fpingTrueLoss, Samples.percentile(f.receivedRtts(), 95),
                Samples.percentile(fpingTruth.appliedDelaysMillis(), 95),
                Samples.median(truth.latenessMillis()), Samples.percentile(truth.latenessMillis(), 99),
                truth.maxLatenessMillis());
        Files.writeString(reportDir().resolve(name + ".txt"), text, StandardCharsets.UTF_8);
        System.out.print(text);
    }
}
