package net.swarming.agent.internal.schedule;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import net.swarming.agent.internal.metrics.AgentMetrics;
import net.swarming.agent.probe.Probe;
import net.swarming.agent.probe.ProbeRequest;
import net.swarming.agent.probe.ProbeRound;
import net.swarming.common.wire.ProbeType;
import net.swarming.common.wire.WatchTarget;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class RoundSchedulerTest {

    private static final Duration STEP = Duration.ofMillis(300);

    private final AgentMetrics metrics = new AgentMetrics(new PrometheusRegistry());
    private final ConcurrentLinkedQueue<Started> started = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<ProbeRound> completed = new ConcurrentLinkedQueue<>();
    private RoundScheduler scheduler;

    private record Started(String target, long nanos) {}

    /** A probe that records each round start and answers at once (or as {@code behaviour} says). */
    private final class FakeProbe implements Probe {
        private final Function<ProbeRequest, CompletableFuture<ProbeRound>> behaviour;

        FakeProbe(Function<ProbeRequest, CompletableFuture<ProbeRound>> behaviour) {
            this.behaviour = behaviour;
        }

        @Override
        public ProbeType type() {
            return ProbeType.TCP;
        }

        @Override
        public CompletableFuture<ProbeRound> round(ProbeRequest request) {
            started.add(new Started(request.target(), System.nanoTime()));
            return behaviour.apply(request);
        }
    }

    private static CompletableFuture<ProbeRound> answer(ProbeRequest r) {
        return CompletableFuture.completedFuture(ProbeRound.completed(r.target(), ProbeType.TCP, Instant.now(),
                "127.0.0.1", List.of(1.0), 0));
    }

    private RoundScheduler scheduler(Probe probe) {
        scheduler = new RoundScheduler(Map.of(ProbeType.TCP, probe),
                new RoundScheduler.Defaults(ProbeType.TCP, STEP, 1, Duration.ofMillis(10), Duration.ofMillis(100)),
                completed::add, Clock.systemUTC(), 42L, metrics);
        return scheduler;
    }

    @AfterEach
    void tearDown() {
        if (scheduler != null) {
            scheduler.close();
        }
    }

    @Test
    void whenTargetsGiven_thenEachGetsOneRoundPerStep() {
        RoundScheduler s = scheduler(new FakeProbe(RoundSchedulerTest::answer));

        s.replace(List.of(WatchTarget.of("a.example"), WatchTarget.of("b.example")));
        await().atMost(Duration.ofSeconds(5)).until(() -> count("a.example") >= 4 && count("b.example") >= 4);

        assertEquals(2, s.size());
        List<Long> a = starts("a.example");
        for (int i = 1; i < a.size(); i++) {
            long gapMs = TimeUnit.NANOSECONDS.toMillis(a.get(i) - a.get(i - 1));
            assertTrue(gapMs > 200 && gapMs < 450, "rounds of a.example " + gapMs + " ms apart, step 300 ms");
        }
        assertTrue(completed.size() >= 8);
        assertTrue(metrics.roundsStarted() >= 8);
    }

    @Test
    void whenWatchReplaced_thenRemovedStopNewStartWithinOneStepUnchangedKeepPhase() throws Exception {
        RoundScheduler s = scheduler(new FakeProbe(RoundSchedulerTest::answer));
        s.replace(List.of(WatchTarget.of("keep.example"), WatchTarget.of("drop.example")));
        await().atMost(Duration.ofSeconds(5)).until(() -> count("keep.example") >= 2 && count("drop.example") >= 2);
        long lastKeepBefore = last("keep.example");

        s.replace(List.of(WatchTarget.of("keep.example"), WatchTarget.of("new.example")));
        long replacedAt = System.nanoTime();
        await().atMost(Duration.ofSeconds(5)).until(() -> s.size() == 2 && count("new.example") >= 1);
        long firstNew = starts("new.example").get(0);
        TimeUnit.MILLISECONDS.sleep(3 * STEP.toMillis());

        assertTrue(TimeUnit.NANOSECONDS.toMillis(firstNew - replacedAt) < STEP.toMillis() + 100,
                "new target started within one step");
        long dropAfter = starts("drop.example").stream().filter(t -> t - replacedAt > 50_000_000L).count();
        assertEquals(0, dropAfter, "removed target probed after the new watch");
        // Unchanged: its rounds keep the step grid, no restart right after the replacement.
        List<Long> keep = starts("keep.example");
        for (long t : keep) {
            if (t > lastKeepBefore) {
                long sinceMs = TimeUnit.NANOSECONDS.toMillis(t - lastKeepBefore);
                long offGrid = Math.floorMod(sinceMs + 50, STEP.toMillis()) - 50;
                assertTrue(Math.abs(offGrid) < 50, "keep.example round " + sinceMs + " ms after an earlier one");
            }
        }
    }

    @Test
    void whenTargetOptionsChange_thenItIsRescheduledWithThem() {
        AtomicInteger pings = new AtomicInteger();
        RoundScheduler s = scheduler(new FakeProbe(r -> {
            pings.set(r.pings());
            return answer(r);
        }));
        s.replace(List.of(WatchTarget.of("a.example")));
        await().atMost(Duration.ofSeconds(5)).until(() -> count("a.example") >= 1);
        assertEquals(1, pings.get());

        s.replace(List.of(new WatchTarget("a.example", null, null, 7, null)));

        await().atMost(Duration.ofSeconds(5)).until(() -> pings.get() == 7);
    }

    @Test
    void whenRoundStillRunning_thenNextOneIsSkipped() throws Exception {
        CompletableFuture<ProbeRound> never = new CompletableFuture<>();
        RoundScheduler s = scheduler(new FakeProbe(r -> never));

        s.replace(List.of(WatchTarget.of("slow.example")));
        await().atMost(Duration.ofSeconds(5)).until(() -> metrics.roundsSkippedCount() >= 2);

        assertEquals(1, count("slow.example"));
        assertEquals(1, metrics.roundsStarted());
    }

    @Test
    void whenProbeThrows_thenNextRoundStillHappens() {
        AtomicInteger calls = new AtomicInteger();
        RoundScheduler s = scheduler(new FakeProbe(r -> {
            if (calls.incrementAndGet() == 1) {
                throw new IllegalStateException("boom (expected by the test)");
            }
            return answer(r);
        }));

        s.replace(List.of(WatchTarget.of("a.example")));

        await().atMost(Duration.ofSeconds(5)).until(() -> completed.size() >= 2);
    }

    @Test
    void whenSinkThrows_thenNextRoundStillHappens() {
        AtomicInteger delivered = new AtomicInteger();
        scheduler = new RoundScheduler(Map.of(ProbeType.TCP, new FakeProbe(RoundSchedulerTest::answer)),
                new RoundScheduler.Defaults(ProbeType.TCP, STEP, 1, Duration.ofMillis(10), Duration.ofMillis(100)),
                r -> {
                    delivered.incrementAndGet();
                    throw new IllegalStateException("sink failed (expected by the test)");
                }, Clock.systemUTC(), 1L, metrics);

        scheduler.replace(List.of(WatchTarget.of("a.example")));

        await().atMost(Duration.ofSeconds(5)).until(() -> delivered.get() >= 3);
    }

    @Test
    void whenProbeTypeUnavailable_thenTargetIsNotScheduled() {
        RoundScheduler s = scheduler(new FakeProbe(RoundSchedulerTest::answer));

        s.replace(List.of(new WatchTarget("icmp.example", ProbeType.ICMP, null, null, null),
                WatchTarget.of("tcp.example")));

        await().atMost(Duration.ofSeconds(5)).until(() -> count("tcp.example") >= 1);
        assertEquals(1, s.size());
        assertEquals(0, count("icmp.example"));
    }

    @Test
    void whenEmptyListGiven_thenNothingIsProbed() throws Exception {
        RoundScheduler s = scheduler(new FakeProbe(RoundSchedulerTest::answer));
        s.replace(List.of(WatchTarget.of("a.example")));
        await().atMost(Duration.ofSeconds(5)).until(() -> count("a.example") >= 1);

        s.replace(List.of());
        await().atMost(Duration.ofSeconds(5)).until(() -> s.size() == 0);
        int before = started.size();
        TimeUnit.MILLISECONDS.sleep(2 * STEP.toMillis());

        assertEquals(before, started.size());
    }

    @Test
    void whenClosed_thenNoMoreRoundsAndCloseIsIdempotent() throws Exception {
        RoundScheduler s = scheduler(new FakeProbe(RoundSchedulerTest::answer));
        s.replace(List.of(WatchTarget.of("a.example")));
        await().atMost(Duration.ofSeconds(5)).until(() -> count("a.example") >= 1);

        s.close();
        s.close();
        int before = started.size();
        TimeUnit.MILLISECONDS.sleep(2 * STEP.toMillis());
        s.replace(List.of(WatchTarget.of("b.example")));

        assertEquals(before, started.size());
        assertEquals(0, s.size());
    }

    @Test
    void whenStepChanges_thenTargetIsRescheduledWithTheNewStep() {
        RoundScheduler s = scheduler(new FakeProbe(RoundSchedulerTest::answer));
        // Watch steps are at least 1 s: start at 1 s, then change to 2 s and see the gap follow.
        s.replace(List.of(new WatchTarget("a.example", null, Duration.ofSeconds(1), null, null)));
        await().atMost(Duration.ofSeconds(5)).until(() -> count("a.example") >= 2);
        s.replace(List.of(new WatchTarget("a.example", null, Duration.ofSeconds(2), null, null)));
        long changed = System.nanoTime();
        await().atMost(Duration.ofSeconds(10)).until(() -> starts("a.example").stream()
                .filter(t -> t > changed).count() >= 2);
        List<Long> after = starts("a.example").stream().filter(t -> t > changed).toList();
        long gapMs = TimeUnit.NANOSECONDS.toMillis(after.get(1) - after.get(0));
        assertTrue(gapMs > 1800 && gapMs < 2300, "rounds " + gapMs + " ms apart after the step became 2 s");
    }

    @Test
    void whenPingIntervalBelowTheMinimum_thenTheMinimumSpacingIsUsed() {
        List<Duration> intervals = new java.util.concurrent.CopyOnWriteArrayList<>();
        scheduler = new RoundScheduler(Map.of(ProbeType.TCP, new FakeProbe(r -> {
            intervals.add(r.interval());
            return answer(r);
        })), new RoundScheduler.Defaults(ProbeType.TCP, STEP, 2, Duration.ofMillis(1), Duration.ofMillis(100),
                Duration.ofMillis(50)), completed::add, Clock.systemUTC(), 42L, metrics);
        scheduler.replace(List.of(WatchTarget.of("a.example")));
        await().atMost(Duration.ofSeconds(5)).until(() -> !intervals.isEmpty());
        assertEquals(Duration.ofMillis(50), intervals.get(0));
    }

    @Test
    void whenTargetIsMulticastBroadcastOrUnspecified_thenNeverProbedAndEachRoundIsAnErrorNamingWhy() {
        RoundScheduler s = scheduler(new FakeProbe(RoundSchedulerTest::answer));
        s.replace(List.of(WatchTarget.of("224.0.0.1"), WatchTarget.of("255.255.255.255"), WatchTarget.of("0.0.0.0"),
                WatchTarget.of("ff02::1"), WatchTarget.of("::"), WatchTarget.of("http://224.0.0.251/x"),
                WatchTarget.of("127.0.0.1")));
        await().atMost(Duration.ofSeconds(5)).until(() -> completed.stream()
                .map(ProbeRound::target).distinct().count() == 7);

        assertEquals(List.of("127.0.0.1"), started.stream().map(Started::target).distinct().toList());
        Map<String, String> errors = new java.util.HashMap<>();
        for (ProbeRound r : completed) {
            if (r.isError()) {
                errors.put(r.target(), r.error());
            }
        }
        assertEquals("224.0.0.1 is a multicast address: not probed", errors.get("224.0.0.1"));
        assertEquals("255.255.255.255 is a broadcast address: not probed", errors.get("255.255.255.255"));
        assertEquals("0.0.0.0 is the unspecified address: not probed", errors.get("0.0.0.0"));
        assertTrue(errors.get("ff02::1").contains("multicast"), errors.toString());
        assertTrue(errors.get("::").contains("unspecified"), errors.toString());
        assertTrue(errors.get("http://224.0.0.251/x").contains("multicast"), errors.toString());
        assertTrue(metrics.roundsRefusedCount() >= 6);
    }

    @Test
    void whenTimerThreadIsHeldUp_thenRoundsStartedLateAreCounted() {
        // A probe that breaks the contract and blocks its caller: the other target's slots pass meanwhile.
        AtomicInteger slow = new AtomicInteger();
        RoundScheduler s = scheduler(new FakeProbe(r -> {
            if (r.target().equals("slow.example") && slow.getAndIncrement() == 0) {
                try {
                    TimeUnit.MILLISECONDS.sleep(3 * STEP.toMillis());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return answer(r);
        }));
        s.replace(List.of(WatchTarget.of("slow.example"), WatchTarget.of("victim.example")));
        await().atMost(Duration.ofSeconds(5)).until(() -> metrics.roundsLateCount() >= 1);
    }

    @Test
    void initialDelay_isWithinOneStepAndKeepsThePhaseOfTheTarget() {
        long step = Duration.ofSeconds(60).toNanos();
        Instant now = Instant.parse("2024-01-01T00:00:00Z");
        for (int i = 0; i < 100; i++) {
            String target = "t" + i + ".example";
            long d1 = RoundScheduler.initialDelayNanos(target, step, now, 7L);
            Instant later = now.plusMillis(12_345);
            long d2 = RoundScheduler.initialDelayNanos(target, step, later, 7L);
            assertTrue(d1 >= 0 && d1 < step);
            assertEquals(Math.floorMod(d1 - 12_345_000_000L, step), d2, "same phase later");
        }
    }

    @Test
    void initialDelay_spreadsTargetsOverTheStepAndDiffersBetweenAgents() {
        long step = Duration.ofSeconds(60).toNanos();
        Instant now = Instant.parse("2024-01-01T00:00:00Z");
        int[] buckets = new int[10];
        int sameAsOtherAgent = 0;
        for (int i = 0; i < 10_000; i++) {
            String target = "10.0." + (i / 256) + "." + (i % 256);
            long d = RoundScheduler.initialDelayNanos(target, step, now, 1L);
            buckets[(int) (d * 10 / step)]++;
            if (d == RoundScheduler.initialDelayNanos(target, step, now, 2L)) {
                sameAsOtherAgent++;
            }
        }
        for (int b : buckets) {
            assertTrue(b > 800 && b < 1200, "uneven spread over the step: " + java.util.Arrays.toString(buckets));
        }
        assertTrue(sameAsOtherAgent < 10, "two agents share phases: " + sameAsOtherAgent);
    }

    private long count(String target) {
        return started.stream().filter(s -> s.target().equals(target)).count();
    }

    private List<Long> starts(String target) {
        List<Long> out = new ArrayList<>();
        for (Started s : started) {
            if (s.target().equals(target)) {
                out.add(s.nanos());
            }
        }
        return out;
    }

    private long last(String target) {
        List<Long> all = starts(target);
        return all.get(all.size() - 1);
    }
}
