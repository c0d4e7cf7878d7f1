package net.swarming.agent.accuracy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import net.swarming.agent.probe.ProbeContext;
import net.swarming.agent.probe.ProbeRequest;
import net.swarming.agent.probe.ProbeRound;
import net.swarming.agent.probe.icmp.IcmpOptions;
import net.swarming.agent.probe.icmp.IcmpProbe;

/**
 * Runs one ICMP round per target through the agent's engine ({@link IcmpProbe}) and writes every round as a JSON line.
 * Started by {@link IcmpAccuracyIT} inside the testbed's network namespace ({@code ip netns exec <ns> java ...}), because
 * the engine's sockets belong to the namespace of the process that opens them.
 *
 * <p>Arguments: {@code <out.jsonl> <pings> <interval-ms> <timeout-ms> <AUTO|DATAGRAM|RAW> <target>...}. The first line
 * written describes the engine ({@code {"engine": "..."}}); then one line per round: target, resolvedIp, rtts (null =
 * lost), duplicates, error. Exit code 0 when every round completed, 1 otherwise.
 */
public final class IcmpRoundsMain {

    private static final int MAX_PPS = 20_000;

    private IcmpRoundsMain() {
    }

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args[0]);
        int pings = Integer.parseInt(args[1]);
        Duration interval = Duration.ofMillis(Long.parseLong(args[2]));
        Duration timeout = Duration.ofMillis(Long.parseLong(args[3]));
        IcmpOptions.SocketMode mode = IcmpOptions.SocketMode.valueOf(args[4]);
        List<String> targets = List.of(args).subList(5, args.length);

        ObjectMapper json = new ObjectMapper();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        ProbeContext context = new ProbeContext(Clock.systemUTC(), pool, 7);
        IcmpOptions options = IcmpOptions.defaults().withMaxPps(MAX_PPS).withSocketMode(mode);
        boolean ok = true;
        try (IcmpProbe probe = new IcmpProbe(context, options);
             BufferedWriter w = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
            ObjectNode head = json.createObjectNode();
            head.put("engine", probe.engine() == null ? "unavailable: " + probe.unavailableReason()
                    : probe.engine().describe());
            head.put("datagram", probe.engine() != null && probe.engine().datagram());
            w.write(json.writeValueAsString(head) + "\n");
            List<CompletableFuture<ProbeRound>> rounds = new ArrayList<>();
            for (String target : targets) {
                rounds.add(probe.round(new ProbeRequest(target, pings, interval, timeout, null)));
            }
            long waitMillis = interval.multipliedBy(pings).plus(timeout).toMillis() + 30_000;
            CompletableFuture.allOf(rounds.toArray(CompletableFuture[]::new)).get(waitMillis, TimeUnit.MILLISECONDS);
            for (CompletableFuture<ProbeRound> f : rounds) {
                ProbeRound r = f.join();
                ObjectNode line = json.createObjectNode();
                line.put("target", r.target());
                line.put("resolvedIp", r.resolvedIp());
                ArrayNode rtts = line.putArray("rtts");
                r.rtts().forEach(rtt -> {
                    if (rtt == null) {
                        rtts.addNull();
                    } else {
                        rtts.add(rtt);
                    }
                });
                line.put("duplicates", r.duplicates());
                line.put("error", r.error());
                ok &= r.error() == null;
                w.write(json.writeValueAsString(line) + "\n");
            }
        } finally {
            pool.shutdownNow();
        }
        System.exit(ok ? 0 : 1);
    }
}
