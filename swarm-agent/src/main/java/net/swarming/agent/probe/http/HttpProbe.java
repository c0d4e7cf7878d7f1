package net.swarming.agent.probe.http;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import net.swarming.agent.internal.schedule.AddressPolicy;
import net.swarming.agent.probe.Probe;
import net.swarming.agent.probe.ProbeContext;
import net.swarming.agent.probe.ProbeRequest;
import net.swarming.agent.probe.ProbeRound;
import net.swarming.common.cli.SwarmVersion;
import net.swarming.common.wire.ProbeType;
import net.swarming.common.wire.RoundExtras;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Measures a web server: each probe is one {@code GET} over a fresh connection ({@code Connection: close}), timed by
 * phase on a plain {@link Socket} (and an {@link SSLSocket} layered on it for https), which
 * {@code java.net.http.HttpClient} cannot do:
 * <ul>
 *   <li>{@code dns}: resolving the host, once per round ({@link InetAddress#getAllByName}, first address);</li>
 *   <li>{@code connect}: the TCP handshake;</li>
 *   <li>{@code tls}: the TLS handshake (https only; SNI and host name verification as a browser does);</li>
 *   <li>{@code first_byte}: from the request's last byte written to the response's first byte read.</li>
 * </ul>
 * A probe's round trip in {@code rtts} is connect + tls + first byte (DNS is per round, not per probe). Any HTTP
 * response counts as an answer, whatever its status; the status of the round's last response is reported as
 * {@code http_status} and the phases of the last answered probe as {@code phases}. A refused connection or a failed TLS
 * handshake is an error answer (the probe stays lost and the reason is reported); a timeout is plain loss. Only the
 * status line is read; the body is never downloaded.
 *
 * <p>Targets are {@code http://} or {@code https://} URLs; a plain host name is probed as {@code http://<host>/}. The
 * port is the URL's, else the scheme's (a watch entry's {@code port} is for TCP probes only). Names under {@code .invalid} fail without a DNS query.
 * A round blocks one thread of the agent's probe pool, like the TCP probe.
 */
public final class HttpProbe implements Probe {

    public static final String UNKNOWN_HOST = "Unknown host";

    private static final Logger LOG = LoggerFactory.getLogger(HttpProbe.class);
    private static final double NANOS_PER_MS = 1_000_000.0;
    private static final int MAX_STATUS_LINE = 8 * 1024;

    private final ProbeContext context;
    private final SSLSocketFactory tls;

    public HttpProbe(ProbeContext context) {
        this(context, (SSLSocketFactory) SSLSocketFactory.getDefault());
    }

    /** With a TLS configuration of its own (tests trust a certificate made for them). */
    public HttpProbe(ProbeContext context, SSLSocketFactory tls) {
        this.context = Objects.requireNonNull(context, "context");
        this.tls = Objects.requireNonNull(tls, "tls");
    }

    @Override
    public ProbeType type() {
        return ProbeType.HTTP;
    }

    @Override
    public CompletableFuture<ProbeRound> round(ProbeRequest request) {
        Objects.requireNonNull(request, "request");
        return context.runBlocking(() -> runRound(request));
    }

    /** Where and what to ask. */
    record Url(boolean https, String host, int port, String pathAndQuery) {

        static Url of(String target, Integer portOverride) {
            if (!target.contains("://")) {
                return new Url(false, target, portOverride != null ? portOverride : 80, "/");
            }
            URI uri;
            try {
                uri = new URI(target);
            } catch (URISyntaxException e) {
                throw new IllegalArgumentException("not a URL: " + target, e);
            }
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if (!scheme.equals("http") && !scheme.equals("https") || uri.getHost() == null) {
                throw new IllegalArgumentException("not an http or https URL with a host: " + target);
            }
            boolean https = scheme.equals("https");
            int port = portOverride != null ? portOverride : uri.getPort() >= 0 ? uri.getPort() : https ? 443 : 80;
            String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
            if (uri.getRawQuery() != null) {
                path = path + "?" + uri.getRawQuery();
            }
            String host = uri.getHost();
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            return new Url(https, host, port, path);
        }

        String hostHeader() {
            String h = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
            return port == (https ? 443 : 80) ? h : h + ":" + port;
        }
    }

    /** One probe's outcome. */
    private record Exchange(Double rttMs, Integer status, Map<String, Double> phases, String error) {
    }

    ProbeRound runRound(ProbeRequest request) throws InterruptedException {
        Instant start = context.clock().instant();
        Url url;
        try {
            // The watch's port is for TCP probes (docs/wire-protocol.md §3.2): a URL carries its own.
            url = Url.of(request.target(), null);
        } catch (IllegalArgumentException e) {
            return ProbeRound.failed(request.target(), ProbeType.HTTP, start, e.getMessage());
        }
        long dnsStart = System.nanoTime();
        InetAddress address;
        try {
            address = resolve(url.host());
        } catch (UnknownHostException e) {
            LOG.debug("{} does not resolve: {}", request.target(), e.getMessage());
            return ProbeRound.failed(request.target(), ProbeType.HTTP, start, UNKNOWN_HOST);
        }
        double dnsMs = (System.nanoTime() - dnsStart) / NANOS_PER_MS;
        String refusal = AddressPolicy.refusal(address);
        if (refusal != null) {
            return ProbeRound.failed(request.target(), ProbeType.HTTP, start, refusal);
        }
        int timeoutMs = (int) Math.max(1, Math.min(Integer.MAX_VALUE, request.timeout().toMillis()));
        long intervalNanos = request.interval().toNanos();
        List<Double> rtts = new ArrayList<>(request.pings());
        List<ProbeRound.ProbeError> errors = new ArrayList<>();
        Integer lastStatus = null;
        Map<String, Double> lastPhases = Map.of();
        long first = System.nanoTime();
        for (int i = 0; i < request.pings(); i++) {
            sleepUntil(first + i * intervalNanos);
            Exchange x = exchange(url, address, timeoutMs);
            rtts.add(x.rttMs());
            if (x.status() != null) {
                lastStatus = x.status();
                Map<String, Double> phases = new LinkedHashMap<>();
                phases.put("dns", dnsMs);
                phases.putAll(x.phases());
                lastPhases = phases;
            }
            if (x.error() != null) {
                errors.add(new ProbeRound.ProbeError(i, x.error(), address.getHostAddress()));
            }
        }
        return new ProbeRound(request.target(), ProbeType.HTTP, start, address.getHostAddress(), rtts, 0, null, 0,
                errors, RoundExtras.http(lastStatus, lastPhases));
    }

    private Exchange exchange(Url url, InetAddress address, int timeoutMs) {
        Map<String, Double> phases = new LinkedHashMap<>();
        Socket plain = new Socket();
        Socket socket = plain;
        try {
            plain.setSoTimeout(timeoutMs);
            long t0 = System.nanoTime();
            try {
                plain.connect(new InetSocketAddress(address, url.port()), timeoutMs);
            } catch (ConnectException e) {
                return new Exchange(null, null, Map.of(), "connect failed: " + e.getMessage());
            }
            long t1 = System.nanoTime();
            phases.put("connect", (t1 - t0) / NANOS_PER_MS);
            long t2 = t1;
            if (url.https()) {
                SSLSocket ssl = (SSLSocket) tls.createSocket(plain, url.host(), url.port(), true);
                socket = ssl;
                SSLParameters params = ssl.getSSLParameters();
                params.setEndpointIdentificationAlgorithm("HTTPS");
                ssl.setSSLParameters(params);
                try {
                    ssl.startHandshake();
                } catch (SSLException e) {
                    return new Exchange(null, null, Map.of(), "TLS handshake failed: " + e.getMessage());
                }
                t2 = System.nanoTime();
                phases.put("tls", (t2 - t1) / NANOS_PER_MS);
            }
            OutputStream out = socket.getOutputStream();
            out.write(("GET " + url.pathAndQuery() + " HTTP/1.1\r\nHost: " + url.hostHeader()
                    + "\r\nUser-Agent: swarming-agent/" + SwarmVersion.version()
                    + "\r\nAccept: */*\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            long t3 = System.nanoTime();
            InputStream in = socket.getInputStream();
            int b = in.read();
            long t4 = System.nanoTime();
            if (b < 0) {
                return new Exchange(null, null, Map.of(), "connection closed before a response");
            }
            phases.put("first_byte", (t4 - t3) / NANOS_PER_MS);
            int status = readStatus(b, in);
            if (status < 0) {
                return new Exchange(null, null, Map.of(), "not an HTTP response");
            }
            return new Exchange((t4 - t0 - (t3 - t2)) / NANOS_PER_MS, status, phases, null);
        } catch (SocketTimeoutException e) {
            return new Exchange(null, null, Map.of(), null);
        } catch (IOException e) {
            LOG.debug("GET {} lost: {}", url, e.toString());
            return new Exchange(null, null, Map.of(), null);
        } finally {
            try {
                socket.close();
            } catch (IOException e) {
                LOG.trace("close failed", e);
            }
        }
    }

    /** The status code of a status line {@code HTTP/1.1 200 OK} whose first byte is {@code first}; -1 when not one. */
    private static int readStatus(int first, InputStream in) throws IOException {
        StringBuilder line = new StringBuilder(32).append((char) first);
        int b;
        while ((b = in.read()) >= 0 && b != '\n' && line.length() < MAX_STATUS_LINE) {
            line.append((char) b);
        }
        String[] parts = line.toString().strip().split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("HTTP/") || parts[1].length() != 3) {
            return -1;
        }
        try {
            int status = Integer.parseInt(parts[1]);
            return status >= 100 && status <= 999 ? status : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    static InetAddress resolve(String host) throws UnknownHostException {
        String name = host.endsWith(".") ? host.substring(0, host.length() - 1) : host;
        String lower = name.toLowerCase(Locale.ROOT);
        if (lower.equals("invalid") || lower.endsWith(".invalid")) {
            throw new UnknownHostException(host + ": a special-use .invalid name (RFC 6761)");
        }
        return InetAddress.getAllByName(host)[0];
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
