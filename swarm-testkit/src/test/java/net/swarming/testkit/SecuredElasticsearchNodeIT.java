package net.swarming.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;

import javax.net.ssl.SSLHandshakeException;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import net.swarming.testkit.internal.EsHttp;

@ExtendWith(SecuredElasticsearchExtension.class)
@Timeout(300)
class SecuredElasticsearchNodeIT {

  private static String uniqueIndex() {
    return "testkit-secured-" + UUID.randomUUID();
  }

  @Test
  void whenStarted_thenHttpsWithACaFileAndASuperuser(SecuredElasticsearchNode es) throws Exception {
    assertTrue(es.url().startsWith("https://127.0.0.1:"), es.url());
    assertTrue(Files.readString(es.caCertificate()).startsWith("-----BEGIN CERTIFICATE-----"));
    String index = uniqueIndex();
    es.put("/" + index + "/_doc/1", "{\"n\":1}");
    es.refresh(index);
    assertEquals(1, es.count(index));
    assertTrue(es.get("/_security/_authenticate").contains("\"username\":\"" + es.username() + "\""));
  }

  @Test
  void whenNoOrWrongCredentials_then401(SecuredElasticsearchNode es) {
    assertEquals(401, es.withAuthorization(null).send("GET", "/_cluster/health", null).status());
    ElasticsearchNode wrong = es.withAuthorization(EsHttp.basic(es.username(), es.password() + "x"));
    ElasticsearchNode.Response r = wrong.send("GET", "/_cluster/health", null);
    assertEquals(401, r.status());
    assertTrue(r.body().contains("unable to authenticate user [" + es.username() + "]"), r.body());
  }

  @Test
  void whenApiKeyCreated_thenItAuthenticatesUntilInvalidated(SecuredElasticsearchNode es) {
    SecuredElasticsearchNode.ApiKey key = es.createApiKey("testkit-" + UUID.randomUUID());
    ElasticsearchNode asKey = es.withAuthorization(key.authorization());
    String index = uniqueIndex();
    asKey.put("/" + index + "/_doc/1", "{\"n\":1}");
    asKey.refresh(index);
    assertEquals(1, asKey.count(index));
    assertTrue(asKey.get("/_security/_authenticate").contains("\"api_key\""));

    es.invalidateApiKey(key);

    assertEquals(401, asKey.send("GET", "/_cluster/health", null).status());
  }

  @Test
  void whenClientTrustsAnotherCa_thenTheHandshakeFails(SecuredElasticsearchNode es, @TempDir Path dir) {
    TestCertificates.Authority other = TestCertificates.newAuthority(dir, "other-ca", "some-other-ca");
    EsHttp untrusting = new EsHttp(es.url(), EsHttp.trusting(other.certificate()),
        EsHttp.basic(es.username(), es.password()));
    UncheckedIOException e = assertThrows(UncheckedIOException.class,
        () -> untrusting.send("GET", "/_cluster/health", null));
    assertTrue(e.getCause() instanceof SSLHandshakeException, e.toString());
  }

  @Test
  void whenPlainHttp_thenNoAnswer(SecuredElasticsearchNode es) {
    EsHttp plain = new EsHttp(es.url().replace("https://", "http://"));
    assertThrows(UncheckedIOException.class, () -> plain.send("GET", "/_cluster/health", null));
  }
}
