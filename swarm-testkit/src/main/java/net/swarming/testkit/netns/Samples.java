package net.swarming.testkit.netns;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/** Order statistics for measured samples (round trips, delays), the same way for the testbed and the probes. */
public final class Samples {

  private Samples() {}

  /** The median; the mean of the two middle values for an even count. */
  public static double median(Collection<Double> values) {
    return percentile(values, 50);
  }

  /**
   * The {@code p}-th percentile (0-100) with linear interpolation between closest ranks (the "R-7" definition, as
   * numpy's default), so the 50th percentile is the usual median.
   *
   * @throws IllegalArgumentException when {@code values} is empty
   */
  public static double percentile(Collection<Double> values, double p) {
    if (!(p >= 0 && p <= 100)) {
      throw new IllegalArgumentException("percentile must be in [0, 100], got " + p);
    }
    List<Double> sorted = new ArrayList<>(values.size());
    for (Double v : values) {
      sorted.add(Objects.requireNonNull(v, "sample"));
    }
    if (sorted.isEmpty()) {
      throw new IllegalArgumentException("no samples");
    }
    Collections.sort(sorted);
    double rank = p / 100 * (sorted.size() - 1);
    int lo = (int) Math.floor(rank);
    int hi = (int) Math.ceil(rank);
    return sorted.get(lo) + (sorted.get(hi) - sorted.get(lo)) * (rank - lo);
  }
}
