package net.swarming.agent.probe.icmp;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One ICMP socket of one address family, shared by every target of that family: a datagram ICMP socket when
 * {@code ping_group_range} allows it, else a raw socket.
 *
 * <p>Sends from the engine's sender thread; {@link #receiveLoop} runs on the socket's own receiver thread, blocking in
 * {@code poll} and draining everything queued with non-blocking {@code recvmsg} calls per wake-up.
 */
final class IcmpSocket {

    private static final Logger LOG = LoggerFactory.getLogger(IcmpSocket.class);
    private static final int POLL_TIMEOUT_MS = 200;
    private static final int BUFFER_SIZE = 2048;
    private static final int CONTROL_SIZE = 512;
    private static final int NAME_SIZE = 128;
    /** How long the receiver lets replies gather between two drains. */
    static final long BATCH_NANOS = 2_000_000;

    /** Receives what the socket reads. Called on the receiver thread. */
    interface Sink {
        /**
         * @param kernelRealtimeNanos the kernel's receive time (SO_TIMESTAMPNS, CLOCK_REALTIME), 0 when missing
         * @param monotonicNanos {@link System#nanoTime()} after the read, the fallback
         */
        void onPacket(IcmpPackets.Parsed packet, long kernelRealtimeNanos, long monotonicNanos, InetAddress from);
    }

    final boolean v6;
    final boolean raw;
    /** The echo identifier the kernel uses (datagram) or we chose (raw). */
    final int identifier;
    /** The receive buffer the kernel granted. */
    final int receiveBuffer;
    private final int fd;
    private volatile boolean closed;

    private IcmpSocket(int fd, boolean v6, boolean raw, int identifier, int receiveBuffer) {
        this.fd = fd;
        this.v6 = v6;
        this.raw = raw;
        this.identifier = identifier;
        this.receiveBuffer = receiveBuffer;
    }

    /** What kind of socket this is, for logs and reports. */
    String describe() {
        return (v6 ? "IPv6 " : "IPv4 ") + (raw ? "raw" : "datagram") + " ICMP socket (id " + identifier
                + ", receive buffer " + receiveBuffer + " bytes)";
    }

    /**
     * Opens the socket of one family.
     *
     * @throws IcmpUnavailableException when no allowed kind of socket opens; the message has every errno
     */
    static IcmpSocket open(boolean v6, IcmpOptions options) throws IcmpUnavailableException {
        int family = v6 ? LibC.AF_INET6 : LibC.AF_INET;
        int protocol = v6 ? LibC.IPPROTO_ICMPV6 : LibC.IPPROTO_ICMP;
        String fam = v6 ? "IPv6" : "IPv4";
        StringBuilder failures = new StringBuilder();
        if (options.socketMode() != IcmpOptions.SocketMode.RAW) {
            try {
                int fd = LibC.socket(family, LibC.SOCK_DGRAM | LibC.SOCK_CLOEXEC, protocol);
                return configure(fd, v6, false, options);
            } catch (LastErrorException e) {
                failures.append(fam).append(" datagram ICMP socket: ").append(errno(e));
                if (e.getErrorCode() == LibC.EACCES) {
                    failures.append(" (net.ipv4.ping_group_range does not include this process's group)");
                }
            }
        }
        if (options.socketMode() != IcmpOptions.SocketMode.DATAGRAM) {
            try {
                int fd = LibC.socket(family, LibC.SOCK_RAW | LibC.SOCK_CLOEXEC, protocol);
                return configure(fd, v6, true, options);
            } catch (LastErrorException e) {
                if (failures.length() > 0) {
                    failures.append("; ");
                }
                failures.append(fam).append(" raw socket: ").append(errno(e));
                if (e.getErrorCode() == LibC.EPERM) {
                    failures.append(" (no CAP_NET_RAW)");
                }
            }
        }
        throw new IcmpUnavailableException(failures.toString());
    }

    static String errno(LastErrorException e) {
        String name = switch (e.getErrorCode()) {
            case LibC.EPERM -> "EPERM";
            case LibC.EACCES -> "EACCES";
            case 93 -> "EPROTONOSUPPORT";
            case 97 -> "EAFNOSUPPORT";
            default -> "errno " + e.getErrorCode();
        };
        return name + " " + e.getMessage();
    }

