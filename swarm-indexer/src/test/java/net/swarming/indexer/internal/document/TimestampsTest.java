package net.swarming.indexer.internal.document;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TimestampsTest {

    private static final DateTimeFormatter MILLIS =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    @Test
    void whenAnyInstant_thenSameTextsAsTheJdk() {
        Random random = new Random(11);
        long min = Instant.parse("-0100-01-01T00:00:00Z").getEpochSecond();
        long max = Instant.parse("+10100-01-01T00:00:00Z").getEpochSecond();
        for (int i = 0; i < 200_000; i++) {
            long second = i % 2 == 0 ? min + (long) (random.nextDouble() * (max - min))
                    : 1_700_000_000L + random.nextInt(200_000_000);
            int nano = switch (i % 5) {
                case 0 -> 0;
                case 1 -> random.nextInt(1000) * 1_000_000;
                case 2 -> random.nextInt(1_000_000) * 1_000;
                default -> random.nextInt(1_000_000_000);
            };
            Instant t = Instant.ofEpochSecond(i % 7 == 0 ? second - second % 60 : second, nano);
            assertEquals(t.toString(), Timestamps.isoInstant(t));
            assertEquals(MILLIS.format(t.truncatedTo(ChronoUnit.MILLIS)), Timestamps.isoMillis(t));
        }
        for (String edge : new String[] {"0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999Z",
            "1970-01-01T00:00:00Z", "1969-12-31T23:59:59.999Z", "2024-02-29T12:00:00.000001Z"}) {
            Instant t = Instant.parse(edge);
            assertEquals(t.toString(), Timestamps.isoInstant(t));
            assertEquals(MILLIS.format(t.truncatedTo(ChronoUnit.MILLIS)), Timestamps.isoMillis(t));
        }
    }

    @Test
    void whenIdsAreDerived_thenTheyAreThoseOfEarlierReleases() {
        // Computed with the JDK formatters before the hand-written ones: ids must never change, or a redelivered
        // message of an older indexer's time would be indexed twice.
        assertEquals("1a1ff43dd7b-w_3Uycc81eecRdM08CEVXw",
                DocumentIds.pingId("bee1", "example.org", Instant.parse("2026-11-21T18:00:00.123Z"), "icmp"));
        assertEquals("1a1ff43dd00-W7jbic6r04yULl64Q87M5A",
                DocumentIds.pingId("bee1", "example.org", Instant.parse("2026-11-21T18:00:00Z"), ""));
        assertEquals("1a1ff43dd7b-xSPlsPar93P9Vr1ViocY4A",
                DocumentIds.pingId("b\u00e9e", "x.org", Instant.parse("2026-11-21T18:00:00.123456789Z"), "tcp"));
        assertEquals("1a1ff43dd7b-Ys5r-hvQy87WjWVDBJAUfw",
                DocumentIds.birthId("bee1", "id-1", Instant.parse("2026-11-21T18:00:00.123456Z")));
    }
}
