package net.swarming.indexer.internal.sink.elasticsearch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import net.swarming.indexer.ElasticsearchAuth;
import net.swarming.indexer.internal.document.IndexDocument;
import net.swarming.indexer.internal.pipeline.SinkUnavailableException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Credentials as they reach a real HTTP server on loopback (one that challenges like Elasticsearch does). */
class ElasticsearchAuthTest {

    private HttpServer server;
    private final List<String> authorizations = new CopyOnWriteArrayList<>();

    @BeforeEach
    void startServer() throws Exception {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            String auth = exchange.getRequestHeaders().getFirst("Authorization");
            if (auth == null) {
                exchange.getResponseHeaders().add("WWW-Authenticate", "Basic realm=\"security\"");
                exchange.sendResponseHeaders(401, -1);
            } else {
                authorizations.add(auth);
                exchange.sendResponseHeaders(503, -1);
            }
            exchange.close();
        });
        server.start();
    }

    @AfterEach
    void stopServer() {
        server.stop(0);
    }

    private URI url() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    @Test
    void whenApiKey_thenEveryRequestCarriesIt() {
        try (ElasticsearchSink sink = new ElasticsearchSink(List.of(url()),
                new ElasticsearchAuth(null, null, "a2V5OnNlY3JldA==", null))) {
            assertThrows(SinkUnavailableException.class, sink::prepare);
        }
        assertEquals("ApiKey a2V5OnNlY3JldA==", authorizations.get(0));
    }

    @Test
    void whenBasicAuth_thenAnsweredToTheChallenge() {
        try (ElasticsearchSink sink = new ElasticsearchSink(List.of(url()),
                new ElasticsearchAuth("elastic", "changeme", null, null))) {
            assertThrows(SinkUnavailableException.class, sink::prepare);
        }
        assertEquals("Basic " + Base64.getEncoder().encodeToString("elastic:changeme".getBytes(StandardCharsets.UTF_8)),
                authorizations.get(0));
    }

    @Test
    void whenBulkAnswered401_thenUnavailableNamingTheCredentialsAndNothingDropped() throws Exception {
        String refusal = "{\"error\":{\"root_cause\":[],\"type\":\"security_exception\",\"reason\":"
                + "\"unable to authenticate with provided credentials\"},\"status\":401}";
        server.removeContext("/");
        server.createContext("/", exchange -> {
            byte[] body = refusal.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.getResponseHeaders().add("X-Elastic-Product", "Elasticsearch");
            exchange.sendResponseHeaders(401, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        try (ElasticsearchSink sink = new ElasticsearchSink(List.of(url()),
                new ElasticsearchAuth(null, null, "cmV2b2tlZA==", null))) {
            SinkUnavailableException e = assertThrows(SinkUnavailableException.class, () -> sink.write(List.of(
                    new IndexDocument("swarm-pings-t", "id-1", "{}".getBytes(StandardCharsets.UTF_8)))));
            assertTrue(e.getCause() instanceof CredentialsRefusedException, String.valueOf(e.getCause()));
            assertTrue(e.getCause().toString().contains("HTTP 401: unable to authenticate with provided credentials")
                    && e.getCause().toString().contains("--elasticsearch-api-key"), e.getCause().toString());

            SinkUnavailableException t = assertThrows(SinkUnavailableException.class, sink::prepare);
            assertTrue(t.getCause() instanceof CredentialsRefusedException, String.valueOf(t.getCause()));
        }
    }

    @Test
    void whenCaFileHasNoCertificate_thenRefusedNamingIt(@TempDir Path dir) throws Exception {
        Path pem = dir.resolve("ca.pem");
        Files.writeString(pem, "not a certificate\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ElasticsearchSink.sslContext(pem));
        assertTrue(e.getMessage().contains("elasticsearch-ca") && e.getMessage().contains(pem.toString()),
                e.getMessage());
    }

    private static void openssl(Path dir, String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), "openssl " + command + ": " + output);
    }

    @Test
    void whenHttpsWithCaFile_thenTrustedAndWithoutItRefused(@TempDir Path dir) throws Exception {
        openssl(dir, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
                "-days", "1", "-subj", "/CN=swarm-test-ca");
        openssl(dir, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "es.key", "-out", "es.csr", "-subj",
                "/CN=127.0.0.1");
        Files.writeString(dir.resolve("san.ext"), "subjectAltName=IP:127.0.0.1\n");
        openssl(dir, "x509", "-req", "-in", "es.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", "es.pem", "-days", "1", "-extfile", "san.ext");
        openssl(dir, "pkcs12", "-export", "-in", "es.pem", "-inkey", "es.key", "-out", "es.p12", "-passout",
                "pass:test");
        java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS12");
        try (var in = Files.newInputStream(dir.resolve("es.p12"))) {
            ks.load(in, "test".toCharArray());
        }
        javax.net.ssl.KeyManagerFactory kmf = javax.net.ssl.KeyManagerFactory.getInstance(
                javax.net.ssl.KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, "test".toCharArray());
        javax.net.ssl.SSLContext serverTls = javax.net.ssl.SSLContext.getInstance("TLS");
        serverTls.init(kmf.getKeyManagers(), null, null);
        com.sun.net.httpserver.HttpsServer https = com.sun.net.httpserver.HttpsServer.create(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        https.setHttpsConfigurator(new com.sun.net.httpserver.HttpsConfigurator(serverTls));
        https.createContext("/", exchange -> {
            authorizations.add(String.valueOf(exchange.getRequestHeaders().getFirst("Authorization")));
            exchange.sendResponseHeaders(503, -1);
            exchange.close();
        });
        https.start();
        try {
            URI url = URI.create("https://127.0.0.1:" + https.getAddress().getPort());
            try (ElasticsearchSink untrusted = new ElasticsearchSink(List.of(url),
                    new ElasticsearchAuth(null, null, "a2V5", null))) {
                assertThrows(SinkUnavailableException.class, untrusted::prepare);
            }
            assertEquals(List.of(), authorizations, "no request gets through an untrusted certificate");

            try (ElasticsearchSink trusted = new ElasticsearchSink(List.of(url),
                    new ElasticsearchAuth(null, null, "a2V5", dir.resolve("ca.pem")))) {
                assertThrows(SinkUnavailableException.class, trusted::prepare, "the server answers 503");
            }
            assertEquals("ApiKey a2V5", authorizations.get(0), "the request went through TLS to the server");
        } finally {
            https.stop(0);
        }
    }
}
