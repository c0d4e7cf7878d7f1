package net.swarming.testkit.netns;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * How the testbed's responder answers echo requests: after {@code delay} ± {@code jitter}, dropping each request with
 * probability {@code loss}.
 *
 * @param delay the base delay between reading a request and writing its reply
 * @param jitter the spread around {@code delay}: half-width for {@link Jitter#UNIFORM}, standard deviation for
 *     {@link Jitter#NORMAL}; zero for none
 * @param shape how the jitter is distributed
 * @param loss probability in [0, 1) that a request goes unanswered
 */
public record EchoBehavior(Duration delay, Duration jitter, Jitter shape, double loss) {

  /** The distribution of the jitter. */
  public enum Jitter {
    /** Uniform in [delay - jitter, delay + jitter]. */
    UNIFORM,
    /** Normal with mean delay and standard deviation jitter, cut at zero. */
    NORMAL
  }

  /** Answers at once, never drops. */
  public static final EchoBehavior IMMEDIATE = new EchoBehavior(Duration.ZERO, Duration.ZERO, Jitter.UNIFORM, 0);

  public EchoBehavior {
    List<String> problems = new ArrayList<>();
    if (delay == null || delay.isNegative()) {
      problems.add("delay must be zero or positive, got " + delay);
    }
    if (jitter == null || jitter.isNegative()) {
      problems.add("jitter must be zero or positive, got " + jitter);
    }
    if (shape == null) {
      problems.add("shape must not be null");
    }
    if (!(loss >= 0 && loss < 1)) {
      problems.add("loss must be in [0, 1), got " + loss);
    }
    if (delay != null && jitter != null && shape == Jitter.UNIFORM && jitter.compareTo(delay) > 0) {
      problems.add("uniform jitter " + jitter + " must not exceed the delay " + delay + " (delays would go negative)");
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException("invalid echo behavior: " + String.join("; ", problems));
    }
  }

  /** {@code delay} ± {@code jitter} uniformly, dropping with probability {@code loss}. */
  public static EchoBehavior uniform(Duration delay, Duration jitter, double loss) {
    return new EchoBehavior(delay, jitter, Jitter.UNIFORM, loss);
  }

  /** Normal delays (mean {@code delay}, standard deviation {@code sd}), dropping with probability {@code loss}. */
  public static EchoBehavior normal(Duration delay, Duration sd, double loss) {
    return new EchoBehavior(delay, sd, Jitter.NORMAL, loss);
  }

  /** Whether the next request is dropped. */
  public boolean drops(RandomGenerator random) {
    return loss > 0 && random.nextDouble() < loss;
  }

  /** The delay for the next reply, in nanoseconds, never negative. */
  public long nextDelayNanos(RandomGenerator random) {
    Objects.requireNonNull(random, "random");
    long base = delay.toNanos();
    long spread = jitter.toNanos();
    if (spread == 0) {
      return base;
    }
    double offset = shape == Jitter.UNIFORM ? (random.nextDouble() * 2 - 1) * spread : random.nextGaussian() * spread;
    return Math.max(0, base + Math.round(offset));
  }
}
