package net.swarming.testkit;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import net.swarming.testkit.internal.ProvidedElasticsearch;
import net.swarming.testkit.internal.TestElasticsearch;

/**
 * JUnit 5 extension: one real Elasticsearch node with security on (https, a file-realm superuser, API keys) per
 * JVM, shared by every test class of the run that asks for it (kept in the root {@link ExtensionContext.Store},
 * closed when the run ends), injected as a parameter of type {@link SecuredElasticsearchNode}.
 *
 * <p>It always comes from the local distribution zip, whatever {@code SWARM_TEST_ES_URL} or Docker offer for the plain
 * node: the test kit makes its certificates and credentials itself. See docs/testing.md. Tests share the node: use
 * unique index names.
 */
public final class SecuredElasticsearchExtension implements BeforeAllCallback, ParameterResolver {

  private static final Logger LOG = LoggerFactory.getLogger(SecuredElasticsearchExtension.class);
  private static final ExtensionContext.Namespace NAMESPACE =
      ExtensionContext.Namespace.create(SecuredElasticsearchExtension.class);
  private static final String KEY = "secured-node";

  @Override
  public void beforeAll(ExtensionContext context) {
    ElasticsearchNode node = provided(context).node();
    // An outage test of an earlier class may have left the shared node stopped.
    if (!node.isRunning()) {
      LOG.warn("the shared secured Elasticsearch node was left stopped by an earlier test class; starting it again");
      node.start();
    }
  }

  @Override
  public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
    return parameterContext.getParameter().getType() == SecuredElasticsearchNode.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
    try {
      return provided(extensionContext).node();
    } catch (RuntimeException e) {
      throw new ParameterResolutionException("could not provide a secured Elasticsearch: " + e.getMessage(), e);
    }
  }

  private static ProvidedElasticsearch provided(ExtensionContext context) {
    // The root store lives for the whole run and closes AutoCloseable values at its end (JUnit 5.13+).
    return context.getRoot().getStore(NAMESPACE)
        .getOrComputeIfAbsent(KEY, key -> TestElasticsearch.provideSecured(), ProvidedElasticsearch.class);
  }
}
