package net.swarming.agent.internal.publish;

import java.util.ArrayList;
import java.util.List;
import net.swarming.agent.ResultFormat;
import net.swarming.agent.probe.ProbeRound;
import net.swarming.common.wire.PingCodec;
import net.swarming.common.wire.PingResult;
import net.swarming.common.wire.RoundExtras;
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

    /**
     * What the round measured beyond {@link PingResult}: late replies and error answers (ICMP), HTTP status and phase
     * timings; {@link RoundExtras#NONE} for a TCP round with nothing to add.
     */
    public static RoundExtras extras(ProbeRound round) {
        List<RoundExtras.ErrorAnswer> errors = new ArrayList<>(round.probeErrors().size());
        for (ProbeRound.ProbeError e : round.probeErrors()) {
            errors.add(new RoundExtras.ErrorAnswer(e.ping(), e.description(), e.from()));
        }
        RoundExtras details = round.details();
        // Late replies only exist for probes that wait for replies on a shared socket (ICMP); 0 there is news too.
        Integer late = round.late() > 0 || round.probe() == net.swarming.common.wire.ProbeType.ICMP
                ? round.late() : null;
        RoundExtras extras = new RoundExtras(late, errors, details.httpStatus(), details.phasesMs());
        return extras.isEmpty() ? RoundExtras.NONE : extras;
    }

    /** The payload of a round in {@code format}: the v2 object carries {@link #extras}, the original array cannot. */
    public static byte[] encode(ProbeRound round, PingResult result, ResultFormat format) {
        return format == ResultFormat.V2 ? PingCodec.encodeV2(result, extras(round))
                : PingCodec.encodeOriginal(result);
    }
}
