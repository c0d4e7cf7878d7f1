package net.swarming.agent.internal.publish;

import java.util.List;
import net.swarming.agent.ResultFormat;
import net.swarming.agent.probe.ProbeRound;
import net.swarming.common.wire.PingCodec;
import net.swarming.common.wire.PingResult;
import net.swarming.common.wire.ResultStatus;
import net.swarming.common.wire.RttStats;

/** Turns rounds into wire results. */
public final class Results {

    private Results() {
    }

    /**
     * The result of a round: loss, statistics of the replies, every round trip (null = lost), counts, resolved address,
     * probe and round start; {@link ResultStatus#ERROR} with the message when the round failed as a whole.
     */
    public static PingResult toPingResult(ProbeRound round, String agent, String agentId, ResultFormat format) {
        if (round.isError()) {
            return new PingResult(agent, round.target(), ResultStatus.ERROR, round.error(), null, null, List.of(),
                    null, null, null, round.resolvedIp(), round.probe(), round.start(), agentId, format.version());
        }
        int sent = round.sent();
        int received = round.received();
        double loss = 100.0 * (sent - received) / sent;
        RttStats rtt = RttStats.ofRound(round.rtts()).orElse(null);
        return new PingResult(agent, round.target(), ResultStatus.OK, null, loss, rtt, round.rtts(), sent, received,
                round.duplicates(), round.resolvedIp(), round.probe(), round.start(), agentId, format.version());
    }

    /** The payload in {@code format}. */
    public static byte[] encode(PingResult result, ResultFormat format) {
        return format == ResultFormat.V2 ? PingCodec.encodeV2(result) : PingCodec.encodeOriginal(result);
    }
}
