package net.swarming.testkit.internal;

import java.util.function.Supplier;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * One {@link AutoCloseable} resource per test class: started in {@code beforeAll} (or earlier, when the constructor
 * of a {@code PER_CLASS} test asks for it), kept in the class's {@link ExtensionContext.Store} and closed by JUnit
 * when the class's context closes, right after {@code afterAll}. Injected as a parameter of exactly type {@code T}.
 * {@code @Nested} classes share the enclosing class's resource.
 */
public abstract class ClassScopedResourceExtension<T extends AutoCloseable>
    implements BeforeAllCallback, ParameterResolver {

  private final Class<T> type;
  private final Supplier<T> factory;
  private final ExtensionContext.Namespace namespace;

  protected ClassScopedResourceExtension(Class<T> type, Supplier<T> factory) {
    this.type = type;
    this.factory = factory;
    this.namespace = ExtensionContext.Namespace.create(ClassScopedResourceExtension.class, type);
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    resource(context);
  }

  @Override
  public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
    return parameterContext.getParameter().getType() == type;
  }

  @Override
  public Object resolveParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
    try {
      return resource(extensionContext);
    } catch (RuntimeException e) {
      throw new ParameterResolutionException("could not start " + type.getSimpleName() + ": " + e.getMessage(), e);
    }
  }

  private T resource(ExtensionContext context) {
    ExtensionContext classContext = classContext(context);
    // JUnit 5.13+ closes AutoCloseable store values when their context closes.
    return classContext.getStore(namespace).getOrComputeIfAbsent(type, t -> factory.get(), type);
  }

  private static ExtensionContext classContext(ExtensionContext context) {
    ExtensionContext current = context;
    while (current.getTestMethod().isPresent() && current.getParent().isPresent()) {
      current = current.getParent().get();
    }
    return current;
  }
}
