package net.swarming.indexer.internal.watch;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import net.swarming.common.mqtt.BrokerAddress;
import net.swarming.common.mqtt.MqttLink;
import net.swarming.common.mqtt.MqttLinkConfig;
import net.swarming.common.mqtt.MqttSecurity;
import net.swarming.common.wire.Topics;
import net.swarming.common.wire.WatchEncoder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes the target list as a retained QoS 1 {@code watch} message to every broker ("indexers say a few things but
 * listen a lot"). One link per broker, clean session, nothing subscribed.
 */
public final class WatchPublisher implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(WatchPublisher.class);

    private final Map<String, MqttLink> links = new LinkedHashMap<>();

    public WatchPublisher(List<BrokerAddress> brokers, MqttSecurity security, Clock clock) {
        for (BrokerAddress b : brokers) {
            MqttLinkConfig config = MqttLinkConfig.builder()
                    .broker(b)
                    .shuffle(false)
                    .clientId(MqttLink.defaultClientId("swarm-watch"))
                    .cleanSession(true)
                    .security(security)
                    .build();
            links.put(b.toString(), new MqttLink(config, m -> { }, clock));
        }
        links.values().forEach(MqttLink::start);
    }

    /**
     * Reads a target file: targets separated by spaces or new lines; {@code #} starts a comment to the end of the line.
     */
    public static List<String> readTargets(Path file) throws IOException {
        return parseTargets(Files.readString(file, StandardCharsets.UTF_8));
    }

    /** Parses the content of a target file (see {@link #readTargets}). */
    public static List<String> parseTargets(String text) {
        List<String> targets = new ArrayList<>();
        for (String line : text.split("\\R")) {
            int hash = line.indexOf('#');
            String content = hash >= 0 ? line.substring(0, hash) : line;
            for (String t : content.trim().split("\\s+")) {
                if (!t.isEmpty()) {
                    targets.add(t);
                }
            }
        }
        return targets;
    }

    /**
     * Publishes the list (text form, which the original agents read too) to every broker and waits for each broker's
     * acknowledgement, connecting first if needed.
     *
     * @return the brokers that did not acknowledge within {@code timeout} (empty on full success)
     * @throws IllegalArgumentException when a target is invalid (no broker is sent anything)
     */
    public List<String> publish(List<String> targets, Duration timeout) throws InterruptedException {
        byte[] payload = WatchEncoder.encodeText(targets);
        long deadline = System.nanoTime() + timeout.toNanos();
        Map<String, CompletableFuture<Void>> sent = new LinkedHashMap<>();
        for (Map.Entry<String, MqttLink> e : links.entrySet()) {
            long left = deadline - System.nanoTime();
            if (left > 0 && e.getValue().awaitConnected(Duration.ofNanos(left))) {
                sent.put(e.getKey(), e.getValue().publish(Topics.WATCH, payload, 1, true));
            }
        }
        List<String> failed = new ArrayList<>();
        for (String broker : links.keySet()) {
            CompletableFuture<Void> f = sent.get(broker);
            if (f == null) {
                failed.add(broker);
                continue;
            }
            try {
                f.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                LOG.info("published {} targets as retained watch to {}", targets.size(), broker);
            } catch (ExecutionException | TimeoutException e) {
                LOG.error("publishing the watch list to {} failed: {}", broker, e.toString());
                failed.add(broker);
            }
        }
        return failed;
    }

    @Override
    public void close() {
        links.values().forEach(MqttLink::close);
    }
}
