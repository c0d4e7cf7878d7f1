package net.swarming.agent.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import net.swarming.agent.probe.icmp.IcmpEngine;
import net.swarming.agent.probe.icmp.IcmpOptions;
import net.swarming.common.cli.ExitCodes;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The ICMP engine's benchmark (not a test): {@code java -cp swarm-agent.jar net.swarming.agent.bench.IcmpBench}.
 *
 * <ul>
 *   <li>{@code --mode compare} (default): the engine, then {@code fping}, on the same loopback targets (127.x.y.z) at
 *       the same rate; prints probes/s, CPU seconds per 1,000 probes, loss and RTT p50/p99 for both, and the ratios.
 *       Our CPU is the whole JVM's (from {@code /proc/self/stat}, after a short warm-up), fping's comes from
 *       {@code /usr/bin/time}.</li>
 *   <li>{@code --mode step}: SmokePing-like load, e.g. 100,000 targets × 20 pings per 60 s step, each target's round
 *       starting at a random offset within the step; prints the sustained send rate, loss, CPU and the peak RSS.</li>
 * </ul>
 * Loopback only: it never sends anywhere else. It needs root or {@code ping_group_range} like the agent, and prints to
 * stdout (it is a command-line tool).
 */
@Command(name = "icmp-bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Benchmarks the in-process ICMP engine (and fping) on loopback targets 127.x.y.z.")
public final class IcmpBench implements Callable<Integer> {

    @Option(names = "--mode", defaultValue = "compare", description = "compare | step. Default: ${DEFAULT-VALUE}.")
    String mode;

    @Option(names = "--targets", defaultValue = "10000", description = "Loopback targets. Default: ${DEFAULT-VALUE}.")
    int targets;

    @Option(names = "--pings", defaultValue = "5", description = "Pings per target. Default: ${DEFAULT-VALUE}.")
    int pings;

    @Option(names = "--rate", defaultValue = "10000",
            description = "compare: probes per second for both tools. Default: ${DEFAULT-VALUE}.")
    int rate;

    @Option(names = "--step", defaultValue = "60s", description = "step: the step. Default: ${DEFAULT-VALUE}.")
    String step;

    @Option(names = "--steps", defaultValue = "1", description = "step: steps to run. Default: ${DEFAULT-VALUE}.")
    int steps;

    @Option(names = "--ping-interval", defaultValue = "1s",
            description = "step: spacing of the pings of a round. Default: ${DEFAULT-VALUE}.")
    String pingInterval;

    @Option(names = "--max-pps", defaultValue = "50000",
            description = "step: the engine's cap. Default: ${DEFAULT-VALUE}.")
    int maxPps;

    @Option(names = "--fping", defaultValue = "fping", description = "fping binary. Default: ${DEFAULT-VALUE}.")
    String fping;

    @Option(names = "--no-fping", description = "compare: skip fping.")
    boolean noFping;

    private final PrintStream out = System.out;

