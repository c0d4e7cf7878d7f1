package net.swarming.agent.probe.dns;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import net.swarming.agent.probe.ProbeContext;
import net.swarming.agent.probe.ProbeRequest;
import net.swarming.agent.probe.ProbeRound;
import net.swarming.common.wire.ProbeType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Against a small DNS server on loopback written here: it answers {@code localhost} with 127.0.0.1 after
 * {@value #DELAY_MS} ms, never answers {@code silent.test} and says NXDOMAIN for anything else. No query leaves the
 * machine.
 */
@Timeout(60)
class DnsProbeTest {

    private static final long DELAY_MS = 30;

    private final ExecutorService pool = Executors.newFixedThreadPool(2);
    private final AtomicInteger queries = new AtomicInteger();
    private DatagramSocket server;
    private Thread serverThread;

    @BeforeEach
    void startServer() throws Exception {
        server = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        serverThread = new Thread(this::serve, "fake-dns");
        serverThread.setDaemon(true);
        serverThread.start();
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
        serverThread.join(5000);
        pool.shutdownNow();
    }

    private void serve() {
        byte[] buf = new byte[512];
        while (!server.isClosed()) {
            DatagramPacket p = new DatagramPacket(buf, buf.length);
            try {
                server.receive(p);
            } catch (java.io.IOException e) {
                return;
            }
            queries.incrementAndGet();
            String name = readName(buf, 12);
            if (name.equals("silent.test")) {
                continue;
            }
            int questionEnd = 12 + DnsProbe.encodeName(name).length + 4;
            ByteBuffer out = ByteBuffer.allocate(questionEnd + 16);
            boolean known = name.equals("localhost");
            out.put(buf, 0, 2)
                    .putShort((short) (0x8180 | (known ? 0 : 3)))
                    .putShort((short) 1).putShort((short) (known ? 1 : 0)).putShort((short) 0).putShort((short) 0)
                    .put(buf, 12, questionEnd - 12);
            if (known) {
                out.putShort((short) 0xc00c).putShort((short) 1).putShort((short) 1).putInt(60).putShort((short) 4)
                        .put(new byte[] {127, 0, 0, 1});
            }
            try {
                TimeUnit.MILLISECONDS.sleep(DELAY_MS);
                server.send(new DatagramPacket(out.array(), out.position(), p.getSocketAddress()));
            } catch (InterruptedException e) {
                return;
            } catch (java.io.IOException e) {
                if (server.isClosed()) {
                    return;
                }
            }
        }
    }

    private static String readName(byte[] buf, int pos) {
        StringBuilder sb = new StringBuilder();
        while (buf[pos] != 0) {
            int len = buf[pos];
            if (sb.length() > 0) {
                sb.append('.');
            }
            sb.append(new String(buf, pos + 1, len, java.nio.charset.StandardCharsets.US_ASCII));
            pos += 1 + len;
        }
        return sb.toString();
    }

    private DnsProbe probe() throws SocketException {
        return new DnsProbe(new ProbeContext(Clock.systemUTC(), pool, 80),
                (InetSocketAddress) server.getLocalSocketAddress());
    }

    private static ProbeRequest request(String target, int pings, Duration timeout) {
        return new ProbeRequest(target, pings, Duration.ofMillis(20), timeout, null);
    }

    @Test
    void whenResolverAnswers_thenEveryQueryIsTimedAndTheAddressReported() throws Exception {
        ProbeRound r = probe().round(request("localhost", 3, Duration.ofSeconds(2))).get(30, TimeUnit.SECONDS);

        assertNull(r.error());
        assertEquals(ProbeType.DNS, r.probe());
        assertEquals("127.0.0.1", r.resolvedIp());
        assertEquals(3, r.received());
        assertEquals(3, queries.get());
        for (Double rtt : r.rtts()) {
            assertTrue(rtt >= DELAY_MS && rtt < 1000, "rtt " + rtt + " includes the resolver's " + DELAY_MS + " ms");
        }
    }

    @Test
    void whenNameDoesNotExist_thenEachQueryIsAnNxdomainErrorAnswer() throws Exception {
        ProbeRound r = probe().round(request("nothing.test", 2, Duration.ofSeconds(2))).get(30, TimeUnit.SECONDS);

        assertNull(r.error());
        assertEquals(2, r.sent());
        assertEquals(0, r.received());
        assertEquals(2, r.probeErrors().size());
        assertEquals("NXDOMAIN", r.probeErrors().get(0).description());
        assertNull(r.resolvedIp());
    }

    @Test
    void whenResolverIsSilent_thenQueriesAreLost() throws Exception {
        ProbeRound r = probe().round(request("silent.test", 2, Duration.ofMillis(200))).get(30, TimeUnit.SECONDS);
        assertEquals(2, r.sent());
        assertEquals(0, r.received());
        assertTrue(r.probeErrors().isEmpty());
    }

    @Test
    void whenNameIsInvalidOrAnAddress_thenRoundIsAnErrorWithoutAQuery() throws Exception {
        ProbeRound invalid = probe().round(request("host.invalid", 2, Duration.ofSeconds(1))).get(30,
                TimeUnit.SECONDS);
        assertEquals(DnsProbe.UNKNOWN_HOST, invalid.error());
        ProbeRound literal = probe().round(request("192.0.2.1", 2, Duration.ofSeconds(1))).get(30, TimeUnit.SECONDS);
        assertTrue(literal.error().contains("nothing to resolve"), literal.error());
        assertEquals(0, queries.get());
    }

    @Test
    void whenNameEncoded_thenLengthPrefixedLabels() {
        assertArrayEquals(new byte[] {1, 'a', 2, 'b', 'c', 0}, DnsProbe.encodeName("a.bc."));
        assertThrows(IllegalArgumentException.class, () -> DnsProbe.encodeName("a..b"));
    }

    @Test
    void whenResolvConfRead_thenFirstNameserverOnPort53(@TempDir Path dir) throws Exception {
        Path conf = dir.resolve("resolv.conf");
        Files.writeString(conf, "# comment\nsearch example\nnameserver 127.0.0.53\nnameserver 192.0.2.53\n");
        assertEquals(new InetSocketAddress(InetAddress.getByName("127.0.0.53"), 53), DnsProbe.systemResolver(conf));
        assertEquals(53, DnsProbe.systemResolver(dir.resolve("missing")).getPort());
    }
}
