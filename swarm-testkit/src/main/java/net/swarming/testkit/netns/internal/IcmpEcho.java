package net.swarming.testkit.netns.internal;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;

/** IPv4 ICMP echo request parsing and reply building, on raw IP packets as a TUN device carries them. */
public final class IcmpEcho {

  private static final int PROTO_ICMP = 1;
  private static final int ECHO_REQUEST = 8;
  private static final int ECHO_REPLY = 0;
  private static final int REPLY_TTL = 64;

  private IcmpEcho() {}

  /** A parsed echo request: the packet (a private copy) and where its ICMP header starts. */
  public record Request(byte[] packet, int length, int icmpOffset) {

    /** The destination: the target the prober addressed. */
    public Inet4Address target() {
      try {
        return (Inet4Address) InetAddress.getByAddress(Arrays.copyOfRange(packet, 16, 20));
      } catch (UnknownHostException e) {
        throw new IllegalStateException("4 bytes are always an IPv4 address", e);
      }
    }

    public int identifier() {
      return u16(packet, icmpOffset + 4);
    }

    public int sequence() {
      return u16(packet, icmpOffset + 6);
    }

    /**
     * Turns the request into its reply in place: source and destination swapped, type 0, fresh TTL, both checksums
     * recomputed; identifier, sequence and payload unchanged.
     */
    public byte[] toReply() {
      for (int i = 0; i < 4; i++) {
        byte b = packet[12 + i];
        packet[12 + i] = packet[16 + i];
        packet[16 + i] = b;
      }
      packet[8] = (byte) REPLY_TTL;
      packet[10] = 0;
      packet[11] = 0;
      put16(packet, 10, checksum(packet, 0, icmpOffset));
      packet[icmpOffset] = ECHO_REPLY;
      packet[icmpOffset + 2] = 0;
      packet[icmpOffset + 3] = 0;
      put16(packet, icmpOffset + 2, checksum(packet, icmpOffset, length - icmpOffset));
      return packet;
    }
  }

  /** The echo request in {@code buf[0..length)}, copied; null for anything else (IPv6, fragments, other ICMP). */
  public static Request parseRequest(byte[] buf, int length) {
    if (length < 20 || (buf[0] >> 4 & 0xf) != 4) {
      return null;
    }
    int ihl = (buf[0] & 0xf) * 4;
    int total = u16(buf, 2);
    if (ihl < 20 || total > length || total < ihl + 8 || (buf[9] & 0xff) != PROTO_ICMP) {
      return null;
    }
    boolean fragment = (u16(buf, 6) & 0x3fff) != 0;
    if (fragment || (buf[ihl] & 0xff) != ECHO_REQUEST || buf[ihl + 1] != 0) {
      return null;
    }
    return new Request(Arrays.copyOf(buf, total), total, ihl);
  }

  /** The Internet checksum (RFC 1071) of {@code len} bytes from {@code off}. */
  public static int checksum(byte[] b, int off, int len) {
    long sum = 0;
    int i = off;
    int end = off + len;
    for (; i + 1 < end; i += 2) {
      sum += u16(b, i);
    }
    if (i < end) {
      sum += (b[i] & 0xff) << 8;
    }
    while ((sum >> 16) != 0) {
      sum = (sum & 0xffff) + (sum >> 16);
    }
    return (int) (~sum & 0xffff);
  }

  private static int u16(byte[] b, int off) {
    return (b[off] & 0xff) << 8 | (b[off + 1] & 0xff);
  }

  private static void put16(byte[] b, int off, int v) {
    b[off] = (byte) (v >> 8);
    b[off + 1] = (byte) v;
  }
}
