package net.swarming.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(ElasticsearchExtension.class)
@Timeout(300)
class ElasticsearchNodeIT {

  private static String uniqueIndex() {
    return "testkit-" + UUID.randomUUID();
  }

  @Test
  void whenDocIndexedAndRefreshed_thenCountIsOne(ElasticsearchNode es) {
    String index = uniqueIndex();
    es.put("/" + index + "/_doc/1", "{\"target\":\"127.0.0.1\",\"rtt_ms\":0.05}");
    es.refresh(index);
    assertEquals(1, es.count(index));
    assertTrue(es.get("/" + index + "/_doc/1").contains("127.0.0.1"));
  }

  @Test
  void whenIndexDoesNotExist_thenCountIsZero(ElasticsearchNode es) {
    String index = uniqueIndex();
    es.refresh(index);
    assertEquals(0, es.count(index));
    assertEquals(0, es.count(index + "-*"));
  }

  @Test
  void whenAnswerIsNot2xx_thenIllegalStateExceptionCarriesTheBody(ElasticsearchNode es) {
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> es.get("/" + uniqueIndex() + "/_doc/1"));
    assertTrue(e.getMessage().contains("404"), e.getMessage());
    assertTrue(e.getMessage().contains("index_not_found_exception"), e.getMessage());
    assertEquals(404, es.send("GET", "/" + uniqueIndex() + "/_doc/1", null).status());
  }

  @Test
  void whenBulkSent_thenEveryItemIsIndexed(ElasticsearchNode es) {
    String index = uniqueIndex();
    String body = "{\"create\":{\"_index\":\"" + index + "\",\"_id\":\"a\"}}\n{\"n\":1}\n"
        + "{\"create\":{\"_index\":\"" + index + "\",\"_id\":\"b\"}}\n{\"n\":2}\n";
    String answer = es.post("/_bulk?refresh=true", body);
    assertTrue(answer.contains("\"errors\":false"), answer);
    assertEquals(2, es.count(index));
  }

  @Test
  void whenLocalNodeStoppedAndStarted_thenDataAndUrlAreKept(ElasticsearchNode es) {
    if (!(es instanceof LocalElasticsearch)) {
      // Docker and external nodes cannot be stopped from a test: they say so clearly.
      UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class, es::stop);
      assertTrue(e.getMessage().contains("local-distribution"), e.getMessage());
      return;
    }
    String index = uniqueIndex();
    es.put("/" + index + "/_doc/1?refresh=true", "{\"kept\":true}");
    String url = es.url();

    es.stop();
    assertFalse(es.isRunning());
    assertThrows(RuntimeException.class, () -> es.get("/_cluster/health"));
    es.stop(); // idempotent
    es.start();

    assertTrue(es.isRunning());
    assertEquals(url, es.url());
    assertEquals(1, es.count(index));
  }
}
