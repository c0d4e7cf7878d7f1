package net.swarming.testkit.netns;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import net.swarming.testkit.internal.Executables;
import net.swarming.testkit.internal.ShutdownHooks;
import net.swarming.testkit.netns.internal.Commands;
import net.swarming.testkit.netns.internal.EchoResponder;
import net.swarming.testkit.netns.internal.TunDevice;

/**
 * A network namespace of the test's own with a TUN device whose far side is a Java echo responder that answers with a
 * configured delay, jitter and loss, and records the delay it actually applied to every request ({@link GroundTruth}).
 *
 * <p>Address plan (inside the namespace only; nothing is added to the root namespace): the TUN device {@code tun0} holds
 * {@value #LOCAL_ADDRESS}/16, so every other 169.254.0.0/16 address is routed into it; {@link #targets(int)} hands out
 * addresses from 169.254.128.1 on. Probers run inside the namespace ({@link #inNamespace(List)}, i.e.
 * {@code ip netns exec <name> ...}), where {@code lo} is up and, unless turned off, {@code net.ipv4.ping_group_range} is
 * {@code 0 2147483647} so that unprivileged datagram ICMP sockets work.
 *
 * <p>Needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN), {@code ip} (iproute2) and {@code /dev/net/tun}; fails with a message
 * otherwise, never skips. {@link #close()} (and a JVM shutdown hook) deletes the namespace; namespaces left behind by
 * a test JVM that was killed are deleted by the next testbed started on the machine.
 */
public final class NetnsTestbed implements AutoCloseable {

  /** The address of the prober's side of the TUN device. */
  public static final String LOCAL_ADDRESS = "169.254.1.1";
  /** The name prefix of every testbed namespace: {@code swarm-tb-<pid>-<random>}. */
  public static final String NAMESPACE_PREFIX = "swarm-tb-";
  /** The TUN device's name inside the namespace. */
  public static final String TUN_NAME = "tun0";
  /** How many target addresses {@link #targets(int)} can hand out (169.254.128.1 to 169.254.255.254, no .0/.255). */
  public static final int MAX_TARGETS = 128 * 254;

  private static final Logger LOG = LoggerFactory.getLogger(NetnsTestbed.class);
  private static final Path NETNS_DIR = Path.of("/run/netns");
  private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(20);
  private static final AtomicInteger NFT_RULES = new AtomicInteger();

  private final String namespace;
  private final Path ip;
  private final TunDevice tun;
  private final EchoResponder responder;
  private final Path groundTruthLog;
  private final ShutdownHooks.Registration hook;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final AtomicBoolean nftTable = new AtomicBoolean();

  private NetnsTestbed(String namespace, Path ip, TunDevice tun, EchoResponder responder, Path groundTruthLog,
                       ShutdownHooks.Registration hook) {
    this.namespace = namespace;
    this.ip = ip;
    this.tun = tun;
    this.responder = responder;
    this.groundTruthLog = groundTruthLog;
    this.hook = hook;
  }

  /** A builder; {@link Builder#start()} creates the namespace. */
  public static Builder builder() {
    return new Builder();
  }

  /** The namespace's name, for {@code ip netns exec}. */
  public String namespace() {
    return namespace;
  }

  /** The prober-side address (the source of the echo requests). */
  public Inet4Address localAddress() {
    return ipv4(LOCAL_ADDRESS);
  }

  /** {@code count} distinct target addresses, the same ones for the same count: 169.254.128.1, .2, ... */
  public List<Inet4Address> targets(int count) {
    return targets(0, count);
  }

  /**
   * {@code count} distinct target addresses starting at the {@code first}-th (0-based), so that two probers can get
   * disjoint sets: {@code targets(0, 100)} and {@code targets(100, 100)}.
   */
  public List<Inet4Address> targets(int first, int count) {
    if (first < 0 || count < 0 || first + count > MAX_TARGETS) {
      throw new IllegalArgumentException("targets " + first + ".." + (first + count) + " outside 0.." + MAX_TARGETS);
    }
    List<Inet4Address> out = new ArrayList<>(count);
    for (int i = first; i < first + count; i++) {
      out.add(target(i));
    }
    return out;
  }

  /**
   * The {@code index}-th (0-based) target address of every testbed, known before one starts (e.g. for
   * {@link Builder#behavior(InetAddress, EchoBehavior)}).
   */
  public static Inet4Address target(int index) {
    if (index < 0 || index >= MAX_TARGETS) {
      throw new IllegalArgumentException("target index must be 0-" + (MAX_TARGETS - 1) + ", got " + index);
    }
    return ipv4("169.254." + (128 + index / 254) + "." + (1 + index % 254));
  }

