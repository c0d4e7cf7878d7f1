package net.swarming.agent.probe.icmp;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * How the ICMP engine behaves.
 *
 * @param maxPps global cap on echo requests per second, all targets together
 * @param minTargetInterval least time between two echo requests to the same address, whatever rounds ask for
 * @param receiveBufferBytes receive buffer asked for per socket (SO_RCVBUFFORCE, else SO_RCVBUF capped by
 *     {@code net.core.rmem_max}); replies queue there while the receiver thread is not scheduled
 * @param socketMode which kind of socket to open
 */
public record IcmpOptions(int maxPps, Duration minTargetInterval, int receiveBufferBytes, SocketMode socketMode) {

    /** Conservative: a thousand echo requests per second. */
    public static final int DEFAULT_MAX_PPS = 1_000;
    /** fping's smallest per-target interval for non-root users. */
    public static final Duration DEFAULT_MIN_TARGET_INTERVAL = Duration.ofMillis(10);
    /** 16 MiB: a default-sized buffer lost 27% of replies at full speed on these machines, 16 MiB none. */
    public static final int DEFAULT_RECEIVE_BUFFER = 16 << 20;

    /** Which socket to use. */
    public enum SocketMode {
        /** Datagram ICMP socket when ping_group_range allows it, else raw. */
        AUTO,
        /** Only an unprivileged datagram ICMP socket. */
        DATAGRAM,
        /** Only a raw socket (CAP_NET_RAW). */
        RAW
    }

    public IcmpOptions {
        List<String> problems = new ArrayList<>();
        if (maxPps < 1) {
            problems.add("maxPps must be at least 1, got " + maxPps);
        }
        if (minTargetInterval == null || minTargetInterval.isNegative()) {
            problems.add("minTargetInterval must be zero or positive, got " + minTargetInterval);
        }
        if (receiveBufferBytes < 65_536) {
            problems.add("receiveBufferBytes must be at least 65536, got " + receiveBufferBytes);
        }
        Objects.requireNonNull(socketMode, "socketMode");
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("invalid ICMP options: " + String.join("; ", problems));
        }
    }

    /** The defaults. */
    public static IcmpOptions defaults() {
        return new IcmpOptions(DEFAULT_MAX_PPS, DEFAULT_MIN_TARGET_INTERVAL, DEFAULT_RECEIVE_BUFFER, SocketMode.AUTO);
    }

    public IcmpOptions withMaxPps(int pps) {
        return new IcmpOptions(pps, minTargetInterval, receiveBufferBytes, socketMode);
    }

    public IcmpOptions withMinTargetInterval(Duration interval) {
        return new IcmpOptions(maxPps, interval, receiveBufferBytes, socketMode);
    }

    public IcmpOptions withSocketMode(SocketMode mode) {
        return new IcmpOptions(maxPps, minTargetInterval, receiveBufferBytes, mode);
    }
}
