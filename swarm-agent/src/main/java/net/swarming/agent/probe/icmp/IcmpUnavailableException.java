package net.swarming.agent.probe.icmp;

import java.io.IOException;

/**
 * Neither an unprivileged datagram ICMP socket nor a raw socket could be opened: the process may not send ICMP echo
 * requests. The message names the errors and both remedies.
 */
public final class IcmpUnavailableException extends IOException {

    private static final long serialVersionUID = 1L;

    /** The fix through {@code net.ipv4.ping_group_range} (datagram sockets; also covers ICMPv6 on Linux). */
    public static final String SYSCTL_REMEDY = "sysctl -w net.ipv4.ping_group_range=\"0 2147483647\"";
    /** The fix through the raw-socket capability. */
    public static final String CAPABILITY_REMEDY = "setcap cap_net_raw+ep $(readlink -f $(which java))"
            + " (or AmbientCapabilities=CAP_NET_RAW in the systemd unit)";

    public IcmpUnavailableException(String detail) {
        super("ICMP probes are unavailable: " + detail + ". Either allow unprivileged ICMP sockets for the agent's group: "
                + SYSCTL_REMEDY + " (persist it in /etc/sysctl.d/), or give the JVM the raw-socket capability: "
                + CAPABILITY_REMEDY + ".");
    }
}
