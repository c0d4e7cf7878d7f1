package net.swarming.agent.probe.icmp;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InterfaceAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.time.Instant;
import java.util.Collections;
import java.util.HashSet;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.regex.Pattern;
import net.swarming.agent.probe.Probe;
import net.swarming.agent.probe.ProbeContext;
import net.swarming.agent.probe.ProbeRequest;
import net.swarming.agent.probe.ProbeRound;
import net.swarming.common.wire.ProbeType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * ICMP echo ("ping") for IPv4 and IPv6, in-process, for any number of targets over one socket per address family (see
 * {@link IcmpEngine} for sockets, threads, pacing, reply matching and timing).
 *
 * <p>Construction opens the engine. When the process may open no ICMP socket at all, the probe still constructs: it
 * logs the {@link IcmpUnavailableException} (which names both remedies) once, and every round then completes as an
 * ERROR result carrying that message, so the agent keeps running its other probe types.
 *
 * <p>Each round resolves the target again (the first address {@link InetAddress#getAllByName} gives; a failure is an
 * {@code Unknown host} ERROR result, never an exception), refuses multicast, broadcast and unspecified addresses (ERROR
 * result naming why), then sends {@link ProbeRequest#pings()} echo requests spaced by {@link ProbeRequest#interval()}.
 * The round completes after the last request's timeout with every round trip in sending order (null = lost),
 * duplicates, late replies and ICMP errors (e.g. destination unreachable from a router).
 *
 * <p>Use: {@code new IcmpProbe(context)} (default {@link IcmpOptions}), {@code new IcmpProbe(context, options)}, or
 * {@code ProbeRegistry.builtIn()} with {@code ProbeType.ICMP}. Thread-safe; {@link #close()} stops the engine.
 */
public final class IcmpProbe implements Probe {

    /** The original agent's error text for a name that does not resolve. */
    public static final String UNKNOWN_HOST = "Unknown host";

    private static final Logger LOG = LoggerFactory.getLogger(IcmpProbe.class);
    private static final Pattern IPV4_LITERAL = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
    private static final long BROADCAST_REFRESH_NANOS = 60_000_000_000L;

    private final ProbeContext context;
    private final IcmpEngine engine;
    private final String unavailable;
    private volatile Set<InetAddress> broadcasts = Set.of();
    private volatile long broadcastsRead = System.nanoTime() - BROADCAST_REFRESH_NANOS;

    /** With the {@linkplain IcmpOptions#defaults() default options}. */
    public IcmpProbe(ProbeContext context) {
        this(context, IcmpOptions.defaults());
    }

    public IcmpProbe(ProbeContext context, IcmpOptions options) {
        this.context = Objects.requireNonNull(context, "context");
        IcmpEngine opened = null;
        String why = null;
        try {
            opened = IcmpEngine.open(options);
        } catch (IcmpUnavailableException e) {
            why = e.getMessage();
            LOG.error("{} The agent keeps running its other probe types; ICMP targets get errors.", why);
        }
        this.engine = opened;
        this.unavailable = why;
    }

    @Override
    public ProbeType type() {
        return ProbeType.ICMP;
    }

    /** Why ICMP cannot run here, or null when it can. */
    public String unavailableReason() {
        return unavailable;
    }

    /** The engine, or null when ICMP is unavailable. */
    public IcmpEngine engine() {
        return engine;
    }

    @Override
    public CompletableFuture<ProbeRound> round(ProbeRequest request) {
        Objects.requireNonNull(request, "request");
        Instant start = context.clock().instant();
        if (engine == null) {
            return CompletableFuture.completedFuture(
                    ProbeRound.failed(request.target(), ProbeType.ICMP, start, unavailable));
        }
        String host = literalOrName(request.target());
        if (IPV4_LITERAL.matcher(host).matches() || host.indexOf(':') >= 0) {
            // An address literal resolves without a lookup: no need to borrow a pool thread.
            return probe(request, start, host);
        }
        CompletableFuture<ProbeRound> result = new CompletableFuture<>();
        try {
            context.roundExecutor().execute(() -> probe(request, start, host).whenComplete((r, t) -> {
                if (t != null) {
                    result.completeExceptionally(t instanceof CompletionException && t.getCause() != null
                            ? t.getCause() : t);
                } else {
                    result.complete(r);
                }
            }));
        } catch (RejectedExecutionException e) {
            result.completeExceptionally(e);
        }
        return result;
    }

    private CompletableFuture<ProbeRound> probe(ProbeRequest request, Instant start, String host) {
        InetAddress address;
        try {
            if (host.toLowerCase(Locale.ROOT).endsWith(".invalid")) {
                throw new UnknownHostException(host + ": special-use name (RFC 6761)");
            }
            address = InetAddress.getAllByName(host)[0];
        } catch (UnknownHostException | SecurityException e) {
            LOG.debug("{} does not resolve: {}", request.target(), e.getMessage());
            return CompletableFuture.completedFuture(
                    ProbeRound.failed(request.target(), ProbeType.ICMP, start, UNKNOWN_HOST));
        }
        String refused = refusal(address);
        if (refused != null) {
            return CompletableFuture.completedFuture(new ProbeRound(request.target(), ProbeType.ICMP, start,
                    address.getHostAddress(), java.util.List.of(), 0, refused));
        }
        if (request.pings() > IcmpEngine.MAX_PINGS) {
            return CompletableFuture.completedFuture(new ProbeRound(request.target(), ProbeType.ICMP, start,
                    address.getHostAddress(), java.util.List.of(), 0,
                    "at most " + IcmpEngine.MAX_PINGS + " ICMP pings per round, asked for " + request.pings()));
        }
        return engine.submit(address, request.pings(), request.interval(), request.timeout())
                .handle((r, t) -> {
                    if (t == null) {
                        return new ProbeRound(request.target(), ProbeType.ICMP, start, address.getHostAddress(),
                                r.rtts(), r.duplicates(), null, r.late(), r.errors());
                    }
                    Throwable cause = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
                    if (cause instanceof IcmpUnavailableException) {
                        return new ProbeRound(request.target(), ProbeType.ICMP, start, address.getHostAddress(),
                                java.util.List.of(), 0, cause.getMessage());
                    }
                    throw new CompletionException(cause);
                });
    }

    /** The host part of a target: strips the brackets of {@code [::1]}. */
    private static String literalOrName(String target) {
        String t = target.strip();
        if (t.startsWith("[") && t.endsWith("]")) {
            return t.substring(1, t.length() - 1);
        }
        return t;
    }

    /** Why an address must not be probed, or null. */
    String refusal(InetAddress address) {
        if (address.isMulticastAddress()) {
            return "refusing to probe " + address.getHostAddress() + ": multicast address";
        }
        if (address.isAnyLocalAddress()) {
            return "refusing to probe " + address.getHostAddress() + ": unspecified address";
        }
        if (address instanceof Inet4Address) {
            byte[] b = address.getAddress();
            if ((b[0] & b[1] & b[2] & b[3]) == (byte) 0xff) {
                return "refusing to probe " + address.getHostAddress() + ": broadcast address";
            }
            if (localBroadcasts().contains(address)) {
                return "refusing to probe " + address.getHostAddress() + ": broadcast address of a local network";
            }
        }
        return null;
    }

    private Set<InetAddress> localBroadcasts() {
        long now = System.nanoTime();
        if (now - broadcastsRead >= BROADCAST_REFRESH_NANOS) {
            Set<InetAddress> found = new HashSet<>();
            try {
                for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                    for (InterfaceAddress ia : ni.getInterfaceAddresses()) {
                        if (ia.getBroadcast() != null) {
                            found.add(ia.getBroadcast());
                        }
                    }
                }
            } catch (SocketException e) {
                LOG.debug("cannot list interfaces: {}", e.getMessage());
            }
            broadcasts = Set.copyOf(found);
            broadcastsRead = now;
        }
        return broadcasts;
    }

    @Override
    public void close() {
        if (engine != null) {
            engine.close();
        }
    }
}