  /** {@code command} prefixed so that it runs inside the namespace: {@code ip netns exec <name> command...}. */
  public List<String> inNamespace(List<String> command) {
    List<String> out = new ArrayList<>(List.of(ip.toString(), "netns", "exec", namespace));
    out.addAll(command);
    return out;
  }

  /** A process builder for {@code command} inside the namespace. */
  public ProcessBuilder processInNamespace(String... command) {
    return new ProcessBuilder(inNamespace(List.of(command)));
  }

  /** What the responder did so far, for every target. */
  public GroundTruth groundTruth() {
    return responder.groundTruth();
  }

  /**
   * Adds an nftables rule inside the namespace that drops each echo reply from {@code targets} with probability
   * {@code permille}/1000 ({@code numgen random mod 1000 < permille}) before any socket sees it, and counts what it
   * dropped. Dropping replies on input is silent for the prober, unlike a drop on output, which fails its
   * {@code sendto} with EPERM.
   */
  public RandomDrop dropRepliesRandomly(int permille, List<? extends InetAddress> targets) {
    if (permille < 0 || permille > 1000) {
      throw new IllegalArgumentException("permille must be 0-1000, got " + permille);
    }
    if (targets.isEmpty()) {
      throw new IllegalArgumentException("no targets");
    }
    Path nft = Executables.find("nft", List.of(Path.of("/usr/sbin/nft"), Path.of("/sbin/nft"))).orElseThrow(
        () -> new IllegalStateException("'nft' was not found; the testbed's drop rules need it: apt-get install -y "
            + "nftables"));
    if (nftTable.compareAndSet(false, true)) {
      nft(nft, "add", "table", "inet", RandomDrop.TABLE);
      nft(nft, "add", "chain", "inet", RandomDrop.TABLE, RandomDrop.CHAIN,
          "{ type filter hook input priority 0 ; policy accept ; }");
    }
    String comment = "swarmtb-drop-" + NFT_RULES.incrementAndGet();
    StringBuilder set = new StringBuilder("{ ");
    for (int i = 0; i < targets.size(); i++) {
      set.append(i == 0 ? "" : ", ").append(targets.get(i).getHostAddress());
    }
    set.append(" }");
    nft(nft, "add", "rule", "inet", RandomDrop.TABLE, RandomDrop.CHAIN, "ip", "saddr", set.toString(), "icmp", "type",
        "echo-reply", "numgen", "random", "mod", "1000", "<", Integer.toString(permille), "counter", "drop",
        "comment", "\"" + comment + "\"");
    return new RandomDrop(this, nft, comment, permille);
  }

  Commands.Result nft(Path nft, String... args) {
    List<String> cmd = new ArrayList<>(List.of(nft.toString()));
    cmd.addAll(List.of(args));
    return Commands.run(inNamespace(cmd), COMMAND_TIMEOUT).orThrow();
  }

