package net.swarming.broker.internal.moquette;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.moquette.broker.subscriptions.CTrieSubscriptionDirectory;
import io.moquette.broker.subscriptions.Subscription;
import io.moquette.broker.subscriptions.Topic;
import io.moquette.persistence.MemorySubscriptionsRepository;
import io.netty.handler.codec.mqtt.MqttQoS;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The cache answers as Moquette's own tree does, before and after every kind of subscription change. */
class MatchCacheTest {

    private MatchCache cache;

    @BeforeEach
    void setUp() {
        CTrieSubscriptionDirectory tree = new CTrieSubscriptionDirectory();
        tree.init(new MemorySubscriptionsRepository());
        cache = new MatchCache(tree);
    }

    private static Subscription sub(String client, String filter, int qos) {
        return new Subscription(client, new Topic(filter), MqttQoS.valueOf(qos));
    }

    private Set<String> clients(String topic) {
        return cache.matchQosSharpening(new Topic(topic)).stream().map(Subscription::getClientId)
                .collect(Collectors.toSet());
    }

    @Test
    void whenSubscriptionsChange_thenTheNextMatchSeesTheChange() {
        cache.add(sub("indexer", "ping/+", 1));
        assertEquals(Set.of("indexer"), clients("ping/a"));
        assertNotNull(cache.cached("ping/a"), "kept after the first match");

        cache.add(sub("debug", "ping/#", 0));
        assertNull(cache.cached("ping/a"), "a subscribe discards every kept answer");
        assertEquals(Set.of("indexer", "debug"), clients("ping/a"));

        cache.removeSubscription(new Topic("ping/+"), "indexer");
        assertNull(cache.cached("ping/a"), "an unsubscribe too");
        assertEquals(Set.of("debug"), clients("ping/a"));
        assertEquals(Set.of(), clients("rip/agent/x"));
    }

    @Test
    void whenOneClientHasOverlappingSubscriptions_thenItIsMatchedOnceAtTheHighestQos() {
        cache.add(sub("indexer", "ping/+", 0));
        cache.add(sub("indexer", "ping/#", 1));
        for (int i = 0; i < 2; i++) { // computed, then kept
            List<Subscription> m = cache.matchQosSharpening(new Topic("ping/a"));
            assertEquals(1, m.size());
            assertEquals(MqttQoS.AT_LEAST_ONCE, m.get(0).getRequestedQos());
        }
    }

    @Test
    void whenATopicNameIsInvalid_thenItsAnswerIsNotKept() {
        cache.add(sub("indexer", "#", 1));
        cache.matchQosSharpening(new Topic(""));
        assertNull(cache.cached(""), "the relay takes a kept answer as proof of a valid name");
    }

    @Test
    void keptAnswersCannotBeChangedByTheirReaders() {
        cache.add(sub("indexer", "ping/+", 1));
        List<Subscription> m = cache.matchQosSharpening(new Topic("ping/a"));
        assertThrows(UnsupportedOperationException.class, () -> m.add(sub("x", "ping/a", 0)));
    }
}
