package net.swarming.indexer.internal.document;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;

/**
 * The two timestamp texts of the hot path, written by hand for years 0000–9999 (the JDK formatters cost a microsecond
 * or more per call, twice or three times per document), exactly as the JDK writes them; other years go to the JDK.
 */
final class Timestamps {

    /** Always three fraction digits in UTC, so documents compare byte for byte in tests. */
    private static final DateTimeFormatter MILLIS =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);
    private static final long FIRST_SECOND = Instant.parse("0000-01-01T00:00:00Z").getEpochSecond();
    private static final long LAST_SECOND = Instant.parse("9999-12-31T23:59:59Z").getEpochSecond();

    private Timestamps() {
    }

    /** {@code uuuu-MM-dd'T'HH:mm:ss.SSS'Z'} of the instant truncated to milliseconds. */
    static String isoMillis(Instant t) {
        long second = t.getEpochSecond();
        if (second < FIRST_SECOND || second > LAST_SECOND) {
            return MILLIS.format(t.truncatedTo(ChronoUnit.MILLIS));
        }
        StringBuilder sb = new StringBuilder(24);
        appendDateTime(sb, second);
        sb.append('.');
        appendDigits(sb, t.getNano() / 1_000_000, 3);
        return sb.append('Z').toString();
    }

    /** What {@link Instant#toString()} gives: seconds always, a fraction of 3, 6 or 9 digits only when non-zero. */
    static String isoInstant(Instant t) {
        long second = t.getEpochSecond();
        if (second < FIRST_SECOND || second > LAST_SECOND) {
            return t.toString();
        }
        StringBuilder sb = new StringBuilder(30);
        appendDateTime(sb, second);
        int nano = t.getNano();
        if (nano > 0) {
            sb.append('.');
            if (nano % 1_000_000 == 0) {
                appendDigits(sb, nano / 1_000_000, 3);
            } else if (nano % 1_000 == 0) {
                appendDigits(sb, nano / 1_000, 6);
            } else {
                appendDigits(sb, nano, 9);
            }
        }
        return sb.append('Z').toString();
    }

    private static void appendDateTime(StringBuilder sb, long epochSecond) {
        LocalDate date = LocalDate.ofEpochDay(Math.floorDiv(epochSecond, 86_400L));
        int secondOfDay = (int) Math.floorMod(epochSecond, 86_400L);
        appendDigits(sb, date.getYear(), 4);
        sb.append('-');
        appendDigits(sb, date.getMonthValue(), 2);
        sb.append('-');
        appendDigits(sb, date.getDayOfMonth(), 2);
        sb.append('T');
        appendDigits(sb, secondOfDay / 3_600, 2);
        sb.append(':');
        appendDigits(sb, secondOfDay / 60 % 60, 2);
        sb.append(':');
        appendDigits(sb, secondOfDay % 60, 2);
    }

    /** {@code value} (≥ 0) with leading zeros to {@code width} digits. */
    private static void appendDigits(StringBuilder sb, int value, int width) {
        for (int divisor = pow10(width - 1); divisor > 0; divisor /= 10) {
            sb.append((char) ('0' + value / divisor % 10));
        }
    }

    private static int pow10(int n) {
        int p = 1;
        for (int i = 0; i < n; i++) {
            p *= 10;
        }
        return p;
    }
}
