package net.swarming.testkit.internal;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** JVM shutdown hooks that stop child processes, so no broker or Elasticsearch outlives the test JVM. */
public final class ShutdownHooks {

  private static final Logger LOG = LoggerFactory.getLogger(ShutdownHooks.class);

  private ShutdownHooks() {}

  /** A registered hook; {@link #remove()} once the resource was closed normally. */
  public static final class Registration {
    private final Thread thread;

    private Registration(Thread thread) {
      this.thread = thread;
    }

    /** Unregisters the hook; harmless while the JVM is already shutting down. */
    public void remove() {
      try {
        Runtime.getRuntime().removeShutdownHook(thread);
      } catch (IllegalStateException e) {
        // The JVM is shutting down: the hook runs (or ran) anyway.
      }
    }
  }

  /** Registers {@code action} to run at JVM exit; failures are logged, never thrown. */
  public static Registration register(String what, Runnable action) {
    Thread thread = new Thread(() -> {
      try {
        action.run();
      } catch (Throwable t) {
        LOG.warn("shutdown hook for {} failed", what, t);
      }
    }, "swarm-testkit-shutdown");
    Runtime.getRuntime().addShutdownHook(thread);
    return new Registration(thread);
  }
}
