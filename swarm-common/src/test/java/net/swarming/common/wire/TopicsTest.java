package net.swarming.common.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TopicsTest {

    @ParameterizedTest
    @ValueSource(strings = {"free.fr", "www.doctissimo.fr", "free.fr.", "192.0.2.1", "::1", "2001:db8::8a2e:370:7334",
        "[::1]", "bee-AU10", "bücher.de"})
    void whenOrdinaryHostOrAddress_thenLevelIsUnchanged(String host) {
        assertEquals(host, Topics.encodeLevel(host));
        assertEquals("ping/" + host, Topics.ping(host));
    }

    @Test
    void whenOriginalTarget_thenTopicIsByteIdenticalToThePythonAgents() {
        assertEquals("ping/free.fr", Topics.ping("free.fr"));
        assertEquals("ping/::1", Topics.ping("::1"));
        assertEquals("rip/agent/bee-AU10", Topics.ripAgent("bee-AU10"));
    }

    @Test
    void whenIpv6ZoneId_thenItsPercentIsEscaped() {
        assertEquals("ping/fe80::1%25eth0", Topics.ping("fe80::1%eth0"));
        assertEquals(Optional.of("fe80::1%eth0"), Topics.pingTarget("ping/fe80::1%25eth0"));
    }

    @Test
    void whenSpecialCharacters_thenPercentEncodedWithUppercaseHex() {
        assertEquals("https:%2F%2Fexample.org%2Fa?b%23c", Topics.encodeLevel("https://example.org/a?b#c"));
        assertEquals("a%2Bb", Topics.encodeLevel("a+b"));
        assertEquals("%25", Topics.encodeLevel("%"));
        assertEquals("a%00b%1F%7F%C2%85", Topics.encodeLevel("a\u0000b\u001f\u007f\u0085"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"https://example.org/a?b#c", "a+b", "%", "%%25", "::1", "fe80::1%25eth0", "/", "#", "+",
        "a\u0000b\tc\nd", "héllo/wörld#😀", "", "100%"})
    void whenEncodedThenDecoded_thenOriginalStringBack(String s) {
        String level = Topics.encodeLevel(s);
        assertEquals(-1, level.indexOf('/'), level);
        assertEquals(-1, level.indexOf('+'), level);
        assertEquals(-1, level.indexOf('#'), level);
        assertEquals(s, Topics.decodeLevel(level));
    }

    @Test
    void whenPingTopic_thenTargetDecoded() {
        String url = "https://example.org/a?b#c";
        assertEquals(Optional.of(url), Topics.pingTarget(Topics.ping(url)));
        assertEquals(Optional.of("free.fr"), Topics.pingTarget("ping/free.fr"));
        assertEquals(Optional.of("::1"), Topics.pingTarget("ping/::1"));
        assertEquals(Optional.of("a+b"), Topics.pingTarget("ping/a%2bb"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"ping/", "ping", "watch", "rip/agent/x", "ping/http://x.org/y", "ping/a/b", "pong/x",
        "xping/x", ""})
    void whenNotASingleLevelPingTopic_thenNoTarget(String topic) {
        assertEquals(Optional.empty(), Topics.pingTarget(topic));
    }

    @Test
    void whenLevelHasStrayPercent_thenVerbatimBecauseOnlyAnOriginalAgentPublishesThat() {
        assertEquals(Optional.of("100%"), Topics.pingTarget("ping/100%"));
        assertEquals(Optional.of("a%zz"), Topics.pingTarget("ping/a%zz"));
    }

    @Test
    void whenRipTopic_thenAgentDecoded() {
        assertEquals(Optional.of("bee-AU10"), Topics.ripAgentOf("rip/agent/bee-AU10"));
        assertEquals(Optional.of("a/b"), Topics.ripAgentOf(Topics.ripAgent("a/b")));
        assertEquals(Optional.empty(), Topics.ripAgentOf("rip/agent/a/b"));
        assertEquals(Optional.empty(), Topics.ripAgentOf("rip/other"));
        assertEquals(Optional.empty(), Topics.ripAgentOf("rip/agent/"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"%", "%2", "%g0", "a%2", "%C3", "%FF", "%C3%28", "a/b"})
    void whenMalformedLevel_thenDecodeLevelRejectsIt(String level) {
        assertThrows(IllegalArgumentException.class, () -> Topics.decodeLevel(level));
    }

    @Test
    void whenEmptyTargetOrUnpairedSurrogate_thenRejected() {
        assertThrows(IllegalArgumentException.class, () -> Topics.ping(""));
        assertThrows(IllegalArgumentException.class, () -> Topics.ripAgent(""));
        assertThrows(IllegalArgumentException.class, () -> Topics.encodeLevel("a\uD800b"));
    }

    @Test
    void whenFilters_thenTheOriginalOnes() {
        assertEquals("watch", Topics.WATCH);
        assertEquals("ping/+", Topics.PING_FILTER);
        assertEquals("rip/#", Topics.RIP_FILTER);
    }
}
