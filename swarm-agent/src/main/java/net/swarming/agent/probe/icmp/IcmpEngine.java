package net.swarming.agent.probe.icmp;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.PriorityQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import net.swarming.agent.probe.ProbeRound.ProbeError;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The in-process ICMP echo engine: one socket per address family for all targets, one sender thread
 * ({@code swarm-probe-send}) that paces every round's echo requests under a global packets-per-second cap and a
 * per-address minimum interval, one receiver thread per socket ({@code swarm-probe-recv-v4}, {@code -v6}) that matches
 * replies to rounds by the cookie in their payload, and one thread ({@code swarm-probe-icmp-done}) that completes the
 * rounds' futures so that no caller's code ever runs on the sender or a receiver.
 *
 * <p>Round trips come from the kernel's receive timestamp (SO_TIMESTAMPNS, CLOCK_REALTIME) minus the CLOCK_REALTIME
 * time read right before {@code sendto}; when a timestamp is missing or the wall clock stepped between the two (a
 * negative or implausible result), the monotonic clock is used instead.
 *
 * <p>A reply arriving twice for one echo request counts as a duplicate; a reply arriving after the request's timeout
 * counts as late, and the request stays lost. An ICMP error quoting one of our requests is recorded as an error answer
 * to that request (it stays lost too).
 */
public final class IcmpEngine implements AutoCloseable {

    /** Most echo requests per round: the cookie numbers them with 16 bits. */
    public static final int MAX_PINGS = 0xffff;

    private static final Logger LOG = LoggerFactory.getLogger(IcmpEngine.class);
    private static final long MAX_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
    private static final long MIN_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(2);
    /** The token bucket holds this much sending time: enough to catch up after the sender was not scheduled. */
    private static final long BURST_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
    /** A round ends this long after its last timeout, so that a reply read in the receiver's next batch counts. */
    private static final long FINISH_GRACE_NANOS = 3 * IcmpSocket.BATCH_NANOS;
    private static final long ADDRESS_SWEEP_NANOS = TimeUnit.SECONDS.toNanos(10);

    /**
     * One finished round as the engine saw it.
     *
     * @param rtts per echo request in sending order: milliseconds, or null when lost
     */
    public record Result(InetAddress address, List<Double> rtts, int duplicates, int late, List<ProbeError> errors) {
    }

    /** Totals since the engine opened. */
    public record Counters(long sent, long received, long duplicates, long late, long errors, long stale,
                           long sendFailures) {
    }

    private final IcmpOptions options;
    private final IcmpSocket v4;
    private final IcmpSocket v6;
    private final String v6Unavailable;
    private final long session;
    private final AtomicInteger nextRoundId = new AtomicInteger();
    private final Map<Integer, Round> rounds = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<Round> inbox = new ConcurrentLinkedQueue<>();
    private final ExecutorService done;
    private final Thread sender;
    private final List<Thread> receivers = new ArrayList<>();
    private volatile boolean running = true;

    private final LongAdder sent = new LongAdder();
    private final LongAdder received = new LongAdder();
    private final LongAdder duplicates = new LongAdder();
    private final LongAdder late = new LongAdder();
    private final LongAdder errors = new LongAdder();
    private final LongAdder stale = new LongAdder();
    private final LongAdder sendFailures = new LongAdder();

