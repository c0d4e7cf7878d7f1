package net.swarming.testkit.netns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.Inet4Address;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import net.swarming.testkit.netns.internal.Commands;

/**
 * Validates the testbed with the reference prober: fping inside the namespace must see what the responder says it did,
 * over 2,000 probes at 50 ms ± 5 ms and 10 % loss (by the responder, and by an nftables rule).
 */
@Timeout(120)
class NetnsTestbedIT {

  private static final int TARGETS = 100;
  private static final int PINGS = 20;
  private static final double MEDIAN_TOLERANCE_MS = 0.5;
  private static final double LOSS_TOLERANCE_PP = 1.5;
  private static final EchoBehavior FIFTY_MS = EchoBehavior.uniform(Duration.ofMillis(50), Duration.ofMillis(5), 0);
  private static final EchoBehavior FIFTY_MS_LOSSY =
      EchoBehavior.uniform(Duration.ofMillis(50), Duration.ofMillis(5), 0.10);

  @Test
  void whenFpingProbesALossyResponder_thenItsMedianAndLossMatchTheGroundTruth() throws IOException {
    try (NetnsTestbed tb = NetnsTestbed.builder().behavior(FIFTY_MS_LOSSY).seed(42)
        .groundTruthLog(reportDir().resolve("testbed-fping-responder-loss.csv")).start()) {
      List<Inet4Address> targets = tb.targets(TARGETS);
      Fping.Result fping = runFping(tb, targets);
      GroundTruth truth = tb.groundTruth().forTargets(targets);

      report("testbed-fping-responder-loss", fping, truth, truth.lossPercent(), -1);
      assertEquals(TARGETS * PINGS, fping.sent());
      assertEquals(fping.sent(), truth.requests(), "every request fping sent reached the responder");
      assertEquals(truth.answered(), fping.received(), "fping received exactly the replies the responder wrote");
      assertTrue(truth.lossPercent() > 7 && truth.lossPercent() < 13, "seeded 10 % loss, got " + truth.lossPercent());
      assertEquals(50, truth.medianDelayMillis(), 1.0, "responder median");
      assertEquals(truth.medianDelayMillis(), fping.medianMillis(), MEDIAN_TOLERANCE_MS, "fping median vs ground truth");
      assertEquals(truth.lossPercent(), fping.lossPercent(), LOSS_TOLERANCE_PP, "fping loss vs ground truth");
      List<Double> lateness = truth.latenessMillis();
      // Real-time responder threads: replies leave on time even while the machine is busy. The ground truth records
      // any lateness (e.g. a GC pause), so this bounds the testbed's quality, not the validity of comparisons with it.
      assertTrue(Samples.median(lateness) < 0.5, "responder median lateness " + Samples.median(lateness));
      assertTrue(Samples.percentile(lateness, 95) < 2.0, "responder p95 lateness " + Samples.percentile(lateness, 95));
    }
  }

  @Test
  void whenAnNftablesRuleDropsTenPercent_thenFpingLossMatchesItsCounter() throws IOException {
    try (NetnsTestbed tb = NetnsTestbed.builder().behavior(FIFTY_MS).seed(7)
        .groundTruthLog(reportDir().resolve("testbed-fping-nft-loss.csv")).start()) {
      List<Inet4Address> targets = tb.targets(TARGETS);
      RandomDrop drop = tb.dropRepliesRandomly(100, targets);
      Fping.Result fping = runFping(tb, targets);
      GroundTruth truth = tb.groundTruth().forTargets(targets);
      long dropped = drop.droppedPackets();
      double trueLoss = 100.0 * dropped / truth.requests();

      report("testbed-fping-nft-loss", fping, truth, trueLoss, dropped);
      assertEquals(TARGETS * PINGS, truth.requests());
      assertEquals(0, truth.dropped(), "the responder itself drops nothing here");
      assertEquals(truth.answered() - dropped, fping.received(), "fping received what nftables let through");
      assertTrue(trueLoss > 7 && trueLoss < 13, "numgen 10 % loss, got " + trueLoss);
      assertEquals(truth.medianDelayMillis(), fping.medianMillis(), MEDIAN_TOLERANCE_MS, "fping median vs ground truth");
      assertEquals(trueLoss, fping.lossPercent(), LOSS_TOLERANCE_PP, "fping loss vs nftables counter");
    }
  }