  /**
   * Stops the responder, writes the ground truth log when one was configured, and deletes the namespace (and with it
   * the TUN device and any nftables rules). Idempotent.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    try {
      responder.close();
      if (groundTruthLog != null) {
        try {
          responder.groundTruth().writeCsv(groundTruthLog);
        } catch (IOException e) {
          LOG.warn("could not write the ground truth log {}", groundTruthLog, e);
        }
      }
    } finally {
      tun.close();
      deleteNamespace(ip, namespace);
      hook.remove();
    }
  }

  private static void deleteNamespace(Path ip, String namespace) {
    try {
      Commands.Result r = Commands.run(List.of(ip.toString(), "netns", "delete", namespace), COMMAND_TIMEOUT);
      if (r.exitCode() != 0 && Files.exists(NETNS_DIR.resolve(namespace))) {
        LOG.warn("could not delete network namespace {}: {}", namespace, r.stderr().strip());
      }
    } catch (RuntimeException e) {
      LOG.warn("could not delete network namespace {}", namespace, e);
    }
  }

  /** Deletes testbed namespaces whose creating JVM is gone (killed before its shutdown hook ran). */
  private static void deleteOrphans(Path ip) {
    if (!Files.isDirectory(NETNS_DIR)) {
      return;
    }
    try (Stream<Path> entries = Files.list(NETNS_DIR)) {
      for (Path entry : entries.toList()) {
        String name = entry.getFileName().toString();
        if (!name.startsWith(NAMESPACE_PREFIX)) {
          continue;
        }
        String[] parts = name.substring(NAMESPACE_PREFIX.length()).split("-");
        long pid;
        try {
          pid = Long.parseLong(parts[0]);
        } catch (NumberFormatException e) {
          continue;
        }
        if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
          continue;
        }
        LOG.info("deleting network namespace {} left behind by process {}", name, pid);
        deleteNamespace(ip, name);
      }
    } catch (IOException e) {
      LOG.warn("could not list {}", NETNS_DIR, e);
    }
  }

  private static Inet4Address ipv4(String literal) {
    try {
      return (Inet4Address) InetAddress.getByName(literal);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException(literal, e);
    }
  }

  /** Configures and starts a testbed. */
  public static final class Builder {
    private EchoBehavior behavior = EchoBehavior.IMMEDIATE;
    private final Map<InetAddress, EchoBehavior> overrides = new HashMap<>();
    private long seed = 1;
    private boolean unprivilegedPing = true;
    private Path groundTruthLog;

    private Builder() {}

    /** How every target answers unless overridden; default {@link EchoBehavior#IMMEDIATE}. */
    public Builder behavior(EchoBehavior behavior) {
      this.behavior = Objects.requireNonNull(behavior, "behavior");
      return this;
    }

    /** How {@code target} answers. */
    public Builder behavior(InetAddress target, EchoBehavior behavior) {
      overrides.put(Objects.requireNonNull(target, "target"), Objects.requireNonNull(behavior, "behavior"));
      return this;
    }

    /** The seed of the responder's delay and loss draws; default 1. */
    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    /**
     * Whether {@code net.ipv4.ping_group_range} allows everyone datagram ICMP sockets inside the namespace (default
     * true). False leaves the namespace's default ({@code 1 0}: only raw sockets work).
     */
    public Builder unprivilegedPing(boolean unprivilegedPing) {
      this.unprivilegedPing = unprivilegedPing;
      return this;
    }

    /** Where {@link #close()} writes the ground truth as CSV; default none. */
    public Builder groundTruthLog(Path file) {
      this.groundTruthLog = file;
      return this;
    }

    /** Creates the namespace, the TUN device and the routes, and starts the responder. */
    public NetnsTestbed start() {
      Path ip = Executables.find("ip", List.of(Path.of("/usr/sbin/ip"), Path.of("/sbin/ip"), Path.of("/usr/bin/ip")))
          .orElseThrow(() -> new IllegalStateException("'ip' was not found; the testbed needs it: apt-get install -y "
              + "iproute2"));
      if (!Files.exists(Path.of("/dev/net/tun"))) {
        throw new IllegalStateException("/dev/net/tun is missing; the testbed needs the tun module (modprobe tun)");
      }
      deleteOrphans(ip);
      String namespace = NAMESPACE_PREFIX + ProcessHandle.current().pid() + "-"
          + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100000, 0x1000000));
      Commands.Result add = Commands.run(List.of(ip.toString(), "netns", "add", namespace), COMMAND_TIMEOUT);
      if (add.exitCode() != 0) {
        throw new IllegalStateException("could not create network namespace " + namespace + " (the testbed needs "
            + "root: CAP_SYS_ADMIN and CAP_NET_ADMIN): " + add.stderr().strip());
      }
      ShutdownHooks.Registration earlyHook = ShutdownHooks.register("netns " + namespace,
          () -> deleteNamespace(ip, namespace));
      TunDevice tun = null;
      EchoResponder responder = null;
      try {
        String n = namespace;
        run(ip, "-n", n, "link", "set", "lo", "up");
        if (unprivilegedPing) {
          Commands.run(List.of(ip.toString(), "netns", "exec", n, "sysctl", "-q", "-w",
              "net.ipv4.ping_group_range=0 2147483647"), COMMAND_TIMEOUT).orThrow();
        }
        tun = TunDevice.openInNamespace(NETNS_DIR.resolve(n).toString(), TUN_NAME);
        run(ip, "-n", n, "addr", "add", LOCAL_ADDRESS + "/16", "dev", TUN_NAME);
        run(ip, "-n", n, "link", "set", TUN_NAME, "up");
        responder = new EchoResponder(tun, behavior, overrides, seed);
        responder.start();
        NetnsTestbed testbed = new NetnsTestbed(n, ip, tun, responder, groundTruthLog, earlyHook);
        LOG.info("testbed namespace {} up: {} on {}, responder {}", n, LOCAL_ADDRESS, TUN_NAME, behavior);
        return testbed;
      } catch (IOException | RuntimeException e) {
        if (responder != null) {
          responder.close();
        }
        if (tun != null) {
          tun.close();
        }
        deleteNamespace(ip, namespace);
        earlyHook.remove();
        if (e instanceof IOException io) {
          throw new UncheckedIOException("could not set up the testbed in " + namespace, io);
        }
        throw (RuntimeException) e;
      }
    }

    private static void run(Path ip, String... args) {
      List<String> cmd = new ArrayList<>(List.of(ip.toString()));
      cmd.addAll(List.of(args));
      Commands.run(cmd, COMMAND_TIMEOUT).orThrow();
    }
  }
}
