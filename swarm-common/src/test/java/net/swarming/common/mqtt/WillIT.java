package net.swarming.common.mqtt;

import static net.swarming.common.mqtt.LinkTesting.DELIVERY;
import static net.swarming.common.mqtt.LinkTesting.config;
import static net.swarming.common.mqtt.LinkTesting.started;
import static net.swarming.common.mqtt.LinkTesting.uniqueTopic;
import static net.swarming.common.mqtt.LinkTesting.utf8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import net.swarming.testkit.MosquittoBroker;
import net.swarming.testkit.MosquittoExtension;
import net.swarming.testkit.MoquetteBroker;
import net.swarming.testkit.MoquetteExtension;
import net.swarming.testkit.MqttBrokerHandle;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The last will: published when the link's process dies, not when the link is closed cleanly. */
@ExtendWith({MosquittoExtension.class, MoquetteExtension.class})
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class WillIT {

    private static final Logger log = LoggerFactory.getLogger(WillIT.class);

    @Test
    void whenLinkProcessIsKilled_thenMosquittoPublishesTheWill(MosquittoBroker broker) throws Exception {
        whenLinkProcessIsKilled_thenWillPublished(broker);
    }

    @Test
    void whenLinkProcessIsKilled_thenMoquettePublishesTheWill(MoquetteBroker broker) throws Exception {
        whenLinkProcessIsKilled_thenWillPublished(broker);
    }

    @Test
    void whenLinkIsClosed_thenMosquittoDoesNotPublishTheWill(MosquittoBroker broker) throws Exception {
        whenLinkIsClosed_thenNoWill(broker);
    }

    @Test
    void whenLinkIsClosed_thenMoquetteDoesNotPublishTheWill(MoquetteBroker broker) throws Exception {
        whenLinkIsClosed_thenNoWill(broker);
    }

    private void whenLinkProcessIsKilled_thenWillPublished(MqttBrokerHandle broker) throws Exception {
        String willTopic = "rip/agent/" + uniqueTopic("x").replace('/', '-');
        Inbox observed = new Inbox();
        try (MqttLink observer = started(config("observer", broker).subscribe("rip/#", 1).build(), observed)) {
            Process child = startChild(broker, willTopic);
            try {
                CompletableFuture<String> ready = readUntilReady(child);
                assertEquals(WillChildMain.READY, ready.get(30, TimeUnit.SECONDS));
                assertTrue(observed.on(willTopic).isEmpty());
                long t0 = System.nanoTime();
                child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                InboundMessage will = observed.awaitOne(m -> m.topic().equals(willTopic), DELIVERY);
                log.info("{}: will on {} arrived {} ms after the kill", broker, willTopic,
                        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
                assertEquals(0, will.payload().length);
                assertEquals(1, will.qos());
                assertTrue(observer.state() == LinkState.CONNECTED);
            } finally {
                child.destroyForcibly();
            }
        }
    }

    private void whenLinkIsClosed_thenNoWill(MqttBrokerHandle broker) throws Exception {
        String willTopic = "rip/agent/" + uniqueTopic("y").replace('/', '-');
        String marker = uniqueTopic("marker");
        Inbox observed = new Inbox();
        try (MqttLink observer = started(config("observer", broker).subscribe("rip/#", 1).subscribe(marker, 1)
                .build(), observed)) {
            MqttLink link = started(config("closing", broker).will(willTopic, new byte[0], 1, false).build(),
                    new Inbox());
            link.close();
            // Anything the broker published on the link's behalf would come before this marker.
            observer.publish(marker, utf8("after close"), 1, false).get(10, TimeUnit.SECONDS);
            observed.awaitPayload(marker, "after close", DELIVERY);
            Thread.sleep(1000);
            assertEquals(List.of(), observed.on(willTopic));
        }
    }

    private static Process startChild(MqttBrokerHandle broker, String willTopic) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                WillChildMain.class.getName(), broker.hostPort(), willTopic, MqttLink.defaultClientId("child"));
        pb.redirectErrorStream(true);
        return pb.start();
    }

    /** Completes with the ready line; keeps draining (and logging) the child's output after it. */
    private static CompletableFuture<String> readUntilReady(Process child) {
        CompletableFuture<String> ready = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(
                    new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    log.info("child: {}", line);
                    if (line.equals(WillChildMain.READY) || line.equals("WILL-CHILD-FAILED")) {
                        ready.complete(line);
                    }
                }
                ready.completeExceptionally(new IllegalStateException("child exited: " + child.waitFor()));
            } catch (IOException | InterruptedException e) {
                ready.completeExceptionally(e);
            }
        }, "will-child-output");
        t.setDaemon(true);
        t.start();
        return ready;
    }
}
