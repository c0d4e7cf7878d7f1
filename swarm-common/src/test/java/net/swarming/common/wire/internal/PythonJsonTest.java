package net.swarming.common.wire.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class PythonJsonTest {

    private static String repr(double value) {
        return PythonJson.appendFloat(new StringBuilder(), value).toString();
    }

    @Test
    void whenFloat_thenSameTextAsPythonRepr() {
        // Expected values printed by CPython 2.7 and 3: repr(x) / json.dumps(x).
        assertEquals("0.0", repr(0.0));
        assertEquals("-0.0", repr(-0.0));
        assertEquals("100.0", repr(100.0));
        assertEquals("1.2", repr(1.2));
        assertEquals("0.1", repr(0.1));
        assertEquals("123.456", repr(123.456));
        assertEquals("0.0001", repr(0.0001));
        assertEquals("1e-05", repr(0.00001));
        assertEquals("1e-07", repr(1e-7));
        assertEquals("1234567890123456.0", repr(1234567890123456.0));
        assertEquals("1e+16", repr(1e16));
        assertEquals("1.5e+300", repr(1.5e300));
        assertEquals("-2.5", repr(-2.5));
        assertEquals("0.30000000000000004", repr(0.1 + 0.2));
        assertEquals("366.381", repr(366.381));
    }

    @Test
    void whenNotFinite_thenRefused() {
        assertThrows(IllegalArgumentException.class, () -> repr(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> repr(Double.POSITIVE_INFINITY));
    }

    @Test
    void whenString_thenEscapedLikeEnsureAscii() {
        assertEquals("\"a\\\"b\\\\c/d\\n\\r\\t\\b\\f\\u0001\\u007f\\u00e9\\u20ac\\ud83d\\ude00\"",
                PythonJson.appendString(new StringBuilder(), "a\"b\\c/d\n\r\t\b\f\u0001\u007f\u00e9\u20ac\uD83D\uDE00")
                        .toString());
    }

    @Test
    void whenDecimalsPlain_thenThreeDecimalsAtMostAndNoExponent() {
        assertEquals("1.234", Decimals.plain(1.2344));
        assertEquals("1.235", Decimals.plain(1.2345));
        assertEquals("2.0", Decimals.plain(2.0));
        assertEquals("0.001", Decimals.plain(0.001));
        assertEquals("0.0", Decimals.plain(0.0001));
        assertEquals("0.0", Decimals.plain(-0.0001));
        assertEquals("12345678.9", Decimals.plain(12345678.9));
        assertEquals("100000000000000000000.0", Decimals.plain(1e20));
    }
}
