package net.swarming.testkit;

import net.swarming.testkit.internal.ClassScopedResourceExtension;

/**
 * JUnit 5 extension: one real {@link MosquittoBroker} per test class, started before all tests and closed after
 * them, injected as a parameter of type {@link MosquittoBroker} (constructor, {@code @BeforeAll},
 * {@code @BeforeEach}, {@code @Test}).
 *
 * <pre>{@code
 * @ExtendWith(MosquittoExtension.class)
 * class RelayIT {
 *   @Test
 *   void whenPublished_thenReceived(MosquittoBroker broker) { ... broker.hostPort() ... }
 * }
 * }</pre>
 */
public final class MosquittoExtension extends ClassScopedResourceExtension<MosquittoBroker> {

  public MosquittoExtension() {
    super(MosquittoBroker.class, MosquittoBroker::launch);
  }
}
