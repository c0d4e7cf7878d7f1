package net.swarming.broker.internal.auth;

/**
 * Topic matching for access rules: whether a rule's topic covers a publish topic or a subscription filter.
 *
 * <p>A rule covers a filter only when it covers every topic the filter can match, so a client allowed to read
 * {@code ping/+} may subscribe to {@code ping/a} and {@code ping/+} but not to {@code #}.
 */
final class TopicAccess {

    private TopicAccess() {}

    /** Whether {@code rule} (may hold {@code +} and {@code #}) covers {@code topic} (a topic or a filter). */
    static boolean covers(String rule, String topic) {
        // Topics starting with '$' ($SYS…) are never matched by a leading wildcard, as in MQTT matching.
        if (topic.startsWith("$") && (rule.startsWith("#") || rule.startsWith("+"))) {
            return false;
        }
        String[] r = rule.split("/", -1);
        String[] t = topic.split("/", -1);
        for (int i = 0; i < r.length; i++) {
            if (r[i].equals("#")) {
                return true;
            }
            if (i >= t.length) {
                return false;
            }
            if (r[i].equals("+")) {
                if (t[i].equals("#")) {
                    return false;
                }
                continue;
            }
            if (!r[i].equals(t[i])) {
                return false;
            }
        }
        return r.length == t.length;
    }
}
