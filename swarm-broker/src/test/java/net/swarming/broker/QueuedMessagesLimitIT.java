package net.swarming.broker;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The per-session queue limit ({@code max-queued-messages}) with real mosquitto clients: a clean-session QoS 1
 * subscriber stopped with SIGSTOP, and an offline persistent session, each sent far more QoS 1 messages than the limit.
 * Publishers are acknowledged and finish; the subscriber later gets its in-flight window plus the limit, and every other
 * message is counted as dropped on a real {@code /metrics} scrape.
 */
@Timeout(180)
class QueuedMessagesLimitIT {

    private static final int LIMIT = 100;
    private static final int WINDOW = BrokerConfig.DEFAULT_MAX_INFLIGHT_MESSAGES;
    /** mosquitto_sub's exit code when -W elapsed before -C messages arrived. */
    private static final int MOSQUITTO_SUB_TIMED_OUT = 27;
    private static final Pattern MESSAGE = Pattern.compile("m\\d{5}-x+");

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

    private void start(int maxQueuedMessages) {
        broker = SwarmBroker.start(new BrokerConfig("127.0.0.1", 0, tmp.resolve("data"),
                BrokerConfig.DEFAULT_MAX_MESSAGE_BYTES, "127.0.0.1", 0).withMaxQueuedMessages(maxQueuedMessages));
    }

    @Test
    void whenACleanQos1SubscriberStopsReading_thenItGetsWindowPlusLimitAndTheRestIsDroppedAndCounted()
            throws Exception {
        start(LIMIT);
        Path out = subscriber("slow");
        Process slow = processes.get(0);
        Mosquitto.signal(slow, "STOP");

        int n = 3_000;
        Process pub = publish("agent-1", 0, n);
        assertTrue(pub.waitFor(120, TimeUnit.SECONDS), "the publisher's window stalled");
        assertEquals(0, pub.exitValue(), "every publish acknowledged");
        await().atMost(Duration.ofSeconds(30)).until(() -> dropped() == n - WINDOW - LIMIT);

        Mosquitto.signal(slow, "CONT");
        await().atMost(Duration.ofSeconds(60)).until(() -> distinct(out) == WINDOW + LIMIT);
        Thread.sleep(1_000);
        assertEquals(WINDOW + LIMIT, distinct(out), "the window, then the queued messages, nothing more");
        assertEquals(n - WINDOW - LIMIT, dropped());
        // The first messages arrive, in order: what was dropped is what came after the queue was full.
        assertEquals(IntStream.range(0, WINDOW + LIMIT).mapToObj(QueuedMessagesLimitIT::message)
                .collect(Collectors.toSet()), received(out));

        // Once it reads again, the queue is free: new messages reach it.
        Process later = publish("agent-2", n, 50);
        assertTrue(later.waitFor(60, TimeUnit.SECONDS));
        await().atMost(Duration.ofSeconds(30)).until(() -> distinct(out) == WINDOW + LIMIT + 50);
        assertEquals(n - WINDOW - LIMIT, dropped());
    }

    @Test
    void whenACleanQos2SubscriberStopsReading_thenItAlsoGetsWindowPlusLimit() throws Exception {
        start(LIMIT);
        Path out = subscriber("slow2", 2);
        Process slow = processes.get(0);
        Mosquitto.signal(slow, "STOP");

        int n = 1_000;
        Process pub = publish("agent-1", 0, n, 2);
        assertTrue(pub.waitFor(120, TimeUnit.SECONDS), "the publisher's window stalled");
        assertEquals(0, pub.exitValue(), "every publish completed");
        await().atMost(Duration.ofSeconds(30)).until(() -> dropped() == n - WINDOW - LIMIT);

        Mosquitto.signal(slow, "CONT");
        await().atMost(Duration.ofSeconds(60)).until(() -> distinct(out) == WINDOW + LIMIT);
        Thread.sleep(1_000);
        assertEquals(IntStream.range(0, WINDOW + LIMIT).mapToObj(QueuedMessagesLimitIT::message)
                .collect(Collectors.toSet()), received(out));
        assertEquals(n - WINDOW - LIMIT, dropped());
    }

