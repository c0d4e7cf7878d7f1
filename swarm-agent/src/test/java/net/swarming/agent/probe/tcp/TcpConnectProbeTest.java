package net.swarming.agent.probe.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import net.swarming.agent.probe.ProbeContext;
import net.swarming.agent.probe.ProbeRequest;
import net.swarming.agent.probe.ProbeRound;
import net.swarming.common.wire.ProbeType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class TcpConnectProbeTest {

    private static final Instant START = Instant.parse("2024-05-06T07:08:09.123Z");

    private ExecutorService pool;
    private TcpConnectProbe probe;

    @BeforeEach
    void setUp() {
        pool = Executors.newFixedThreadPool(2);
        probe = new TcpConnectProbe(new ProbeContext(Clock.fixed(START, ZoneOffset.UTC), pool, 80));
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        probe.close();
        pool.shutdownNow();
        assertTrue(pool.awaitTermination(5, TimeUnit.SECONDS));
    }

    @Test
    void whenPortListens_thenEveryConnectIsAReplyWithPositiveRtt() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            ProbeRound round = run(new ProbeRequest("127.0.0.1", 3, Duration.ofMillis(100), Duration.ofSeconds(1),
                    server.getLocalPort()));

            assertFalse(round.isError());
            assertEquals(ProbeType.TCP, round.probe());
            assertEquals("127.0.0.1", round.resolvedIp());
            assertEquals(START, round.start());
            assertEquals(3, round.sent());
            assertEquals(3, round.received());
            for (Double rtt : round.rtts()) {
                assertTrue(rtt > 0 && rtt < 1000, "rtt " + rtt);
            }
        }
    }

    @Test
    void whenPortClosed_thenRefusalCountsAsReply() throws Exception {
        int closedPort = closedLoopbackPort();

        ProbeRound round = run(new ProbeRequest("127.0.0.1", 3, Duration.ofMillis(50), Duration.ofSeconds(1),
                closedPort));

        assertFalse(round.isError());
        assertEquals(3, round.received(), "refused connects are answers: " + round.rtts());
        round.rtts().forEach(rtt -> assertTrue(rtt > 0 && rtt < 1000, "rtt " + rtt));
    }

    @Test
    void whenProbesAreSpaced_thenRoundLastsAtLeastTheIntervals() throws Exception {
        int closedPort = closedLoopbackPort();
        long t0 = System.nanoTime();

        run(new ProbeRequest("127.0.0.1", 4, Duration.ofMillis(100), Duration.ofSeconds(1), closedPort));

        long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertTrue(elapsedMs >= 300, "3 intervals of 100 ms, took " + elapsedMs + " ms");
    }

    @Test
    void whenIpv6Loopback_thenResolvedAndAnswered() throws Exception {
        ProbeRound round = run(new ProbeRequest("::1", 2, Duration.ofMillis(50), Duration.ofSeconds(1),
                closedLoopbackPort()));

        assertFalse(round.isError());
        assertEquals("0:0:0:0:0:0:0:1", round.resolvedIp());
        assertEquals(2, round.received());
    }

    @Test
    void whenNameDoesNotResolve_thenErrorUnknownHost() throws Exception {
        ProbeRound round = run(new ProbeRequest("no-such-host.invalid", 3, Duration.ofMillis(100),
                Duration.ofSeconds(1), null));

        assertTrue(round.isError());
        assertEquals(TcpConnectProbe.UNKNOWN_HOST, round.error());
        assertEquals("Unknown host", round.error());
        assertNull(round.resolvedIp());
        assertEquals(0, round.sent());
        assertEquals(START, round.start());
    }

    @Test
    void whenAddressIsMulticastOrUnspecified_thenRefusedWithoutConnecting() throws Exception {
        for (String target : new String[] {"224.0.0.1", "0.0.0.0", "ff02::1"}) {
            ProbeRound round = run(new ProbeRequest(target, 3, Duration.ofMillis(100), Duration.ofSeconds(1), null));

            assertTrue(round.isError(), target);
            assertTrue(round.error().contains("multicast") || round.error().contains("unspecified"),
                    target + ": " + round.error());
            assertEquals(0, round.sent(), target);
        }
    }

    @Test
    void whenNameIsUnderDotInvalid_thenNoResolverIsAsked() {
        // RFC 6761: no DNS query leaves the machine for these names, whatever the resolver configuration.
        assertThrows(UnknownHostException.class, () -> TcpConnectProbe.resolve("x.INVALID."));
        assertThrows(UnknownHostException.class, () -> TcpConnectProbe.resolve("invalid"));
    }

    @Test
    void whenTargetIsUrl_thenHostAndSchemePortAreUsed() {
        assertEquals(new TcpConnectProbe.Destination("example.org", 443),
                TcpConnectProbe.Destination.of("https://example.org/status"));
        assertEquals(new TcpConnectProbe.Destination("example.org", 8080),
                TcpConnectProbe.Destination.of("http://example.org:8080/"));
        assertEquals(new TcpConnectProbe.Destination("[::1]", 80), TcpConnectProbe.Destination.of("http://[::1]/"));
        assertEquals(new TcpConnectProbe.Destination("example.org", null),
                TcpConnectProbe.Destination.of("example.org"));
    }

    @Test
    void whenPoolIsShutDown_thenRoundFailsInsteadOfHanging() {
        pool.shutdown();

        var future = probe.round(new ProbeRequest("127.0.0.1", 1, Duration.ofMillis(1), Duration.ofSeconds(1), 1));

        assertTrue(future.isCompletedExceptionally());
    }

    private ProbeRound run(ProbeRequest request) throws InterruptedException, ExecutionException, TimeoutException {
        return probe.round(request).get(20, TimeUnit.SECONDS);
    }

    /** A loopback port nobody listens on: bound, then released. */
    private static int closedLoopbackPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