    private static IcmpSocket configure(int fd, boolean v6, boolean raw, IcmpOptions options) {
        try {
            int granted = receiveBuffer(fd, options.receiveBufferBytes());
            try {
                LibC.setsockopt(fd, LibC.SOL_SOCKET, LibC.SO_SNDBUF, LibC.intValue(1 << 20), 4);
            } catch (LastErrorException e) {
                LOG.debug("SO_SNDBUF refused: {}", e.getMessage());
            }
            LibC.setsockopt(fd, LibC.SOL_SOCKET, LibC.SO_TIMESTAMPNS, LibC.intValue(1), 4);
            int identifier;
            if (raw) {
                identifier = ThreadLocalRandom.current().nextInt(1, 0x10000);
                if (v6) {
                    // struct icmp6_filter: a set bit blocks the type. Pass echo replies and the errors only.
                    int[] words = {-1, -1, -1, -1, -1, -1, -1, -1};
                    for (int type : new int[] {IcmpPackets.ECHO_REPLY_V6, IcmpPackets.DEST_UNREACH_V6,
                            IcmpPackets.PACKET_TOO_BIG_V6, IcmpPackets.TIME_EXCEEDED_V6,
                            IcmpPackets.PARAM_PROBLEM_V6}) {
                        words[type >> 5] &= ~(1 << (type & 31));
                    }
                    byte[] filter = new byte[32];
                    for (int i = 0; i < 8; i++) {
                        System.arraycopy(LibC.intValue(words[i]), 0, filter, i * 4, 4);
                    }
                    LibC.setsockopt(fd, LibC.IPPROTO_ICMPV6, LibC.ICMP6_FILTER, filter, filter.length);
                } else {
                    // ICMP_FILTER: a set bit blocks the type (so our own requests on loopback are not read back).
                    int pass = 1 << IcmpPackets.ECHO_REPLY_V4 | 1 << IcmpPackets.DEST_UNREACH_V4
                            | 1 << IcmpPackets.TIME_EXCEEDED_V4;
                    LibC.setsockopt(fd, LibC.SOL_RAW, LibC.ICMP_FILTER, LibC.intValue(~pass), 4);
                }
            } else {
                // ICMP errors reach datagram sockets only through the error queue.
                if (v6) {
                    LibC.setsockopt(fd, LibC.IPPROTO_IPV6, LibC.IPV6_RECVERR, LibC.intValue(1), 4);
                } else {
                    LibC.setsockopt(fd, LibC.IPPROTO_IP, LibC.IP_RECVERR, LibC.intValue(1), 4);
                }
                // The kernel rewrites the echo identifier to the socket's "port": bind, then ask which it chose.
                byte[] any = v6 ? new byte[28] : new byte[16];
                any[0] = (byte) (v6 ? LibC.AF_INET6 : LibC.AF_INET);
                LibC.bind(fd, any, any.length);
                byte[] name = new byte[28];
                int[] len = {name.length};
                LibC.getsockname(fd, name, len);
                identifier = (name[2] & 0xff) << 8 | (name[3] & 0xff);
            }
            return new IcmpSocket(fd, v6, raw, identifier, granted);
        } catch (RuntimeException e) {
            closeQuietly(fd);
            throw e;
        }
    }

    private static int receiveBuffer(int fd, int bytes) {
        try {
            LibC.setsockopt(fd, LibC.SOL_SOCKET, LibC.SO_RCVBUFFORCE, LibC.intValue(bytes), 4);
        } catch (LastErrorException e) {
            // Without CAP_NET_ADMIN: SO_RCVBUF, which the kernel caps at net.core.rmem_max.
            LibC.setsockopt(fd, LibC.SOL_SOCKET, LibC.SO_RCVBUF, LibC.intValue(bytes), 4);
        }
        byte[] value = new byte[4];
        int[] len = {4};
        LibC.getsockopt(fd, LibC.SOL_SOCKET, LibC.SO_RCVBUF, value, len);
        return LibC.intOf(value, 0);
    }

    /** A socket address for sendto. */
    static byte[] socketAddress(InetAddress address) {
        if (address instanceof Inet6Address a6) {
            byte[] s = new byte[28];
            s[0] = (byte) LibC.AF_INET6;
            System.arraycopy(a6.getAddress(), 0, s, 8, 16);
            System.arraycopy(LibC.intValue(a6.getScopeId()), 0, s, 24, 4);
            return s;
        }
        byte[] s = new byte[16];
        s[0] = (byte) LibC.AF_INET;
        System.arraycopy(((Inet4Address) address).getAddress(), 0, s, 4, 4);
        return s;
    }

    /**
     * Sends one packet.
     *
     * @return null when sent, else the error text (e.g. "Network is unreachable")
     */
    String send(byte[] packet, int length, byte[] socketAddress) {
        try {
            LibC.sendto(fd, packet, length, 0, socketAddress, socketAddress.length);
            return null;
        } catch (LastErrorException e) {
            return e.getMessage();
        }
    }

