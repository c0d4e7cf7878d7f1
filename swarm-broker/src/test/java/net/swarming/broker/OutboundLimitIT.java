package net.swarming.broker;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttAsyncClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The per-connection outbound limit ({@code max-queued-bytes}) with real mosquitto clients, one of them stopped with
 * SIGSTOP as a subscriber that stops reading: QoS 0 to it is dropped and counted, bounded by the limit; QoS 1 is never
 * dropped; publishers and other subscribers carry on.
 */
@Timeout(180)
class OutboundLimitIT {

    private static final int MESSAGES = 20_000;
    private static final String PAYLOAD = "p".repeat(1_000);

    @TempDir
    Path tmp;

    private SwarmBroker broker;
    private final List<Process> processes = new ArrayList<>();

    @AfterEach
    void stop() {
        for (Process p : processes) {
            Mosquitto.signal(p, "CONT");
            p.destroyForcibly();
        }
        if (broker != null) {
            broker.close();
        }
    }

    private void start(long maxQueuedBytes) {
        broker = SwarmBroker.start(new BrokerConfig("127.0.0.1", 0, tmp.resolve("data"),
                BrokerConfig.DEFAULT_MAX_MESSAGE_BYTES, "127.0.0.1", 0).withMaxQueuedBytes(maxQueuedBytes));
    }

    @Test
    void whenQos0SubscriberStopsReading_thenItsMessagesAreDroppedCountedAndBoundedWhileOthersGetEverything()
            throws Exception {
        long limit = 1024 * 1024;
        start(limit);
        Path slowOut = subscriber("slow", 0);
        Path healthyOut = subscriber("healthy", 1);
        Process slow = processes.get(0);
        Mosquitto.signal(slow, "STOP");

        Process pub = publish("agent-1", 1);
        assertTrue(pub.waitFor(120, TimeUnit.SECONDS), "the publisher's window stalled");
        assertEquals(0, pub.exitValue());
        await().atMost(Duration.ofSeconds(60)).until(() -> lines(healthyOut) == MESSAGES);

        Mosquitto.signal(slow, "CONT");
        // Each message to the stopped subscriber is either delivered once it reads again, or dropped and counted.
        await().atMost(Duration.ofSeconds(60)).until(() -> lines(slowOut) + dropped() == MESSAGES);

        long delivered = lines(slowOut);
        long dropped = dropped();
        // Everything the stopped subscriber got waited in the broker (at most the limit) or in the kernel's buffers.
        long kernel = kernelLimit("tcp_wmem") + kernelLimit("tcp_rmem");
        assertTrue(delivered * PAYLOAD.length() <= limit + kernel,
                delivered + " messages reached the stopped subscriber: more than " + limit + " + " + kernel + " bytes");
        assertTrue(dropped > MESSAGES / 2, "dropped " + dropped);
        assertEquals(MESSAGES, lines(healthyOut), "the QoS 1 subscriber lost messages");
    }

    @Test
    void whenQos1SubscriberStopsReading_thenNothingIsDroppedEvenAboveTheLimit() throws Exception {
        start(64 * 1024);
        Path stoppedOut = subscriber("stopped", 1);
        Process stopped = processes.get(0);
        Mosquitto.signal(stopped, "STOP");

        Process pub = publish("agent-1", 1);
        assertTrue(pub.waitFor(120, TimeUnit.SECONDS), "the publisher's window stalled");
        assertEquals(0, pub.exitValue());
        Mosquitto.signal(stopped, "CONT");

        await().atMost(Duration.ofSeconds(90)).until(() -> lines(stoppedOut) == MESSAGES);
        assertEquals(0, dropped());
    }

