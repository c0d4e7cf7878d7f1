package net.swarming.common.wire;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.Optional;
import net.swarming.common.wire.internal.Utf8;

/**
 * MQTT topic names of the swarm, compatible with the original Python swarming.
 *
 * <p>A target or agent name becomes exactly one topic level through {@link #encodeLevel(String)}: every ordinary
 * hostname and IP address (IPv6 included) is left as is, so {@code ping/free.fr} is the topic the original agents used,
 * while a URL such as {@code https://x.org/a} cannot split into several levels or act as a wildcard.
 */
public final class Topics {

    /** Where the target list is published (by operators), read by every agent. */
    public static final String WATCH = "watch";
    /** What indexers subscribe to for results: one level under {@code ping}. */
    public static final String PING_FILTER = "ping/+";
    /** What indexers subscribe to for departures (agents' wills). */
    public static final String RIP_FILTER = "rip/#";

    /** What indexers subscribe to for arrivals (agents' birth messages). */
    public static final String BIRTH_FILTER = "birth/#";

    private static final String PING_PREFIX = "ping/";
    private static final String BIRTH_AGENT_PREFIX = "birth/agent/";
    private static final String RIP_AGENT_PREFIX = "rip/agent/";
    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private Topics() {
    }

    /**
     * The topic an agent publishes a target's results on: {@code ping/<encoded target>}.
     *
     * @throws IllegalArgumentException when the target is empty
     */
    public static String ping(String target) {
        return PING_PREFIX + encodeLevel(requireNonEmpty(target, "target"));
    }

    /**
     * The topic of an agent's will: {@code rip/agent/<encoded host>}.
     *
     * @throws IllegalArgumentException when the host is empty
     */
    public static String ripAgent(String agentHost) {
        return RIP_AGENT_PREFIX + encodeLevel(requireNonEmpty(agentHost, "agent host"));
    }

    /**
     * The topic of an agent's birth message: {@code birth/agent/<encoded name>}.
     *
     * @throws IllegalArgumentException when the name is empty
     */
    public static String birthAgent(String agentName) {
        return BIRTH_AGENT_PREFIX + encodeLevel(requireNonEmpty(agentName, "agent name"));
    }

    /** The agent name of a birth topic {@code birth/agent/<name>}, decoded like {@link #pingTarget(String)}. */
    public static Optional<String> birthAgentOf(String topic) {
        return singleLevelAfter(BIRTH_AGENT_PREFIX, topic);
    }

    /**
     * The target of a result topic: the decoded level after {@code ping/}. Empty when the topic is not
     * {@code ping/<one non-empty level>}, e.g. {@code ping/http://x/y} as an original agent would have published a URL.
     *
     * <p>A level that is not a valid encoding (a stray {@code %}) can only come from an original agent, which
     * published targets verbatim, so it is returned verbatim.
     */
    public static Optional<String> pingTarget(String topic) {
        return singleLevelAfter(PING_PREFIX, topic);
    }

    /** The agent host of a will topic {@code rip/agent/<host>}, decoded like {@link #pingTarget(String)}. */
    public static Optional<String> ripAgentOf(String topic) {
        return singleLevelAfter(RIP_AGENT_PREFIX, topic);
    }

    /**
     * Makes any string one topic level, reversibly: percent-encodes (UTF-8 bytes, uppercase hex) exactly {@code %},
     * {@code /}, {@code +}, {@code #} and control characters (U+0000..U+001F, U+007F..U+009F); everything else,
     * including {@code :} of IPv6 addresses and non-ASCII letters, is kept.
     *
     * @throws IllegalArgumentException when {@code s} has an unpaired surrogate (no UTF-8 form)
     */
    public static String encodeLevel(String s) {
        Objects.requireNonNull(s, "s");
        int i = 0;
        while (i < s.length() && !mustEscape(s.charAt(i))) {
            if (Character.isSurrogate(s.charAt(i))) {
                break;
            }
            i++;
        }
        if (i == s.length()) {
            return s;
        }
        StringBuilder sb = new StringBuilder(s.length() + 16).append(s, 0, i);
        for (; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isSurrogate(c)) {
                if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                    sb.append(c).append(s.charAt(++i));
                    continue;
                }
                throw new IllegalArgumentException("unpaired surrogate at index " + i + " cannot be put in a topic");
            }
            if (mustEscape(c)) {
                // Every escaped character is below U+0100, so at most two UTF-8 bytes.
                for (byte b : String.valueOf(c).getBytes(StandardCharsets.UTF_8)) {
                    sb.append('%').append(HEX[(b >> 4) & 0xf]).append(HEX[b & 0xf]);
                }
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    /**
     * Reverses {@link #encodeLevel(String)}. Lowercase hex is accepted too.
     *
     * @throws IllegalArgumentException when the level holds {@code /}, a {@code %} not followed by two hex digits,
     *     or escapes that do not form UTF-8
     */
    public static String decodeLevel(String level) {
        Objects.requireNonNull(level, "level");
        if (level.indexOf('/') >= 0) {
            throw new IllegalArgumentException("a topic level cannot contain '/'");
        }
        int percent = level.indexOf('%');
        if (percent < 0) {
            return level;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(level.length());
        byte[] utf8 = level.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < utf8.length; i++) {
            byte b = utf8[i];
            if (b != '%') {
                bytes.write(b);
                continue;
            }
            int hi = i + 1 < utf8.length ? Character.digit(utf8[i + 1], 16) : -1;
            int lo = i + 2 < utf8.length ? Character.digit(utf8[i + 2], 16) : -1;
            if (hi < 0 || lo < 0) {
                throw new IllegalArgumentException("malformed escape at byte " + i + " of topic level: '%' must be "
                        + "followed by two hex digits");
            }
            bytes.write(hi << 4 | lo);
            i += 2;
        }
        try {
            return Utf8.decode(bytes.toByteArray());
        } catch (Utf8.InvalidUtf8Exception e) {
            throw new IllegalArgumentException("escapes of topic level do not form UTF-8: " + e.getMessage(), e);
        }
    }

    private static Optional<String> singleLevelAfter(String prefix, String topic) {
        if (topic == null || !topic.startsWith(prefix) || topic.length() == prefix.length()) {
            return Optional.empty();
        }
        String level = topic.substring(prefix.length());
        if (level.indexOf('/') >= 0) {
            return Optional.empty();
        }
        try {
            return Optional.of(decodeLevel(level));
        } catch (IllegalArgumentException e) {
            return Optional.of(level);
        }
    }

    private static boolean mustEscape(char c) {
        return c == '%' || c == '/' || c == '+' || c == '#' || Character.isISOControl(c);
    }

    private static String requireNonEmpty(String value, String what) {
        Objects.requireNonNull(value, what);
        if (value.isEmpty()) {
            throw new IllegalArgumentException(what + " is empty");
        }
        return value;
    }
}
