package net.swarming.common.wire.internal;

import java.net.URI;
import java.net.URISyntaxException;

/**
 * Syntax of a watch target: a hostname, an IP literal or an http(s) URL. Pure string checks, never DNS.
 *
 * <p>Strictness matters beyond tidiness: a target ends up as an argument of probe programs and in a topic name, so a
 * leading {@code -} (option injection), whitespace or wildcards must never get through.
 */
public final class TargetSyntax {

    /** The longest hostname, without its optional trailing dot (RFC 1035 §2.3.4 as used by RFC 1123). */
    public static final int MAX_HOSTNAME_LENGTH = 253;
    /** The longest label of a hostname. */
    public static final int MAX_LABEL_LENGTH = 63;
    /** The longest target of any kind; URLs longer than this are not monitoring targets. */
    public static final int MAX_TARGET_LENGTH = 2048;
    /** The longest IPv6 literal without zone: {@code ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255}. */
    private static final int MAX_IPV6_LENGTH = 45;

    /** What a valid target is. */
    public enum Kind { HOSTNAME, IPV4, IPV6, URL }

    private TargetSyntax() {
    }

    /**
     * Classifies a target.
     *
     * @throws IllegalArgumentException saying why, naming the target, when it is none of the accepted kinds
     */
    public static Kind classify(String target) {
        if (target == null) {
            throw new IllegalArgumentException("target is missing");
        }
        if (target.isEmpty()) {
            throw new IllegalArgumentException("target is empty");
        }
        if (target.length() > MAX_TARGET_LENGTH) {
            throw invalid(target, "longer than " + MAX_TARGET_LENGTH + " characters");
        }
        if (target.regionMatches(true, 0, "http://", 0, 7) || target.regionMatches(true, 0, "https://", 0, 8)) {
            checkUrl(target);
            return Kind.URL;
        }
        if (isIpv4(target)) {
            return Kind.IPV4;
        }
        if (target.indexOf(':') >= 0 || target.startsWith("[")) {
            String inner = target.startsWith("[") && target.endsWith("]")
                    ? target.substring(1, target.length() - 1) : target;
            if (isIpv6(inner)) {
                return Kind.IPV6;
            }
            throw invalid(target, "not a valid IPv6 address, and only http:// and https:// URLs are accepted");
        }
        String problem = hostnameProblem(target);
        if (problem != null) {
            throw invalid(target, problem);
        }
        return Kind.HOSTNAME;
    }

    /** Dotted-quad IPv4: four decimal parts 0..255 without leading zeros (which some tools read as octal). */
    public static boolean isIpv4(String s) {
        int parts = 0;
        int i = 0;
        int n = s.length();
        while (true) {
            int start = i;
            int value = 0;
            while (i < n && i - start < 4 && isDigit(s.charAt(i))) {
                value = value * 10 + (s.charAt(i) - '0');
                i++;
            }
            int len = i - start;
            if (len == 0 || len > 3 || value > 255 || (len > 1 && s.charAt(start) == '0')) {
                return false;
            }
            parts++;
            if (i == n) {
                return parts == 4;
            }
            if (s.charAt(i) != '.' || parts == 4) {
                return false;
            }
            i++;
        }
    }

    /**
     * IPv6 text form (RFC 4291 §2.2): eight groups of 1-4 hex digits, one {@code ::} standing for one or more zero
     * groups, an IPv4 tail counting as two groups; optionally a zone ({@code %eth0}) of unreserved characters.
     */
    public static boolean isIpv6(String s) {
        String address = s;
        int percent = s.indexOf('%');
        if (percent >= 0) {
            String zone = s.substring(percent + 1);
            if (zone.isEmpty() || !zone.chars().allMatch(TargetSyntax::isZoneChar)) {
                return false;
            }
            address = s.substring(0, percent);
        }
        if (address.length() < 2 || address.length() > MAX_IPV6_LENGTH) {
            return false;
        }
        int gap = address.indexOf("::");
        if (gap < 0) {
            return groups(address, true) == 8;
        }
        if (address.indexOf("::", gap + 1) >= 0) {
            return false;
        }
        String tail = address.substring(gap + 2);
        int head = groups(address.substring(0, gap), false);
        int rest = groups(tail, true);
        return head >= 0 && rest >= 0 && head + rest <= 7;
    }

