package net.swarming.common.mqtt.internal;

import java.time.Duration;
import java.util.Objects;
import java.util.function.DoubleSupplier;

/**
 * When to try the next broker: immediately while a cycle through the broker list is under way, and after a full-jitter
 * exponential delay once every broker of a cycle has failed.
 *
 * <p>Let {@code n} be the number of brokers and {@code f} the number of consecutive unsuccessful attempts since the last
 * stable connection (or since start). After an unsuccessful attempt, the delay before the next one is zero unless
 * {@code f} is a multiple of {@code n}; then, with {@code c = f / n} complete failed cycles, it is a uniformly random
 * value in {@code [0, min(max, initial * 2^(c-1)))} ("full jitter").
 *
 * <p>A lost connection that had been up for at least {@code stableAfter} resets {@code f} and the next attempt is
 * immediate (fail over fast). A connection lost sooner counts as one more unsuccessful attempt, so a broker that accepts
 * and then drops us (for example because another client uses the same client id) cannot make us spin.
 *
 * <p>Not thread-safe: the link uses it from its scheduler thread only. No clock: the caller says how long a connection
 * lasted, so tests need no real time.
 */
public final class FailoverBackoff {

    private final int brokerCount;
    private final long initialNanos;
    private final long maxNanos;
    private final Duration stableAfter;
    private final DoubleSupplier unitRandom;
    private long failures;

    /**
     * @param brokerCount number of brokers in one cycle, at least 1
     * @param initial upper bound of the first jittered delay, positive
     * @param max upper bound of every delay, at least {@code initial}
     * @param stableAfter how long a connection must have lasted for its loss to reset the backoff
     * @param unitRandom values in {@code [0, 1)}; {@code ThreadLocalRandom.current()::nextDouble} in production
     */
    public FailoverBackoff(int brokerCount, Duration initial, Duration max, Duration stableAfter,
            DoubleSupplier unitRandom) {
        if (brokerCount < 1) {
            throw new IllegalArgumentException("brokerCount must be at least 1, got " + brokerCount);
        }
        if (initial.isNegative() || initial.isZero() || max.compareTo(initial) < 0) {
            throw new IllegalArgumentException("need 0 < initial <= max, got initial " + initial + ", max " + max);
        }
        this.brokerCount = brokerCount;
        this.initialNanos = saturatedNanos(initial);
        this.maxNanos = saturatedNanos(max);
        this.stableAfter = Objects.requireNonNull(stableAfter, "stableAfter");
        this.unitRandom = Objects.requireNonNull(unitRandom, "unitRandom");
    }

    /** A connect attempt failed: returns how long to wait before trying the next broker. */
    public Duration afterFailedAttempt() {
        failures++;
        if (failures % brokerCount != 0) {
            return Duration.ZERO;
        }
        long cap = capNanos(failures / brokerCount);
        double r = unitRandom.getAsDouble();
        if (!(r >= 0.0)) { // also catches NaN
            r = 0.0;
        }
        if (r >= 1.0) {
            r = Math.nextDown(1.0);
        }
        return Duration.ofNanos((long) (r * cap));
    }

    /**
     * A connection was lost after being up for {@code connectedFor}: returns how long to wait before trying the next
     * broker (zero after a stable connection).
     */
    public Duration afterLoss(Duration connectedFor) {
        if (connectedFor.compareTo(stableAfter) >= 0) {
            failures = 0;
            return Duration.ZERO;
        }
        return afterFailedAttempt();
    }

    /** @return consecutive unsuccessful attempts counted so far */
    public long failures() {
        return failures;
    }

    /** @return the upper bound of the delay after {@code cycles} complete failed cycles (at least 1) */
    long capNanos(long cycles) {
        long shift = cycles - 1;
        if (shift >= 62 || initialNanos > (maxNanos >> shift)) {
            return maxNanos;
        }
        return Math.min(maxNanos, initialNanos << shift);
    }

    private static long saturatedNanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }
}
