package net.swarming.common.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class WatchTargetTest {

    @ParameterizedTest
    @ValueSource(strings = {"free.fr", "yahoo.cn", "www.doctissimo.fr", "localhost", "x", "free.fr.", "a-b.c-d.org",
        "xn--bcher-kva.de", "1.example", "192.0.2.1", "0.0.0.0", "255.255.255.255", "::1", "::", "1::",
        "2001:db8::8a2e:370:7334", "2001:0db8:0000:0000:0000:ff00:0042:8329", "1:2:3:4:5:6:7::", "::ffff:192.0.2.1",
        "64:ff9b::192.0.2.33", "fe80::1%eth0", "[::1]", "[2001:db8::1]", "http://example.org", "https://example.org/a?b#c",
        "HTTPS://Example.org:8443/health", "http://192.0.2.1/", "http://[::1]:8080/x"})
    void whenValidTarget_thenAccepted(String target) {
        assertEquals(target, WatchTarget.of(target).target());
    }

    @ParameterizedTest
    @ValueSource(strings = {"bad_host!", "bad_host", "-x.org", "x-.org", "a..b", ".a", "..", ".", "http://",
        "https://", "http:///path", "http://bad_host/", "ftp://x.org", "x.org:80", "256.1.1.1", "1.2.3", "01.2.3.4",
        "10.0.0.256", "123", "1::2::3", ":::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "12345::", "::g", "fe80::1%",
        "[::1", "::1]", "a b", "a\tb", "bücher.de", "x.org/path", "$SYS", "a+b", "#"})
    void whenInvalidTarget_thenRejectedNamingIt(String target) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> WatchTarget.of(target));
        assertTrue(e.getMessage().contains("target"), e.getMessage());
    }

    @Test
    void whenHostnameTooLong_thenRejected() {
        String label = "a".repeat(63);
        String ok = String.join(".", label, label, label, "a".repeat(61));
        assertEquals(253, ok.length());
        WatchTarget.of(ok);
        WatchTarget.of(ok + ".");
        assertThrows(IllegalArgumentException.class, () -> WatchTarget.of(ok + "a"));
        assertThrows(IllegalArgumentException.class, () -> WatchTarget.of("a".repeat(64) + ".org"));
    }

    @Test
    void whenOptionsOutOfRange_thenRejected() {
        assertThrows(IllegalArgumentException.class, () -> new WatchTarget("x.org", null, Duration.ofMillis(999), null, null));
        assertThrows(IllegalArgumentException.class, () -> new WatchTarget("x.org", null, Duration.ofDays(1).plusNanos(1), null, null));
        assertThrows(IllegalArgumentException.class, () -> new WatchTarget("x.org", null, null, 0, null));
        assertThrows(IllegalArgumentException.class, () -> new WatchTarget("x.org", null, null, 1001, null));
        assertThrows(IllegalArgumentException.class, () -> new WatchTarget("x.org", null, null, null, 0));
        assertThrows(IllegalArgumentException.class, () -> new WatchTarget("x.org", null, null, null, 65_536));
        new WatchTarget("x.org", ProbeType.TCP, Duration.ofSeconds(1), 1, 1);
        new WatchTarget("x.org", ProbeType.TCP, Duration.ofDays(1), 1000, 65_535);
    }

    @Test
    void whenLongValue_thenMessageTruncated() {
        String longName = "_".repeat(5000);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> WatchTarget.of(longName));
        assertTrue(e.getMessage().length() < 400, e.getMessage());
    }

    @Test
    void whenDefaultsApplied_thenOnlyUnsetOptionsTakeThem() {
        WatchTarget t = new WatchTarget("x.org", ProbeType.TCP, null, 5, null)
                .withDefaults(ProbeType.ICMP, Duration.ofSeconds(60), 20, 443);
        assertEquals(new WatchTarget("x.org", ProbeType.TCP, Duration.ofSeconds(60), 5, 443), t);
    }

    @Test
    void whenUrl_thenIsUrl() {
        assertTrue(WatchTarget.of("https://x.org/").isUrl());
        assertFalse(WatchTarget.of("x.org").isUrl());
    }

    @Test
    void whenProbeWireName_thenRoundTrips() {
        for (ProbeType type : ProbeType.values()) {
            assertEquals(type, ProbeType.fromWire(type.wireName()));
        }
        assertEquals("icmp", ProbeType.ICMP.wireName());
        assertEquals(ProbeType.HTTP, ProbeType.fromWire("HTTP"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ProbeType.fromWire("quic"));
        assertTrue(e.getMessage().contains("icmp, tcp, http, dns"), e.getMessage());
    }
}
