package net.swarming.testkit.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.Base64;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import net.swarming.testkit.ElasticsearchNode;

/** Plain java.net.http access to an Elasticsearch node (http, or https with its CA and credentials). */
public final class EsHttp {

  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(120);

  private final HttpClient client;
  private final String baseUrl;
  private final String authorization;

  /** Plain HTTP (or https trusting the JVM's CAs), no credentials. */
  public EsHttp(String baseUrl) {
    this(baseUrl, null, null);
  }

  /**
   * @param ssl the TLS context for https URLs (trusting the node's CA), or null for the JVM's default
   * @param authorization the value of every request's {@code Authorization} header, or null for none
   */
  public EsHttp(String baseUrl, SSLContext ssl, String authorization) {
    this.baseUrl = stripTrailingSlash(baseUrl);
    HttpClient.Builder builder = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(CONNECT_TIMEOUT);
    if (ssl != null) {
      builder.sslContext(ssl);
    }
    this.client = builder.build();
    this.authorization = authorization;
  }

  private EsHttp(EsHttp other, String authorization) {
    this.baseUrl = other.baseUrl;
    this.client = other.client;
    this.authorization = authorization;
  }

  /** The same node and TLS settings with other credentials ({@code Authorization} header value, null for none). */
  public EsHttp withAuthorization(String authorization) {
    return new EsHttp(this, authorization);
  }

  /** The {@code Authorization} value of a basic-auth user. */
  public static String basic(String user, String password) {
    return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
  }

  /** An SSLContext that trusts exactly the CA certificates of a PEM file. */
  public static SSLContext trusting(Path caPem) {
    try (InputStream in = Files.newInputStream(caPem)) {
      KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
      trust.load(null, null);
      int i = 0;
      for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        trust.setCertificateEntry("ca-" + i++, c);
      }
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, tmf.getTrustManagers(), null);
      return ctx;
    } catch (IOException e) {
      throw new UncheckedIOException("could not read " + caPem, e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("could not trust the CA certificates of " + caPem + ": " + e, e);
    }
  }

  /** {@code url} without trailing slashes. */
  public static String stripTrailingSlash(String url) {
    String u = url.trim();
    while (u.endsWith("/")) {
      u = u.substring(0, u.length() - 1);
    }
    return u;
  }

  public String baseUrl() {
    return baseUrl;
  }

  /** Sends a request; connection problems become {@link UncheckedIOException} naming the URL. */
  public ElasticsearchNode.Response send(String method, String path, String body) {
    return send(method, path, body, REQUEST_TIMEOUT);
  }

  /** Sends a request with its own timeout. */
  public ElasticsearchNode.Response send(String method, String path, String body, Duration timeout) {
    String p = path.startsWith("/") ? path : "/" + path;
    HttpRequest.BodyPublisher publisher = body == null
        ? HttpRequest.BodyPublishers.noBody()
        : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8);
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(baseUrl + p))
        .timeout(timeout)
        .method(method, publisher);
    if (authorization != null) {
      request.header("Authorization", authorization);
    }
    if (body != null) {
      // _bulk takes NDJSON; Elasticsearch accepts either content type there.
      request.header("Content-Type", p.contains("_bulk") ? "application/x-ndjson" : "application/json");
    }
    try {
      HttpResponse<String> response = client.send(request.build(),
          HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
      return new ElasticsearchNode.Response(response.statusCode(), response.body());
    } catch (IOException e) {
      throw new UncheckedIOException(method + " " + baseUrl + p + " failed: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted during " + method + " " + baseUrl + p, e);
    }
  }

  /** True when {@code GET /_cluster/health?wait_for_status=yellow&timeout=1s} answers 200. Never throws. */
  public boolean healthy() {
    try {
      return send("GET", "/_cluster/health?wait_for_status=yellow&timeout=1s", null, Duration.ofSeconds(5))
          .status() == 200;
    } catch (RuntimeException e) {
      return false;
    }
  }
}
