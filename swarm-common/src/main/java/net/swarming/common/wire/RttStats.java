package net.swarming.common.wire;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Summary of the round-trip times of one round, in milliseconds.
 *
 * @param min fastest reply
 * @param avg arithmetic mean
 * @param max slowest reply
 * @param stddev population standard deviation, what {@code ping} prints as {@code mdev}
 * @param median middle value (mean of the two middle values for an even count); null when unknown, as in the
 *     original format
 * @param p95 95th percentile by nearest rank (the smallest value with at least 95 % of values at or below it);
 *     null when unknown
 */
public record RttStats(double min, double avg, double max, double stddev, Double median, Double p95) {

    /**
     * @throws IllegalArgumentException when a value is negative, NaN or infinite
     */
    public RttStats {
        check("min", min);
        check("avg", avg);
        check("max", max);
        check("stddev", stddev);
        if (median != null) {
            check("median", median);
        }
        if (p95 != null) {
            check("p95", p95);
        }
    }

    /**
     * Statistics of the replies of a round; null entries (lost probes) are skipped.
     *
     * @throws IllegalArgumentException when no reply is in the list, or a value is negative or not finite
     */
    public static RttStats of(List<Double> rttsMs) {
        return ofRound(rttsMs).orElseThrow(() -> new IllegalArgumentException("no round-trip time to summarise"));
    }

    /**
     * Like {@link #of(List)}, but empty when nothing came back (100 % loss), which is not an error.
     *
     * @throws IllegalArgumentException when a value is negative or not finite
     */
    public static Optional<RttStats> ofRound(List<Double> rttsMs) {
        Objects.requireNonNull(rttsMs, "rttsMs");
        double[] values = new double[rttsMs.size()];
        int n = 0;
        for (Double rtt : rttsMs) {
            if (rtt != null) {
                check("round-trip time", rtt);
                values[n++] = rtt;
            }
        }
        if (n == 0) {
            return Optional.empty();
        }
        double[] sorted = Arrays.copyOf(values, n);
        Arrays.sort(sorted);
        double sum = 0;
        for (double v : sorted) {
            sum += v;
        }
        double mean = sum / n;
        // Two passes rather than ping's sqrt(E[x^2] - mean^2): same definition, no cancellation error.
        double squares = 0;
        for (double v : sorted) {
            squares += (v - mean) * (v - mean);
        }
        double median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
        // Nearest rank, ceil(0.95 n), in integers to stay clear of 0.95 * n rounding below a whole number.
        int rank = (95 * n + 99) / 100;
        // Clamp: the mean of nearly equal doubles can land a hair outside [min, max].
        double avg = Math.min(Math.max(mean, sorted[0]), sorted[n - 1]);
        return Optional.of(new RttStats(sorted[0], avg, sorted[n - 1], Math.sqrt(squares / n), median,
                sorted[rank - 1]));
    }

    private static void check(String name, double value) {
        if (!Double.isFinite(value) || value < 0) {
            throw new IllegalArgumentException(name + " must be a finite number of milliseconds >= 0, was " + value);
        }
    }
}
