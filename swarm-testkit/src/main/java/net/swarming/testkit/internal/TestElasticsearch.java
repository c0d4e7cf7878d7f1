package net.swarming.testkit.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import net.swarming.testkit.LocalElasticsearch;

/**
 * Chooses and starts the Elasticsearch node of a test run:
 * <ol>
 *   <li>{@code SWARM_TEST_ES_URL} (or {@code -Dswarm.test.es.url}) → that node;</li>
 *   <li>else a reachable Docker engine → a Testcontainers {@code ElasticsearchContainer};</li>
 *   <li>else the local distribution zip, unpacked under the build directory.</li>
 * </ol>
 * {@code SWARM_TEST_ES_MODE} (or {@code -Dswarm.test.es.mode}) = {@code url|docker|local} forces one mode.
 */
public final class TestElasticsearch {

  public static final String URL_ENV = "SWARM_TEST_ES_URL";
  public static final String URL_PROPERTY = "swarm.test.es.url";
  public static final String MODE_ENV = "SWARM_TEST_ES_MODE";
  public static final String MODE_PROPERTY = "swarm.test.es.mode";
  public static final String HEAP_ENV = "SWARM_TEST_ES_HEAP";
  public static final String HEAP_PROPERTY = "swarm.test.es.heap";
  public static final String BUILD_DIR_PROPERTY = "swarm.build.dir";

  private static final Logger LOG = LoggerFactory.getLogger(TestElasticsearch.class);
  private static final Duration REMOTE_WAIT = Duration.ofSeconds(30);
  private static final String NODE_DIR_PREFIX = "es-test-node-";

  private TestElasticsearch() {}

  /** Starts (or connects to) the run's node. */
  public static ProvidedElasticsearch provide() {
    long t0 = System.nanoTime();
    String mode = setting(MODE_PROPERTY, MODE_ENV, "auto").toLowerCase(Locale.ROOT);
    String url = setting(URL_PROPERTY, URL_ENV, "");
    String heap = setting(HEAP_PROPERTY, HEAP_ENV, LocalElasticsearch.DEFAULT_HEAP);
    ProvidedElasticsearch provided;
    switch (mode) {
      case "url":
        if (url.isEmpty()) {
          throw new IllegalStateException(MODE_ENV + "=url but " + URL_ENV + " is not set");
        }
        provided = remote(url);
        break;
      case "docker":
        provided = docker(heap, "forced by " + MODE_ENV + "=docker");
        break;
      case "local":
        provided = local(heap, "forced by " + MODE_ENV + "=local");
        break;
      case "auto":
        if (!url.isEmpty()) {
          provided = remote(url);
        } else {
          DockerProbe.Result docker = DockerProbe.probe();
          provided = docker.available() ? docker(heap, docker.reason()) : local(heap, docker.reason());
        }
        break;
      default:
        throw new IllegalStateException(MODE_ENV + "='" + mode + "' is not one of auto, url, docker, local");
    }
    LOG.info("Elasticsearch for this test run: mode={} url={} (ready after {} ms)", provided.node().mode(),
        provided.node().url(), Duration.ofNanos(System.nanoTime() - t0).toMillis());
    return provided;
  }

  /**
   * Starts the run's secured node: always from the local distribution (its certificates and credentials are made
   * here), in {@code <build dir>/es-test-node-<pid>-<time>-secured/}.
   */
  public static ProvidedElasticsearch provideSecured() {
    long t0 = System.nanoTime();
    String heap = setting(HEAP_PROPERTY, HEAP_ENV, LocalElasticsearch.DEFAULT_HEAP);
    Path zip = EsDistribution.locateZip();
    Path buildDir = buildDir();
    removeStaleNodeDirs(buildDir);
    Path nodeDir = buildDir.resolve(NODE_DIR_PREFIX + ProcessHandle.current().pid() + "-" + System.currentTimeMillis()
        + "-secured");
    LocalElasticsearch es = LocalElasticsearch.builder()
        .zip(zip)
        .installBase(buildDir)
        .nodeDir(nodeDir)
        .heap(heap)
        .secured(true)
        .deleteNodeDirOnClose(true)
        .start();
    LOG.info("secured Elasticsearch for this test run: mode=local-distribution url={} user={} CA={} (ready after {} ms)",
        es.url(), es.secured().username(), es.secured().caCertificate(),
        Duration.ofNanos(System.nanoTime() - t0).toMillis());
    return new ProvidedElasticsearch(es.secured(), es::close);
  }

