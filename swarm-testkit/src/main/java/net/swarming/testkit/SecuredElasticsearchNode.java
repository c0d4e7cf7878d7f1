package net.swarming.testkit;

import java.nio.file.Path;

/**
 * A real Elasticsearch node with security on: https only (a certificate for {@code 127.0.0.1}/{@code localhost}
 * signed by a CA made for this node), a file-realm superuser, and API keys. {@link #url()} is
 * {@code https://127.0.0.1:<port>}; the requests of {@link ElasticsearchNode} ({@code get}, {@code count}...) are
 * sent as that superuser and trust only {@link #caCertificate()}.
 */
public interface SecuredElasticsearchNode extends ElasticsearchNode {

  /** An API key as {@code POST /_security/api_key} returns it. */
  record ApiKey(String id, String name, String encoded) {
    /** The {@code Authorization} header value: {@code "ApiKey <encoded>"}. */
    public String authorization() {
      return "ApiKey " + encoded;
    }

    @Override
    public String toString() {
      return "ApiKey[" + id + ", " + name + "]";
    }
  }

  /** The PEM file of the CA that signed the node's HTTP certificate (what clients pass as their CA file). */
  Path caCertificate();

  /** The file-realm user (role {@code superuser}). */
  String username();

  /** Its password (random per node). */
  String password();

  /** Creates an API key of the superuser, named {@code name}, through {@code POST /_security/api_key}. */
  ApiKey createApiKey(String name);

  /** Invalidates a key ({@code DELETE /_security/api_key}): from then on it is refused with 401. */
  void invalidateApiKey(ApiKey key);

  /**
   * The same node spoken to with other credentials: {@code authorization} is the whole {@code Authorization} header
   * value (e.g. {@link ApiKey#authorization()}), or null for none. Stop and start act on the node itself.
   */
  ElasticsearchNode withAuthorization(String authorization);
}
