package net.swarming.agent.probe.tcp;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import net.swarming.agent.internal.schedule.AddressPolicy;
import net.swarming.agent.probe.Probe;
import net.swarming.agent.probe.ProbeContext;
import net.swarming.agent.probe.ProbeRequest;
import net.swarming.agent.probe.ProbeRound;
import net.swarming.common.wire.ProbeType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Measures a target by timing TCP connects ("TCP ping", as {@code tcping} and {@code hping -S} do).
 *
 * <p>Each round resolves the target again ({@link InetAddress#getAllByName}, first address; a failure is the original's
 * {@code Unknown host} error; names under the special-use domain {@code .invalid} fail at once without a DNS query, as
 * RFC 6761 asks of resolver libraries), then opens {@code pings} connections spaced by the interval, each timed with
 * {@link System#nanoTime()} around {@code connect}. A completed handshake and an immediate refusal (the target's kernel
 * answered the SYN with a RST: "Connection refused") both count as replies: either way the host answered, and the round
 * trip is one SYN and its answer. A timeout, "no route to host" or "network unreachable" counts as lost.
 *
 * <p>The port is the watch entry's, else the agent's {@code --tcp-port}; for a URL target ({@code https://host/path})
 * the probe connects to the URL's host, on the URL's port or its scheme's (80, 443) when the watch names none.
 *
 * <p>Connections are closed with SO_LINGER 0, i.e. by a RST, as a SYN ping does: otherwise every probe would leave a
 * socket in TIME_WAIT for a minute, and thousands of targets would exhaust the ephemeral ports. No data is ever sent.
 *
 * <p>A round blocks one thread of the agent's probe pool for its whole length (at most
 * {@code (pings - 1) × interval + timeout} after resolution). That is the walking skeleton's price; the in-process ICMP
 * engine multiplexes all targets over one socket instead.
 */
public final class TcpConnectProbe implements Probe {

    /** The original agent's error text for a name that does not resolve. */
    public static final String UNKNOWN_HOST = "Unknown host";

    private static final Logger LOG = LoggerFactory.getLogger(TcpConnectProbe.class);
    private static final double NANOS_PER_MS = 1_000_000.0;

    private final ProbeContext context;

    public TcpConnectProbe(ProbeContext context) {
        this.context = Objects.requireNonNull(context, "context");
    }

    @Override
    public ProbeType type() {
        return ProbeType.TCP;
    }

    @Override
    public CompletableFuture<ProbeRound> round(ProbeRequest request) {
        Objects.requireNonNull(request, "request");
        return context.runBlocking(() -> runRound(request));
    }

    /** Runs one round on the calling thread. */
    ProbeRound runRound(ProbeRequest request) throws InterruptedException {
        Instant start = context.clock().instant();
        Destination destination = Destination.of(request.target());
        InetAddress address;
        try {
            address = resolve(destination.host());
        } catch (UnknownHostException e) {
            LOG.debug("{} does not resolve: {}", request.target(), e.getMessage());
            return ProbeRound.failed(request.target(), ProbeType.TCP, start, UNKNOWN_HOST);
        }
        // A name may resolve to an address no probe may touch (multicast, broadcast, unspecified).
        String refusal = AddressPolicy.refusal(address);
        if (refusal != null) {
            return ProbeRound.failed(request.target(), ProbeType.TCP, start, refusal);
        }
        int port = request.port() != null ? request.port()
                : destination.port() != null ? destination.port() : context.defaultTcpPort();
        InetSocketAddress endpoint = new InetSocketAddress(address, port);
        int timeoutMs = (int) Math.max(1, Math.min(Integer.MAX_VALUE, request.timeout().toMillis()));
        long intervalNanos = request.interval().toNanos();

        List<Double> rtts = new ArrayList<>(request.pings());
        long first = System.nanoTime();
        for (int i = 0; i < request.pings(); i++) {
            sleepUntil(first + i * intervalNanos);
            rtts.add(connectOnce(endpoint, timeoutMs));
        }
        return ProbeRound.completed(request.target(), ProbeType.TCP, start, address.getHostAddress(), rtts, 0);
    }

    /** @return the round trip in milliseconds, or null when lost */
    private static Double connectOnce(InetSocketAddress endpoint, int timeoutMs) {
        try (Socket socket = new Socket()) {
            socket.setSoLinger(true, 0);
            long sent = System.nanoTime();
            try {
                socket.connect(endpoint, timeoutMs);
                return (System.nanoTime() - sent) / NANOS_PER_MS;
            } catch (ConnectException e) {
                long answered = System.nanoTime();
                // The JDK says why only in the message; "refused" means a RST came back, i.e. the host answered.
                if (isRefusal(e)) {
                    return (answered - sent) / NANOS_PER_MS;
                }
                LOG.debug("connect to {} lost: {}", endpoint, e.getMessage());
                return null;
            } catch (SocketTimeoutException e) {
                return null;
            }
        } catch (IOException e) {
            // No route to host, network unreachable, a socket we could not create: no answer.
            LOG.debug("connect to {} lost: {}", endpoint, e.toString());
            return null;
        }
    }

    /** The first address of {@code host}; names under {@code .invalid} (RFC 6761) never reach a resolver. */
    static InetAddress resolve(String host) throws UnknownHostException {
        String name = host.endsWith(".") ? host.substring(0, host.length() - 1) : host;
        String lower = name.toLowerCase(Locale.ROOT);
        if (lower.equals("invalid") || lower.endsWith(".invalid")) {
            throw new UnknownHostException(host + ": a special-use .invalid name (RFC 6761)");
        }
        return InetAddress.getAllByName(host)[0];
    }

    /** Where a target points: itself, or for a URL its host and the URL's port (explicit or by scheme). */
    record Destination(String host, Integer port) {
        static Destination of(String target) {
            if (!target.contains("://")) {
                return new Destination(target, null);
            }
            try {
                URI uri = new URI(target);
                if (uri.getHost() == null) {
                    return new Destination(target, null);
                }
                int port = uri.getPort();
                if (port < 0) {
                    port = "https".equalsIgnoreCase(uri.getScheme()) ? 443 : 80;
                }
                return new Destination(uri.getHost(), port);
            } catch (URISyntaxException e) {
                return new Destination(target, null);
            }
        }
    }

    static boolean isRefusal(ConnectException e) {
        String message = e.getMessage();
        return message != null && message.contains("refused");
    }

    private static void sleepUntil(long dueNanos) throws InterruptedException {
        long wait = dueNanos - System.nanoTime();
        if (wait > 0) {
            TimeUnit.NANOSECONDS.sleep(wait);
        } else if (Thread.interrupted()) {
            throw new InterruptedException();
        }
    }
}
