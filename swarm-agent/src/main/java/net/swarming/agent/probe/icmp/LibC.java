package net.swarming.agent.probe.icmp;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

/**
 * The few libc calls the ICMP engine needs, through JNA direct mapping (no per-call reflection). Linux, LP64 (x86_64 and
 * aarch64 share the struct layouts used here). Calls that fail throw {@link LastErrorException} carrying errno.
 */
final class LibC {

    static final int AF_INET = 2;
    static final int AF_INET6 = 10;
    static final int SOCK_DGRAM = 2;
    static final int SOCK_RAW = 3;
    static final int SOCK_CLOEXEC = 0x80000;
    static final int IPPROTO_IP = 0;
    static final int IPPROTO_ICMP = 1;
    static final int IPPROTO_IPV6 = 41;
    static final int IPPROTO_ICMPV6 = 58;
    static final int SOL_SOCKET = 1;
    static final int SOL_RAW = 255;
    static final int SO_SNDBUF = 7;
    static final int SO_RCVBUF = 8;
    static final int SO_RCVBUFFORCE = 33;
    static final int SO_TIMESTAMPNS = 35;
    static final int ICMP_FILTER = 1;
    static final int ICMP6_FILTER = 1;
    static final int IP_RECVERR = 11;
    static final int IPV6_RECVERR = 25;
    static final int MSG_DONTWAIT = 0x40;
    static final int MSG_ERRQUEUE = 0x2000;
    static final short POLLIN = 0x1;
    static final short POLLERR = 0x8;

    static final int EPERM = 1;
    static final int EINTR = 4;
    static final int EAGAIN = 11;
    static final int EACCES = 13;
    static final int ENOBUFS = 105;

    /** struct msghdr: name, namelen(+pad), iov, iovlen, control, controllen, flags(+pad). */
    static final int MSGHDR_SIZE = 56;
    static final int IOVEC_SIZE = 16;
    /** struct cmsghdr header: len (size_t), level, type; data follows, 8-aligned. */
    static final int CMSG_HDR_SIZE = 16;

    static {
        Native.register(LibC.class, "c");
    }

    private LibC() {
    }

    static native int socket(int domain, int type, int protocol) throws LastErrorException;

    static native int setsockopt(int fd, int level, int name, byte[] value, int length) throws LastErrorException;

    static native int getsockopt(int fd, int level, int name, byte[] value, int[] length) throws LastErrorException;

    static native int bind(int fd, byte[] address, int length) throws LastErrorException;

    static native int getsockname(int fd, byte[] address, int[] length) throws LastErrorException;

    static native long sendto(int fd, byte[] buffer, long length, int flags, byte[] address, int addressLength)
            throws LastErrorException;

    /**
     * Without {@link LastErrorException}: the receive loop ends every drain with EAGAIN, and an exception per wake-up
     * (stack trace, strerror) would cost more than the read.
     *
     * @return bytes read, or -1 (EAGAIN, EINTR or an error: the caller stops draining and polls again)
     */
    static native long recvmsg(int fd, Pointer msghdr, int flags);

    /** {@code struct pollfd} is {int fd; short events; short revents}: 8 bytes per entry. */
    static native int poll(Pointer fds, long count, int timeoutMillis) throws LastErrorException;

    static native int close(int fd) throws LastErrorException;

    /** Loads the library now; throws {@link UnsatisfiedLinkError} when JNA cannot run here. */
    static void load() {
        // the static initializer did the work
    }

    static byte[] intValue(int value) {
        return new byte[] {(byte) value, (byte) (value >>> 8), (byte) (value >>> 16), (byte) (value >>> 24)};
    }

    static int intOf(byte[] b, int off) {
        return (b[off] & 0xff) | (b[off + 1] & 0xff) << 8 | (b[off + 2] & 0xff) << 16 | (b[off + 3] & 0xff) << 24;
    }
}
