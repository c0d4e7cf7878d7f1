package net.swarming.testkit.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import net.swarming.testkit.ElasticsearchNode;

/** Plain java.net.http access to an Elasticsearch node. */
public final class EsHttp {

  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(120);

  private final HttpClient client;
  private final String baseUrl;

  public EsHttp(String baseUrl) {
    this.baseUrl = stripTrailingSlash(baseUrl);
    this.client = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(CONNECT_TIMEOUT)
        .build();
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
