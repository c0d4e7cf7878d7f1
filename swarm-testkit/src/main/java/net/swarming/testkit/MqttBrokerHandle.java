package net.swarming.testkit;

/**
 * Common view of a running MQTT broker used by tests. The port is chosen once, at first start, and stays the same
 * across {@link #stop()}/{@link #start()} (so clients can reconnect to the same address), as does the data directory
 * (so persistence survives a restart).
 */
public interface MqttBrokerHandle extends AutoCloseable {

  /** Always {@code "127.0.0.1"}: test brokers listen on loopback only. */
  String host();

  /** The port chosen at first start; stays the same across stop/start. */
  int port();

  /** {@code "tcp://127.0.0.1:<port>"}, the form Paho takes. */
  default String uri() {
    return "tcp://" + host() + ":" + port();
  }

  /** {@code "127.0.0.1:<port>"}, the form the agent and indexer command lines take. */
  default String hostPort() {
    return host() + ":" + port();
  }

  /** Stops the broker gracefully (it saves its persistence); idempotent. */
  void stop();

  /** (Re)starts the broker on the same port with the same data directory; no-op when it is running. */
  void start();

  /** {@link #stop()} then {@link #start()}. */
  default void restart() {
    stop();
    start();
  }

  /** True while the broker is running. */
  boolean isRunning();

  /** Stops the broker and deletes its temporary files; idempotent. */
  @Override
  void close();
}
