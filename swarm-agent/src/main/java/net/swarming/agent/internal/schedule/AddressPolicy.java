package net.swarming.agent.internal.schedule;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InterfaceAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Enumeration;
import java.util.Locale;

/**
 * Addresses the agent never probes: multicast (one probe would hit a whole group), broadcast (a whole subnet) and the
 * unspecified address ({@code 0.0.0.0}, {@code ::}, which the kernel turns into "this host"). Probes of such targets
 * are refused with an ERROR result naming why, every round, so the operator sees it in the results.
 */
public final class AddressPolicy {

    private AddressPolicy() {
    }

    /**
     * Why {@code address} must not be probed, or null when it may be.
     */
    public static String refusal(InetAddress address) {
        String ip = address.getHostAddress();
        if (address.isAnyLocalAddress()) {
            return ip + " is the unspecified address: not probed";
        }
        if (address.isMulticastAddress()) {
            return ip + " is a multicast address: not probed";
        }
        if (address instanceof Inet4Address && isBroadcast((Inet4Address) address)) {
            return ip + " is a broadcast address: not probed";
        }
        return null;
    }

    /**
     * Why the literal address of {@code target} (itself, or the host of a URL) must not be probed; null when it may be
     * or when the target is a name (names are checked by the probes once resolved).
     */
    public static String refusalOfLiteral(String target) {
        String host = target;
        if (target.contains("://")) {
            try {
                host = new URI(target).getHost();
            } catch (URISyntaxException e) {
                return null;
            }
            if (host == null) {
                return null;
            }
        }
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int zone = host.indexOf('%');
        String bare = zone >= 0 ? host.substring(0, zone) : host;
        if (!looksLikeLiteral(bare)) {
            return null;
        }
        try {
            // A literal: no DNS query.
            return refusal(InetAddress.getByName(bare));
        } catch (java.net.UnknownHostException e) {
            return null;
        }
    }

    private static boolean looksLikeLiteral(String host) {
        if (host.indexOf(':') >= 0) {
            return true;
        }
        String lower = host.toLowerCase(Locale.ROOT);
        return !lower.isEmpty() && lower.chars().allMatch(c -> c == '.' || c >= '0' && c <= '9')
                && lower.chars().filter(c -> c == '.').count() == 3;
    }

    /** 255.255.255.255, or the directed broadcast address of a subnet of this host. */
    static boolean isBroadcast(Inet4Address address) {
        byte[] b = address.getAddress();
        if ((b[0] & b[1] & b[2] & b[3]) == (byte) 0xff) {
            return true;
        }
        try {
            Enumeration<NetworkInterface> interfaces = NetworkInterface.getNetworkInterfaces();
            while (interfaces != null && interfaces.hasMoreElements()) {
                for (InterfaceAddress ia : interfaces.nextElement().getInterfaceAddresses()) {
                    // /31 and /32 have no broadcast address (RFC 3021).
                    if (ia.getBroadcast() != null && ia.getNetworkPrefixLength() < 31
                            && ia.getBroadcast().equals(address)) {
                        return true;
                    }
                }
            }
        } catch (SocketException e) {
            // Interfaces unreadable: only the limited broadcast is known.
        }
        return false;
    }
}
