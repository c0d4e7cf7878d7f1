package net.swarming.common.mqtt;

import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.Predicate;

/** A test handler that keeps every message and the names of the threads it was called on. */
final class Inbox implements MessageHandler {

    final List<InboundMessage> messages = new CopyOnWriteArrayList<>();
    final Set<String> threadNames = ConcurrentHashMap.newKeySet();
    private volatile Consumer<InboundMessage> also = m -> { };

    @Override
    public void onMessage(InboundMessage m) {
        threadNames.add(Thread.currentThread().getName());
        messages.add(m);
        also.accept(m);
    }

    /** Runs {@code action} on every later message too (after recording it). */
    Inbox onEach(Consumer<InboundMessage> action) {
        also = action;
        return this;
    }

    List<InboundMessage> on(String topic) {
        return messages.stream().filter(m -> m.topic().equals(topic)).toList();
    }

    List<String> payloadsOn(String topic) {
        return on(topic).stream().map(m -> new String(m.payload(), StandardCharsets.UTF_8)).toList();
    }

    InboundMessage awaitOne(Predicate<InboundMessage> p, Duration timeout) {
        await().atMost(timeout).pollInterval(Duration.ofMillis(10)).until(() -> messages.stream().anyMatch(p));
        return messages.stream().filter(p).findFirst().orElseThrow();
    }

    InboundMessage awaitPayload(String topic, String payload, Duration timeout) {
        return awaitOne(m -> m.topic().equals(topic)
                && new String(m.payload(), StandardCharsets.UTF_8).equals(payload), timeout);
    }
}
