package net.swarming.common.mqtt;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Where a broker listens: {@code tcp} (plain MQTT) or {@code ssl} (MQTT over TLS), a host name or IP literal (IPv6
 * without brackets), and a port.
 *
 * @param scheme {@code "tcp"} or {@code "ssl"} (case-insensitive, stored in lower case)
 * @param host a host name, an IPv4 literal or an IPv6 literal (brackets are removed)
 * @param port 1 to 65535
 */
public record BrokerAddress(String scheme, String host, int port) {

    public static final int DEFAULT_PORT = 1883;
    public static final int DEFAULT_TLS_PORT = 8883;
    public static final String TCP = "tcp";
    public static final String SSL = "ssl";

    /** The forms {@link #parse} accepts, for error messages. */
    public static final String ACCEPTED_FORMS = "host, host:port, tcp://host[:port], ssl://host[:port], [ipv6]:port, "
            + "[ipv6] or a bare ipv6 literal (default port " + DEFAULT_PORT + ", " + DEFAULT_TLS_PORT + " for ssl)";

    private static final Pattern HOST_NAME = Pattern.compile("[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_.])?");
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(?:%[A-Za-z0-9_.-]+)?");

    public BrokerAddress {
        List<String> problems = new ArrayList<>();
        if (scheme == null) {
            problems.add("scheme is missing (tcp or ssl)");
        } else {
            scheme = scheme.toLowerCase(Locale.ROOT);
            if (!scheme.equals(TCP) && !scheme.equals(SSL)) {
                problems.add("scheme '" + scheme + "' is not supported (tcp or ssl)");
            }
        }
        if (host != null && host.length() > 2 && host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        String hostProblem = hostProblem(host);
        if (hostProblem != null) {
            problems.add(hostProblem);
        }
        if (port < 1 || port > 65_535) {
            problems.add("port " + port + " is out of range 1-65535");
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("invalid broker address: " + String.join("; ", problems));
        }
    }

    /** A plain-MQTT address. */
    public static BrokerAddress tcp(String host, int port) {
        return new BrokerAddress(TCP, host, port);
    }

    /**
     * Parses a broker address given on a command line or in a configuration file.
     *
     * <p>Accepted: {@code host}, {@code host:port}, {@code tcp://host[:port]}, {@code ssl://host[:port]},
     * {@code [::1]:1884}, {@code [::1]}, and a bare IPv6 literal such as {@code ::1} (then the port is the default: put
     * the literal in brackets to give a port). Surrounding white space is ignored.
     *
     * @throws IllegalArgumentException naming the bad value and the accepted forms
     */
    public static BrokerAddress parse(String s) {
        if (s == null) {
            throw bad(null, "no value");
        }
        String in = s.strip();
        if (in.isEmpty()) {
            throw bad(s, "empty");
        }
        String scheme = TCP;
        String rest = in;
        int sep = in.indexOf("://");
        if (sep >= 0) {
            scheme = in.substring(0, sep).toLowerCase(Locale.ROOT);
            rest = in.substring(sep + 3);
            if (!scheme.equals(TCP) && !scheme.equals(SSL)) {
                throw bad(s, "unknown scheme '" + scheme + "'");
            }
        }
        int defaultPort = scheme.equals(SSL) ? DEFAULT_TLS_PORT : DEFAULT_PORT;
        if (rest.isEmpty()) {
            throw bad(s, "no host");
        }
        String host;
        int port = defaultPort;
        if (rest.startsWith("[")) {
            int close = rest.indexOf(']');
            if (close < 0) {
                throw bad(s, "'[' without ']'");
            }
            host = rest.substring(1, close);
            if (host.indexOf(':') < 0) {
                throw bad(s, "brackets are only for IPv6 literals");
            }
            String after = rest.substring(close + 1);
            if (!after.isEmpty()) {
                if (!after.startsWith(":")) {
                    throw bad(s, "unexpected '" + after + "' after ']'");
                }
                port = parsePort(s, after.substring(1));
            }
        } else {
            int first = rest.indexOf(':');
            int last = rest.lastIndexOf(':');
            if (first < 0) {
                host = rest;
            } else if (first == last) {
                host = rest.substring(0, first);
                port = parsePort(s, rest.substring(first + 1));
            } else {
                host = rest; // bare IPv6 literal: every colon belongs to the address
            }
        }
        String problem = hostProblem(host);
        if (problem != null) {
            throw bad(s, problem);
        }
        return new BrokerAddress(scheme, host, port);
    }

    /** @return the URI Paho wants, such as {@code tcp://queen:1883} or {@code tcp://[::1]:1884} */
    public String uri() {
        return scheme + "://" + hostPort();
    }

    /** @return {@code host:port}, with brackets around an IPv6 literal, whatever the scheme */
    public String hostPort() {
        return (isIpv6() ? "[" + host + "]" : host) + ":" + port;
    }

    /** @return whether the host is an IPv6 literal */
    public boolean isIpv6() {
        return host.indexOf(':') >= 0;
    }

    /** @return whether this is MQTT over TLS */
    public boolean isTls() {
        return scheme.equals(SSL);
    }

    /**
     * @return {@code host:port} for plain MQTT, {@code ssl://host:port} for TLS (so that {@link #parse} gives this
     *     address back)
     */
    @Override
    public String toString() {
        return isTls() ? uri() : hostPort();
    }

    private static int parsePort(String original, String digits) {
        if (digits.isEmpty()) {
            throw bad(original, "port is empty");
        }
        for (int i = 0; i < digits.length(); i++) {
            if (digits.charAt(i) < '0' || digits.charAt(i) > '9') {
                throw bad(original, "port '" + digits + "' is not a number");
            }
        }
        if (digits.length() > 5) {
            throw bad(original, "port " + digits + " is out of range 1-65535");
        }
        int port = Integer.parseInt(digits);
        if (port < 1 || port > 65_535) {
            throw bad(original, "port " + port + " is out of range 1-65535");
        }
        return port;
    }

    private static String hostProblem(String host) {
        if (host == null || host.isEmpty()) {
            return "host is missing";
        }
        if (host.indexOf(':') >= 0) {
            return IPV6.matcher(host).matches() ? null : "'" + host + "' is not an IPv6 literal";
        }
        return HOST_NAME.matcher(host).matches() ? null : "'" + host + "' is not a host name or IP address";
    }

    private static IllegalArgumentException bad(String value, String why) {
        String shown = value == null ? "null" : "'" + value + "'";
        return new IllegalArgumentException(
                "invalid broker address " + shown + ": " + why + "; accepted forms: " + ACCEPTED_FORMS);
    }
}
