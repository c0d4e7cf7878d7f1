package net.swarming.testkit.internal;

import org.testcontainers.elasticsearch.ElasticsearchContainer;
import org.testcontainers.utility.DockerImageName;

/** Starts Elasticsearch in Docker through Testcontainers (only when a Docker engine is reachable). */
final class ContainerElasticsearch {

  static final String IMAGE = "docker.elastic.co/elasticsearch/elasticsearch";

  private ContainerElasticsearch() {}

  /** A started container node and the action that stops it. */
  static ProvidedElasticsearch start(String version, String heap) {
    ElasticsearchContainer container = new ElasticsearchContainer(DockerImageName.parse(IMAGE).withTag(version))
        .withEnv("xpack.security.enabled", "false")
        .withEnv("xpack.ml.enabled", "false")
        .withEnv("cluster.routing.allocation.disk.threshold_enabled", "false")
        .withEnv("action.destructive_requires_name", "false")
        .withEnv("ES_JAVA_OPTS", "-Xms" + heap + " -Xmx" + heap);
    container.start();
    String url = "http://" + container.getHttpHostAddress();
    RemoteElasticsearchNode node = new RemoteElasticsearchNode(url, "docker", IMAGE + ":" + version);
    return new ProvidedElasticsearch(node, container::stop);
  }
}
