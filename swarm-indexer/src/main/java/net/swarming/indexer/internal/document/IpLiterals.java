package net.swarming.indexer.internal.document;

import java.util.Optional;

/**
 * Recognises IP address literals without ever resolving a name: {@code destination.ip} is mapped as {@code ip} and must
 * never receive a host name, and a DNS lookup on the MQTT dispatch thread would stall intake.
 */
public final class IpLiterals {

    private IpLiterals() {}

    /**
     * The literal as Elasticsearch's {@code ip} type accepts it, or empty when {@code text} is not an IPv4 or IPv6
     * literal. IPv6 in brackets ({@code [::1]}) is unwrapped; literals with a zone ({@code fe80::1%eth0}) are refused,
     * since the {@code ip} type cannot store the zone.
     */
    public static Optional<String> ipLiteral(String text) {
        if (text == null || text.isEmpty()) {
            return Optional.empty();
        }
        String s = text;
        if (s.length() > 2 && s.charAt(0) == '[' && s.charAt(s.length() - 1) == ']') {
            s = s.substring(1, s.length() - 1);
            return isIpv6(s) ? Optional.of(s) : Optional.empty();
        }
        if (isIpv4(s) || isIpv6(s)) {
            return Optional.of(s);
        }
        return Optional.empty();
    }

    /** Dotted quad, four decimal parts 0..255, no leading zeros beyond a single {@code 0}. */
    static boolean isIpv4(String s) {
        int parts = 0;
        int i = 0;
        int n = s.length();
        while (i <= n) {
            int start = i;
            int value = 0;
            while (i < n && s.charAt(i) >= '0' && s.charAt(i) <= '9') {
                value = value * 10 + (s.charAt(i) - '0');
                i++;
                if (i - start > 3) {
                    return false;
                }
            }
            int len = i - start;
            if (len == 0 || value > 255 || (len > 1 && s.charAt(start) == '0')) {
                return false;
            }
            parts++;
            if (i == n) {
                break;
            }
            if (s.charAt(i) != '.') {
                return false;
            }
            i++;
        }
        return parts == 4;
    }

    /** RFC 4291 text forms: eight groups, one {@code ::}, and an optional trailing dotted quad. */
    static boolean isIpv6(String s) {
        if (s.indexOf(':') < 0 || s.length() > 45) {
            return false;
        }
        int doubleColon = s.indexOf("::");
        if (doubleColon >= 0 && s.indexOf("::", doubleColon + 1) >= 0) {
            return false;
        }
        String head = doubleColon >= 0 ? s.substring(0, doubleColon) : s;
        String tail = doubleColon >= 0 ? s.substring(doubleColon + 2) : "";
        int headGroups = countGroups(head, doubleColon < 0);
        int tailGroups = countGroups(tail, true);
        if (headGroups < 0 || tailGroups < 0) {
            return false;
        }
        int groups = headGroups + tailGroups;
        return doubleColon >= 0 ? groups <= 7 : groups == 8;
    }

    /**
     * Groups in a colon-separated run, a trailing dotted quad counting two; -1 when malformed.
     *
     * @param mayEndWithIpv4 whether this run ends the address (a dotted quad may only come last)
     */
    private static int countGroups(String run, boolean mayEndWithIpv4) {
        if (run.isEmpty()) {
            return 0;
        }
        String[] pieces = run.split(":", -1);
        int groups = 0;
        for (int k = 0; k < pieces.length; k++) {
            String p = pieces[k];
            if (mayEndWithIpv4 && k == pieces.length - 1 && p.indexOf('.') >= 0) {
                if (!isIpv4(p)) {
                    return -1;
                }
                groups += 2;
            } else if (isHexGroup(p)) {
                groups++;
            } else {
                return -1;
            }
        }
        return groups;
    }

    private static boolean isHexGroup(String p) {
        if (p.isEmpty() || p.length() > 4) {
            return false;
        }
        for (int i = 0; i < p.length(); i++) {
            if (Character.digit(p.charAt(i), 16) < 0) {
                return false;
            }
        }
        return true;
    }
}