    /** Reads until {@link #close()}; runs on the receiver thread. */
    void receiveLoop(long session, Sink sink) {
        Memory pollFd = new Memory(8);
        Memory msg = new Memory(LibC.MSGHDR_SIZE);
        Memory iov = new Memory(LibC.IOVEC_SIZE);
        Memory buffer = new Memory(BUFFER_SIZE);
        Memory control = new Memory(CONTROL_SIZE);
        Memory name = new Memory(NAME_SIZE);
        byte[] data = new byte[BUFFER_SIZE];
        iov.setPointer(0, buffer);
        iov.setLong(8, BUFFER_SIZE);
        msg.clear();
        msg.setPointer(0, name);
        msg.setPointer(16, iov);
        msg.setLong(24, 1);
        msg.setPointer(32, control);
        pollFd.setInt(0, fd);
        pollFd.setShort(4, (short) (LibC.POLLIN | LibC.POLLERR));
        while (!closed) {
            pollFd.setShort(6, (short) 0);
            try {
                if (LibC.poll(pollFd, 1, POLL_TIMEOUT_MS) <= 0) {
                    continue;
                }
            } catch (LastErrorException e) {
                if (e.getErrorCode() != LibC.EINTR && !closed) {
                    LOG.warn("poll on {} failed: {}", describe(), e.getMessage());
                }
                continue;
            }
            short revents = pollFd.getShort(6);
            if ((revents & LibC.POLLERR) != 0 && !raw) {
                drain(msg, buffer, control, name, data, LibC.MSG_ERRQUEUE, session, sink);
            }
            if ((revents & LibC.POLLIN) != 0) {
                drain(msg, buffer, control, name, data, 0, session, sink);
            }
            // Let replies gather for a moment: round trips come from kernel timestamps, so reading late costs no
            // accuracy, and one wake-up per batch instead of one per packet saves most of the CPU.
            LockSupport.parkNanos(BATCH_NANOS);
        }
    }

    private void drain(Memory msg, Memory buffer, Memory control, Memory name, byte[] data, int flags, long session,
                       Sink sink) {
        // Bounded, so that a flood cannot keep the loop from seeing close().
        for (int i = 0; i < 4096 && !closed; i++) {
            msg.setInt(8, NAME_SIZE);
            msg.setLong(40, CONTROL_SIZE);
            msg.setInt(48, 0);
            long n = LibC.recvmsg(fd, msg, flags | LibC.MSG_DONTWAIT);
            if (n < 0) {
                return;
            }
            long monotonic = System.nanoTime();
            int length = (int) Math.min(n, BUFFER_SIZE);
            buffer.read(0, data, 0, length);
            long kernelTime = 0;
            int errType = -1;
            int errCode = -1;
            InetAddress offender = null;
            long controlLength = msg.getLong(40);
            int off = 0;
            while (off + LibC.CMSG_HDR_SIZE <= controlLength) {
                long cmsgLen = control.getLong(off);
                if (cmsgLen < LibC.CMSG_HDR_SIZE) {
                    break;
                }
                int level = control.getInt(off + 8);
                int type = control.getInt(off + 12);
                int dataOff = off + LibC.CMSG_HDR_SIZE;
                if (level == LibC.SOL_SOCKET && type == LibC.SO_TIMESTAMPNS) {
                    kernelTime = control.getLong(dataOff) * 1_000_000_000L + control.getLong(dataOff + 8);
                } else if ((level == LibC.IPPROTO_IP && type == LibC.IP_RECVERR)
                        || (level == LibC.IPPROTO_IPV6 && type == LibC.IPV6_RECVERR)) {
                    // struct sock_extended_err {u32 errno; u8 origin, type, code, pad; u32 info, data;} + offender
                    int origin = control.getByte(dataOff + 4) & 0xff;
                    if (origin == 2 || origin == 3) {
                        errType = control.getByte(dataOff + 5) & 0xff;
                        errCode = control.getByte(dataOff + 6) & 0xff;
                        offender = address(control, dataOff + 16);
                    }
                }
                off += (int) ((cmsgLen + 7) & ~7L);
            }
            IcmpPackets.Parsed parsed;
            InetAddress from;
            if ((flags & LibC.MSG_ERRQUEUE) != 0) {
                if (errType < 0) {
                    continue;
                }
                parsed = IcmpPackets.parseQuoted(data, length, v6, session, errType, errCode);
                from = offender;
            } else {
                parsed = IcmpPackets.parse(data, length, v6, raw && !v6, session);
                // Only errors name where they came from (a reply comes from the target).
                from = parsed != null && parsed.kind() == IcmpPackets.Kind.ERROR ? address(name, 0) : null;
            }
            if (parsed != null) {
                sink.onPacket(parsed, kernelTime, monotonic, from);
            }
        }
    }

    private static InetAddress address(Pointer p, long off) {
        try {
            int family = p.getShort(off) & 0xffff;
            if (family == LibC.AF_INET) {
                return InetAddress.getByAddress(p.getByteArray(off + 4, 4));
            }
            if (family == LibC.AF_INET6) {
                return InetAddress.getByAddress(p.getByteArray(off + 8, 16));
            }
        } catch (UnknownHostException e) {
            // a 4- or 16-byte array always makes an address
        }
        return null;
    }

    /** Stops the receive loop without closing the descriptor under it. */
    void stop() {
        closed = true;
    }

    /** Closes the descriptor after the receive loop ended. */
    void release() {
        closeQuietly(fd);
    }

    private static void closeQuietly(int fd) {
        try {
            LibC.close(fd);
        } catch (LastErrorException e) {
            LOG.debug("close({}) failed: {}", fd, e.getMessage());
        }
    }
}
