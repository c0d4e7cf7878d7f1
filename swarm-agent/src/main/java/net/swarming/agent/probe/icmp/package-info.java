/**
 * In-process ICMP echo for IPv4 and IPv6 over one socket per address family (JNA direct mapping of libc).
 *
 * <p>{@link net.swarming.agent.probe.icmp.IcmpProbe} is the agent's {@code Probe} (resolution, refusals, mapping to
 * {@code ProbeRound}); {@link net.swarming.agent.probe.icmp.IcmpEngine} does the work: sockets (datagram ICMP when
 * {@code net.ipv4.ping_group_range} allows, else raw with CAP_NET_RAW, else
 * {@link net.swarming.agent.probe.icmp.IcmpUnavailableException} naming both remedies), a paced sender thread
 * ({@code swarm-probe-send}: global packets-per-second token bucket, per-address minimum interval, 2 ms batches), one
 * receiver thread per socket ({@code swarm-probe-recv-v4}/{@code -v6}: poll, non-blocking recvmsg, SO_TIMESTAMPNS),
 * reply matching on a cookie in the payload (no 16-bit sequence limit), duplicates, late replies and ICMP errors
 * (raw: quoted datagram; datagram sockets: IP_RECVERR error queue). {@link net.swarming.agent.probe.icmp.IcmpOptions}
 * configures it. Figures: docs/performance.md, "Agent probe engine".
 */
package net.swarming.agent.probe.icmp;
