package net.swarming.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;

import io.moquette.broker.Server;
import io.moquette.broker.config.MemoryConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import net.swarming.testkit.internal.FileTrees;
import net.swarming.testkit.internal.FreePorts;
import net.swarming.testkit.internal.ShutdownHooks;

/**
 * An embedded Moquette 0.17 broker ({@link Server}) in this JVM, on 127.0.0.1 and a free port, with anonymous
 * access, zero-byte client ids allowed (so {@code mosquitto_pub} without {@code -i} works), a 16 MiB message size
 * limit (a {@code watch} with 100,000 targets is about 1.5 MB), persistence in a temporary directory, and telemetry
 * always off (Moquette 0.17 would otherwise contact an outside host).
 *
 * <p>Known Moquette 0.17 defects (see the platform notes): a restart on an existing data directory can fail ("Can't
 * track for expiration a session without expiry instant") when one client id connected with clean session false and
 * later true; retained messages on QoS ≥ 1 subscriptions arrive with RETAIN=0.
 *
 * <p>Note: Java does not allow a static {@code start()} next to the instance {@link #start()} of
 * {@link MqttBrokerHandle}, so the no-argument factory is {@link #launch()}.
 */
public final class MoquetteBroker implements MqttBrokerHandle {

  /** The largest MQTT message the test broker accepts: 16 MiB. */
  public static final int MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

  private static final Logger LOG = LoggerFactory.getLogger(MoquetteBroker.class);
  private static final Duration PORT_RELEASE_TIMEOUT = Duration.ofSeconds(10);
  private static final int FIRST_START_ATTEMPTS = 3;

  private final Path dir;
  private final Properties extra;
  private final ShutdownHooks.Registration hook;
  private int port;
  private Server server;
  private boolean closed;

  private MoquetteBroker(Path dir, Properties extra) {
    this.dir = dir;
    this.extra = extra;
    this.hook = ShutdownHooks.register("moquette " + dir, this::stopQuietly);
  }

  /** Starts a broker with the test defaults. */
  public static MoquetteBroker launch() {
    return launch(new Properties());
  }

  /**
   * Starts a broker with the test defaults overridden by {@code extra} (Moquette property names, e.g.
   * {@code session_queue_size}). {@code host}, {@code port} and {@code telemetry_enabled} cannot be overridden.
   */
  public static MoquetteBroker launch(Properties extra) {
    Path dir;
    try {
      dir = Files.createTempDirectory("swarm-moquette-");
    } catch (IOException e) {
      throw new UncheckedIOException("could not create a temporary directory for Moquette", e);
    }
    Properties copy = new Properties();
    if (extra != null) {
      extra.stringPropertyNames().forEach(name -> copy.setProperty(name, extra.getProperty(name)));
    }
    MoquetteBroker broker = new MoquetteBroker(dir, copy);
    try {
      broker.firstStart();
      return broker;
    } catch (RuntimeException e) {
      broker.close();
      throw e;
    }
  }

  /** Same as {@link #launch(Properties)}. */
  public static MoquetteBroker start(Properties extra) {
    return launch(extra);
  }

  private void firstStart() {
    IllegalStateException last = null;
    for (int attempt = 1; attempt <= FIRST_START_ATTEMPTS; attempt++) {
      port = FreePorts.pick();
      try {
        start();
        return;
      } catch (IllegalStateException e) {
        last = e;
        LOG.warn("Moquette did not start on port {} (attempt {} of {}): {}", port, attempt, FIRST_START_ATTEMPTS,
            e.getMessage());
      }
    }
    throw last;
  }

  /** The properties handed to Moquette: test defaults, then the caller's extras, then the forced ones. */
  Properties effectiveProperties() {
    Properties props = new Properties();
    props.setProperty("allow_anonymous", "true");
    props.setProperty("allow_zero_byte_client_id", "true");
    props.setProperty("netty.mqtt.message_size", Integer.toString(MAX_MESSAGE_BYTES));
    props.setProperty("persistence_enabled", "true");
    props.setProperty("data_path", dir.resolve("data").toString());
    props.setProperty("websocket_port", "disabled");
    extra.stringPropertyNames().forEach(name -> props.setProperty(name, extra.getProperty(name)));
    props.setProperty("host", FreePorts.LOOPBACK);
    props.setProperty("port", Integer.toString(port));
    props.setProperty("telemetry_enabled", "false");
    return props;
  }

  @Override
  public String host() {
    return FreePorts.LOOPBACK;
  }

  @Override
  public synchronized int port() {
    return port;
  }

  @Override
  public synchronized void start() {
    if (closed) {
      throw new IllegalStateException("this Moquette broker is closed");
    }
    if (server != null) {
      return;
    }
    long t0 = System.nanoTime();
    Server candidate = new Server();
    try {
      candidate.startServer(new MemoryConfig(effectiveProperties()));
    } catch (IOException | RuntimeException e) {
      // A failed startServer leaves Moquette's threads running: stop what was started.
      try {
        candidate.stopServer();
      } catch (RuntimeException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw new IllegalStateException("Moquette did not start on " + hostPort() + " (data " + dir + "): " + e, e);
    }
    server = candidate;
    LOG.info("Moquette listening on {} (dir {}) after {} ms", hostPort(), dir,
        Duration.ofNanos(System.nanoTime() - t0).toMillis());
  }

  @Override
  public synchronized void stop() {
    if (server == null) {
      return;
    }
    try {
      server.stopServer();
    } finally {
      server = null;
    }
    // Make sure the port is free again before a restart binds it.
    long deadline = System.nanoTime() + PORT_RELEASE_TIMEOUT.toNanos();
    while (FreePorts.accepts(port, Duration.ofMillis(200)) && System.nanoTime() < deadline) {
      try {
        Thread.sleep(25);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    LOG.info("Moquette on {} stopped", hostPort());
  }

  @Override
  public synchronized boolean isRunning() {
    return server != null;
  }

  /** The embedded Moquette server while running (e.g. for {@code listConnectedClients()}), else null. */
  public synchronized Server server() {
    return server;
  }

  /** The broker's temporary directory (persistence under {@code data/}). */
  public Path directory() {
    return dir;
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    stop();
    closed = true;
    hook.remove();
    FileTrees.deleteRecursively(dir);
  }

  private void stopQuietly() {
    Server s = server;
    if (s != null) {
      s.stopServer();
    }
  }

  @Override
  public String toString() {
    return "MoquetteBroker[" + hostPort() + "]";
  }
}