    private IcmpEngine(IcmpOptions options, IcmpSocket v4, IcmpSocket v6, String v6Unavailable) {
        this.options = options;
        this.v4 = v4;
        this.v6 = v6;
        this.v6Unavailable = v6Unavailable;
        this.session = new SecureRandom().nextLong();
        this.done = Executors.newSingleThreadExecutor(r -> daemon(r, "swarm-probe-icmp-done"));
        this.sender = daemon(this::sendLoop, "swarm-probe-send");
        receivers.add(daemon(() -> v4.receiveLoop(session, this::onPacket), "swarm-probe-recv-v4"));
        if (v6 != null) {
            receivers.add(daemon(() -> v6.receiveLoop(session, this::onPacket), "swarm-probe-recv-v6"));
        }
        receivers.forEach(Thread::start);
        sender.start();
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /**
     * Opens the sockets and starts the threads.
     *
     * @throws IcmpUnavailableException when no IPv4 ICMP socket may be opened (the message names both remedies); a
     *     missing IPv6 socket only makes IPv6 rounds fail
     */
    public static IcmpEngine open(IcmpOptions options) throws IcmpUnavailableException {
        Objects.requireNonNull(options, "options");
        try {
            LibC.load();
        } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
            throw new IcmpUnavailableException("JNA cannot call libc here (" + e + ")");
        }
        IcmpSocket v4 = IcmpSocket.open(false, options);
        IcmpSocket v6 = null;
        String v6Unavailable = null;
        try {
            v6 = IcmpSocket.open(true, options);
        } catch (IcmpUnavailableException e) {
            v6Unavailable = e.getMessage();
            LOG.warn("IPv6 ICMP probes are unavailable: {}", e.getMessage());
        }
        IcmpEngine engine = new IcmpEngine(options, v4, v6, v6Unavailable);
        LOG.info("ICMP engine: {}; {}; at most {} echo requests/s, {} between two to one address", v4.describe(),
                v6 != null ? v6.describe() : "no IPv6", options.maxPps(), options.minTargetInterval());
        return engine;
    }

    /** The sockets in use, e.g. {@code IPv4 raw ICMP socket (id 4711, ...)}. */
    public String describe() {
        return v4.describe() + "; " + (v6 != null ? v6.describe() : "IPv6 unavailable");
    }

    /** Whether the IPv4 socket is an unprivileged datagram socket (else raw). */
    public boolean datagram() {
        return !v4.raw;
    }

    /** The receive buffer the kernel granted the IPv4 socket. */
    public int receiveBuffer() {
        return v4.receiveBuffer;
    }

    public IcmpOptions options() {
        return options;
    }

    /** The session key in every cookie (tests forge packets with it). */
    long session() {
        return session;
    }

    /** The id of the round submitted last. */
    int lastRoundId() {
        return nextRoundId.get() - 1;
    }

    /** Totals since the engine opened. */
    public Counters counters() {
        return new Counters(sent.sum(), received.sum(), duplicates.sum(), late.sum(), errors.sum(), stale.sum(),
                sendFailures.sum());
    }

    /**
     * Schedules one round: {@code pings} echo requests to {@code address}, the first as soon as the pacing allows, the
     * next ones {@code interval} apart (or later, when the global cap or the per-address minimum interval holds them
     * back). Returns at once.
     *
     * @return completes on the engine's completion thread once every request was answered or timed out; fails with
     *     {@link IcmpUnavailableException} for an IPv6 address without an IPv6 socket, and with
     *     {@link CancellationException} when the engine closes first
     */
    public CompletableFuture<Result> submit(InetAddress address, int pings, Duration interval, Duration timeout) {
        Objects.requireNonNull(address, "address");
        if (pings < 1 || pings > MAX_PINGS) {
            throw new IllegalArgumentException("pings must be 1-" + MAX_PINGS + ", got " + pings);
        }
        CompletableFuture<Result> future = new CompletableFuture<>();
        IcmpSocket socket = address instanceof Inet6Address ? v6 : v4;
        if (socket == null) {
            future.completeExceptionally(new IcmpUnavailableException("no IPv6 socket (" + v6Unavailable + ")"));
            return future;
        }
        if (!running) {
            future.completeExceptionally(new CancellationException("ICMP engine closed"));
            return future;
        }
        long intervalNanos = Math.max(interval.toNanos(), options.minTargetInterval().toNanos());
        Round round = new Round(nextRoundId.getAndIncrement(), address, socket, pings, intervalNanos,
                timeout.toNanos(), future);
        rounds.put(round.id, round);
        inbox.add(round);
        LockSupport.unpark(sender);
        return future;
    }

    // ------------------------------------------------------------------ sending

