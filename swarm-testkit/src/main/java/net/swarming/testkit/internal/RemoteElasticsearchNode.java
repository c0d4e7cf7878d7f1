package net.swarming.testkit.internal;

import net.swarming.testkit.ElasticsearchNode;

/** A node this JVM did not start (external URL or Docker container): no stop/start. */
public class RemoteElasticsearchNode implements ElasticsearchNode {

  private final EsHttp http;
  private final String mode;
  private final String origin;

  /**
   * @param origin where the node comes from, for messages (e.g. "SWARM_TEST_ES_URL=http://...")
   */
  public RemoteElasticsearchNode(String url, String mode, String origin) {
    this.http = new EsHttp(url);
    this.mode = mode;
    this.origin = origin;
  }

  @Override
  public String url() {
    return http.baseUrl();
  }

  @Override
  public String mode() {
    return mode;
  }

  @Override
  public Response send(String method, String path, String body) {
    return http.send(method, path, body);
  }

  @Override
  public void stop() {
    throw unsupported("stop()");
  }

  @Override
  public void start() {
    throw unsupported("start()");
  }

  @Override
  public boolean isRunning() {
    return http.healthy();
  }

  /** True once the node answers its health endpoint (yellow or better). */
  public boolean healthy() {
    return http.healthy();
  }

  private UnsupportedOperationException unsupported(String what) {
    return new UnsupportedOperationException(what + " is only supported on the local-distribution Elasticsearch node; "
        + "this run uses a " + mode + " node (" + origin + "). For outage tests run with SWARM_TEST_ES_MODE=local "
        + "(and without SWARM_TEST_ES_URL).");
  }

  @Override
  public String toString() {
    return "ElasticsearchNode[" + mode + ", " + url() + "]";
  }
}
