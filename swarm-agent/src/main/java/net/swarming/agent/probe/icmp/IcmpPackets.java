package net.swarming.agent.probe.icmp;

/**
 * Echo requests and what comes back, byte by byte.
 *
 * <p>Every echo request carries a cookie in its payload, so replies are matched on it and not on the 16-bit
 * identifier/sequence pair (whose 65,536 values are what limits fping's targets × pings):
 * <pre>
 *  payload offset  0  session key, 8 bytes (random per engine: tells our replies from other programs')
 *                  8  round id, 4 bytes
 *                 12  ping number within the round, 2 bytes
 *                 14  zero, 2 bytes
 *                 16  send time, CLOCK_REALTIME nanoseconds, 8 bytes (informational)
 *                 24  zero padding up to {@link #PAYLOAD_SIZE}
 * </pre>
 * ICMP errors (destination unreachable, time exceeded) quote the original datagram; Linux quotes enough of it (up to
 * 576 bytes in all) that the cookie is there too, so errors are matched the same way.
 */
final class IcmpPackets {

    /** Payload bytes after the 8-byte ICMP header: ping's and fping's default of 56. */
    static final int PAYLOAD_SIZE = 56;
    static final int HEADER_SIZE = 8;
    static final int PACKET_SIZE = HEADER_SIZE + PAYLOAD_SIZE;
    static final int COOKIE_SIZE = 24;

    static final int ECHO_REPLY_V4 = 0;
    static final int DEST_UNREACH_V4 = 3;
    static final int ECHO_REQUEST_V4 = 8;
    static final int TIME_EXCEEDED_V4 = 11;
    static final int DEST_UNREACH_V6 = 1;
    static final int PACKET_TOO_BIG_V6 = 2;
    static final int TIME_EXCEEDED_V6 = 3;
    static final int PARAM_PROBLEM_V6 = 4;
    static final int ECHO_REQUEST_V6 = 128;
    static final int ECHO_REPLY_V6 = 129;

    /** What a received packet turned out to be. */
    enum Kind { REPLY, ERROR }

    /**
     * A received packet that carries one of our cookies (others are dropped before this).
     *
     * @param errorType ICMP type of an error, -1 for a reply
     * @param errorCode ICMP code of an error, -1 for a reply
     */
    record Parsed(Kind kind, long session, int roundId, int ping, long sentRealtimeNanos, int errorType, int errorCode) {
    }

    private IcmpPackets() {
    }

