package net.swarming.agent.probe.icmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.net.InetAddress;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Duplicates and stray replies through the real kernel: the test sends extra copies of an echo reply (same cookie) to
 * 127.0.0.1 from a raw socket of its own, while the round is still waiting out its timeout.
 */
@Timeout(30)
class IcmpDuplicatesIT {

    @Test
    void whenAReplyArrivesThreeTimes_thenOneAnswerAndTwoDuplicates() throws Exception {
        try (IcmpEngine engine = IcmpEngine.open(IcmpOptions.defaults().withSocketMode(IcmpOptions.SocketMode.RAW))) {
            CompletableFuture<IcmpEngine.Result> round = engine.submit(InetAddress.getByName("127.0.0.1"), 1,
                    Duration.ofMillis(10), Duration.ofSeconds(2));
            int roundId = engine.lastRoundId();
            Awaitility.await().atMost(Duration.ofSeconds(2)).until(() -> engine.counters().received() == 1);

            forgeReplies(engine.session(), roundId, 0, 2);
            forgeReplies(engine.session(), roundId + 1_000, 0, 1); // no such round: stale, not an answer

            IcmpEngine.Result result = round.get(10, TimeUnit.SECONDS);
            assertEquals(1, result.rtts().size());
            assertNotNull(result.rtts().get(0));
            assertEquals(2, result.duplicates());
            assertEquals(0, result.late());
            assertEquals(2, engine.counters().duplicates());
            assertEquals(1, engine.counters().stale());
        }
    }

    /** Sends {@code copies} echo replies carrying our cookie to 127.0.0.1 through a raw socket. */
    private static void forgeReplies(long session, int roundId, int ping, int copies) throws Exception {
        byte[] reply = new byte[IcmpPackets.PACKET_SIZE];
        IcmpPackets.writeEchoRequest(reply, false, 1, 1, session, roundId, ping, 0);
        reply[0] = (byte) IcmpPackets.ECHO_REPLY_V4;
        reply[2] = 0;
        reply[3] = 0;
        IcmpPackets.putShort(reply, 2, IcmpPackets.checksum(reply, 0, reply.length));
        int fd = LibC.socket(LibC.AF_INET, LibC.SOCK_RAW | LibC.SOCK_CLOEXEC, LibC.IPPROTO_ICMP);
        try {
            byte[] to = IcmpSocket.socketAddress(InetAddress.getByName("127.0.0.1"));
            for (int i = 0; i < copies; i++) {
                LibC.sendto(fd, reply, reply.length, 0, to, to.length);
            }
        } finally {
            LibC.close(fd);
        }
    }
}
