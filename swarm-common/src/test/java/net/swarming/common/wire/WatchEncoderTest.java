package net.swarming.common.wire;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class WatchEncoderTest {

    private final WatchDecoder decoder = new WatchDecoder(WatchLimits.DEFAULT);

    @Test
    void whenText_thenSingleSpacesLikeTheOriginalOperators() throws Exception {
        byte[] payload = WatchEncoder.encodeText(List.of("free.fr", "yahoo.fr", "yahoo.cn"));
        assertEquals("free.fr yahoo.fr yahoo.cn", new String(payload, UTF_8));
        assertEquals(List.of("free.fr", "yahoo.fr", "yahoo.cn"), decoder.decode(payload).names());
    }

    @Test
    void whenEmptyText_thenOneSpaceThatDecodesToEmpty() throws Exception {
        byte[] payload = WatchEncoder.encodeText(List.of());
        assertEquals(" ", new String(payload, UTF_8));
        assertTrue(decoder.decode(payload).isEmpty());
    }

    @Test
    void whenTextHasInvalidTarget_thenRefused() {
        assertThrows(IllegalArgumentException.class, () -> WatchEncoder.encodeText(List.of("a.org", "a b")));
    }

    @Test
    void whenJson_thenPlainEntriesAsStringsAndOptionsAsObjects() {
        WatchList list = new WatchList(List.of(WatchTarget.of("free.fr"),
                new WatchTarget("https://x.org/a", ProbeType.HTTP, Duration.ofSeconds(30), null, null),
                new WatchTarget("x.org", ProbeType.TCP, Duration.ofMillis(1500), 3, 443)), WatchList.Format.JSON);
        assertEquals("{\"version\":1,\"targets\":[\"free.fr\",{\"target\":\"https://x.org/a\",\"probe\":\"http\","
                + "\"step\":30},{\"target\":\"x.org\",\"probe\":\"tcp\",\"step\":1.5,\"pings\":3,\"port\":443}]}",
                new String(WatchEncoder.encodeJson(list), UTF_8));
    }

    @Test
    void whenJsonRoundTrip_thenSameList() throws Exception {
        WatchList list = new WatchList(List.of(WatchTarget.of("free.fr"), WatchTarget.of("::1"),
                new WatchTarget("https://x.org/a?b#c", ProbeType.HTTP, Duration.ofSeconds(30), 5, null),
                new WatchTarget("x.org", ProbeType.DNS, Duration.ofNanos(2_000_000_001L), 1000, 53)),
                WatchList.Format.JSON);
        assertEquals(list, decoder.decode(WatchEncoder.encodeJson(list)));
    }
}