  private static ProvidedElasticsearch remote(String url) {
    RemoteElasticsearchNode node = new RemoteElasticsearchNode(url, "external-url", URL_ENV + "=" + url);
    LOG.info("Elasticsearch mode external-url: using {} from {}", node.url(), URL_ENV);
    long deadline = System.nanoTime() + REMOTE_WAIT.toNanos();
    while (!node.healthy()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(URL_ENV + "=" + url + " does not answer GET /_cluster/health with yellow or "
            + "green within " + REMOTE_WAIT + "; start that node or unset " + URL_ENV);
      }
      sleep(500);
    }
    return new ProvidedElasticsearch(node, () -> { });
  }

  private static ProvidedElasticsearch docker(String heap, String why) {
    String version = EsDistribution.configuredVersion();
    LOG.info("Elasticsearch mode docker ({}): starting {}:{}", why, ContainerElasticsearch.IMAGE, version);
    return ContainerElasticsearch.start(version, heap);
  }

  private static ProvidedElasticsearch local(String heap, String why) {
    Path zip = EsDistribution.locateZip();
    Path buildDir = buildDir();
    removeStaleNodeDirs(buildDir);
    Path nodeDir = buildDir.resolve(NODE_DIR_PREFIX + ProcessHandle.current().pid() + "-" + System.currentTimeMillis());
    LOG.info("Elasticsearch mode local-distribution ({}): {} under {}", why, zip.getFileName(), buildDir);
    LocalElasticsearch es = LocalElasticsearch.builder()
        .zip(zip)
        .installBase(buildDir)
        .nodeDir(nodeDir)
        .heap(heap)
        .deleteNodeDirOnClose(true)
        .start();
    return new ProvidedElasticsearch(es, es::close);
  }

  /** {@code -Dswarm.build.dir} (set by the parent pom), else {@code target} in the working directory. */
  static Path buildDir() {
    String dir = System.getProperty(BUILD_DIR_PROPERTY);
    Path path = dir == null || dir.isBlank() || dir.startsWith("${") ? Path.of("target") : Path.of(dir);
    return path.toAbsolutePath().normalize();
  }

  /** Node directories of earlier JVMs that died without closing their node. */
  private static void removeStaleNodeDirs(Path buildDir) {
    if (!Files.isDirectory(buildDir)) {
      return;
    }
    List<Path> stale;
    try (Stream<Path> list = Files.list(buildDir)) {
      stale = list.filter(p -> p.getFileName().toString().startsWith(NODE_DIR_PREFIX))
          .filter(p -> !ownerAlive(p.getFileName().toString()))
          .collect(Collectors.toList());
    } catch (IOException e) {
      return;
    }
    for (Path dir : stale) {
      try {
        FileTrees.deleteRecursively(dir);
        LOG.info("removed stale Elasticsearch node directory {}", dir);
      } catch (RuntimeException e) {
        LOG.warn("could not remove stale node directory {}: {}", dir, e.toString());
      }
    }
  }

  private static boolean ownerAlive(String dirName) {
    String rest = dirName.substring(NODE_DIR_PREFIX.length());
    int dash = rest.indexOf('-');
    try {
      long pid = Long.parseLong(dash > 0 ? rest.substring(0, dash) : rest);
      return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    } catch (NumberFormatException e) {
      return true;
    }
  }

  private static String setting(String property, String env, String fallback) {
    String value = System.getProperty(property);
    if (value == null || value.isBlank() || value.startsWith("${")) {
      value = System.getenv(env);
    }
    return value == null || value.isBlank() ? fallback : value.trim();
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for Elasticsearch", e);
    }
  }
}