    private void sendLoop() {
        PriorityQueue<Round> queue = new PriorityQueue<>((a, b) -> Long.compare(a.due, b.due));
        Map<InetAddress, Long> lastSend = new HashMap<>();
        byte[] packet = new byte[IcmpPackets.PACKET_SIZE];
        double tokensPerNano = options.maxPps() / 1e9;
        double burst = Math.max(1.0, options.maxPps() * (BURST_NANOS / 1e9));
        long minGap = options.minTargetInterval().toNanos();
        double tokens = 1;
        long lastRefill = System.nanoTime();
        long nextSweep = lastRefill + ADDRESS_SWEEP_NANOS;
        int sequence = 0;
        while (running) {
            try {
                long now = System.nanoTime();
                for (Round r; (r = inbox.poll()) != null; ) {
                    r.due = now;
                    queue.add(r);
                }
                tokens = Math.min(burst, tokens + (now - lastRefill) * tokensPerNano);
                lastRefill = now;
                while (!queue.isEmpty() && queue.peek().due - now <= 0) {
                    Round r = queue.peek();
                    if (r.nextPing >= r.pings) {
                        queue.poll();
                        finish(r);
                        continue;
                    }
                    if (tokens < 1) {
                        break;
                    }
                    queue.poll();
                    Long last = lastSend.get(r.address);
                    if (minGap > 0 && last != null && now - last < minGap) {
                        r.due = last + minGap;
                        queue.add(r);
                        continue;
                    }
                    int ping = r.nextPing++;
                    long realtime = realtimeNanos();
                    IcmpPackets.writeEchoRequest(packet, r.socket.v6, r.socket.identifier, sequence++ & 0xffff,
                            session, r.id, ping, realtime);
                    synchronized (r) {
                        r.sentRealtime[ping] = realtime;
                        r.sentMonotonic[ping] = System.nanoTime();
                    }
                    String failure = r.socket.send(packet, packet.length, r.socketAddress);
                    tokens -= 1;
                    sent.increment();
                    if (minGap > 0) {
                        lastSend.put(r.address, now);
                    }
                    if (failure != null) {
                        sendFailures.increment();
                        synchronized (r) {
                            r.errors.add(new ProbeError(ping, "send failed: " + failure, null));
                        }
                    }
                    if (ping == 0) {
                        r.firstSend = now;
                    }
                    r.due = r.nextPing < r.pings ? r.firstSend + r.nextPing * r.intervalNanos
                            : now + r.timeoutNanos + FINISH_GRACE_NANOS;
                    queue.add(r);
                }
                if (now - nextSweep >= 0) {
                    long cutoff = now - minGap;
                    lastSend.values().removeIf(t -> t - cutoff < 0);
                    nextSweep = now + ADDRESS_SWEEP_NANOS;
                }
                long wait = MAX_PARK_NANOS;
                if (!queue.isEmpty()) {
                    wait = Math.min(wait, queue.peek().due - System.nanoTime());
                    if (tokens < 1) {
                        wait = Math.max(wait, (long) ((1 - tokens) / tokensPerNano));
                    }
                    // Send in batches: a wake-up per packet would cost more CPU than the packet (~70 µs measured).
                    wait = Math.max(wait, MIN_PARK_NANOS);
                }
                if (wait > 0 && inbox.isEmpty()) {
                    LockSupport.parkNanos(this, wait);
                }
            } catch (Throwable t) {
                LOG.error("ICMP sender failed; it keeps running", t);
                LockSupport.parkNanos(MAX_PARK_NANOS);
            }
        }
        for (Round r : queue) {
            r.future.completeExceptionally(new CancellationException("ICMP engine closed"));
        }
    }

