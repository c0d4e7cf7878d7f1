package net.swarming.broker.internal.auth;

import io.moquette.broker.security.IAuthorizatorPolicy;
import io.moquette.broker.subscriptions.Topic;
import java.util.List;

/**
 * The default authorization once a password file is set and no ACL file is: the swarm's roles, told by the user name.
 *
 * <ul>
 *   <li>{@code agent} or {@code agent-*}: write {@code ping/#} and {@code rip/#}; read {@code watch}.</li>
 *   <li>{@code indexer} or {@code indexer-*}: read {@code ping/#} and {@code rip/#}; read and write {@code watch}.</li>
 *   <li>anyone else (and anonymous clients, when allowed): read everything; write any topic except {@code watch},
 *       {@code ping/#} and {@code rip/#}, so nobody but an indexer sets the targets and nobody but an agent reports.</li>
 * </ul>
 */
public final class RolePolicy implements IAuthorizatorPolicy {

    private static final List<String> SWARM_TOPICS = List.of("watch", "ping/#", "rip/#");
    private static final List<String> AGENT_WRITES = List.of("ping/#", "rip/#");
    private static final List<String> AGENT_READS = List.of("watch");
    private static final List<String> INDEXER_WRITES = List.of("watch");
    private static final List<String> INDEXER_READS = List.of("ping/#", "rip/#", "watch");

    /** The role of a user name. */
    public enum Role { AGENT, INDEXER, OTHER }

    /** {@code agent}/{@code agent-…} and {@code indexer}/{@code indexer-…}; anything else, and no name, is OTHER. */
    public static Role roleOf(String user) {
        if (user == null) {
            return Role.OTHER;
        }
        if (user.equals("agent") || user.startsWith("agent-")) {
            return Role.AGENT;
        }
        if (user.equals("indexer") || user.startsWith("indexer-")) {
            return Role.INDEXER;
        }
        return Role.OTHER;
    }

    @Override
    public boolean canWrite(Topic topic, String user, String client) {
        String t = topic.toString();
        switch (roleOf(user)) {
            case AGENT:
                return anyCovers(AGENT_WRITES, t);
            case INDEXER:
                return anyCovers(INDEXER_WRITES, t);
            default:
                return !overlapsSwarmTopics(t);
        }
    }

    @Override
    public boolean canRead(Topic topic, String user, String client) {
        String t = topic.toString();
        switch (roleOf(user)) {
            case AGENT:
                return anyCovers(AGENT_READS, t);
            case INDEXER:
                return anyCovers(INDEXER_READS, t);
            default:
                return true;
        }
    }

    private static boolean anyCovers(List<String> rules, String topic) {
        return rules.stream().anyMatch(r -> TopicAccess.covers(r, topic));
    }

    /** Publish topics hold no wildcards, so covering is enough. */
    private static boolean overlapsSwarmTopics(String topic) {
        return anyCovers(SWARM_TOPICS, topic);
    }
}