    @Test
    void whenAPersistentSessionIsOffline_thenItsQueueIsBoundedAlsoAcrossARestart() throws Exception {
        start(LIMIT);
        persistentSession("idx", "-E");
        await().atMost(Duration.ofSeconds(10)).until(() -> metric("swarm_broker_clients_connected") == 0);

        int n = 1_000;
        Process pub = publish("agent-1", 0, n);
        assertTrue(pub.waitFor(120, TimeUnit.SECONDS), "the publisher's window stalled");
        assertEquals(0, pub.exitValue(), "every publish acknowledged");
        await().atMost(Duration.ofSeconds(30)).until(() -> dropped() == n - LIMIT);

        // After a restart the queue read back from the store still counts: new messages are dropped at once.
        broker.close();
        start(LIMIT);
        Process more = publish("agent-2", n, 50);
        assertTrue(more.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, more.exitValue());
        await().atMost(Duration.ofSeconds(30)).until(() -> dropped() == 50);

        Mosquitto.Result back = persistentSession("idx", "-W", "6");
        assertEquals(MOSQUITTO_SUB_TIMED_OUT, back.exitCode(), back.stderr());
        Set<String> received = received(back.out());
        assertEquals(IntStream.range(0, LIMIT).mapToObj(QueuedMessagesLimitIT::message).collect(Collectors.toSet()),
                received, "the first " + LIMIT + " messages, queued before the restart");
        assertEquals(50, dropped());
    }

    @Test
    void whenTheLimitIsOff_thenAStoppedSubscriberLosesNothing() throws Exception {
        start(BrokerConfig.UNLIMITED);
        Path out = subscriber("slow");
        Process slow = processes.get(0);
        Mosquitto.signal(slow, "STOP");

        int n = 1_000;
        Process pub = publish("agent-1", 0, n);
        assertTrue(pub.waitFor(120, TimeUnit.SECONDS), "the publisher's window stalled");
        assertEquals(0, pub.exitValue());
        Mosquitto.signal(slow, "CONT");
        await().atMost(Duration.ofSeconds(60)).until(() -> distinct(out) == n);
        assertEquals(0, dropped());
    }

    /** A clean-session {@code mosquitto_sub} at QoS 1 on {@code ping/+} writing to a file, returned once it receives. */
    private Path subscriber(String id) throws Exception {
        return subscriber(id, 1);
    }

    /** A clean-session {@code mosquitto_sub} at {@code qos} on {@code ping/+}, returned once it receives. */
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

    /** {@code mosquitto_sub -c} (persistent session) at QoS 1 on {@code ping/+}, with {@code args}. */
    private Mosquitto.Result persistentSession(String id, String... args) {
        List<String> all = new ArrayList<>(List.of("-i", id, "-c", "-q", "1", "-t", "ping/+"));
        all.addAll(List.of(args));
        return Mosquitto.sub(broker.port(), all.toArray(String[]::new));
    }

    /**
     * {@code n} QoS 1 publishes to {@code ping/t} of distinct ~200-byte messages numbered from {@code from}, from one
     * {@code mosquitto_pub -l}.
     */
    private Process publish(String id, int from, int n) throws IOException {
        return publish(id, from, n, 1);
    }

    /** As {@link #publish(String, int, int)}, at {@code qos}. */
    private Process publish(String id, int from, int n, int qos) throws IOException {
        Path lines = Files.write(tmp.resolve(id + ".txt"),
                IntStream.range(from, from + n).mapToObj(QueuedMessagesLimitIT::message).toList());
        Process p = new ProcessBuilder("mosquitto_pub", "-h", "127.0.0.1", "-p", Integer.toString(broker.port()),
                "-i", id, "-q", Integer.toString(qos), "-t", "ping/t", "-l")
                .redirectInput(lines.toFile()).redirectErrorStream(true)
                .redirectOutput(tmp.resolve(id + ".log").toFile()).start();
        processes.add(p);
        return p;
    }

    private static String message(int i) {
        return String.format("m%05d-%s", i, "x".repeat(200));
    }

    /** Distinct messages in a subscriber's output (Moquette resends unacknowledged ones after ~5 s: duplicates). */
    private static long distinct(Path out) {
        return received(out).size();
    }

    private static Set<String> received(Path out) {
        try {
            return received(Files.readString(out));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Set<String> received(String output) {
        return output.lines().filter(l -> MESSAGE.matcher(l).matches()).collect(Collectors.toSet());
    }

    /** {@code swarm_broker_publish_messages_dropped_total}, from a real scrape of {@code /metrics}. */
    private long dropped() throws IOException, InterruptedException {
        return (long) metric("swarm_broker_publish_messages_dropped_total");
    }

    /** The value of {@code name} in a real scrape of {@code /metrics}. */
    private double metric(String name) throws IOException, InterruptedException {
        return MetricsScrape.value(broker, name);
    }
}
