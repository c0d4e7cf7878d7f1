package net.swarming.common.mqtt.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.DoubleSupplier;
import org.junit.jupiter.api.Test;

class FailoverBackoffTest {

    private static final Duration INITIAL = Duration.ofMillis(200);
    private static final Duration MAX = Duration.ofSeconds(30);
    private static final Duration STABLE = Duration.ofSeconds(5);

    /** Always the top of the jitter range, so delays show the caps. */
    private static final DoubleSupplier ALMOST_ONE = () -> 0.999_999_999_999;

    private static FailoverBackoff backoff(int brokers, DoubleSupplier random) {
        return new FailoverBackoff(brokers, INITIAL, MAX, STABLE, random);
    }

    private static long millis(Duration d) {
        return d.toMillis();
    }

    @Test
    void whenOneBrokerKeepsFailing_thenCapDoublesUpToMax() {
        FailoverBackoff b = backoff(1, ALMOST_ONE);
        List<Long> delays = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            delays.add(millis(b.afterFailedAttempt()));
        }
        assertEquals(List.of(199L, 399L, 799L, 1599L, 3199L, 6399L, 12799L, 25599L, 29999L, 29999L, 29999L, 29999L),
                delays);
    }

    @Test
    void whenThreeBrokersFail_thenImmediateWithinACycleAndBackoffOnlyAfterEachFullCycle() {
        FailoverBackoff b = backoff(3, ALMOST_ONE);
        List<Long> delays = new ArrayList<>();
        for (int i = 0; i < 9; i++) {
            delays.add(millis(b.afterFailedAttempt()));
        }
        assertEquals(List.of(0L, 0L, 199L, 0L, 0L, 399L, 0L, 0L, 799L), delays);
    }

    @Test
    void whenJitterDrawsValues_thenDelayIsThatFractionOfTheCap() {
        double[] draws = {0.0, 0.5, 0.25};
        int[] i = {0};
        FailoverBackoff b = backoff(1, () -> draws[i[0]++]);
        assertEquals(Duration.ZERO, b.afterFailedAttempt()); // cap 200 ms * 0.0
        assertEquals(Duration.ofMillis(200), b.afterFailedAttempt()); // cap 400 ms * 0.5
        assertEquals(Duration.ofMillis(200), b.afterFailedAttempt()); // cap 800 ms * 0.25
    }

    @Test
    void whenRandomMisbehaves_thenDelayStaysWithinRange() {
        FailoverBackoff nan = backoff(1, () -> Double.NaN);
        assertEquals(Duration.ZERO, nan.afterFailedAttempt());
        FailoverBackoff big = backoff(1, () -> 7.0);
        assertEquals(199, big.afterFailedAttempt().toMillis());
        FailoverBackoff negative = backoff(1, () -> -1.0);
        assertEquals(Duration.ZERO, negative.afterFailedAttempt());
    }

    @Test
    void whenStableConnectionLost_thenNextAttemptImmediateAndBackoffReset() {
        FailoverBackoff b = backoff(2, ALMOST_ONE);
        for (int i = 0; i < 6; i++) {
            b.afterFailedAttempt(); // three failed cycles
        }
        assertEquals(Duration.ZERO, b.afterLoss(Duration.ofMinutes(3)));
        assertEquals(0, b.failures());
        assertEquals(Duration.ZERO, b.afterFailedAttempt()); // the other broker, immediately
        assertEquals(199, b.afterFailedAttempt().toMillis()); // first cycle again: initial cap
    }

    @Test
    void whenConnectionFlaps_thenItCountsAsFailedAttemptAndBacksOff() {
        FailoverBackoff b = backoff(1, ALMOST_ONE);
        assertEquals(199, b.afterLoss(Duration.ofMillis(50)).toMillis());
        assertEquals(399, b.afterLoss(Duration.ofMillis(50)).toMillis());
        assertEquals(799, b.afterLoss(Duration.ofMillis(50)).toMillis());
        assertEquals(Duration.ZERO, b.afterLoss(STABLE));
    }

    @Test
    void whenManyFailures_thenNoOverflow() {
        FailoverBackoff b = new FailoverBackoff(1, Duration.ofNanos(1), Duration.ofDays(1), STABLE, ALMOST_ONE);
        Duration last = Duration.ZERO;
        for (int i = 0; i < 500; i++) {
            last = b.afterFailedAttempt();
        }
        assertEquals(Duration.ofDays(1).toSeconds() - 1, last.toSeconds());
    }

    @Test
    void whenBadArguments_thenRejected() {
        assertThrows(IllegalArgumentException.class, () -> backoff(0, ALMOST_ONE));
        assertThrows(IllegalArgumentException.class,
                () -> new FailoverBackoff(1, Duration.ZERO, MAX, STABLE, ALMOST_ONE));
        assertThrows(IllegalArgumentException.class,
                () -> new FailoverBackoff(1, MAX, INITIAL, STABLE, ALMOST_ONE));
    }
}
