package net.swarming.agent.probe.icmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import net.swarming.agent.probe.Probe;
import net.swarming.agent.probe.ProbeContext;
import net.swarming.agent.probe.ProbeRegistry;
import net.swarming.agent.probe.ProbeRequest;
import net.swarming.agent.probe.ProbeRound;
import net.swarming.common.wire.ProbeType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The probe on loopback, through the real kernel (raw sockets as root here; see IcmpNamespaceIT for the others). */
@Timeout(60)
class IcmpProbeIT {

    private static ExecutorService pool;
    private static IcmpProbe probe;

    @BeforeAll
    static void open() {
        pool = Executors.newFixedThreadPool(4);
        probe = new IcmpProbe(new ProbeContext(Clock.systemUTC(), pool, 80),
                IcmpOptions.defaults().withMaxPps(20_000));
        assertNull(probe.unavailableReason(), "ICMP must be available to the test (root or ping_group_range)");
    }

    @AfterAll
    static void close() throws InterruptedException {
        probe.close();
        pool.shutdownNow();
        assertTrue(pool.awaitTermination(5, TimeUnit.SECONDS));
    }

    private static ProbeRound run(String target, int pings, int intervalMs, int timeoutMs) throws Exception {
        return probe.round(new ProbeRequest(target, pings, Duration.ofMillis(intervalMs),
                Duration.ofMillis(timeoutMs), null)).get(30, TimeUnit.SECONDS);
    }

    private static void assertAllAnswered(ProbeRound round, int pings) {
        assertFalse(round.isError(), round::error);
        assertEquals(pings, round.sent());
        assertEquals(pings, round.received(), () -> "lost probes: " + round.rtts());
        for (Double rtt : round.rtts()) {
            assertTrue(rtt > 0 && rtt < 50, () -> "loopback round trip out of range: " + round.rtts());
        }
        assertEquals(0, round.duplicates());
        assertEquals(0, round.late());
        assertTrue(round.probeErrors().isEmpty(), () -> round.probeErrors().toString());
    }

    @Test
    void whenPingingIpv4Loopback_thenNoLossAndSaneRoundTrips() throws Exception {
        long start = System.nanoTime();
        ProbeRound round = run("127.0.0.1", 5, 50, 500);
        long tookMs = (System.nanoTime() - start) / 1_000_000;

        assertAllAnswered(round, 5);
        assertEquals(ProbeType.ICMP, round.probe());
        assertEquals("127.0.0.1", round.resolvedIp());
        // 4 intervals of 50 ms, then the last probe's 500 ms timeout: the round completes after the last timeout.
        assertTrue(tookMs >= 690 && tookMs < 5_000, "round took " + tookMs + " ms");
    }

    @Test
    void whenPingingIpv6Loopback_thenNoLossAndSaneRoundTrips() throws Exception {
        ProbeRound round = run("::1", 5, 20, 300);

        assertAllAnswered(round, 5);
        assertEquals("0:0:0:0:0:0:0:1", round.resolvedIp());
    }

    @Test
    void whenTargetIsANameOrBracketedLiteral_thenItResolves() throws Exception {
        assertAllAnswered(run("localhost", 2, 20, 300), 2);
        assertAllAnswered(run("[::1]", 2, 20, 300), 2);
    }

    @Test
    void whenPingingAThousandLoopbackTargets_thenEveryRoundCompletesWithoutLoss() throws Exception {
        List<CompletableFuture<ProbeRound>> rounds = new ArrayList<>();
        for (int i = 0; i < 1_000; i++) {
            String target = "127.1." + (i / 250) + "." + (i % 250 + 1);
            rounds.add(probe.round(new ProbeRequest(target, 3, Duration.ofMillis(100), Duration.ofSeconds(1), null)));
        }
        int received = 0;
        for (CompletableFuture<ProbeRound> f : rounds) {
            ProbeRound r = f.get(30, TimeUnit.SECONDS);
            assertFalse(r.isError(), r::error);
            assertEquals(3, r.sent());
            received += r.received();
        }
        assertEquals(3_000, received);
    }

    @Test
    void whenNameDoesNotResolve_thenRoundIsUnknownHostError() throws Exception {
        ProbeRound round = run("no-such-host.invalid", 3, 10, 100);

        assertTrue(round.isError());
        assertEquals(IcmpProbe.UNKNOWN_HOST, round.error());
        assertNull(round.resolvedIp());
        assertEquals(0, round.sent());
    }

    @Test
    void whenTargetIsMulticastBroadcastOrUnspecified_thenItIsRefusedWithoutSending() throws Exception {
        long sentBefore = probe.engine().counters().sent();
        for (String[] c : new String[][] {{"224.0.0.1", "multicast"}, {"ff02::1", "multicast"},
                {"255.255.255.255", "broadcast"}, {"0.0.0.0", "unspecified"}, {"::", "unspecified"}}) {
            ProbeRound round = run(c[0], 3, 10, 100);
            assertTrue(round.isError(), c[0]);
            assertTrue(round.error().contains(c[1]), round.error());
            assertEquals(0, round.sent());
        }
        assertEquals(sentBefore, probe.engine().counters().sent());
    }

    @Test
    void whenRoundAsksForMorePingsThanTheCookieCounts_thenItIsAnErrorNotAnException() throws Exception {
        ProbeRound round = run("127.0.0.1", 70_000, 0, 100);

        assertTrue(round.isError());
        assertTrue(round.error().contains("at most 65535"), round.error());
    }

    @Test
    void whenBuiltInRegistryCreatesIcmp_thenItIsThisProbe() throws Exception {
        try (Probe p = ProbeRegistry.builtIn().createAll(new ProbeContext(Clock.systemUTC(), pool, 80))
                .get(ProbeType.ICMP)) {
            assertTrue(p instanceof IcmpProbe);
            ProbeRound round = p.round(new ProbeRequest("127.0.0.2", 2, Duration.ofMillis(10),
                    Duration.ofMillis(300), null)).get(10, TimeUnit.SECONDS);
            assertAllAnswered(round, 2);
        }
    }
}
