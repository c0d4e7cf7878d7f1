package net.swarming.agent.probe.icmp;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import net.swarming.agent.probe.ProbeContext;
import net.swarming.agent.probe.ProbeRequest;
import net.swarming.agent.probe.ProbeRound;

/**
 * Runs one ICMP round in a child JVM (inside a network namespace, maybe as another user) and prints what happened as
 * {@code key=value} lines for {@link IcmpNamespaceIT}: {@code java IcmpChild AUTO|DATAGRAM|RAW target pings}.
 */
public final class IcmpChild {

    private IcmpChild() {
    }

    public static void main(String[] args) throws Exception {
        if (args[0].equals("LATE")) {
            late(args[1]);
            return;
        }
        IcmpOptions options = IcmpOptions.defaults().withSocketMode(IcmpOptions.SocketMode.valueOf(args[0]));
        ExecutorService pool = Executors.newFixedThreadPool(1);
        try (IcmpProbe probe = new IcmpProbe(new ProbeContext(Clock.systemUTC(), pool, 80), options)) {
            if (probe.unavailableReason() != null) {
                System.out.println("unavailable=" + probe.unavailableReason());
            } else {
                System.out.println("mode=" + (probe.engine().datagram() ? "datagram" : "raw"));
            }
            ProbeRound r = probe.round(new ProbeRequest(args[1], Integer.parseInt(args[2]), Duration.ofMillis(50),
                    Duration.ofMillis(500), null)).get(30, TimeUnit.SECONDS);
            System.out.println("error=" + r.error());
            System.out.println("sent=" + r.sent());
            System.out.println("received=" + r.received());
            for (ProbeRound.ProbeError e : r.probeErrors()) {
                System.out.println("probeError=" + e.ping() + "|" + e.description() + "|" + e.from());
            }
        } finally {
            pool.shutdownNow();
        }
        System.out.flush();
    }

    /**
     * A round to {@code target}, which does not answer, gets a reply with its cookie forged through a raw socket after
     * the first request's timeout (late), and the same reply again (a duplicate of the late one).
     */
    private static void late(String target) throws Exception {
        try (IcmpEngine engine = IcmpEngine.open(IcmpOptions.defaults().withSocketMode(IcmpOptions.SocketMode.RAW))) {
            var round = engine.submit(java.net.InetAddress.getByName(target), 2, Duration.ofMillis(800),
                    Duration.ofMillis(200));
            int roundId = engine.lastRoundId();
            Thread.sleep(400);
            byte[] reply = new byte[IcmpPackets.PACKET_SIZE];
            IcmpPackets.writeEchoRequest(reply, false, 1, 1, engine.session(), roundId, 0, 0);
            reply[0] = (byte) IcmpPackets.ECHO_REPLY_V4;
            reply[2] = 0;
            reply[3] = 0;
            IcmpPackets.putShort(reply, 2, IcmpPackets.checksum(reply, 0, reply.length));
            int fd = LibC.socket(LibC.AF_INET, LibC.SOCK_RAW | LibC.SOCK_CLOEXEC, LibC.IPPROTO_ICMP);
            try {
                byte[] to = IcmpSocket.socketAddress(java.net.InetAddress.getByName("127.0.0.1"));
                LibC.sendto(fd, reply, reply.length, 0, to, to.length);
                LibC.sendto(fd, reply, reply.length, 0, to, to.length);
            } finally {
                LibC.close(fd);
            }
            IcmpEngine.Result r = round.get(10, TimeUnit.SECONDS);
            System.out.println("rtts=" + r.rtts().toString().replace(" ", ""));
            System.out.println("late=" + r.late());
            System.out.println("duplicates=" + r.duplicates());
        }
        System.out.flush();
    }
}
