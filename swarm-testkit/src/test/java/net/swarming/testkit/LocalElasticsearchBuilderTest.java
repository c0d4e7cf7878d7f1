package net.swarming.testkit;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.Test;

class LocalElasticsearchBuilderTest {

  @Test
  void whenOptionsAreWrong_thenEveryProblemIsReportedAtOnce() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LocalElasticsearch.builder()
        .zip(Path.of("/nonexistent/elasticsearch.zip"))
        .httpPort(70000)
        .heap("lots")
        .startTimeout(Duration.ZERO)
        .start());
    String message = e.getMessage();
    assertTrue(message.contains("zip: /nonexistent/elasticsearch.zip does not exist"), message);
    assertTrue(message.contains("nodeDir: required"), message);
    assertTrue(message.contains("httpPort: 70000"), message);
    assertTrue(message.contains("heap: 'lots'"), message);
    assertTrue(message.contains("startTimeout"), message);
  }
}
