package net.swarming.agent.probe.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import net.swarming.agent.probe.ProbeContext;
import net.swarming.agent.probe.ProbeRequest;
import net.swarming.agent.probe.ProbeRound;
import net.swarming.common.wire.ProbeType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Against real HTTP and HTTPS servers on loopback; the HTTPS certificate is made by keytool for this run. */
@Timeout(60)
class HttpProbeTest {

    private static final char[] PASSWORD = "changeit".toCharArray();
    private static final long DELAY_MS = 40;

    @TempDir
    static Path dir;
    private static SSLContext serverTls;
    private static SSLContext clientTls;

    private final ExecutorService pool = Executors.newFixedThreadPool(2);
    private final AtomicInteger requests = new AtomicInteger();
    private HttpServer server;

    @BeforeAll
    static void makeCertificate() throws Exception {
        Path keystore = dir.resolve("server.p12");
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        Process p = new ProcessBuilder(keytool.toString(), "-genkeypair", "-alias", "server", "-keyalg", "EC",
                "-groupname", "secp256r1", "-validity", "2", "-dname", "CN=localhost",
                "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-storetype", "PKCS12", "-keystore", keystore.toString(),
                "-storepass", new String(PASSWORD), "-keypass", new String(PASSWORD))
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0, "keytool failed: " + out);
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keystore)) {
            ks.load(in, PASSWORD);
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, PASSWORD);
        serverTls = SSLContext.getInstance("TLS");
        serverTls.init(kmf.getKeyManagers(), null, null);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        clientTls = SSLContext.getInstance("TLS");
        clientTls.init(null, tmf.getTrustManagers(), null);
    }

    @AfterEach
    void tearDown() {
        if (server != null) {
            server.stop(0);
        }
        pool.shutdownNow();
    }

    private void serve(HttpServer s, int status) {
        server = s;
        s.createContext("/", exchange -> {
            requests.incrementAndGet();
            try {
                TimeUnit.MILLISECONDS.sleep(DELAY_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            exchange.sendResponseHeaders(status, -1);
            exchange.close();
        });
        s.setExecutor(Executors.newFixedThreadPool(2));
        s.start();
    }

    private HttpProbe probe() {
        return new HttpProbe(new ProbeContext(Clock.systemUTC(), pool, 80), clientTls.getSocketFactory());
    }

    private static ProbeRequest request(String target, int pings) {
        return new ProbeRequest(target, pings, Duration.ofMillis(50), Duration.ofSeconds(2), null);
    }

    @Test
    void whenHttpServerAnswers_thenStatusAndPhasesAndRttsOfEveryRequest() throws Exception {
        serve(HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0), 204);
        String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/health?x=1";

        ProbeRound r = probe().round(request(url, 3)).get(30, TimeUnit.SECONDS);

        assertNull(r.error());
        assertEquals(ProbeType.HTTP, r.probe());
        assertEquals("127.0.0.1", r.resolvedIp());
        assertEquals(3, r.received());
        assertEquals(3, requests.get());
        for (Double rtt : r.rtts()) {
            assertTrue(rtt >= DELAY_MS && rtt < 2000, "rtt " + rtt + " includes the server's " + DELAY_MS + " ms");
        }
        assertEquals(204, r.details().httpStatus());
        assertEquals(List.of("dns", "connect", "first_byte"), List.copyOf(r.details().phasesMs().keySet()));
        assertTrue(r.details().phasesMs().get("first_byte") >= DELAY_MS);
        assertTrue(r.details().phasesMs().get("connect") < DELAY_MS);
    }

    @Test
    void whenHttpsServerAnswers_thenTlsPhaseIsMeasuredAndHostVerified() throws Exception {
        HttpsServer https = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        https.setHttpsConfigurator(new HttpsConfigurator(serverTls));
        serve(https, 404);
        String url = "https://localhost:" + server.getAddress().getPort() + "/missing";

        ProbeRound r = probe().round(request(url, 2)).get(30, TimeUnit.SECONDS);

        assertNull(r.error());
        assertEquals(2, r.received(), r.toString());
        // Any response is an answer; the status says what it was.
        assertEquals(404, r.details().httpStatus());
        assertEquals(List.of("dns", "connect", "tls", "first_byte"),
                List.copyOf(r.details().phasesMs().keySet()));
        assertTrue(r.details().phasesMs().get("tls") > 0);
    }

    @Test
    void whenCertificateIsNotTrusted_thenEveryRequestIsAnErrorAnswer() throws Exception {
        HttpsServer https = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        https.setHttpsConfigurator(new HttpsConfigurator(serverTls));
        serve(https, 200);
        String url = "https://localhost:" + server.getAddress().getPort() + "/";
        HttpProbe defaultTrust = new HttpProbe(new ProbeContext(Clock.systemUTC(), pool, 80));

        ProbeRound r = defaultTrust.round(request(url, 2)).get(30, TimeUnit.SECONDS);

        assertEquals(0, r.received());
        assertEquals(2, r.probeErrors().size());
        assertTrue(r.probeErrors().get(0).description().startsWith("TLS handshake failed"), r.toString());
        assertNull(r.details().httpStatus());
        assertEquals(0, requests.get());
    }

    @Test
    void whenNothingListens_thenRefusalsAreErrorAnswers() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        ProbeRound r = probe().round(request("http://127.0.0.1:" + port + "/", 2)).get(30, TimeUnit.SECONDS);
        assertEquals(2, r.sent());
        assertEquals(0, r.received());
        assertEquals(2, r.probeErrors().size());
        assertTrue(r.probeErrors().get(0).description().startsWith("connect failed"), r.toString());
    }

    @Test
    void whenHostIsInvalidOrMulticast_thenRoundIsAnErrorWithoutTraffic() throws Exception {
        ProbeRound invalid = probe().round(request("http://nothing.invalid/", 2)).get(30, TimeUnit.SECONDS);
        assertEquals(HttpProbe.UNKNOWN_HOST, invalid.error());
        ProbeRound multicast = probe().round(request("http://224.0.0.1/", 2)).get(30, TimeUnit.SECONDS);
        assertNotNull(multicast.error());
        assertTrue(multicast.error().contains("multicast"), multicast.error());
    }

    @Test
    void whenUrlParsed_thenPortAndHostHeaderFollowTheScheme() {
        assertEquals(new HttpProbe.Url(true, "example.org", 443, "/"), HttpProbe.Url.of("https://example.org", null));
        assertEquals("example.org", HttpProbe.Url.of("https://example.org", null).hostHeader());
        assertEquals("example.org:8080", HttpProbe.Url.of("http://example.org:8080/a", null).hostHeader());
        assertEquals(new HttpProbe.Url(false, "::1", 81, "/a?b=c"), HttpProbe.Url.of("http://[::1]/a?b=c", 81));
        assertEquals("[::1]:81", HttpProbe.Url.of("http://[::1]/a?b=c", 81).hostHeader());
        assertEquals(new HttpProbe.Url(false, "example.org", 80, "/"), HttpProbe.Url.of("example.org", null));
    }
}