    public static void main(String[] args) {
        System.exit(new CommandLine(new IcmpBench()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        out.printf(Locale.ROOT, "# ICMP engine benchmark, %s, %d CPUs, load average %s%n", Instant.now(),
                Runtime.getRuntime().availableProcessors(), loadAverage());
        if (mode.equals("step")) {
            step();
        } else {
            compare();
        }
        out.printf(Locale.ROOT, "# load average at the end: %s%n", loadAverage());
        return ExitCodes.OK;
    }

    // ------------------------------------------------------------------ compare

    private record Figures(String tool, long probes, double seconds, double cpuSeconds, long lost, double p50,
                           double p99) {
        double rate() {
            return probes / seconds;
        }

        double cpuPer1000() {
            return cpuSeconds * 1000 / probes;
        }

        double lossPercent() {
            return 100.0 * lost / probes;
        }
    }

    private void compare() throws Exception {
        List<InetAddress> addresses = loopbackTargets(targets);
        Duration interval = Duration.ofNanos(1_000_000_000L * targets / rate);
        out.printf(Locale.ROOT, "# compare: %d targets x %d pings, %d probes/s (each target every %s), timeout 1s%n",
                targets, pings, rate, interval);
        Figures engine;
        // Both tools are paced by the per-target period (fping -p); their global caps (fping -i, our --max-pps) are
        // ten times the rate, so that neither falls behind for good after the machine stalled it for a moment.
        try (IcmpEngine e = IcmpEngine.open(IcmpOptions.defaults().withMaxPps(rate * 10))) {
            out.println("# engine: " + e.describe());
            // Warm-up, not measured: the JIT compiles the hot paths (about 1 s of CPU, once per JVM).
            Figures warm = runEngine(e, addresses, 3, interval);
            out.printf(Locale.ROOT, "# warm-up: %d probes, CPU %.2f s%n", warm.probes(), warm.cpuSeconds());
            List<String> before = ProcessStats.threadCpu(6);
            engine = runEngine(e, addresses, pings, interval);
            out.println("# JVM CPU by thread, before the measured run: " + before);
            out.println("# JVM CPU by thread, after: " + ProcessStats.threadCpu(6));
        }
        print(engine);
        if (noFping) {
            return;
        }
        Figures f = runFping(addresses, interval);
        print(f);
        out.printf(Locale.ROOT, "ratio engine/fping: probes/s %.2f, CPU per probe %.2f%n", engine.rate() / f.rate(),
                engine.cpuPer1000() / f.cpuPer1000());
    }

    private void print(Figures f) {
        out.printf(Locale.ROOT, "%-6s probes %d in %.2f s = %.0f probes/s; CPU %.2f s = %.3f s per 1000 probes; "
                        + "loss %.3f%%; RTT p50 %.3f ms p99 %.3f ms%n", f.tool(), f.probes(), f.seconds(), f.rate(),
                f.cpuSeconds(), f.cpuPer1000(), f.lossPercent(), f.p50(), f.p99());
    }

    private static Figures runEngine(IcmpEngine e, List<InetAddress> addresses, int pings, Duration interval)
            throws Exception {
        double cpu0 = ProcessStats.cpuSeconds();
        long sent0 = e.counters().sent();
        long probes = (long) addresses.size() * pings;
        long t0 = System.nanoTime();
        List<CompletableFuture<IcmpEngine.Result>> rounds = new ArrayList<>(addresses.size());
        for (InetAddress a : addresses) {
            rounds.add(e.submit(a, pings, interval, Duration.ofSeconds(1)));
        }
        // Sending time: until the last echo request left (rounds then wait out their timeout).
        long deadline = t0 + TimeUnit.SECONDS.toNanos(60 + 2L * pings * Math.max(1, interval.toSeconds()));
        while (e.counters().sent() - sent0 < probes && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        long t1 = System.nanoTime();
        double[] rtts = new double[addresses.size() * pings];
        int n = 0;
        long lost = 0;
        for (CompletableFuture<IcmpEngine.Result> f : rounds) {
            for (Double rtt : f.get(10 + (long) pings * interval.toSeconds() * 2, TimeUnit.SECONDS).rtts()) {
                if (rtt == null) {
                    lost++;
                } else {
                    rtts[n++] = rtt;
                }
            }
        }
        // The last round completes one timeout after its last send: do not count that wait as sending time.
        double cpu = ProcessStats.cpuSeconds() - cpu0;
        double[] got = Arrays.copyOf(rtts, n);
        Arrays.sort(got);
        return new Figures("engine", probes, (t1 - t0) / 1e9, cpu, lost, percentile(got, 50), percentile(got, 99));
    }

    private Figures runFping(List<InetAddress> addresses, Duration interval) throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("icmp-bench");
        try {
            Path list = dir.resolve("targets");
            Files.write(list, addresses.stream().map(InetAddress::getHostAddress).toList());
            Path times = dir.resolve("time");
            double perPacketMs = 1000.0 / rate;
            List<String> cmd = List.of("/usr/bin/time", "-f", "%U %S %M", "-o", times.toString(), fping,
                    "-C", Integer.toString(pings), "-q", "-t", "1000",
                    // -p paces each target; -i only bounds the gap between any two packets. fping cannot hold
                    // -i at the nominal gap (its own overhead adds to it), so it gets a tenth of it, as in the spike.
                    "-i", String.format(Locale.ROOT, "%.3f", perPacketMs / 10),
                    "-p", Long.toString(interval.toMillis()), "-f", list.toString());
            out.println("# fping: " + String.join(" ", cmd));
            long t0 = System.nanoTime();
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("out").toFile())
                    .start();
            if (!p.waitFor(600, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("fping did not finish");
            }
            // fping exits once every reply is in (it waits out the timeout only for lost probes).
            double seconds = (System.nanoTime() - t0) / 1e9;
            String[] t = Files.readString(times).strip().split("\\s+");
            String[] tail = t.length >= 3 ? Arrays.copyOfRange(t, t.length - 3, t.length) : t;
            double cpu = Double.parseDouble(tail[0]) + Double.parseDouble(tail[1]);
            List<Double> rtts = new ArrayList<>();
            long lost = 0;
            for (String line : Files.readAllLines(dir.resolve("out"), StandardCharsets.UTF_8)) {
                int colon = line.indexOf(" : ");
                if (colon < 0) {
                    continue;
                }
                for (String v : line.substring(colon + 3).trim().split("\\s+")) {
                    if (v.equals("-")) {
                        lost++;
                    } else {
                        rtts.add(Double.parseDouble(v));
                    }
                }
            }
            double[] got = rtts.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            long probes = (long) addresses.size() * pings;
            return new Figures("fping", probes, seconds, cpu, lost, percentile(got, 50), percentile(got, 99));
        } finally {
            try (var files = Files.list(dir)) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    Files.deleteIfExists(f);
                }
            }
            Files.deleteIfExists(dir);
        }
    }

    // ------------------------------------------------------------------ step