    /** Number of 16-bit groups in a colon-separated run, -1 when malformed; an empty run has none. */
    private static int groups(String run, boolean ipv4TailAllowed) {
        if (run.isEmpty()) {
            return 0;
        }
        String[] parts = run.split(":", -1);
        int count = 0;
        for (int i = 0; i < parts.length; i++) {
            String part = parts[i];
            if (ipv4TailAllowed && i == parts.length - 1 && part.indexOf('.') >= 0) {
                if (!isIpv4(part)) {
                    return -1;
                }
                count += 2;
            } else if (part.isEmpty() || part.length() > 4 || !part.chars().allMatch(TargetSyntax::isHexDigit)) {
                return -1;
            } else {
                count++;
            }
        }
        return count;
    }

    /** Why {@code s} is not an RFC 1123 hostname, or null when it is one. */
    public static String hostnameProblem(String s) {
        // Index arithmetic rather than split/substring: a 100,000-target list runs this 100,000 times.
        int end = s.endsWith(".") ? s.length() - 1 : s.length();
        if (end == 0) {
            return "not a hostname";
        }
        if (end > MAX_HOSTNAME_LENGTH) {
            return "hostname longer than " + MAX_HOSTNAME_LENGTH + " characters";
        }
        int labelStart = 0;
        boolean labelAllDigits = true;
        for (int i = 0; i <= end; i++) {
            char c = i < end ? s.charAt(i) : '.';
            if (c == '.') {
                int length = i - labelStart;
                if (length == 0) {
                    return "empty label (two dots in a row, or a leading dot)";
                }
                if (length > MAX_LABEL_LENGTH) {
                    return "label longer than " + MAX_LABEL_LENGTH + " characters";
                }
                if (s.charAt(labelStart) == '-' || s.charAt(i - 1) == '-') {
                    return "a hostname label cannot start or end with '-'";
                }
                if (i == end && labelAllDigits) {
                    // No top-level domain is numeric: such a name is a mistyped IPv4 address (e.g. 10.0.0.256).
                    return "looks like an IPv4 address but is not a valid one";
                }
                labelStart = i + 1;
                labelAllDigits = true;
            } else if (isLetterOrDigit(c) || c == '-') {
                labelAllDigits &= isDigit(c);
            } else {
                return "character " + describe(c) + " is not allowed in a hostname (letters, digits, '-' and '.')";
            }
        }
        return null;
    }

    private static void checkUrl(String target) {
        URI uri;
        try {
            uri = new URI(target);
        } catch (URISyntaxException e) {
            throw invalid(target, "not a valid URL: " + e.getReason() + " at index " + e.getIndex());
        }
        // URI leaves the host null when the authority is missing or is not a server name (e.g. has '_').
        String host = uri.getHost();
        if (host == null || host.isEmpty()) {
            throw invalid(target, "a URL needs a host name or address");
        }
        boolean ok = host.startsWith("[")
                ? host.endsWith("]") && isIpv6(host.substring(1, host.length() - 1))
                : isIpv4(host) || hostnameProblem(host) == null;
        if (!ok) {
            throw invalid(target, "the URL's host " + Texts.quote(host) + " is not a valid hostname or address");
        }
    }

    private static IllegalArgumentException invalid(String target, String why) {
        return new IllegalArgumentException("invalid target " + Texts.quote(target) + ": " + why);
    }

    private static String describe(char c) {
        return c >= 0x21 && c <= 0x7e ? "'" + c + "'" : String.format("U+%04X", (int) c);
    }

    private static boolean isDigit(int c) {
        return c >= '0' && c <= '9';
    }

    private static boolean isLetterOrDigit(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || isDigit(c);
    }

    private static boolean isHexDigit(int c) {
        return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }

    private static boolean isZoneChar(int c) {
        return isHexDigit(c) || (c >= 'g' && c <= 'z') || (c >= 'G' && c <= 'Z')
                || c == '-' || c == '.' || c == '_' || c == '~';
    }
}
