package net.swarming.agent.probe.icmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

class IcmpPacketsTest {

    private static final long SESSION = 0x0123456789abcdefL;

    @Test
    void whenChecksummingRfc1071Example_thenMatchesTheRfc() {
        // RFC 1071 section 3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2, so the checksum is its complement 220d.
        byte[] data = {0x00, 0x01, (byte) 0xf2, 0x03, (byte) 0xf4, (byte) 0xf5, (byte) 0xf6, (byte) 0xf7};
        assertEquals(0x220d, IcmpPackets.checksum(data, 0, data.length));
    }

    @Test
    void whenChecksummingOddLength_thenLastBytePadsWithZero() {
        byte[] data = {0x12, 0x34, 0x56};
        assertEquals(~(0x1234 + 0x5600) & 0xffff, IcmpPackets.checksum(data, 0, 3));
    }

    @Test
    void whenBuildingIpv4EchoRequest_thenHeaderAndChecksumAreValid() {
        byte[] p = new byte[IcmpPackets.PACKET_SIZE];
        IcmpPackets.writeEchoRequest(p, false, 0xbeef, 0x1234, SESSION, 77, 5, 123_456_789L);

        assertEquals(8, p[0]);
        assertEquals(0, p[1]);
        assertEquals(0xbeef, IcmpPackets.getShort(p, 4));
        assertEquals(0x1234, IcmpPackets.getShort(p, 6));
        // A packet with its checksum in place sums to 0xffff, so its checksum is 0.
        assertEquals(0, IcmpPackets.checksum(p, 0, p.length));
        assertEquals(64, p.length);
    }

    @Test
    void whenParsingEchoReplyWithOurCookie_thenRoundPingAndTimeComeBack() {
        byte[] p = reply(false, SESSION, 42, 19);

        IcmpPackets.Parsed parsed = IcmpPackets.parse(p, p.length, false, false, SESSION);

        assertNotNull(parsed);
        assertEquals(IcmpPackets.Kind.REPLY, parsed.kind());
        assertEquals(42, parsed.roundId());
        assertEquals(19, parsed.ping());
        assertEquals(999L, parsed.sentRealtimeNanos());
    }

    @Test
    void whenParsingRawIpv4Packet_thenIpHeaderIsSkipped() {
        byte[] icmp = reply(false, SESSION, -5, 65_535);
        byte[] withHeader = new byte[24 + icmp.length];
        withHeader[0] = 0x46; // IHL 6: 24 bytes, with options
        System.arraycopy(icmp, 0, withHeader, 24, icmp.length);

        IcmpPackets.Parsed parsed = IcmpPackets.parse(withHeader, withHeader.length, false, true, SESSION);

        assertNotNull(parsed);
        assertEquals(-5, parsed.roundId());
        assertEquals(65_535, parsed.ping());
    }

    @Test
    void whenReplyCarriesAnotherSessionsCookie_thenItIsNotOurs() {
        byte[] p = reply(false, SESSION + 1, 1, 1);
        assertNull(IcmpPackets.parse(p, p.length, false, false, SESSION));
    }

    @Test
    void whenReplyIsTruncated_thenItIsIgnored() {
        byte[] p = reply(false, SESSION, 1, 1);
        assertNull(IcmpPackets.parse(p, 8 + 10, false, false, SESSION));
        assertNull(IcmpPackets.parse(p, 4, false, false, SESSION));
    }

    @Test
    void whenEchoRequestIsRead_thenItIsNotAReply() {
        byte[] p = new byte[IcmpPackets.PACKET_SIZE];
        IcmpPackets.writeEchoRequest(p, false, 1, 1, SESSION, 1, 1, 1);
        assertNull(IcmpPackets.parse(p, p.length, false, false, SESSION));
    }

    @Test
    void whenIpv4DestinationUnreachableQuotesOurRequest_thenItMatchesAsError() {
        byte[] request = new byte[IcmpPackets.PACKET_SIZE];
        IcmpPackets.writeEchoRequest(request, false, 7, 8, SESSION, 3, 2, 1);
        byte[] error = new byte[8 + 20 + request.length];
        error[0] = 3;
        error[1] = 1;
        error[8] = 0x45;
        error[8 + 9] = 1;
        System.arraycopy(request, 0, error, 28, request.length);

        IcmpPackets.Parsed parsed = IcmpPackets.parse(error, error.length, false, false, SESSION);

        assertNotNull(parsed);
        assertEquals(IcmpPackets.Kind.ERROR, parsed.kind());
        assertEquals(3, parsed.roundId());
        assertEquals(2, parsed.ping());
        assertEquals("destination unreachable (host unreachable)", IcmpPackets.describe(false, 3, 1));
    }

    @Test
    void whenIpv6TimeExceededQuotesOurRequest_thenItMatchesAsError() {
        byte[] request = new byte[IcmpPackets.PACKET_SIZE];
        IcmpPackets.writeEchoRequest(request, true, 7, 8, SESSION, 9, 0, 1);
        byte[] error = new byte[8 + 40 + request.length];
        error[0] = 3;
        error[8] = 0x60;
        error[8 + 6] = 58;
        System.arraycopy(request, 0, error, 48, request.length);

        IcmpPackets.Parsed parsed = IcmpPackets.parse(error, error.length, true, false, SESSION);

        assertNotNull(parsed);
        assertEquals(IcmpPackets.Kind.ERROR, parsed.kind());
        assertEquals(9, parsed.roundId());
        assertEquals("time exceeded (hop limit)", IcmpPackets.describe(true, 3, 0));
    }

    @Test
    void whenErrorQuotesSomethingElse_thenItIsIgnored() {
        byte[] error = new byte[8 + 20 + 64];
        error[0] = 3;
        error[8] = 0x45;
        error[8 + 9] = 17; // UDP
        assertNull(IcmpPackets.parse(error, error.length, false, false, SESSION));
    }

    static byte[] reply(boolean v6, long session, int roundId, int ping) {
        byte[] p = new byte[IcmpPackets.PACKET_SIZE];
        IcmpPackets.writeEchoRequest(p, v6, 1, 1, session, roundId, ping, 999L);
        p[0] = (byte) (v6 ? IcmpPackets.ECHO_REPLY_V6 : IcmpPackets.ECHO_REPLY_V4);
        return p;
    }
}
