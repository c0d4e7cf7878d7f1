package net.swarming.testkit.internal;

import net.swarming.testkit.ElasticsearchNode;

/**
 * The node of a test run plus how to release it; kept in JUnit's root store, which closes it at the end of the run.
 */
public final class ProvidedElasticsearch implements AutoCloseable {

  /** What releasing a node does; may throw. */
  @FunctionalInterface
  public interface Closer {
    void close() throws Exception;
  }

  private final ElasticsearchNode node;
  private final Closer closer;
  private boolean closed;

  public ProvidedElasticsearch(ElasticsearchNode node, Closer closer) {
    this.node = node;
    this.closer = closer;
  }

  public ElasticsearchNode node() {
    return node;
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      closer.close();
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException("could not release Elasticsearch node " + node.url(), e);
    }
  }
}