    /** The Internet checksum (RFC 1071) of {@code length} bytes from {@code offset}. */
    static int checksum(byte[] b, int offset, int length) {
        long sum = 0;
        int i = offset;
        int end = offset + length;
        for (; i + 1 < end; i += 2) {
            sum += ((b[i] & 0xff) << 8) | (b[i + 1] & 0xff);
        }
        if (i < end) {
            sum += (b[i] & 0xff) << 8;
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        return (int) (~sum & 0xffff);
    }

    /**
     * Writes an echo request into {@code packet} ({@link #PACKET_SIZE} bytes). The checksum is filled in for IPv4
     * (raw sockets need it; datagram sockets recompute it anyway); for ICMPv6 the kernel computes it over the
     * pseudo-header, so it is left 0.
     */
    static void writeEchoRequest(byte[] packet, boolean v6, int identifier, int sequence, long session, int roundId,
                                 int ping, long sentRealtimeNanos) {
        packet[0] = (byte) (v6 ? ECHO_REQUEST_V6 : ECHO_REQUEST_V4);
        packet[1] = 0;
        packet[2] = 0;
        packet[3] = 0;
        putShort(packet, 4, identifier);
        putShort(packet, 6, sequence);
        putLong(packet, 8, session);
        putInt(packet, 16, roundId);
        putShort(packet, 20, ping);
        putShort(packet, 22, 0);
        putLong(packet, 24, sentRealtimeNanos);
        for (int i = HEADER_SIZE + 24; i < PACKET_SIZE; i++) {
            packet[i] = 0;
        }
        if (!v6) {
            putShort(packet, 2, checksum(packet, 0, PACKET_SIZE));
        }
    }

    /**
     * Parses what a socket received.
     *
     * @param ipHeader whether the data starts with an IPv4 header (raw IPv4 sockets)
     * @return the packet, or null when it is not ours or not a reply/error
     */
    static Parsed parse(byte[] b, int length, boolean v6, boolean ipHeader, long session) {
        int off = 0;
        if (ipHeader) {
            if (length < 20) {
                return null;
            }
            off = (b[0] & 0x0f) * 4;
        }
        if (length - off < HEADER_SIZE) {
            return null;
        }
        int type = b[off] & 0xff;
        int code = b[off + 1] & 0xff;
        if (type == (v6 ? ECHO_REPLY_V6 : ECHO_REPLY_V4)) {
            return cookie(b, off + HEADER_SIZE, length, session, Kind.REPLY, -1, -1);
        }
        boolean error = v6
                ? type == DEST_UNREACH_V6 || type == PACKET_TOO_BIG_V6 || type == TIME_EXCEEDED_V6
                        || type == PARAM_PROBLEM_V6
                : type == DEST_UNREACH_V4 || type == TIME_EXCEEDED_V4;
        if (!error) {
            return null;
        }
        // The quoted datagram: IP header, then our echo request.
        int inner = off + HEADER_SIZE;
        int innerIcmp;
        if (v6) {
            if (length - inner < 40 || (b[inner + 6] & 0xff) != IPPROTO_ICMPV6) {
                return null;
            }
            innerIcmp = inner + 40;
        } else {
            if (length - inner < 20 || (b[inner + 9] & 0xff) != IPPROTO_ICMP) {
                return null;
            }
            innerIcmp = inner + (b[inner] & 0x0f) * 4;
        }
        return quotedEcho(b, innerIcmp, length, v6, session, type, code);
    }

    /**
     * Parses our own echo request as the kernel hands it back from the error queue of a datagram socket, with the
     * error's ICMP type and code from {@code sock_extended_err}.
     */
    static Parsed parseQuoted(byte[] b, int length, boolean v6, long session, int errorType, int errorCode) {
        return quotedEcho(b, 0, length, v6, session, errorType, errorCode);
    }

    private static Parsed quotedEcho(byte[] b, int icmp, int length, boolean v6, long session, int type, int code) {
        if (length - icmp < HEADER_SIZE || (b[icmp] & 0xff) != (v6 ? ECHO_REQUEST_V6 : ECHO_REQUEST_V4)) {
            return null;
        }
        return cookie(b, icmp + HEADER_SIZE, length, session, Kind.ERROR, type, code);
    }

    private static final int IPPROTO_ICMP = 1;
    private static final int IPPROTO_ICMPV6 = 58;

    private static Parsed cookie(byte[] b, int off, int length, long session, Kind kind, int type, int code) {
        if (length - off < COOKIE_SIZE || getLong(b, off) != session) {
            return null;
        }
        return new Parsed(kind, session, getInt(b, off + 8), getShort(b, off + 12), getLong(b, off + 16), type, code);
    }

    /** A readable name for an ICMP error. */
    static String describe(boolean v6, int type, int code) {
        if (v6) {
            return switch (type) {
                case DEST_UNREACH_V6 -> "destination unreachable (" + switch (code) {
                    case 0 -> "no route";
                    case 1 -> "administratively prohibited";
                    case 3 -> "address unreachable";
                    case 4 -> "port unreachable";
                    default -> "code " + code;
                } + ")";
                case PACKET_TOO_BIG_V6 -> "packet too big";
                case TIME_EXCEEDED_V6 -> code == 0 ? "time exceeded (hop limit)" : "time exceeded (reassembly)";
                case PARAM_PROBLEM_V6 -> "parameter problem (code " + code + ")";
                default -> "ICMPv6 type " + type + " code " + code;
            };
        }
        return switch (type) {
            case DEST_UNREACH_V4 -> "destination unreachable (" + switch (code) {
                case 0 -> "network unreachable";
                case 1 -> "host unreachable";
                case 2 -> "protocol unreachable";
                case 3 -> "port unreachable";
                case 4 -> "fragmentation needed";
                case 9, 10, 13 -> "administratively prohibited";
                default -> "code " + code;
            } + ")";
            case TIME_EXCEEDED_V4 -> code == 0 ? "time exceeded (TTL)" : "time exceeded (reassembly)";
            default -> "ICMP type " + type + " code " + code;
        };
    }

    static void putShort(byte[] b, int off, int v) {
        b[off] = (byte) (v >>> 8);
        b[off + 1] = (byte) v;
    }

    static void putInt(byte[] b, int off, int v) {
        b[off] = (byte) (v >>> 24);
        b[off + 1] = (byte) (v >>> 16);
        b[off + 2] = (byte) (v >>> 8);
        b[off + 3] = (byte) v;
    }

    static void putLong(byte[] b, int off, long v) {
        putInt(b, off, (int) (v >>> 32));
        putInt(b, off + 4, (int) v);
    }

    static int getShort(byte[] b, int off) {
        return (b[off] & 0xff) << 8 | (b[off + 1] & 0xff);
    }

    static int getInt(byte[] b, int off) {
        return (b[off] & 0xff) << 24 | (b[off + 1] & 0xff) << 16 | (b[off + 2] & 0xff) << 8 | (b[off + 3] & 0xff);
    }

    static long getLong(byte[] b, int off) {
        return ((long) getInt(b, off) << 32) | (getInt(b, off + 4) & 0xffffffffL);
    }
}
