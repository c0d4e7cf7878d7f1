package net.swarming.testkit.netns;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

import net.swarming.testkit.netns.internal.IcmpEcho;

class IcmpEchoTest {

  /** An echo request 169.254.1.1 -> 169.254.128.7, id 0x1234, seq 5, payload "swarm!", with valid checksums. */
  private static byte[] request() {
    byte[] p = new byte[20 + 8 + 6];
    p[0] = 0x45;
    p[3] = (byte) p.length;
    p[8] = 63;
    p[9] = 1;
    System.arraycopy(new byte[] {(byte) 169, (byte) 254, 1, 1}, 0, p, 12, 4);
    System.arraycopy(new byte[] {(byte) 169, (byte) 254, (byte) 128, 7}, 0, p, 16, 4);
    int ip = IcmpEcho.checksum(p, 0, 20);
    p[10] = (byte) (ip >> 8);
    p[11] = (byte) ip;
    p[20] = 8;
    p[24] = 0x12;
    p[25] = 0x34;
    p[27] = 5;
    System.arraycopy("swarm!".getBytes(java.nio.charset.StandardCharsets.US_ASCII), 0, p, 28, 6);
    int icmp = IcmpEcho.checksum(p, 20, 14);
    p[22] = (byte) (icmp >> 8);
    p[23] = (byte) icmp;
    return p;
  }

  @Test
  void whenAnEchoRequestIsParsed_thenItsFieldsAreRead() {
    IcmpEcho.Request r = IcmpEcho.parseRequest(request(), request().length);
    assertNotNull(r);
    assertEquals("169.254.128.7", r.target().getHostAddress());
    assertEquals(0x1234, r.identifier());
    assertEquals(5, r.sequence());
  }

  @Test
  void whenTurnedIntoAReply_thenAddressesSwapTypeIsZeroAndBothChecksumsVerify() {
    byte[] original = request();
    IcmpEcho.Request r = IcmpEcho.parseRequest(original, original.length + 10);
    byte[] reply = r.toReply();
    assertArrayEquals(Arrays.copyOfRange(original, 16, 20), Arrays.copyOfRange(reply, 12, 16));
    assertArrayEquals(Arrays.copyOfRange(original, 12, 16), Arrays.copyOfRange(reply, 16, 20));
    assertEquals(0, reply[20]);
    assertEquals(64, reply[8]);
    assertEquals(0, IcmpEcho.checksum(reply, 0, 20), "IP header checksum");
    assertEquals(0, IcmpEcho.checksum(reply, 20, reply.length - 20), "ICMP checksum");
    assertArrayEquals(Arrays.copyOfRange(original, 24, original.length), Arrays.copyOfRange(reply, 24, reply.length),
        "identifier, sequence and payload unchanged");
  }

  @Test
  void whenThePacketIsNotAnIpv4EchoRequest_thenItIsIgnored() {
    byte[] reply = request();
    reply[20] = 0;
    assertNull(IcmpEcho.parseRequest(reply, reply.length));
    byte[] udp = request();
    udp[9] = 17;
    assertNull(IcmpEcho.parseRequest(udp, udp.length));
    byte[] v6 = request();
    v6[0] = 0x60;
    assertNull(IcmpEcho.parseRequest(v6, v6.length));
    byte[] fragment = request();
    fragment[6] = 0x20;
    assertNull(IcmpEcho.parseRequest(fragment, fragment.length));
    assertNull(IcmpEcho.parseRequest(request(), 30), "truncated");
  }

  @Test
  void whenTheLengthIsOdd_thenTheChecksumPadsWithZero() {
    byte[] b = {0x01, 0x02, 0x03};
    assertEquals(~(0x0102 + 0x0300) & 0xffff, IcmpEcho.checksum(b, 0, 3));
  }
}
