package net.swarming.testkit.netns.internal;

import com.sun.jna.LastErrorException;
import java.io.IOException;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.DelayQueue;
import java.util.concurrent.Delayed;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import net.swarming.testkit.netns.EchoBehavior;
import net.swarming.testkit.netns.GroundTruth;

/**
 * Answers IPv4 echo requests read from a TUN device after a per-request delay, or drops them, and records what it did.
 *
 * <p>Two dedicated threads: {@code swarm-netns-responder-read} reads requests and draws delay and loss from one seeded
 * generator (deterministic for a given arrival order); {@code swarm-netns-responder-write} takes replies from a
 * {@link DelayQueue} when due and writes them. Nothing else runs on these threads, so a reply is late only by the
 * scheduler's wake-up latency, which the ground truth records. Both threads ask for a low real-time priority.
 */
public final class EchoResponder implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(EchoResponder.class);
  private static final int POLL_MILLIS = 50;
  private static final int MAX_PACKET = 65_535;
  private static final int RT_PRIORITY = 10;
  private static final int WARM_UP_PACKETS = 20_000;

  private final TunDevice tun;
  private final EchoBehavior defaults;
  private final Map<InetAddress, EchoBehavior> overrides;
  private final SplittableRandom random;
  private final DelayQueue<Pending> due = new DelayQueue<>();
  private final List<GroundTruth.Echo> log = new ArrayList<>();
  private final AtomicLong ignored = new AtomicLong();
  private final CountDownLatch readerDone = new CountDownLatch(1);
  private final Thread reader;
  private final Thread writer;
  private volatile boolean running = true;
  private volatile IOException failure;

  public EchoResponder(TunDevice tun, EchoBehavior defaults, Map<InetAddress, EchoBehavior> overrides, long seed) {
    this.tun = tun;
    this.defaults = defaults;
    this.overrides = Map.copyOf(overrides);
    this.random = new SplittableRandom(seed);
    this.reader = new Thread(this::readLoop, "swarm-netns-responder-read");
    this.writer = new Thread(this::writeLoop, "swarm-netns-responder-write");
    reader.setDaemon(true);
    writer.setDaemon(true);
  }

  public void start() {
    warmUp();
    writer.start();
    reader.start();
  }

  /**
   * Runs the packet code often enough for the JIT to compile it before the first real request: interpreted, the first
   * replies of a run left up to several ms late.
   */
  private static void warmUp() {
    byte[] packet = new byte[64];
    packet[0] = 0x45;
    packet[3] = 64;
    packet[9] = 1;
    packet[20] = 8;
    long sink = 0;
    for (int i = 0; i < WARM_UP_PACKETS; i++) {
      packet[27] = (byte) i;
      IcmpEcho.Request r = IcmpEcho.parseRequest(packet, packet.length);
      sink += r.sequence() + r.toReply()[22] + new Pending(r, System.nanoTime(), i).getDelay(TimeUnit.NANOSECONDS);
      packet[20] = 8;
      System.arraycopy(r.packet(), 12, packet, 12, 8);
    }
    if (sink == 42) {
      LOG.trace("warm-up checksum {}", sink);
    }
  }

  /** A snapshot of what was done so far. */
  public GroundTruth groundTruth() {
    synchronized (log) {
      return new GroundTruth(log);
    }
  }

  /** Packets read that were not IPv4 echo requests (e.g. IPv6 router solicitations). */
  public long ignoredPackets() {
    return ignored.get();
  }

  /** The I/O error that stopped the responder, if any. */
  public IOException failure() {
    return failure;
  }

  private void readLoop() {
    preferThisThread();
    byte[] buf = new byte[MAX_PACKET];
    try {
      while (running) {
        int n = tun.read(buf, POLL_MILLIS);
        if (n <= 0) {
          continue;
        }
        long readNanos = System.nanoTime();
        IcmpEcho.Request request = IcmpEcho.parseRequest(buf, n);
        if (request == null) {
          ignored.incrementAndGet();
          continue;
        }
        EchoBehavior behavior = overrides.getOrDefault(request.target(), defaults);
        if (behavior.drops(random)) {
          record(new GroundTruth.Echo(request.target(), request.identifier(), request.sequence(), readNanos, true, 0,
              -1));
        } else {
          due.put(new Pending(request, readNanos, behavior.nextDelayNanos(random)));
        }
      }
    } catch (IOException e) {
      failure = e;
      LOG.error("TUN responder on {} stopped reading", tun.name(), e);
    } finally {
      readerDone.countDown();
    }
  }

  /**
   * Gives the calling thread a low real-time priority (SCHED_FIFO 10) so that a busy machine (a parallel build on two
   * cores) does not delay replies by whole scheduler slices; best effort: without the privilege the delays are only
   * less precise, and the ground truth records them either way.
   */
  private static void preferThisThread() {
    try {
      Libc.sched_setscheduler(Libc.gettid(), Libc.SCHED_FIFO, new int[] {RT_PRIORITY});
    } catch (LastErrorException | UnsatisfiedLinkError e) {
      LOG.debug("could not make {} a real-time thread: {}", Thread.currentThread().getName(), e.toString());
    }
  }

  private void writeLoop() {
    preferThisThread();
    try {
      while (true) {
        Pending p = due.take();
        if (p.request == null) {
          return;
        }
        IcmpEcho.Request r = p.request;
        byte[] reply = r.toReply();
        tun.write(reply, r.length());
        long written = System.nanoTime();
        record(new GroundTruth.Echo(p.target, r.identifier(), r.sequence(), p.readNanos, false, p.delayNanos,
            written - p.readNanos));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException e) {
      failure = e;
      LOG.error("TUN responder on {} stopped writing", tun.name(), e);
    }
  }

  private void record(GroundTruth.Echo echo) {
    synchronized (log) {
      log.add(echo);
    }
  }

  /** Stops both threads (replies not yet due are abandoned); does not close the TUN device. Idempotent. */
  @Override
  public void close() {
    running = false;
    try {
      if (reader.isAlive() && !readerDone.await(5, TimeUnit.SECONDS)) {
        LOG.warn("TUN responder reader did not stop within 5 s");
      }
      due.put(new Pending(null, System.nanoTime(), 0));
      writer.join(TimeUnit.SECONDS.toMillis(5));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static final class Pending implements Delayed {
    final IcmpEcho.Request request;
    /** Read before {@link IcmpEcho.Request#toReply()} swaps the addresses. */
    final InetAddress target;
    final long readNanos;
    final long delayNanos;
    final long dueNanos;

    /** {@code request} null: the stop marker. */
    Pending(IcmpEcho.Request request, long readNanos, long delayNanos) {
      this.request = request;
      this.target = request == null ? null : request.target();
      this.readNanos = readNanos;
      this.delayNanos = delayNanos;
      this.dueNanos = readNanos + delayNanos;
    }

    @Override
    public long getDelay(TimeUnit unit) {
      return unit.convert(dueNanos - System.nanoTime(), TimeUnit.NANOSECONDS);
    }

    @Override
    public int compareTo(Delayed other) {
      return Long.signum(dueNanos - ((Pending) other).dueNanos);
    }
  }
}