    private void step() throws Exception {
        Duration stepLength = net.swarming.common.cli.Durations.parse(step);
        Duration interval = net.swarming.common.cli.Durations.parse(pingInterval);
        List<InetAddress> addresses = loopbackTargets(targets);
        double nominal = (double) targets * pings / stepLength.toMillis() * 1000;
        out.printf(Locale.ROOT, "# step: %d targets x %d pings per %s (%.0f probes/s nominal), %d step(s), "
                + "pings %s apart, cap %d/s%n", targets, pings, stepLength, nominal, steps, interval, maxPps);
        AtomicLong lost = new AtomicLong();
        AtomicLong answered = new AtomicLong();
        long peakRss = 0;
        try (IcmpEngine e = IcmpEngine.open(IcmpOptions.defaults().withMaxPps(maxPps))) {
            out.println("# engine: " + e.describe());
            System.gc();
            long rssBefore = ProcessStats.rssBytes();
            double cpu0 = ProcessStats.cpuSeconds();
            long sent0 = e.counters().sent();
            long t0 = System.nanoTime();
            long stepNanos = stepLength.toNanos();
            // Each target at a fixed offset within the step, as the agent's scheduler spreads rounds.
            long[] offsets = new long[targets];
            java.util.Random random = new java.util.Random(42);
            for (int i = 0; i < targets; i++) {
                offsets[i] = (long) (random.nextDouble() * stepNanos);
            }
            Integer[] order = new Integer[targets];
            for (int i = 0; i < targets; i++) {
                order[i] = i;
            }
            Arrays.sort(order, (a, b) -> Long.compare(offsets[a], offsets[b]));
            List<CompletableFuture<Void>> pending = new ArrayList<>();
            long nextReport = t0 + TimeUnit.SECONDS.toNanos(10);
            long lastSent = sent0;
            long lastReport = t0;
            for (int s = 0; s < steps; s++) {
                for (Integer i : order) {
                    long due = t0 + s * stepNanos + offsets[i];
                    long now;
                    while ((now = System.nanoTime()) < due) {
                        if (now >= nextReport) {
                            long sentNow = e.counters().sent();
                            long rss = ProcessStats.rssBytes();
                            peakRss = Math.max(peakRss, rss);
                            out.printf(Locale.ROOT, "  t=%3.0fs sent %.0f/s, RSS %d MB%n", (now - t0) / 1e9,
                                    (sentNow - lastSent) / ((now - lastReport) / 1e9), rss >> 20);
                            lastSent = sentNow;
                            lastReport = now;
                            nextReport += TimeUnit.SECONDS.toNanos(10);
                        }
                        Thread.sleep(Math.max(1, Math.min(10, (due - now) / 1_000_000)));
                    }
                    pending.add(e.submit(addresses.get(i), pings, interval, Duration.ofSeconds(1)).thenAccept(r -> {
                        for (Double rtt : r.rtts()) {
                            if (rtt == null) {
                                lost.incrementAndGet();
                            } else {
                                answered.incrementAndGet();
                            }
                        }
                    }));
                }
                pending.removeIf(CompletableFuture::isDone);
            }
            long lastSubmit = System.nanoTime();
            for (CompletableFuture<Void> f : pending) {
                f.get(10 + 2L * pings * interval.toSeconds(), TimeUnit.SECONDS);
            }
            peakRss = Math.max(peakRss, ProcessStats.rssBytes());
            double seconds = (System.nanoTime() - t0) / 1e9;
            double cpu = ProcessStats.cpuSeconds() - cpu0;
            long sent = e.counters().sent() - sent0;
            out.printf(Locale.ROOT, "step   probes %d in %.1f s (all rounds started within %.1f s): %.0f probes/s "
                            + "over the steps; CPU %.1f s = %.3f s per 1000 probes; loss %.4f%% (%d lost); "
                            + "RSS before %d MB, peak %d MB; max heap %d MB%n", sent, seconds,
                    (lastSubmit - t0) / 1e9, sent / (stepLength.toNanos() * (double) steps / 1e9), cpu,
                    cpu * 1000 / sent, 100.0 * lost.get() / Math.max(1, sent), lost.get(), rssBefore >> 20,
                    peakRss >> 20, Runtime.getRuntime().maxMemory() >> 20);
            out.println("# engine counters: " + e.counters());
            out.println("# JVM CPU by thread: " + ProcessStats.threadCpu(8));
        }
    }

    // ------------------------------------------------------------------ helpers

    /** 127.0.0.1 onward, skipping .0 and .255 host bytes: all answered by {@code lo}. */
    static List<InetAddress> loopbackTargets(int count) throws IOException {
        List<InetAddress> list = new ArrayList<>(count);
        for (int i = 0; list.size() < count; i++) {
            int b2 = (i / (254 * 254)) % 254;
            int b3 = (i / 254) % 254;
            int b4 = i % 254 + 1;
            list.add(InetAddress.getByAddress(new byte[] {127, (byte) b2, (byte) b3, (byte) b4}));
        }
        return list;
    }

    private static double percentile(double[] sorted, double p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int i = (int) Math.ceil(p / 100 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).strip();
        } catch (IOException e) {
            return "?";
        }
    }
}
