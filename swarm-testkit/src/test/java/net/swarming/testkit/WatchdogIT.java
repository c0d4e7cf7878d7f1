package net.swarming.testkit;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import net.swarming.testkit.internal.FreePorts;

/** A broker must not outlive a test JVM that dies without running its shutdown hooks. */
@Timeout(60)
class WatchdogIT {

  /** The JVM that gets killed: starts a broker, prints its port, waits. */
  public static final class Child {
    public static void main(String[] args) throws InterruptedException {
      MosquittoBroker broker = MosquittoBroker.launch();
      // The parent reads this line: this main is a tiny command-line program.
      System.out.println("PORT " + broker.port());
      System.out.flush();
      Thread.sleep(Duration.ofMinutes(5).toMillis());
    }
  }

  @Test
  void whenTestJvmIsKilled_thenItsBrokerStopsToo() throws Exception {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Process child = new ProcessBuilder(List.of(java.toString(), "-cp", System.getProperty("java.class.path"),
        Child.class.getName())).redirectErrorStream(true).start();
    try {
      int port = readPort(child);
      assertTrue(FreePorts.accepts(port, Duration.ofSeconds(1)), "broker of the child JVM listens");

      child.destroyForcibly().waitFor(); // SIGKILL: no shutdown hooks run

      long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
      while (FreePorts.accepts(port, Duration.ofMillis(200)) && System.nanoTime() < deadline) {
        Thread.sleep(100);
      }
      assertFalse(FreePorts.accepts(port, Duration.ofMillis(200)), "broker on port " + port + " stopped by the watchdog");
    } finally {
      child.destroyForcibly();
    }
  }

  private static int readPort(Process child) throws Exception {
    BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
    StringBuilder seen = new StringBuilder();
    String line;
    while ((line = in.readLine()) != null) {
      if (line.startsWith("PORT ")) {
        return Integer.parseInt(line.substring(5).trim());
      }
      seen.append(line).append('\n');
    }
    return fail("child JVM ended without printing its port:\n" + seen);
  }
}
