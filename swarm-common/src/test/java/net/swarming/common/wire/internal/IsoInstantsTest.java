package net.swarming.common.wire.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Random;
import org.junit.jupiter.api.Test;

class IsoInstantsTest {

    private static final DateTimeFormatter AGENTS =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSX").withZone(ZoneOffset.UTC);

    @Test
    void whenAgentsTimestamps_thenSameInstantAsInstantParse() {
        Random random = new Random(7);
        long max = Instant.parse("9999-12-31T23:59:59.999Z").toEpochMilli();
        long min = Instant.parse("0000-01-01T00:00:00.000Z").toEpochMilli();
        for (int i = 0; i < 100_000; i++) {
            long millis = i < 50_000 ? min + (long) (random.nextDouble() * (max - min))
                    : 1_700_000_000_000L + random.nextInt(Integer.MAX_VALUE);
            String text = AGENTS.format(Instant.ofEpochMilli(millis));
            assertEquals(Instant.parse(text), IsoInstants.parseMillisUtc(text), text);
        }
        assertEquals(Instant.parse("2024-02-29T23:59:59.999Z"), IsoInstants.parseMillisUtc("2024-02-29T23:59:59.999Z"));
    }

    @Test
    void whenOtherShapesOrInvalidFields_thenNull() {
        String[] others = {"2026-11-21T18:00:00Z", "2026-11-21T18:00:00.123456Z", "2026-11-21T18:00:00.123+01:00",
            "2026-13-21T18:00:00.123Z", "2026-02-29T18:00:00.123Z", "2026-04-31T18:00:00.123Z",
            "2026-11-21T24:00:00.123Z", "2026-11-21T18:60:00.123Z", "2026-11-21T18:00:60.123Z",
            "2026-11-00T18:00:00.123Z", "2026-1a-21T18:00:00.123Z", "+026-11-21T18:00:00.123Z",
            "2026-11-21t18:00:00.123Z", "2026-11-21T18:00:00.12-Z", "", "yesterday"};
        for (String text : others) {
            assertNull(IsoInstants.parseMillisUtc(text), text);
        }
        assertNull(IsoInstants.parseMillisUtc(null));
    }
}
