package net.swarming.agent.probe.icmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The global packets-per-second cap and the per-address minimum interval, on loopback. */
@Timeout(60)
class IcmpPacingIT {

    @Test
    void whenRoundsAskForMoreThanTheCap_thenSendingTakesAtLeastProbesOverCap() throws Exception {
        try (IcmpEngine engine = IcmpEngine.open(IcmpOptions.defaults().withMaxPps(500)
                .withMinTargetInterval(Duration.ZERO))) {
            List<CompletableFuture<IcmpEngine.Result>> rounds = new ArrayList<>();
            long start = System.nanoTime();
            for (int i = 0; i < 150; i++) {
                rounds.add(engine.submit(InetAddress.getByName("127.2.0." + (i + 1)), 2, Duration.ZERO,
                        Duration.ofMillis(200)));
            }
            while (engine.counters().sent() < 300 && System.nanoTime() - start < TimeUnit.SECONDS.toNanos(20)) {
                Thread.sleep(2);
            }
            long allSent = System.nanoTime() - start;
            int received = 0;
            for (CompletableFuture<IcmpEngine.Result> r : rounds) {
                received += (int) r.get(20, TimeUnit.SECONDS).rtts().stream().filter(x -> x != null).count();
            }
            assertEquals(300, received);
            // 300 packets at 500/s, after a burst of at most 20 ms worth (10 packets): at least 0.58 s.
            assertTrue(allSent >= TimeUnit.MILLISECONDS.toNanos(575), "sent 300 in " + allSent / 1e6 + " ms");
        }
    }

    @Test
    void whenRoundsShareAnAddress_thenItsRequestsAreAtLeastTheMinimumIntervalApart() throws Exception {
        try (IcmpEngine engine = IcmpEngine.open(IcmpOptions.defaults().withMaxPps(10_000)
                .withMinTargetInterval(Duration.ofMillis(100)))) {
            InetAddress target = InetAddress.getByName("127.0.0.1");
            long start = System.nanoTime();
            // Five rounds of two pings, asking for no spacing at all: ten requests to one address.
            List<CompletableFuture<IcmpEngine.Result>> rounds = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                rounds.add(engine.submit(target, 2, Duration.ZERO, Duration.ofMillis(100)));
            }
            for (CompletableFuture<IcmpEngine.Result> r : rounds) {
                assertEquals(2, r.get(20, TimeUnit.SECONDS).rtts().stream().filter(x -> x != null).count());
            }
            long tookMs = (System.nanoTime() - start) / 1_000_000;
            // Ten requests 100 ms apart: the last leaves at >= 900 ms, and its round ends a 100 ms timeout later.
            assertTrue(tookMs >= 1_000, "took " + tookMs + " ms");
            assertEquals(10, engine.counters().sent());
        }
    }
}
