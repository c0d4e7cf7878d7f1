package net.swarming.testkit;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import net.swarming.testkit.internal.Executables;
import net.swarming.testkit.internal.Processes;

/**
 * Drives MQTT from tests through the real {@code mosquitto_pub}/{@code mosquitto_sub} programs (package
 * mosquitto-clients), so test code needs no MQTT client library. Every call is bounded in time. No client id is
 * passed unless you add {@code -i} to the extra arguments.
 */
public final class MosquittoClients {

  private static final Duration PUBLISH_TIMEOUT = Duration.ofSeconds(15);
  private static final String MESSAGE_PREFIX = "MSG\t";

  private MosquittoClients() {}

  /** A received message. {@code payload} is the text up to the end of its line. */
  public record Message(String topic, String payload, boolean retained, int qos) {}

  /** Publishes one text message; throws when mosquitto_pub fails or takes longer than 15 s. */
  public static void publish(MqttBrokerHandle broker, String topic, String payload, int qos, boolean retain,
      String... extraArgs) {
    List<String> command = publishCommand(broker, topic, qos, retain, extraArgs);
    command.add("-m");
    command.add(payload);
    run(command, null);
  }

  /**
   * Publishes one message read from mosquitto_pub's standard input ({@code -s}), for payloads too large for a
   * command-line argument.
   */
  public static void publish(MqttBrokerHandle broker, String topic, byte[] payload, int qos, boolean retain,
      String... extraArgs) {
    List<String> command = publishCommand(broker, topic, qos, retain, extraArgs);
    command.add("-s");
    run(command, payload);
  }

  private static List<String> publishCommand(MqttBrokerHandle broker, String topic, int qos, boolean retain,
      String... extraArgs) {
    List<String> command = new ArrayList<>(List.of(Executables.mosquittoPub().toString(),
        "-h", broker.host(), "-p", Integer.toString(broker.port()), "-t", topic, "-q", Integer.toString(qos)));
    if (retain) {
      command.add("-r");
    }
    command.addAll(Arrays.asList(extraArgs));
    return command;
  }

  private static void run(List<String> command, byte[] stdin) {
    try {
      Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
      try (OutputStream in = process.getOutputStream()) {
        if (stdin != null) {
          in.write(stdin);
        }
      }
      byte[] output = process.getInputStream().readNBytes(64 * 1024);
      if (!process.waitFor(PUBLISH_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        Processes.killTree(process);
        throw new IllegalStateException("mosquitto_pub did not finish within " + PUBLISH_TIMEOUT + ": " + command);
      }
      if (process.exitValue() != 0) {
        throw new IllegalStateException("mosquitto_pub exited with " + process.exitValue() + ": "
            + new String(output, StandardCharsets.UTF_8).trim() + " (command: " + command + ")");
      }
    } catch (IOException e) {
      throw new IllegalStateException("could not run mosquitto_pub: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while publishing", e);
    }
  }

  /**
   * Starts {@code mosquitto_sub} on {@code topicFilter}; it exits by itself after {@code maxLifetime} (its
   * {@code -W}). Call {@link Subscription#awaitSubscribed(Duration)} before publishing what it must see.
   */
  public static Subscription subscribe(MqttBrokerHandle broker, String topicFilter, int qos, Duration maxLifetime,
      String... extraArgs) {
    long seconds = Math.max(1, maxLifetime.toSeconds());
    List<String> command = new ArrayList<>();
    // mosquitto_sub block-buffers stdout into a pipe, which would hold back the SUBACK debug line: line-buffer it.
    Executables.find("stdbuf", List.of(Path.of("/usr/bin/stdbuf"), Path.of("/bin/stdbuf")))
        .ifPresent(stdbuf -> command.addAll(List.of(stdbuf.toString(), "-oL")));
    command.addAll(List.of(Executables.mosquittoSub().toString(),
        "-h", broker.host(), "-p", Integer.toString(broker.port()), "-t", topicFilter, "-q", Integer.toString(qos),
        "-d", "-W", Long.toString(seconds), "-F", "MSG\\t%r\\t%q\\t%t\\t%p"));
    command.addAll(Arrays.asList(extraArgs));
    try {
      return new Subscription(new ProcessBuilder(command).redirectErrorStream(true).start(), command);
    } catch (IOException e) {
      throw new IllegalStateException("could not run mosquitto_sub: " + e.getMessage(), e);
    }
  }

  /** A running mosquitto_sub. Close it when done (it also ends by itself after its lifetime). */
  public static final class Subscription implements AutoCloseable {
    private final Process process;
    private final List<String> command;
    private final CountDownLatch subscribed = new CountDownLatch(1);
    private final BlockingQueue<Message> messages = new LinkedBlockingQueue<>();
    private final List<String> output = Collections.synchronizedList(new ArrayList<>());

    private Subscription(Process process, List<String> command) throws IOException {
      this.process = process;
      this.command = command;
      process.getOutputStream().close();
      Thread reader = new Thread(this::read, "swarm-testkit-mosquitto-sub");
      reader.setDaemon(true);
      reader.start();
    }

    private void read() {
      try (BufferedReader in = new BufferedReader(
          new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = in.readLine()) != null) {
          if (line.startsWith(MESSAGE_PREFIX)) {
            String[] parts = line.split("\t", 5);
            if (parts.length == 5) {
              messages.add(new Message(parts[3], parts[4], "1".equals(parts[1]), Integer.parseInt(parts[2])));
              continue;
            }
          }
          if (line.contains("received SUBACK")) {
            subscribed.countDown();
          }
          if (output.size() < 200) {
            output.add(line);
          }
        }
      } catch (IOException e) {
        output.add("(reading mosquitto_sub failed: " + e + ")");
      }
    }

    /** Waits until the broker acknowledged the subscription; throws with mosquitto_sub's output otherwise. */
    public Subscription awaitSubscribed(Duration timeout) {
      try {
        if (!subscribed.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
          throw new IllegalStateException("mosquitto_sub got no SUBACK within " + timeout + "; output: " + output()
              + " (command: " + command + ")");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      }
      return this;
    }

    /** The next message, or null when none arrives within {@code timeout}. */
    public Message poll(Duration timeout) {
      try {
        return messages.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return null;
      }
    }

    /** The next message; throws with mosquitto_sub's output when none arrives within {@code timeout}. */
    public Message next(Duration timeout) {
      Message message = poll(timeout);
      if (message == null) {
        throw new IllegalStateException("no message within " + timeout + "; mosquitto_sub output: " + output()
            + " (command: " + command + ")");
      }
      return message;
    }

    /** Non-message output lines so far (debug lines, errors), for assertion messages. */
    public List<String> output() {
      synchronized (output) {
        return List.copyOf(output);
      }
    }

    /** True while mosquitto_sub runs. */
    public boolean isAlive() {
      return process.isAlive();
    }

    @Override
    public void close() {
      if (process.isAlive()) {
        Processes.terminateTree(process, Duration.ofSeconds(5));
      }
    }
  }
}
