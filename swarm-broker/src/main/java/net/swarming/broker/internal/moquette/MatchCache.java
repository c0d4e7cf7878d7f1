package net.swarming.broker.internal.moquette;

import io.moquette.broker.ISubscriptionsRepository;
import io.moquette.broker.Server;
import io.moquette.broker.subscriptions.ISubscriptionsDirectory;
import io.moquette.broker.subscriptions.Subscription;
import io.moquette.broker.subscriptions.Topic;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Remembers which subscriptions match each topic name, in front of Moquette 0.17's subscription tree.
 *
 * <p>Why: matching a publish against the tree (parsing the topic into tokens, a binary search per level, a list per
 * level, then grouping by client) was the largest single item of the broker's profile once the QoS 0 relay removed
 * the thread hand-overs (docs/performance.md). Agents publish on the same few topics again and again
 * ({@code ping/<agent>}), so the answer can be kept until a subscription changes.
 *
 * <p>Correctness: every subscribe and unsubscribe goes through this object (it replaces the tree in both places
 * Moquette keeps it: the post office and the session registry) and, after changing the tree, starts a new, empty
 * generation of answers. An answer computed while a subscription changed can only land in the generation that was
 * current when its computation started, which is then already discarded; so no stale answer outlives the change that
 * made it stale. A publish racing with a subscribe may see the answer from before it, as with the tree alone.
 * At most {@value #MAX_TOPICS} topic names are kept per generation; beyond that, answers are computed, not kept.
 */
public final class MatchCache implements ISubscriptionsDirectory {

    static final int MAX_TOPICS = 100_000;

    private final ISubscriptionsDirectory tree;
    private volatile ConcurrentHashMap<String, List<Subscription>> answers = new ConcurrentHashMap<>();

    MatchCache(ISubscriptionsDirectory tree) {
        this.tree = tree;
    }

    /**
     * Puts a cache in front of the started {@code server}'s subscription tree.
     *
     * @throws IllegalStateException if this is not Moquette 0.17
     */
    public static MatchCache install(Server server) {
        Object postOffice = ChannelHooks.read(server, "dispatcher");
        Object registry = ChannelHooks.read(server, "sessions");
        Object tree = ChannelHooks.read(postOffice, "subscriptions");
        if (!(tree instanceof ISubscriptionsDirectory directory)
                || ChannelHooks.read(registry, "subscriptionsDirectory") != tree) {
            throw new IllegalStateException("Moquette " + Server.MOQUETTE_VERSION + " does not keep one subscription "
                    + "tree in its post office and session registry as 0.17 does: swarm-broker needs Moquette 0.17");
        }
        MatchCache cache = new MatchCache(directory);
        ChannelHooks.write(postOffice, "subscriptions", cache);
        ChannelHooks.write(registry, "subscriptionsDirectory", cache);
        return cache;
    }

    /** The answer kept for {@code topicName}, or null if there is none (yet); never computes. */
    List<Subscription> cached(String topicName) {
        return answers.get(topicName);
    }

    /** Whether {@code topic} is a valid name, without parsing it when an answer is kept for it (only valid ones are). */
    boolean isValid(Topic topic) {
        return answers.containsKey(topic.toString()) || topic.isValid();
    }

    @Override
    public List<Subscription> matchQosSharpening(Topic topic) {
        ConcurrentHashMap<String, List<Subscription>> generation = answers;
        String name = topic.toString();
        List<Subscription> answer = generation.get(name);
        if (answer == null) {
            answer = Collections.unmodifiableList(tree.matchQosSharpening(topic));
            // Only valid names are kept (Moquette matches an invalid one once before dropping its connection): the
            // relay takes a kept answer as proof that the name is valid. The tree has parsed it already.
            if (topic.isValid() && generation.size() < MAX_TOPICS) {
                generation.putIfAbsent(name, answer);
            }
        }
        return answer;
    }

    @Override
    public List<Subscription> matchWithoutQosSharpening(Topic topic) {
        return tree.matchWithoutQosSharpening(topic);
    }

    @Override
    public void add(Subscription newSubscription) {
        tree.add(newSubscription);
        answers = new ConcurrentHashMap<>();
    }

    @Override
    public void removeSubscription(Topic topic, String clientID) {
        tree.removeSubscription(topic, clientID);
        answers = new ConcurrentHashMap<>();
    }

    @Override
    public void init(ISubscriptionsRepository sessionsRepository) {
        tree.init(sessionsRepository);
        answers = new ConcurrentHashMap<>();
    }

    @Override
    public Set<String> listAllSessionIds() {
        return tree.listAllSessionIds();
    }

    @Override
    public int size() {
        return tree.size();
    }

    @Override
    public String dumpTree() {
        return tree.dumpTree();
    }
}