  @Test
  void whenATargetHasItsOwnBehavior_thenItAnswersWithIt() {
    EchoBehavior fast = EchoBehavior.uniform(Duration.ofMillis(5), Duration.ZERO, 0);
    EchoBehavior slow = EchoBehavior.uniform(Duration.ofMillis(30), Duration.ZERO, 0);
    try (NetnsTestbed tb = NetnsTestbed.builder().behavior(fast).behavior(NetnsTestbed.target(1), slow).start()) {
      List<Inet4Address> targets = tb.targets(2);
      Fping.Result fping = Fping.run(tb, targets, 5, Duration.ofMillis(50), Duration.ofMillis(1),
          Duration.ofMillis(500));
      assertEquals(10, fping.received());
      assertEquals(5, Samples.median(nonNull(fping.rtts().get(targets.get(0)))), 1.0);
      assertEquals(30, Samples.median(nonNull(fping.rtts().get(targets.get(1)))), 1.0);
      assertEquals(5, tb.groundTruth().forTargets(targets.subList(0, 1)).medianDelayMillis(), 0.5);
      assertEquals(30, tb.groundTruth().forTargets(targets.subList(1, 2)).medianDelayMillis(), 0.5);
    }
  }

  @Test
  void whenStarted_thenTheNamespaceAllowsDatagramPingAndClosingRemovesIt() {
    NetnsTestbed tb = NetnsTestbed.builder().start();
    String ns = tb.namespace();
    try {
      assertTrue(ns.startsWith(NetnsTestbed.NAMESPACE_PREFIX + ProcessHandle.current().pid() + "-"), ns);
      String range = Commands.run(tb.inNamespace(List.of("sysctl", "-n", "net.ipv4.ping_group_range")),
          Duration.ofSeconds(10)).orThrow().stdout().strip();
      assertEquals("0\t2147483647", range);
      String addr = Commands.run(tb.inNamespace(List.of("ip", "-4", "-o", "addr", "show", "dev",
          NetnsTestbed.TUN_NAME)), Duration.ofSeconds(10)).orThrow().stdout();
      assertTrue(addr.contains(NetnsTestbed.LOCAL_ADDRESS + "/16"), addr);
    } finally {
      tb.close();
    }
    tb.close();
    assertFalse(Files.exists(Path.of("/run/netns", ns)), "namespace " + ns + " still exists after close()");
    String list = Commands.run(List.of("ip", "netns", "list"), Duration.ofSeconds(10)).orThrow().stdout();
    assertFalse(list.contains(ns), list);
  }

  @Test
  void whenAnOrphanedTestbedNamespaceExists_thenTheNextTestbedDeletesIt() throws Exception {
    Process gone = new ProcessBuilder("true").start();
    gone.waitFor();
    String orphan = NetnsTestbed.NAMESPACE_PREFIX + gone.pid() + "-0rphan";
    Commands.run(List.of("ip", "netns", "add", orphan), Duration.ofSeconds(10)).orThrow();
    try (NetnsTestbed tb = NetnsTestbed.builder().start()) {
      assertFalse(Files.exists(Path.of("/run/netns", orphan)), "orphan " + orphan + " was not deleted");
      assertTrue(Files.exists(Path.of("/run/netns", tb.namespace())));
    } finally {
      Commands.run(List.of("ip", "netns", "delete", orphan), Duration.ofSeconds(10));
    }
  }

  private static Fping.Result runFping(NetnsTestbed tb, List<Inet4Address> targets) {
    return Fping.run(tb, targets, PINGS, Duration.ofMillis(100), Duration.ofMillis(1), Duration.ofMillis(500));
  }

  private static List<Double> nonNull(List<Double> values) {
    List<Double> out = new ArrayList<>();
    for (Double v : values) {
      if (v != null) {
        out.add(v);
      }
    }
    return out;
  }

  private static Path reportDir() throws IOException {
    Path dir = Path.of(System.getProperty("swarm.build.dir", "target"), "accuracy");
    Files.createDirectories(dir);
    return dir;
  }

  private static void report(String name, Fping.Result fping, GroundTruth truth, double trueLoss, long nftDropped)
      throws IOException {
    String text = String.format(Locale.ROOT, "%s%n  probes %d (fping sent %d, received %d; responder read %d)%n"
            + "  median ms: ground truth %.3f, fping %.3f (diff %+.3f)%n"
            + "  loss %%: ground truth %.2f, fping %.2f (diff %+.2f pp)%s%n"
            + "  responder: p99 delay %.3f ms, lateness p50 %.3f p99 %.3f max %.3f ms%n",
        name, truth.requests(), fping.sent(), fping.received(), truth.requests(), truth.medianDelayMillis(),
        fping.medianMillis(), fping.medianMillis() - truth.medianDelayMillis(), trueLoss, fping.lossPercent(),
        fping.lossPercent() - trueLoss, nftDropped >= 0 ? " (nftables dropped " + nftDropped + ")" : "",
        Samples.percentile(truth.appliedDelaysMillis(), 99), Samples.median(truth.latenessMillis()),
        Samples.percentile(truth.latenessMillis(), 99), truth.maxLatenessMillis());
    Files.writeString(reportDir().resolve(name + ".txt"), text, StandardCharsets.UTF_8);
    System.out.print(text);
  }
}
