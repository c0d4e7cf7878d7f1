package net.swarming.testkit;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A running Elasticsearch node for tests, spoken to over plain HTTP (no client library). Paths start with
 * {@code /}; request bodies are JSON (or NDJSON for {@code _bulk}).
 */
public interface ElasticsearchNode {

  /** An HTTP answer: status code and body. */
  record Response(int status, String body) {
    /** True for 2xx. */
    public boolean isSuccess() {
      return status >= 200 && status < 300;
    }
  }

  /** Base URL without a trailing slash, e.g. {@code "http://127.0.0.1:9213"}. */
  String url();

  /** {@code "host:port"} of {@link #url()}, the form some command lines take. */
  default String hostPort() {
    String url = url();
    int scheme = url.indexOf("://");
    String rest = scheme >= 0 ? url.substring(scheme + 3) : url;
    int slash = rest.indexOf('/');
    return slash >= 0 ? rest.substring(0, slash) : rest;
  }

  /** How this node was provided: "local-distribution", "docker" or "external-url". */
  String mode();

  /** Sends any request and returns the answer whatever its status; {@code body} may be null. */
  Response send(String method, String path, String body);

  /** GET url+path and return the body; throws {@link IllegalStateException} (with the body) on non-2xx. */
  default String get(String path) {
    return expect2xx("GET", path, send("GET", path, null));
  }

  /** POST with content-type application/json; throws {@link IllegalStateException} (with the body) on non-2xx. */
  default String post(String path, String jsonBody) {
    return expect2xx("POST", path, send("POST", path, jsonBody));
  }

  /** PUT with content-type application/json; throws {@link IllegalStateException} (with the body) on non-2xx. */
  default String put(String path, String jsonBody) {
    return expect2xx("PUT", path, send("PUT", path, jsonBody));
  }

  /** DELETE; throws {@link IllegalStateException} (with the body) on non-2xx. */
  default String delete(String path) {
    return expect2xx("DELETE", path, send("DELETE", path, null));
  }

  /** {@code POST /<index>/_refresh?ignore_unavailable=true}: makes everything written so far searchable. */
  default void refresh(String indexOrPattern) {
    post("/" + indexOrPattern + "/_refresh?ignore_unavailable=true", null);
  }

  /** {@code POST /<index>/_count?ignore_unavailable=true}: the document count, 0 when there is no such index yet. */
  default long count(String indexOrPattern) {
    String body = post("/" + indexOrPattern + "/_count?ignore_unavailable=true", null);
    Matcher m = Pattern.compile("\"count\"\\s*:\\s*(\\d+)").matcher(body);
    if (!m.find()) {
      throw new IllegalStateException("no count in the answer to _count on " + indexOrPattern + ": " + body);
    }
    return Long.parseLong(m.group(1));
  }

  /**
   * Stops the node (for outage tests). Only the local-distribution node supports this; others throw
   * {@link UnsupportedOperationException}.
   */
  void stop();

  /** Starts a stopped node again on the same port with the same data. Local-distribution node only. */
  void start();

  /** True while the node runs (for remote nodes: answers on its health endpoint). */
  boolean isRunning();

  private static String expect2xx(String method, String path, Response response) {
    if (!response.isSuccess()) {
      throw new IllegalStateException(
          "Elasticsearch answered " + response.status() + " to " + method + " " + path + ": " + response.body());
    }
    return response.body();
  }
}
