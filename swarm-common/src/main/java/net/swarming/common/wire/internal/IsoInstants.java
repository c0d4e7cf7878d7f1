package net.swarming.common.wire.internal;

import java.time.Instant;
import java.time.LocalDate;

/**
 * Reads the one timestamp shape our agents write ({@code 2026-11-21T18:00:00.123Z}: UTC, milliseconds, four-digit
 * year) without {@link Instant#parse}'s general formatter, which costs microseconds per call. Anything else is left to
 * the caller's general parser.
 */
public final class IsoInstants {

    private static final int LENGTH = "2026-11-21T18:00:00.123Z".length();

    private IsoInstants() {
    }

    /**
     * @return the instant {@link Instant#parse} gives for {@code text} when {@code text} has exactly the shape
     *     {@code uuuu-MM-ddTHH:mm:ss.SSSZ} with valid fields; null for anything else (the caller then uses
     *     {@link Instant#parse}, which decides)
     */
    public static Instant parseMillisUtc(String text) {
        if (text == null || text.length() != LENGTH || text.charAt(4) != '-' || text.charAt(7) != '-'
                || text.charAt(10) != 'T' || text.charAt(13) != ':' || text.charAt(16) != ':'
                || text.charAt(19) != '.' || text.charAt(23) != 'Z') {
            return null;
        }
        int year = digits(text, 0, 4);
        int month = digits(text, 5, 2);
        int day = digits(text, 8, 2);
        int hour = digits(text, 11, 2);
        int minute = digits(text, 14, 2);
        int second = digits(text, 17, 2);
        int millis = digits(text, 20, 3);
        if (year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59
                || second < 0 || second > 59 || millis < 0) {
            return null;
        }
        if (day > 28 && day > LocalDate.of(year, month, 1).lengthOfMonth()) {
            return null;
        }
        long epochDay = LocalDate.of(year, month, day).toEpochDay();
        return Instant.ofEpochSecond(epochDay * 86_400 + hour * 3_600L + minute * 60L + second, millis * 1_000_000L);
    }

    /** The decimal value of {@code count} ASCII digits from {@code from}, or -1 if one is not a digit. */
    private static int digits(String text, int from, int count) {
        int value = 0;
        for (int i = from; i < from + count; i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            value = value * 10 + (c - '0');
        }
        return value;
    }
}
