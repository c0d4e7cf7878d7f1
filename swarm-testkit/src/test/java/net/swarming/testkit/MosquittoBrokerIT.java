package net.swarming.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import net.swarming.testkit.MosquittoClients.Message;
import net.swarming.testkit.MosquittoClients.Subscription;
import net.swarming.testkit.internal.FreePorts;

@ExtendWith(MosquittoExtension.class)
@Timeout(60)
class MosquittoBrokerIT {

  private static final Duration WAIT = Duration.ofSeconds(10);

  private final MosquittoBroker broker;

  MosquittoBrokerIT(MosquittoBroker broker) {
    this.broker = broker;
  }

  @Test
  void whenStarted_thenAddressesAreLoopbackWithChosenPort() {
    assertTrue(broker.isRunning());
    assertEquals("127.0.0.1", broker.host());
    assertEquals("tcp://127.0.0.1:" + broker.port(), broker.uri());
    assertEquals("127.0.0.1:" + broker.port(), broker.hostPort());
    assertTrue(Files.isRegularFile(broker.logFile()), "log file " + broker.logFile());
  }

  @Test
  void whenInjectedTwice_thenSameBrokerForTheClass(MosquittoBroker again) {
    assertSame(broker, again, "one broker per test class");
  }

  @Test
  void whenPublished_thenSubscriberReceivesIt() {
    try (Subscription sub = MosquittoClients.subscribe(broker, "ping/+", 1, Duration.ofSeconds(30))) {
      sub.awaitSubscribed(WAIT);
      MosquittoClients.publish(broker, "ping/127.0.0.9", "{\"rtt\":1}", 1, false);
      assertEquals(new Message("ping/127.0.0.9", "{\"rtt\":1}", false, 1), sub.next(WAIT));
    }
  }

  @Test
  void whenRetainedAndBrokerRestarted_thenRetainedMessageSurvivesOnSamePort() {
    int port = broker.port();
    MosquittoClients.publish(broker, "watch", "targets-v1", 1, true);

    broker.stop();
    assertFalse(broker.isRunning());
    assertFalse(FreePorts.accepts(port, Duration.ofMillis(500)), "nothing listens while stopped");
    broker.stop(); // idempotent
    broker.start();

    assertTrue(broker.isRunning());
    assertEquals(port, broker.port());
    try (Subscription sub = MosquittoClients.subscribe(broker, "watch", 1, Duration.ofSeconds(30))) {
      Message retained = sub.awaitSubscribed(WAIT).next(WAIT);
      assertEquals(new Message("watch", "targets-v1", true, 1), retained);
    }
  }

  @Test
  void whenKilled_thenItCanBeStartedAgain() {
    broker.kill();
    assertFalse(broker.isRunning());
    broker.start();
    try (Subscription sub = MosquittoClients.subscribe(broker, "rip/#", 0, Duration.ofSeconds(30))) {
      sub.awaitSubscribed(WAIT);
      MosquittoClients.publish(broker, "rip/agent/bee-1", "gone", 0, false);
      assertEquals("gone", sub.next(WAIT).payload());
    }
  }

  @Test
  void whenPersistenceOff_thenRetainedMessageIsLostOnRestart() {
    try (MosquittoBroker volatileBroker = MosquittoBroker.launch(MosquittoOptions.defaults().withPersistence(false))) {
      MosquittoClients.publish(volatileBroker, "watch", "targets-v1", 1, true);
      volatileBroker.restart();
      try (Subscription sub = MosquittoClients.subscribe(volatileBroker, "watch", 1, Duration.ofSeconds(30))) {
        sub.awaitSubscribed(WAIT);
        assertNull(sub.poll(Duration.ofSeconds(1)));
      }
    }
  }

  @Test
  void whenExtraConfigGiven_thenItIsInTheGeneratedConfig() throws Exception {
    MosquittoOptions options = MosquittoOptions.defaults().withExtraConfig("max_inflight_messages 7");
    try (MosquittoBroker custom = MosquittoBroker.start(options)) {
      assertTrue(Files.readString(custom.configFile()).contains("max_inflight_messages 7"));
      assertTrue(custom.isRunning());
    }
  }

  @Test
  void whenClosedTwice_thenStoppedAndTempFilesGone() {
    MosquittoBroker own = MosquittoBroker.launch();
    Path dir = own.directory();
    own.close();
    own.close();
    assertFalse(own.isRunning());
    assertFalse(Files.exists(dir), "temporary directory deleted");
  }
}