    /** CLOCK_REALTIME in nanoseconds, the clock of SO_TIMESTAMPNS. */
    private static long realtimeNanos() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }

    private void finish(Round r) {
        rounds.remove(r.id);
        Result result;
        synchronized (r) {
            r.finished = true;
            List<Double> rtts = new ArrayList<>(r.pings);
            for (int i = 0; i < r.pings; i++) {
                rtts.add(Double.isNaN(r.rtt[i]) ? null : r.rtt[i]);
            }
            List<ProbeError> errs = new ArrayList<>(r.errors);
            errs.sort((a, b) -> Integer.compare(a.ping(), b.ping()));
            result = new Result(r.address, rtts, r.duplicates, r.late, errs);
        }
        try {
            done.execute(() -> r.future.complete(result));
        } catch (RuntimeException e) {
            r.future.complete(result);
        }
    }

    // ------------------------------------------------------------------ receiving

    private void onPacket(IcmpPackets.Parsed p, long kernelRealtime, long monotonic, InetAddress from) {
        Round r = rounds.get(p.roundId());
        if (r == null || p.ping() >= r.pings) {
            stale.increment();
            return;
        }
        synchronized (r) {
            if (r.finished || r.sentMonotonic[p.ping()] == 0) {
                stale.increment();
                return;
            }
            int ping = p.ping();
            if (p.kind() == IcmpPackets.Kind.ERROR) {
                errors.increment();
                r.errors.add(new ProbeError(ping, IcmpPackets.describe(r.socket.v6, p.errorType(), p.errorCode()),
                        from != null ? from.getHostAddress() : null));
                return;
            }
            long monoRtt = monotonic - r.sentMonotonic[ping];
            long rtt = kernelRealtime != 0 ? kernelRealtime - r.sentRealtime[ping] : -1;
            // The wall clock may step between send and receive; the kernel time can never be later than our read.
            if (rtt < 0 || rtt > monoRtt + 1_000_000) {
                rtt = monoRtt;
            }
            if (r.answered[ping]) {
                duplicates.increment();
                r.duplicates++;
            } else if (rtt > r.timeoutNanos) {
                r.answered[ping] = true;
                late.increment();
                r.late++;
            } else {
                r.answered[ping] = true;
                received.increment();
                r.rtt[ping] = rtt / 1e6;
            }
        }
    }

    /** Stops the threads, fails rounds still running with {@link CancellationException}, closes the sockets. */
    @Override
    public void close() {
        if (!running) {
            return;
        }
        running = false;
        LockSupport.unpark(sender);
        v4.stop();
        if (v6 != null) {
            v6.stop();
        }
        try {
            sender.join(2_000);
            for (Thread t : receivers) {
                t.join(2_000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        v4.release();
        if (v6 != null) {
            v6.release();
        }
        for (Iterator<Round> it = rounds.values().iterator(); it.hasNext(); ) {
            it.next().future.completeExceptionally(new CancellationException("ICMP engine closed"));
            it.remove();
        }
        done.shutdown();
    }

    /** A round in flight. Fields without a lock are the sender thread's alone. */
    private static final class Round {
        final int id;
        final InetAddress address;
        final byte[] socketAddress;
        final IcmpSocket socket;
        final int pings;
        final long intervalNanos;
        final long timeoutNanos;
        final CompletableFuture<Result> future;
        long due;
        long firstSend;
        int nextPing;
        // guarded by this
        final long[] sentRealtime;
        final long[] sentMonotonic;
        final double[] rtt;
        final boolean[] answered;
        final List<ProbeError> errors = new ArrayList<>(0);
        int duplicates;
        int late;
        boolean finished;

        Round(int id, InetAddress address, IcmpSocket socket, int pings, long intervalNanos, long timeoutNanos,
              CompletableFuture<Result> future) {
            this.id = id;
            this.address = address;
            this.socketAddress = IcmpSocket.socketAddress(address);
            this.socket = socket;
            this.pings = pings;
            this.intervalNanos = intervalNanos;
            this.timeoutNanos = timeoutNanos;
            this.future = future;
            this.sentRealtime = new long[pings];
            this.sentMonotonic = new long[pings];
            this.rtt = new double[pings];
            Arrays.fill(rtt, Double.NaN);
            this.answered = new boolean[pings];
        }
    }
}
