package net.swarming.broker.internal.auth;

import io.moquette.broker.security.IAuthorizatorPolicy;
import io.moquette.broker.subscriptions.Topic;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * An access control list in the subset of mosquitto's {@code acl_file} syntax that the swarm needs, used as Moquette's
 * authorization policy. Whatever no rule grants is refused.
 *
 * <pre>
 * # comment
 * topic read watch              # before any user line: rules for anonymous clients
 * user indexer-1
 * topic readwrite watch         # rules for that user; the access word is optional (readwrite)
 * pattern write ping/%c/#       # every client; %c is the client id, %u the user name
 * </pre>
 *
 * <p>As in mosquitto, a {@code %u}/{@code %c} pattern never matches a client whose id or name holds {@code +},
 * {@code #} or {@code /}, nor (for {@code %u}) an anonymous client.
 */
public final class AclFile implements IAuthorizatorPolicy {

    private record Rule(Access access, String topic) {}

    private final List<Rule> anonymous;
    private final Map<String, List<Rule>> byUser;
    private final List<Rule> patterns;

    private AclFile(List<Rule> anonymous, Map<String, List<Rule>> byUser, List<Rule> patterns) {
        this.anonymous = anonymous;
        this.byUser = byUser;
        this.patterns = patterns;
    }

    /**
     * Reads and checks every line.
     *
     * @throws IllegalArgumentException naming the file and every bad line
     */
    public static AclFile read(Path file) throws IOException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        List<Rule> anonymous = new ArrayList<>();
        Map<String, List<Rule>> byUser = new HashMap<>();
        List<Rule> patterns = new ArrayList<>();
        List<Rule> current = anonymous;
        List<String> problems = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] words = line.split("\\s+", 2);
            String keyword = words[0];
            String rest = words.length > 1 ? words[1].strip() : "";
            String where = "line " + (i + 1) + " '" + line + "': ";
            switch (keyword) {
                case "user":
                    if (rest.isEmpty()) {
                        problems.add(where + "user needs a name");
                    } else {
                        current = byUser.computeIfAbsent(rest, u -> new ArrayList<>());
                    }
                    break;
                case "topic":
                case "pattern":
                    try {
                        Rule rule = rule(rest);
                        (keyword.equals("topic") ? current : patterns).add(rule);
                    } catch (IllegalArgumentException e) {
                        problems.add(where + e.getMessage());
                    }
                    break;
                default:
                    problems.add(where + "unknown keyword '" + keyword + "' (supported: user, topic, pattern)");
            }
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("acl-file " + file + ": " + String.join("; ", problems));
        }
        return new AclFile(anonymous, byUser, patterns);
    }

    private static Rule rule(String rest) {
        if (rest.isEmpty()) {
            throw new IllegalArgumentException("needs a topic");
        }
        String[] words = rest.split("\\s+", 2);
        Access access = Access.READWRITE;
        String topic = rest;
        if (words.length == 2 && words[0].matches("read|write|readwrite")) {
            access = Access.parse(words[0]);
            topic = words[1].strip();
        } else if (words.length == 2 && words[0].equals("deny")) {
            throw new IllegalArgumentException("'deny' is not supported: whatever no rule grants is refused already");
        }
        if (topic.contains(" ")) {
            throw new IllegalArgumentException("access must be read, write or readwrite (topics hold no spaces)");
        }
        String[] levels = topic.split("/", -1);
        for (int i = 0; i < levels.length; i++) {
            String level = levels[i];
            boolean wildcardMisuse = (level.contains("#") && (!level.equals("#") || i != levels.length - 1))
                    || (level.contains("+") && !level.equals("+"));
            if (wildcardMisuse) {
                throw new IllegalArgumentException("'" + topic + "' misuses a wildcard ('+' is a whole level, "
                        + "'#' the whole last level)");
            }
        }
        return new Rule(access, topic);
    }

    @Override
    public boolean canWrite(Topic topic, String user, String client) {
        return allowed(topic.toString(), user, client, false);
    }

    @Override
    public boolean canRead(Topic topic, String user, String client) {
        return allowed(topic.toString(), user, client, true);
    }

    boolean allowed(String topic, String user, String client, boolean read) {
        List<Rule> own = user == null ? anonymous : byUser.getOrDefault(user, List.of());
        for (Rule r : own) {
            if ((read ? r.access.read : r.access.write) && TopicAccess.covers(r.topic, topic)) {
                return true;
            }
        }
        for (Rule r : patterns) {
            if (!(read ? r.access.read : r.access.write)) {
                continue;
            }
            String expanded = expand(r.topic, user, client);
            if (expanded != null && TopicAccess.covers(expanded, topic)) {
                return true;
            }
        }
        return false;
    }

    private static String expand(String pattern, String user, String client) {
        String out = pattern;
        if (out.contains("%u")) {
            if (!safe(user)) {
                return null;
            }
            out = out.replace("%u", user);
        }
        if (out.contains("%c")) {
            if (!safe(client)) {
                return null;
            }
            out = out.replace("%c", client);
        }
        return out;
    }

    private static boolean safe(String value) {
        return value != null && !value.isEmpty() && value.indexOf('+') < 0 && value.indexOf('#') < 0
                && value.indexOf('/') < 0;
    }
}
