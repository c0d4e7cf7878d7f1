package net.swarming.testkit;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import net.swarming.testkit.internal.EsDistribution;

@Timeout(180)
class LocalElasticsearchFailureIT {

  @Test
  void whenNodeCannotStart_thenExceptionCarriesTheLogTailAndNothingIsLeftRunning() {
    Path buildDir = Path.of(System.getProperty("swarm.build.dir", "target")).toAbsolutePath();
    Path nodeDir = buildDir.resolve("es-failure-node-" + ProcessHandle.current().pid());
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> LocalElasticsearch.builder()
        .zip(EsDistribution.locateZip())
        .installBase(buildDir)
        .nodeDir(nodeDir)
        .heap("1k") // the JVM refuses a heap this small
        .startTimeout(Duration.ofSeconds(120))
        .deleteNodeDirOnClose(true)
        .start());
    String message = e.getMessage();
    assertTrue(message.startsWith("Elasticsearch exited with code"), message);
    assertTrue(message.contains("console.log (tail)"), message);
    assertTrue(message.toLowerCase().contains("heap"), message);
    assertFalse(Files.exists(nodeDir), "node directory removed after the failed start");
  }
}
