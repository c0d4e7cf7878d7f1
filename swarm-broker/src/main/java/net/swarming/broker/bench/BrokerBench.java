package net.swarming.broker.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import net.swarming.broker.BrokerConfig;
import net.swarming.broker.SwarmBroker;
import net.swarming.broker.internal.net.ListenAddress;
import net.swarming.common.cli.ExitCodes;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * End-to-end throughput of swarm-broker and of mosquitto, measured in the same run with the same clients: several
 * {@code mosquitto_pub -l} publishers on {@code ping/<n>}, one {@code mosquitto_sub} on {@code ping/+}, messages per
 * second delivered to the subscriber, for each QoS. Writes a Markdown report.
 *
 * <pre>java -cp swarm-broker/target/swarm-broker.jar net.swarming.broker.bench.BrokerBench --report bench.md</pre>
 *
 * <p>Needs the {@code mosquitto} broker and the {@code mosquitto-clients} tools. Everything runs on loopback.
 */
@Command(name = "swarm-broker-bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Messages/s delivered end to end through swarm-broker and mosquitto, in one run.")
public final class BrokerBench implements Callable<Integer> {

    @Option(names = "--publishers", defaultValue = "4", description = "Publisher processes (default: ${DEFAULT-VALUE}).")
    int publishers;

    @Option(names = "--messages", defaultValue = "25000",
            description = "Messages per publisher and run (default: ${DEFAULT-VALUE}).")
    int messages;

    @Option(names = "--payload-bytes", defaultValue = "200", description = "Payload size (default: ${DEFAULT-VALUE}).")
    int payloadBytes;

    @Option(names = "--qos", defaultValue = "0,1", split = ",", description = "QoS levels (default: ${DEFAULT-VALUE}).")
    List<Integer> qosLevels;

    @Option(names = "--timeout-seconds", defaultValue = "180",
            description = "Longest wait for one run's deliveries (default: ${DEFAULT-VALUE}).")
    int timeoutSeconds;

    @Option(names = "--max-inflight-messages", defaultValue = "" + BrokerConfig.DEFAULT_MAX_INFLIGHT_MESSAGES,
            description = "swarm-broker's in-flight window per session (default: ${DEFAULT-VALUE}).")
    int maxInflightMessages;

    @Option(names = "--max-queued-bytes", defaultValue = "" + BrokerConfig.DEFAULT_MAX_QUEUED_BYTES,
            description = "swarm-broker's outbound limit per connection (default: ${DEFAULT-VALUE}).")
    long maxQueuedBytes;

    @Option(names = "--report", defaultValue = "broker-bench.md", description = "Markdown report (default: ${DEFAULT-VALUE}).")
    Path report;

    /** One measured run. */
    record Run(String broker, int qos, long sent, long delivered, double seconds, long dropped, double cpuSeconds) {
        double rate() {
            return delivered / seconds;
        }

