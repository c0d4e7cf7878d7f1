package net.swarming.broker.internal.moquette;

import io.moquette.broker.subscriptions.Subscription;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import net.swarming.common.cli.StartupException;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.h2.mvstore.MVStoreException;

/**
 * What Moquette 0.17 will reload from its store at start: the topics holding a retained message and the subscriptions
 * (client id to topic filters), read before Moquette opens the store so that the metrics start from the real counts.
 *
 * <p>Moquette's {@code retained_store} and {@code subscriptions} maps use H2's default (Java serialization) types, keyed
 * by {@code Topic} and by {@code filter + "-" + clientId}; the values ({@code RetainedMessage}, {@link Subscription}) are
 * Moquette classes on our class path.
 *
 * @param retainedTopics topics with a retained message
 * @param subscriptions  topic filters by client id
 */
public record StoredState(Set<String> retainedTopics, Map<String, Set<String>> subscriptions) {

    static final String RETAINED_MAP = "retained_store";
    static final String SUBSCRIPTIONS_MAP = "subscriptions";

    /** Nothing stored: a new data directory. */
    public static StoredState empty() {
        return new StoredState(Set.of(), Map.of());
    }

    /**
     * Reads the store in {@code dataDir}, if there is one.
     *
     * @throws StartupException when the store is locked or unreadable
     */
    public static StoredState read(Path dataDir) {
        Path file = dataDir.resolve(SessionStoreRepair.STORE_FILE);
        if (!Files.isRegularFile(file)) {
            return empty();
        }
        try (MVStore store = new MVStore.Builder().fileName(file.toString()).readOnly().open()) {
            Set<String> retained = new HashSet<>();
            if (store.hasMap(RETAINED_MAP)) {
                MVMap<Object, Object> map = store.openMap(RETAINED_MAP);
                for (Object topic : map.keySet()) {
                    retained.add(topic.toString());
                }
            }
            Map<String, Set<String>> subscriptions = new HashMap<>();
            if (store.hasMap(SUBSCRIPTIONS_MAP)) {
                MVMap<String, Object> map = store.openMap(SUBSCRIPTIONS_MAP);
                for (Object value : map.values()) {
                    if (value instanceof Subscription s) {
                        subscriptions.computeIfAbsent(s.getClientId(), id -> new HashSet<>())
                                .add(s.getTopicFilter().toString());
                    }
                }
            }
            return new StoredState(Set.copyOf(retained), Map.copyOf(subscriptions));
        } catch (MVStoreException | IllegalArgumentException | ClassCastException e) {
            throw new StartupException("cannot read the broker store " + file + ": " + e.getMessage()
                    + " (move " + dataDir + " aside to start with an empty store)", e);
        }
    }
}
