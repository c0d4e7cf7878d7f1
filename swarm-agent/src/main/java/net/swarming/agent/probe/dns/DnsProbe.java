package net.swarming.agent.probe.dns;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import net.swarming.agent.probe.Probe;
import net.swarming.agent.probe.ProbeContext;
import net.swarming.agent.probe.ProbeRequest;
import net.swarming.agent.probe.ProbeRound;
import net.swarming.common.wire.ProbeType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Times name resolution: each probe is one real DNS query over UDP (type A, recursion desired) to the system's
 * resolver, the first {@code nameserver} of {@code /etc/resolv.conf} (port 53). The JVM's own lookup ({@code InetAddress.getAllByName}) cannot be timed: it
 * caches answers for 30 s and hides the resolver's round trip.
 *
 * <p>A probe's round trip is from the query sent to the matching answer received (same id, same question). An answer
 * with an address counts as a reply and its first address is the round's resolved address. An answer without one
 * (NXDOMAIN, SERVFAIL, REFUSED, or NOERROR with no A record) is an error answer: the probe stays lost and the reason
 * (e.g. {@code NXDOMAIN}) is reported. No answer within the timeout is plain loss. Names under {@code .invalid} fail
 * at once without a query (RFC 6761); an IP literal has nothing to resolve and is an error.
 *
 * <p>A round blocks one thread of the agent's probe pool, like the TCP probe.
 */
public final class DnsProbe implements Probe {

    public static final String UNKNOWN_HOST = "Unknown host";

    private static final Logger LOG = LoggerFactory.getLogger(DnsProbe.class);
    private static final double NANOS_PER_MS = 1_000_000.0;
    private static final int TYPE_A = 1;
    private static final int CLASS_IN = 1;
    private static final String[] RCODES = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"};

    private final ProbeContext context;
    private final InetSocketAddress resolver;
    private final SecureRandom ids = new SecureRandom();

    /** Queries the system resolver (first {@code nameserver} of {@code /etc/resolv.conf}, else 127.0.0.1). */
    public DnsProbe(ProbeContext context) {
        this(context, systemResolver(Path.of("/etc/resolv.conf")));
    }

    /** Queries {@code resolver}. */
    public DnsProbe(ProbeContext context, InetSocketAddress resolver) {
        this.context = Objects.requireNonNull(context, "context");
        this.resolver = Objects.requireNonNull(resolver, "resolver");
    }

    @Override
    public ProbeType type() {
        return ProbeType.DNS;
    }

    /** The resolver it queries. */
    public InetSocketAddress resolver() {
        return resolver;
    }

    @Override
    public CompletableFuture<ProbeRound> round(ProbeRequest request) {
        Objects.requireNonNull(request, "request");
        return context.runBlocking(() -> runRound(request));
    }

    ProbeRound runRound(ProbeRequest request) throws InterruptedException, IOException {
        Instant start = context.clock().instant();
        String name = hostOf(request.target());
        String lower = name.toLowerCase(Locale.ROOT);
        if (lower.equals("invalid") || lower.endsWith(".invalid")) {
            return ProbeRound.failed(request.target(), ProbeType.DNS, start, UNKNOWN_HOST);
        }
        if (name.indexOf(':') >= 0 || lower.chars().allMatch(c -> c == '.' || c >= '0' && c <= '9')) {
            return ProbeRound.failed(request.target(), ProbeType.DNS, start,
                    name + " is an address: there is nothing to resolve");
        }
        byte[] qname;
        try {
            qname = encodeName(name);
        } catch (IllegalArgumentException e) {
            return ProbeRound.failed(request.target(), ProbeType.DNS, start, e.getMessage());
        }
        int timeoutMs = (int) Math.max(1, Math.min(Integer.MAX_VALUE, request.timeout().toMillis()));
        long intervalNanos = request.interval().toNanos();
        List<Double> rtts = new ArrayList<>(request.pings());
        List<ProbeRound.ProbeError> errors = new ArrayList<>();
        String resolved = null;
        String from = resolver.getAddress().getHostAddress();
        try (DatagramSocket socket = new DatagramSocket()) {
            socket.connect(resolver);
            long first = System.nanoTime();
            for (int i = 0; i < request.pings(); i++) {
                sleepUntil(first + i * intervalNanos);
                Answer a = query(socket, qname, timeoutMs);
                if (a == null) {
                    rtts.add(null);
                } else if (a.address != null) {
                    rtts.add(a.rttMs);
                    resolved = a.address;
                } else {
                    rtts.add(null);
                    errors.add(new ProbeRound.ProbeError(i, a.problem, from));
                }
            }
        }
        return new ProbeRound(request.target(), ProbeType.DNS, start, resolved, rtts, 0, null, 0, errors);
    }

    private record Answer(double rttMs, String address, String problem) {
    }

