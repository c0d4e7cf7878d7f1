package net.swarming.testkit;

import net.swarming.testkit.internal.ClassScopedResourceExtension;

/**
 * JUnit 5 extension: one embedded {@link MoquetteBroker} per test class, started before all tests and closed after
 * them, injected as a parameter of type {@link MoquetteBroker} (constructor, {@code @BeforeAll},
 * {@code @BeforeEach}, {@code @Test}).
 */
public final class MoquetteExtension extends ClassScopedResourceExtension<MoquetteBroker> {

  public MoquetteExtension() {
    super(MoquetteBroker.class, MoquetteBroker::launch);
  }
}