        /** The broker's CPU time per delivered message, µs. */
        double cpuMicrosPerMessage() {
            return cpuSeconds * 1e6 / Math.max(1, delivered);
        }
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new BrokerBench()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        // Moquette logs one line per dropped message when its queues are full: thousands per second in a flood.
        ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("io.moquette"))
                .setLevel(ch.qos.logback.classic.Level.ERROR);
        Path work = Files.createTempDirectory("swarm-broker-bench");
        Path lines = work.resolve("payload.txt");
        String payload = "p".repeat(payloadBytes);
        Files.write(lines, java.util.Collections.nCopies(messages, payload), StandardCharsets.US_ASCII);
        List<Run> runs = new ArrayList<>();
        PrintWriter out = new PrintWriter(System.out, true);
        try (SwarmBroker swarm = SwarmBroker.start(BrokerConfig.defaults().withListener("127.0.0.1", 0)
                .withDataDir(work.resolve("data")).withMetrics("127.0.0.1", BrokerConfig.METRICS_OFF)
                .withMaxInflightMessages(maxInflightMessages).withMaxQueuedBytes(maxQueuedBytes))) {
            // Warm-up: JIT and store, not reported.
            for (int qos : qosLevels) {
                measure("warm-up", swarm.port(), qos, lines, work);
            }
            Process mosquitto = startMosquitto(work);
            int mqPort = this.mosquittoPort;
            try {
                for (int qos : qosLevels) {
                    for (String broker : List.of("swarm-broker", "mosquitto")) {
                        int port = broker.equals("mosquitto") ? mqPort : swarm.port();
                        long droppedBefore = dropped(swarm);
                        double cpuBefore = brokerCpuSeconds(broker, mosquitto);
                        Run measured = measure(broker, port, qos, lines, work);
                        double cpu = brokerCpuSeconds(broker, mosquitto) - cpuBefore;
                        Run run = new Run(measured.broker(), qos, measured.sent(), measured.delivered(),
                                measured.seconds(), broker.equals("mosquitto") ? -1 : dropped(swarm) - droppedBefore,
                                cpu);
                        runs.add(run);
                        out.printf(Locale.ROOT, "%s QoS %d: %d/%d delivered in %.2f s = %.0f msg/s%n", broker, qos,
                                run.delivered(), run.sent(), run.seconds(), run.rate());
                    }
                }
            } finally {
                mosquitto.destroy();
                mosquitto.waitFor(10, TimeUnit.SECONDS);
            }
        }
        Files.writeString(report, markdown(runs));
        out.println("report written to " + report.toAbsolutePath());
        return ExitCodes.OK;
    }

    private int mosquittoPort;

    private Process startMosquitto(Path work) throws IOException, InterruptedException {
        mosquittoPort = ListenAddress.reserve("127.0.0.1", 0);
        Path conf = Files.writeString(work.resolve("mosquitto.conf"), String.join("\n",
                "listener " + mosquittoPort + " 127.0.0.1",
                "allow_anonymous true",
                // The default of 1000 silently drops messages to a subscriber that falls behind.
                "max_queued_messages 0",
                "persistence false",
                ""));
        Process p = new ProcessBuilder("mosquitto", "-c", conf.toString())
                .redirectErrorStream(true).redirectOutput(work.resolve("mosquitto.log").toFile()).start();
        for (int i = 0; i < 100 && p.isAlive(); i++) {
            Process probe = new ProcessBuilder("mosquitto_pub", "-h", "127.0.0.1", "-p",
                    Integer.toString(mosquittoPort), "-t", "bench/probe", "-m", "x")
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (probe.waitFor(5, TimeUnit.SECONDS) && probe.exitValue() == 0) {
                return p;
            }
            Thread.sleep(100);
        }
        p.destroyForcibly();
        throw new IllegalStateException("mosquitto did not start; see " + work.resolve("mosquitto.log"));
    }

    private Run measure(String broker, int port, int qos, Path lines, Path work) throws Exception {
        long expected = (long) publishers * messages;
        String p = Integer.toString(port);
        String q = Integer.toString(qos);
        String clientSuffix = Long.toString(System.nanoTime(), 36);
        Process sub = new ProcessBuilder("mosquitto_sub", "-h", "127.0.0.1", "-p", p, "-q", q, "-t", "ping/+",
                "-i", "bench-sub-" + clientSuffix, "-W", Integer.toString(timeoutSeconds))
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        AtomicLong received = new AtomicLong();
        AtomicLong lastNanos = new AtomicLong();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(sub.getInputStream(),
                    StandardCharsets.US_ASCII), 1 << 16)) {
                while (r.readLine() != null) {
                    received.incrementAndGet();
                    lastNanos.set(System.nanoTime());
                }
            } catch (IOException e) {
                // the subscriber was stopped
            }
        }, "bench-sub-reader");
        reader.start();
        // Subscribed once a probe comes back; bounded.
        for (int i = 0; i < 100 && received.get() == 0; i++) {
            run("mosquitto_pub", "-h", "127.0.0.1", "-p", p, "-q", "1", "-t", "ping/ready", "-m", "ready");
            Thread.sleep(100);
        }
        if (received.get() == 0) {
            sub.destroy();
            throw new IllegalStateException(broker + ": subscriber never received the probe");
        }
        received.set(0);
        long t0 = System.nanoTime();
        List<Process> pubs = new ArrayList<>();
        for (int i = 0; i < publishers; i++) {
            pubs.add(new ProcessBuilder("mosquitto_pub", "-h", "127.0.0.1", "-p", p, "-q", q, "-t", "ping/t" + i,
                    "-i", "bench-pub-" + i + "-" + clientSuffix, "-l")
                    .redirectInput(lines.toFile()).redirectErrorStream(true)
                    .redirectOutput(work.resolve("pub-" + i + ".log").toFile()).start());
        }
        long deadline = t0 + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        for (Process pub : pubs) {
            pub.waitFor(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        }
        // Deliveries stop when everything arrived or nothing arrived for 3 s after the publishers finished.
        long idleLimit = TimeUnit.SECONDS.toNanos(3);
        while (received.get() < expected && System.nanoTime() < deadline
                && System.nanoTime() - Math.max(lastNanos.get(), t0) < idleLimit) {
            Thread.sleep(20);
        }
        long end = received.get() >= expected ? lastNanos.get() : Math.max(lastNanos.get(), t0);
        pubs.forEach(Process::destroy);
        sub.destroy();
        sub.waitFor(10, TimeUnit.SECONDS);
        reader.join(10_000);
        return new Run(broker, qos, expected, Math.min(received.get(), expected), (end - t0) / 1e9, -1, Double.NaN);
    }

    /** swarm-broker's {@code swarm_broker_publish_messages_dropped_total} now. */
    private static long dropped(SwarmBroker swarm) {
        return swarm.metricsRegistry().scrape().stream()
                .filter(m -> m.getMetadata().getPrometheusName().equals("swarm_broker_publish_messages_dropped"))
                .map(io.prometheus.metrics.model.snapshots.CounterSnapshot.class::cast)
                .mapToLong(c -> (long) c.getDataPoints().get(0).getValue()).sum();
    }

    private static void run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly();
        }
    }

    private String markdown(List<Run> runs) {
        StringBuilder b = new StringBuilder();
        b.append("Broker benchmark ").append(Instant.now()).append(": ").append(publishers)
                .append(" × mosquitto_pub -l publishers, ").append(messages).append(" messages each, ")
                .append(payloadBytes).append("-byte payloads, one mosquitto_sub on ping/+ (same QoS), loopback; ")
                .append("load average ").append(loadAverage()).append("; swarm-broker in-flight window ")
                .append(maxInflightMessages).append(", max queued bytes ").append(maxQueuedBytes).append(".\n\n");
        b.append("| QoS | broker | delivered / sent | dropped (counted) | seconds | msg/s delivered | ratio to mosquitto "
                + "| broker CPU µs/msg | CPU ratio to mosquitto |\n");
        b.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
        for (Run r : runs) {
            Run mosquitto = runs.stream().filter(o -> o.qos() == r.qos() && o.broker().equals("mosquitto"))
                    .findFirst().orElse(null);
            double mosquittoRate = mosquitto == null ? Double.NaN : mosquitto.rate();
            double mosquittoCpu = mosquitto == null ? Double.NaN : mosquitto.cpuMicrosPerMessage();
            b.append(String.format(Locale.ROOT, "| %d | %s | %,d / %,d | %s | %.2f | %,.0f | %.2f | %.1f | %.1f |%n",
                    r.qos(), r.broker(), r.delivered(), r.sent(), r.dropped() < 0 ? "—"
                            : String.format(Locale.ROOT, "%,d", r.dropped()), r.seconds(), r.rate(),
                    r.rate() / mosquittoRate, r.cpuMicrosPerMessage(), r.cpuMicrosPerMessage() / mosquittoCpu));
        }
        b.append("\nBroker CPU: for swarm-broker the CPU time of every thread of this JVM except the benchmark's own ")
                .append("(main, the subscriber's reader), for mosquitto its process's user + system time ")
                .append("(/proc, 10 ms ticks), from before the subscriber connects until the last delivery.\n");
        return b.toString();
    }

    /** CPU seconds used so far by the broker under test (see the report's note). */
    private static double brokerCpuSeconds(String broker, Process mosquitto) throws IOException {
        if (broker.equals("mosquitto")) {
            String stat = Files.readString(Path.of("/proc", Long.toString(mosquitto.pid()), "stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            // Fields 14 and 15 of stat (utime, stime), counted from the state field (3); USER_HZ is 100 on Linux.
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
        }
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long nanos = 0;
        for (ThreadInfo t : threads.getThreadInfo(threads.getAllThreadIds())) {
            if (t != null && !t.getThreadName().equals("main") && !t.getThreadName().equals("bench-sub-reader")) {
                nanos += Math.max(0, threads.getThreadCpuTime(t.getThreadId()));
            }
        }
        return nanos / 1e9;
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }
}
