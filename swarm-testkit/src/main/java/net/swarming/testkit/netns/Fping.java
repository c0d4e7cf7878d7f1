package net.swarming.testkit.netns;

import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import net.swarming.testkit.internal.Executables;
import net.swarming.testkit.netns.internal.Commands;

/** Runs {@code fping -C} inside a {@link NetnsTestbed} as the reference prober and parses its per-probe round trips. */
public final class Fping {

  private static final Pattern SUMMARY_VALUES = Pattern.compile("[-0-9. ]+");

  private Fping() {}

  /**
   * What fping measured.
   *
   * @param command the command line that ran
   * @param rtts per target, one entry per probe in sending order: the round trip in ms, null when lost
   */
  public record Result(List<String> command, Map<InetAddress, List<Double>> rtts) {

    /** Probes sent. */
    public int sent() {
      return rtts.values().stream().mapToInt(List::size).sum();
    }

    /** Replies received. */
    public int received() {
      return receivedRtts().size();
    }

    /** Every received round trip, in ms. */
    public List<Double> receivedRtts() {
      List<Double> out = new ArrayList<>();
      for (List<Double> perTarget : rtts.values()) {
        for (Double rtt : perTarget) {
          if (rtt != null) {
            out.add(rtt);
          }
        }
      }
      return out;
    }

    /** The percentage of probes lost. */
    public double lossPercent() {
      return 100.0 * (sent() - received()) / sent();
    }

    /** The median received round trip in ms. */
    public double medianMillis() {
      return Samples.median(receivedRtts());
    }
  }

  /**
   * Runs {@code fping -C count -q -p period -i interval -t timeout -B 1 -r 0 targets...} in the testbed's namespace.
   * fping exits 1 when some probe went unanswered; that is a result here, not an error.
   */
  public static Result run(NetnsTestbed testbed, List<? extends InetAddress> targets, int count, Duration period,
                           Duration interval, Duration timeout) {
    Path fping = Executables.find("fping", List.of(Path.of("/usr/bin/fping"), Path.of("/usr/sbin/fping")))
        .orElseThrow(() -> new IllegalStateException("'fping' was not found: apt-get install -y fping"));
    List<String> cmd = new ArrayList<>(List.of(fping.toString(), "-C", Integer.toString(count), "-q",
        "-p", Long.toString(period.toMillis()), "-i", Long.toString(interval.toMillis()),
        "-t", Long.toString(timeout.toMillis()), "-B", "1", "-r", "0"));
    for (InetAddress t : targets) {
      cmd.add(t.getHostAddress());
    }
    Duration limit = period.multipliedBy(count).plus(interval.multipliedBy((long) targets.size() * count))
        .plus(timeout).plusSeconds(30);
    Commands.Result r = Commands.run(testbed.inNamespace(cmd), limit);
    if (r.exitCode() > 1) {
      throw new IllegalStateException("fping exited with " + r.exitCode() + ": " + r.stderr().strip());
    }
    return new Result(List.copyOf(cmd), parse(r.stderr(), targets, count));
  }

  /** Parses fping's {@code -C} summary: {@code <target> : 50.1 49.8 - 50.3} per target, on standard error. */
  static Map<InetAddress, List<Double>> parse(String summary, List<? extends InetAddress> targets, int count) {
    Map<String, InetAddress> byText = new LinkedHashMap<>();
    for (InetAddress t : targets) {
      byText.put(t.getHostAddress(), t);
    }
    Map<InetAddress, List<Double>> out = new LinkedHashMap<>();
    for (String line : summary.split("\n")) {
      int colon = line.indexOf(" : ");
      if (colon < 0) {
        continue;
      }
      InetAddress target = byText.get(line.substring(0, colon).strip());
      String fields = line.substring(colon + 3).strip();
      if (target == null || !SUMMARY_VALUES.matcher(fields).matches()) {
        continue; // e.g. "<target> : duplicate for [3], ..." or an ICMP error report
      }
      List<Double> values = new ArrayList<>(count);
      for (String field : fields.split("\\s+")) {
        values.add(field.equals("-") ? null : Double.valueOf(field));
      }
      if (values.size() != count) {
        throw new IllegalStateException("fping reported " + values.size() + " probes instead of " + count + ": " + line);
      }
      out.put(target, Collections.unmodifiableList(values));
    }
    if (out.size() != targets.size()) {
      throw new IllegalStateException("fping reported " + out.size() + " of " + targets.size() + " targets:\n" + summary);
    }
    return Collections.unmodifiableMap(out);
  }
}
