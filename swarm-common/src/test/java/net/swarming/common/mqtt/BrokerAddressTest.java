package net.swarming.common.mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

class BrokerAddressTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "queen                  | tcp | queen       | 1883 | tcp://queen:1883         | queen:1883",
        "queen:1884             | tcp | queen       | 1884 | tcp://queen:1884         | queen:1884",
        "127.0.0.1:65535        | tcp | 127.0.0.1   | 65535| tcp://127.0.0.1:65535    | 127.0.0.1:65535",
        "tcp://queen:1885       | tcp | queen       | 1885 | tcp://queen:1885         | queen:1885",
        "tcp://queen            | tcp | queen       | 1883 | tcp://queen:1883         | queen:1883",
        "TCP://Queen.example.org| tcp | Queen.example.org | 1883 | tcp://Queen.example.org:1883 | Queen.example.org:1883",
        "ssl://queen            | ssl | queen       | 8883 | ssl://queen:8883         | ssl://queen:8883",
        "ssl://queen:9999       | ssl | queen       | 9999 | ssl://queen:9999         | ssl://queen:9999",
        "[::1]:1884             | tcp | ::1         | 1884 | tcp://[::1]:1884         | [::1]:1884",
        "[::1]                  | tcp | ::1         | 1883 | tcp://[::1]:1883         | [::1]:1883",
        "::1                    | tcp | ::1         | 1883 | tcp://[::1]:1883         | [::1]:1883",
        "fd00::17:1             | tcp | fd00::17:1  | 1883 | tcp://[fd00::17:1]:1883  | [fd00::17:1]:1883",
        "tcp://[fd00::2]:1999   | tcp | fd00::2     | 1999 | tcp://[fd00::2]:1999     | [fd00::2]:1999",
        "ssl://[::1]            | ssl | ::1         | 8883 | ssl://[::1]:8883         | ssl://[::1]:8883",
        "'  queen:1884  '       | tcp | queen       | 1884 | tcp://queen:1884         | queen:1884",
        "bee_7-a.local          | tcp | bee_7-a.local | 1883 | tcp://bee_7-a.local:1883 | bee_7-a.local:1883",
    })
    void whenAcceptedForm_thenParsed(String in, String scheme, String host, int port, String uri, String shown) {
        BrokerAddress a = BrokerAddress.parse(in);
        assertEquals(scheme, a.scheme());
        assertEquals(host, a.host());
        assertEquals(port, a.port());
        assertEquals(uri, a.uri());
        assertEquals(shown, a.toString());
        assertEquals(a, BrokerAddress.parse(a.toString()), "toString round-trips");
        assertEquals(a, BrokerAddress.parse(a.uri()), "uri round-trips");
    }

    @ParameterizedTest(name = "[{0}]")
    @NullAndEmptySource
    @ValueSource(strings = {
        "   ", "queen:", "queen:abc", "queen:0", "queen:65536", "queen:99999999999", "queen:-1",
        "http://queen:1883", "mqtt://queen", "tcp://", "tcp://:1883", ":1883", "[::1", "[::1]x", "[::1]:",
        "[queen]:1883", "tcp://queen:1883/", "queen:1883/path", "user@queen", "que en", "-queen", "queen..:x",
        "[::1]:1884:1", "::g1"
    })
    void whenBadForm_thenIllegalArgumentNamingValueAndForms(String in) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BrokerAddress.parse(in));
        assertTrue(e.getMessage().contains(in == null ? "null" : "'" + in + "'"), e.getMessage());
        assertTrue(e.getMessage().contains("accepted forms"), e.getMessage());
    }

    @Test
    void whenConstructedWithBadParts_thenAllProblemsReported() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new BrokerAddress("http", "", 0));
        assertTrue(e.getMessage().contains("scheme 'http'"), e.getMessage());
        assertTrue(e.getMessage().contains("host is missing"), e.getMessage());
        assertTrue(e.getMessage().contains("port 0"), e.getMessage());
    }

    @Test
    void whenConstructedWithBracketedIpv6_thenBracketsRemoved() {
        BrokerAddress a = new BrokerAddress("TCP", "[::1]", 1883);
        assertEquals("tcp", a.scheme());
        assertEquals("::1", a.host());
        assertTrue(a.isIpv6());
        assertFalse(a.isTls());
        assertEquals("[::1]:1883", a.hostPort());
    }
}
