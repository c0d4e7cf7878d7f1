package net.swarming.testkit.netns;

import java.io.BufferedWriter;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * What the testbed's responder did with every echo request it read: the delay it actually applied (measured from
 * reading the request off the TUN device to the return of the {@code write} of the reply) or that it dropped it.
 * Immutable snapshot.
 */
public final class GroundTruth {

  /**
   * One echo request.
   *
   * @param target the address the request was sent to (the reply's source)
   * @param identifier the ICMP echo identifier (the kernel's for datagram sockets)
   * @param sequence the ICMP echo sequence number
   * @param readNanos {@link System#nanoTime()} when the request was read off the TUN device
   * @param dropped whether the responder dropped it
   * @param plannedDelayNanos the delay drawn for it (0 when dropped)
   * @param appliedDelayNanos read-to-written time of its reply; -1 when dropped
   */
  public record Echo(InetAddress target, int identifier, int sequence, long readNanos, boolean dropped,
                     long plannedDelayNanos, long appliedDelayNanos) {

    public Echo {
      Objects.requireNonNull(target, "target");
    }

    /** The applied delay in milliseconds; NaN when dropped. */
    public double appliedDelayMillis() {
      return dropped ? Double.NaN : appliedDelayNanos / 1e6;
    }
  }

  private final List<Echo> echoes;

  /** A snapshot of {@code echoes}, in the order the replies were written or the requests dropped. */
  public GroundTruth(List<Echo> echoes) {
    this.echoes = List.copyOf(echoes);
  }

  /** Every request, in the order they were settled. */
  public List<Echo> echoes() {
    return echoes;
  }

  /** Only the requests to {@code targets}. */
  public GroundTruth forTargets(Collection<? extends InetAddress> targets) {
    Set<InetAddress> wanted = new HashSet<>(targets);
    List<Echo> kept = new ArrayList<>();
    for (Echo e : echoes) {
      if (wanted.contains(e.target())) {
        kept.add(e);
      }
    }
    return new GroundTruth(kept);
  }

  /** Requests read. */
  public int requests() {
    return echoes.size();
  }

  /** Requests dropped by the responder. */
  public int dropped() {
    int n = 0;
    for (Echo e : echoes) {
      if (e.dropped()) {
        n++;
      }
    }
    return n;
  }

  /** Replies written. */
  public int answered() {
    return requests() - dropped();
  }

  /** The applied delays of the answered requests, in milliseconds. */
  public List<Double> appliedDelaysMillis() {
    List<Double> out = new ArrayList<>(echoes.size());
    for (Echo e : echoes) {
      if (!e.dropped()) {
        out.add(e.appliedDelayMillis());
      }
    }
    return out;
  }

  /**
   * How late each reply left: applied minus planned delay, in milliseconds, for the answered requests. The
   * scheduler's wake-up latency, and any pause of the JVM (a garbage collection on a busy machine).
   */
  public List<Double> latenessMillis() {
    List<Double> out = new ArrayList<>(echoes.size());
    for (Echo e : echoes) {
      if (!e.dropped()) {
        out.add((e.appliedDelayNanos() - e.plannedDelayNanos()) / 1e6);
      }
    }
    return out;
  }

  /** The largest {@linkplain #latenessMillis() lateness}, in milliseconds; 0 when nothing was answered. */
  public double maxLatenessMillis() {
    double max = 0;
    for (double l : latenessMillis()) {
      max = Math.max(max, l);
    }
    return max;
  }

  /** The median applied delay in milliseconds. */
  public double medianDelayMillis() {
    return Samples.median(appliedDelaysMillis());
  }

  /** The percentage of requests the responder dropped. */
  public double lossPercent() {
    if (echoes.isEmpty()) {
      throw new IllegalStateException("no echo request was read");
    }
    return 100.0 * dropped() / requests();
  }

  /** Writes one CSV line per request: target, identifier, sequence, read_ns, dropped, planned_ns, applied_ns. */
  public void writeCsv(Path file) throws IOException {
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      w.write("target,identifier,sequence,read_ns,dropped,planned_ns,applied_ns\n");
      for (Echo e : echoes) {
        w.write(e.target().getHostAddress() + ',' + e.identifier() + ',' + e.sequence() + ',' + e.readNanos() + ','
            + e.dropped() + ',' + e.plannedDelayNanos() + ',' + e.appliedDelayNanos() + '\n');
      }
    }
  }
}