    /** One query; null when no answer came within the timeout. */
    private Answer query(DatagramSocket socket, byte[] qname, int timeoutMs) throws IOException {
        int id = ids.nextInt(0x10000);
        ByteBuffer q = ByteBuffer.allocate(12 + qname.length + 4);
        q.putShort((short) id).putShort((short) 0x0100).putShort((short) 1).putShort((short) 0).putShort((short) 0)
                .putShort((short) 0).put(qname).putShort((short) TYPE_A).putShort((short) CLASS_IN);
        byte[] query = q.array();
        byte[] buf = new byte[4096];
        long sent = System.nanoTime();
        long deadline = sent + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        try {
            socket.send(new DatagramPacket(query, query.length));
        } catch (IOException e) {
            LOG.debug("DNS query to {} not sent: {}", resolver, e.toString());
            return null;
        }
        while (true) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return null;
            }
            socket.setSoTimeout((int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            DatagramPacket p = new DatagramPacket(buf, buf.length);
            try {
                socket.receive(p);
            } catch (SocketTimeoutException e) {
                return null;
            } catch (java.net.PortUnreachableException e) {
                // ICMP port unreachable: nobody serves DNS there. Lost, and nothing more will come.
                return new Answer(0, null, "resolver port unreachable");
            }
            long received = System.nanoTime();
            Answer a = parse(buf, p.getLength(), id, qname, (received - sent) / NANOS_PER_MS);
            if (a != null) {
                return a;
            }
            // Not our answer (an earlier query's late answer, or garbage): keep waiting.
        }
    }

    /** The answer to query {@code id}, or null when the packet is not one. */
    static Answer parse(byte[] buf, int length, int id, byte[] qname, double rttMs) {
        if (length < 12) {
            return null;
        }
        ByteBuffer b = ByteBuffer.wrap(buf, 0, length);
        int rid = b.getShort() & 0xffff;
        int flags = b.getShort() & 0xffff;
        int qd = b.getShort() & 0xffff;
        int an = b.getShort() & 0xffff;
        b.getShort();
        b.getShort();
        if (rid != id || (flags & 0x8000) == 0 || qd != 1) {
            return null;
        }
        // The question must be ours (RFC 5452: match id and question).
        if (length < 12 + qname.length + 4) {
            return null;
        }
        for (int i = 0; i < qname.length; i++) {
            if (Character.toLowerCase(buf[12 + i]) != Character.toLowerCase(qname[i])) {
                return null;
            }
        }
        int rcode = flags & 0xf;
        if (rcode != 0) {
            return new Answer(rttMs, null, rcode < RCODES.length ? RCODES[rcode] : "RCODE " + rcode);
        }
        int pos = 12 + qname.length + 4;
        try {
            for (int i = 0; i < an; i++) {
                pos = skipName(buf, pos, length);
                int type = ((buf[pos] & 0xff) << 8) | (buf[pos + 1] & 0xff);
                int rdlength = ((buf[pos + 8] & 0xff) << 8) | (buf[pos + 9] & 0xff);
                int rdata = pos + 10;
                if (rdata + rdlength > length) {
                    return null;
                }
                if (type == TYPE_A && rdlength == 4) {
                    byte[] addr = new byte[4];
                    System.arraycopy(buf, rdata, addr, 0, 4);
                    return new Answer(rttMs, InetAddress.getByAddress(addr).getHostAddress(), null);
                }
                pos = rdata + rdlength;
            }
        } catch (ArrayIndexOutOfBoundsException | UnknownHostException e) {
            return null;
        }
        return new Answer(rttMs, null, "NOERROR without an address");
    }

    private static int skipName(byte[] buf, int pos, int length) {
        while (pos < length) {
            int len = buf[pos] & 0xff;
            if (len == 0) {
                return pos + 1;
            }
            if ((len & 0xc0) == 0xc0) {
                return pos + 2;
            }
            pos += 1 + len;
        }
        throw new ArrayIndexOutOfBoundsException("name runs past the packet");
    }

    /** The wire form of a host name: length-prefixed labels ending in a zero byte. */
    static byte[] encodeName(String name) {
        String n = name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
        if (n.isEmpty() || n.length() > 253) {
            throw new IllegalArgumentException("'" + name + "' is not a host name DNS can carry");
        }
        ByteBuffer b = ByteBuffer.allocate(n.length() + 2);
        for (String label : n.split("\\.", -1)) {
            byte[] l = label.getBytes(StandardCharsets.US_ASCII);
            if (l.length == 0 || l.length > 63 || !label.chars().allMatch(c -> c < 128)) {
                throw new IllegalArgumentException("'" + name + "' is not a host name DNS can carry (ASCII labels "
                        + "of 1-63 characters; write internationalised names in their xn-- form)");
            }
            b.put((byte) l.length).put(l);
        }
        b.put((byte) 0);
        byte[] out = new byte[b.position()];
        System.arraycopy(b.array(), 0, out, 0, out.length);
        return out;
    }

    /** The host of a target: itself, or a URL's host. */
    static String hostOf(String target) {
        if (!target.contains("://")) {
            return target;
        }
        try {
            String host = new java.net.URI(target).getHost();
            return host == null ? target : host;
        } catch (java.net.URISyntaxException e) {
            return target;
        }
    }

    /** The first {@code nameserver} of a resolv.conf, port 53; 127.0.0.1 when none can be read. */
    static InetSocketAddress systemResolver(Path resolvConf) {
        try {
            for (String line : Files.readAllLines(resolvConf)) {
                String[] words = line.strip().split("\\s+");
                if (words.length >= 2 && words[0].equals("nameserver")) {
                    String ip = words[1];
                    int zone = ip.indexOf('%');
                    return new InetSocketAddress(InetAddress.getByName(zone >= 0 ? ip.substring(0, zone) : ip), 53);
                }
            }
        } catch (IOException e) {
            LOG.debug("cannot read {}: {}", resolvConf, e.toString());
        }
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), 53);
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
