package net.swarming.testkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import net.swarming.testkit.MosquittoClients.Subscription;
import net.swarming.testkit.internal.FreePorts;

@ExtendWith(MoquetteExtension.class)
@Timeout(60)
class MoquetteBrokerIT {

  private static final Duration WAIT = Duration.ofSeconds(10);

  @Test
  void whenMosquittoPubWithoutClientId_thenSubscriberReceivesIt(MoquetteBroker broker) {
    try (Subscription sub = MosquittoClients.subscribe(broker, "ping/+", 1, Duration.ofSeconds(30))) {
      sub.awaitSubscribed(WAIT);
      MosquittoClients.publish(broker, "ping/127.0.0.2", "pong", 1, false);
      MosquittoClients.Message message = sub.next(WAIT);
      assertEquals("ping/127.0.0.2", message.topic());
      assertEquals("pong", message.payload());
    }
  }

  @Test
  void whenRestarted_thenSamePortAndStillRelays(MoquetteBroker broker) {
    int port = broker.port();
    broker.stop();
    assertFalse(broker.isRunning());
    assertFalse(FreePorts.accepts(port, Duration.ofMillis(500)), "nothing listens while stopped");
    broker.start();
    assertTrue(broker.isRunning());
    assertEquals(port, broker.port());
    assertEquals("tcp://127.0.0.1:" + port, broker.uri());
    try (Subscription sub = MosquittoClients.subscribe(broker, "rip/#", 0, Duration.ofSeconds(30))) {
      sub.awaitSubscribed(WAIT);
      MosquittoClients.publish(broker, "rip/agent/bee-2", "gone", 0, false);
      assertEquals("gone", sub.next(WAIT).payload());
    }
  }

  @Test
  void whenWatchIsLarge_thenItPassesTheMessageSizeLimit(MoquetteBroker broker) {
    // A watch with 100,000 targets is about 1.5 MB; Moquette's default limit is 8092 bytes.
    byte[] payload = new byte[1_600_000];
    Arrays.fill(payload, (byte) 'x');
    try (Subscription sub = MosquittoClients.subscribe(broker, "watch", 1, Duration.ofSeconds(30))) {
      sub.awaitSubscribed(WAIT);
      MosquittoClients.publish(broker, "watch", payload, 1, false);
      assertArrayEquals(payload, sub.next(WAIT).payload().getBytes(StandardCharsets.US_ASCII));
    }
  }

  @Test
  void whenClosedTwice_thenStoppedAndTempFilesGone() {
    MoquetteBroker own = MoquetteBroker.launch();
    Path dir = own.directory();
    assertTrue(own.isRunning());
    own.close();
    own.close();
    assertFalse(own.isRunning());
    assertFalse(Files.exists(dir), "temporary directory deleted");
  }
}