    /**
     * An agent that reads slowly (its message callback is busy) while ten 1.5 MB {@code watch} lists wait for it, and
     * that publishes QoS 1 results meanwhile. Moquette 0.17 dropped every packet it wrote while more than 64 KiB waited
     * for the agent: most of the watch lists (QoS 0) and the PUBACKs of the results, so the agent's in-flight window
     * never emptied. Now everything waits its turn (15 MB is below the 32 MiB limit) and arrives.
     */
    @Test
    void whenAnAgentReadsSlowlyWhileWatchListsWait_thenTheyAndThePubacksForItsResultsAllArrive() throws Exception {
        start(BrokerConfig.DEFAULT_MAX_QUEUED_BYTES);
        int lists = 10;
        byte[] watch = "t.example ".repeat(150_000).getBytes(StandardCharsets.US_ASCII);
        Path watchFile = Files.write(tmp.resolve("watch.txt"), watch);
        AtomicInteger watchLists = new AtomicInteger();
        CountDownLatch busy = new CountDownLatch(1);
        MqttAsyncClient agent = new MqttAsyncClient("tcp://127.0.0.1:" + broker.port(), "agent-watch",
                new MemoryPersistence());
        agent.connect(new MqttConnectOptions()).waitForCompletion(10_000);
        try {
            agent.subscribe("watch", 0, (topic, message) -> {
                // Paho reads nothing else while this callback runs: a slow agent.
                busy.await(60, TimeUnit.SECONDS);
                watchLists.incrementAndGet();
            }).waitForCompletion(10_000);
            for (int i = 0; i < lists; i++) {
                assertEquals(0, Mosquitto.pub(broker.port(), "-t", "watch", "-f", watchFile.toString(), "-q", "1")
                        .exitCode());
            }
            List<IMqttDeliveryToken> results = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                results.add(agent.publish("ping/a", ("result " + i).getBytes(StandardCharsets.US_ASCII), 1, false));
            }
            Thread.sleep(2_000);
            busy.countDown();

            for (IMqttDeliveryToken token : results) {
                token.waitForCompletion(30_000);
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> watchLists.get() == lists);
            assertEquals(0, dropped());
        } finally {
            busy.countDown();
            agent.disconnectForcibly(1_000, 1_000);
            agent.close();
        }
    }

    /** A {@code mosquitto_sub} on {@code ping/+} writing to a file, returned once it receives. */
    private Path subscriber(String id, int qos) throws Exception {
        Path out = tmp.resolve(id + ".out");
        processes.add(new ProcessBuilder("mosquitto_sub", "-h", "127.0.0.1", "-p", Integer.toString(broker.port()),
                "-i", id, "-q", Integer.toString(qos), "-t", "ping/+", "-t", "probe/" + id)
                .redirectErrorStream(true).redirectOutput(out.toFile()).start());
        await().atMost(Duration.ofSeconds(20)).until(() -> {
            Mosquitto.pub(broker.port(), "-t", "probe/" + id, "-m", "probe", "-q", "1");
            return Files.readString(out).contains("probe");
        });
        return out;
    }

    private Process publish(String id, int qos) throws IOException {
        Path lines = tmp.resolve("lines.txt");
        if (!Files.exists(lines)) {
            Files.write(lines, Collections.nCopies(MESSAGES, PAYLOAD));
        }
        Process p = new ProcessBuilder("mosquitto_pub", "-h", "127.0.0.1", "-p", Integer.toString(broker.port()),
                "-i", id, "-q", Integer.toString(qos), "-t", "ping/t", "-l")
                .redirectInput(lines.toFile()).redirectErrorStream(true)
                .redirectOutput(tmp.resolve(id + ".log").toFile()).start();
        processes.add(p);
        return p;
    }

    /** Lines holding the payload (probes left out). */
    private static long lines(Path file) {
        try (Stream<String> s = Files.lines(file)) {
            return s.filter(PAYLOAD::equals).count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The largest buffer the kernel may give a TCP socket in this direction ({@code /proc/sys/net/ipv4/…}). */
    private static long kernelLimit(String name) throws IOException {
        // Files.readString trusts the size /proc reports and returns a truncated value; reading lines does not.
        String[] values = Files.readAllLines(Path.of("/proc/sys/net/ipv4/" + name)).get(0).trim().split("\\s+");
        return Long.parseLong(values[2]);
    }

    /** {@code swarm_broker_publish_messages_dropped_total}, from a real scrape of {@code /metrics}. */
    private long dropped() throws IOException, InterruptedException {
        return (long) counter("swarm_broker_publish_messages_dropped_total");
    }

    /** The value of {@code name} in a real scrape of {@code /metrics}. */
    private double counter(String name) throws IOException, InterruptedException {
        return MetricsScrape.value(broker, name);
    }
}
