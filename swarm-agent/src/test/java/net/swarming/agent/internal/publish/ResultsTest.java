package net.swarming.agent.internal.publish;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import net.swarming.agent.ResultFormat;
import net.swarming.agent.probe.ProbeRound;
import net.swarming.common.wire.PingResult;
import net.swarming.common.wire.ProbeType;
import net.swarming.common.wire.ResultStatus;
import org.junit.jupiter.api.Test;

class ResultsTest {

    private static final Instant START = Instant.parse("2024-05-06T07:08:09.123Z");

    @Test
    void whenSomeProbesLost_thenLossCountsAndStatsOfTheReplies() {
        ProbeRound round = ProbeRound.completed("example.org", ProbeType.TCP, START, "192.0.2.7",
                Arrays.asList(1.0, null, 3.0, null), 0);

        PingResult r = Results.toPingResult(round, "bee", "swarm-agent-bee-abc", ResultFormat.V2);

        assertEquals(ResultStatus.OK, r.status());
        assertEquals(50.0, r.loss());
        assertEquals(4, r.sent());
        assertEquals(2, r.received());
        assertEquals(0, r.duplicates());
        assertEquals(Arrays.asList(1.0, null, 3.0, null), r.rtts());
        assertEquals(1.0, r.rtt().min());
        assertEquals(2.0, r.rtt().avg());
        assertEquals(3.0, r.rtt().max());
        assertEquals(1.0, r.rtt().stddev());
        assertEquals("192.0.2.7", r.resolvedIp());
        assertEquals(ProbeType.TCP, r.probe());
        assertEquals(START, r.roundStart());
        assertEquals("swarm-agent-bee-abc", r.agentId());
        assertEquals(2, r.version());
    }

    @Test
    void whenEverythingLost_thenNoRoundTripInTheOriginalFormat() {
        ProbeRound round = ProbeRound.completed("example.org", ProbeType.TCP, START, "192.0.2.7",
                Arrays.asList(null, null), 0);

        PingResult r = Results.toPingResult(round, "bee", "id", ResultFormat.ORIGINAL);

        assertEquals(100.0, r.loss());
        assertNull(r.rtt());
        assertEquals(1, r.version());
        assertEquals("[\"bee\", \"ok\", {\"Error\": null, \"loss\": 100.0}]", text(r, ResultFormat.ORIGINAL));
    }

    @Test
    void whenAllAnswered_thenTheOriginalArray() {
        ProbeRound round = ProbeRound.completed("example.org", ProbeType.TCP, START, "192.0.2.7",
                List.of(1.0, 2.0, 3.0), 0);

        PingResult r = Results.toPingResult(round, "bee-AU10", "id", ResultFormat.ORIGINAL);

        assertEquals("[\"bee-AU10\", \"ok\", {\"Error\": null, \"loss\": 0.0, \"Round trip\": [1.0, 2.0, 3.0, 0.816]}]",
                text(r, ResultFormat.ORIGINAL));
    }

    @Test
    void whenRoundFailed_thenTheOriginalErrorArray() {
        ProbeRound round = ProbeRound.failed("no-such-host.invalid", ProbeType.TCP, START, "Unknown host");

        PingResult r = Results.toPingResult(round, "bee", "id", ResultFormat.ORIGINAL);

        assertEquals(ResultStatus.ERROR, r.status());
        assertNull(r.loss());
        assertEquals("[\"bee\", \"error\", \"Unknown host\"]", text(r, ResultFormat.ORIGINAL));
    }

    private static String text(PingResult r, ResultFormat format) {
        return new String(Results.encode(r, format), StandardCharsets.UTF_8);
    }

    @Test
    void whenRoundHasLateRepliesErrorAnswersAndHttpDetails_thenV2CarriesThemAndOriginalDoesNot() {
        ProbeRound round = new ProbeRound("example.org", ProbeType.ICMP, START, "192.0.2.7",
                Arrays.asList(1.5, null, null), 0, null, 1,
                List.of(new ProbeRound.ProbeError(2, "destination unreachable (host unreachable)", "192.0.2.254")))
                .withDetails(net.swarming.common.wire.RoundExtras.http(200, java.util.Map.of("connect", 0.25)));
        PingResult v2 = Results.toPingResult(round, "bee", "id", ResultFormat.V2);
        String text = new String(Results.encode(round, v2, ResultFormat.V2), StandardCharsets.UTF_8);
        assertEquals(true, text.endsWith("\"rtts\":[1.5,null,null],\"late\":1,\"errors\":[{\"ping\":2,"
                + "\"what\":\"destination unreachable (host unreachable)\",\"from\":\"192.0.2.254\"}],"
                + "\"http_status\":200,\"phases\":{\"connect\":0.25}}"), text);
        PingResult original = Results.toPingResult(round, "bee", "id", ResultFormat.ORIGINAL);
        assertEquals("[\"bee\", \"ok\", {\"Error\": null, \"loss\": 66.667, \"Round trip\": [1.5, 1.5, 1.5, 0.0]}]",
                new String(Results.encode(round, original, ResultFormat.ORIGINAL), StandardCharsets.US_ASCII));
    }

    @Test
    void whenTcpRoundHasNothingExtra_thenNoExtraFields() {
        ProbeRound round = ProbeRound.completed("example.org", ProbeType.TCP, START, "192.0.2.7", List.of(1.0), 0);
        assertEquals(net.swarming.common.wire.RoundExtras.NONE, Results.extras(round));
    }

    @Test
    void whenIcmpRoundHasNoLateReplies_thenLateIsZero_andHttpRoundWithErrorsHasNoLateField() {
        ProbeRound icmp = ProbeRound.completed("example.org", ProbeType.ICMP, START, "192.0.2.7", List.of(1.0), 0);
        assertEquals(0, Results.extras(icmp).late());
        ProbeRound http = new ProbeRound("http://example.org/", ProbeType.HTTP, START, "192.0.2.7",
                Arrays.asList((Double) null), 0, null, 0,
                List.of(new ProbeRound.ProbeError(0, "connect failed: Connection refused", "192.0.2.7")));
        assertNull(Results.extras(http).late());
        assertEquals(1, Results.extras(http).errors().size());
    }
}
