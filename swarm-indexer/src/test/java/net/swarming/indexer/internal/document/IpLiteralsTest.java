package net.swarming.indexer.internal.document;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class IpLiteralsTest {

    @ParameterizedTest
    @ValueSource(strings = {"127.0.0.1", "0.0.0.0", "255.255.255.255", "192.0.2.7", "::", "::1", "1::", "fe80::1",
        "2001:db8::1", "2001:DB8:0:0:0:0:0:1", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7::", "::ffff:192.0.2.1",
        "64:ff9b::192.0.2.33", "1:2:3:4:5:6:1.2.3.4"})
    void whenIpLiteral_thenRecognised(String text) {
        assertEquals(Optional.of(text), IpLiterals.ipLiteral(text));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "free.fr", "localhost", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.4.",
        "1..2.3", "1:2", ":::", "1::2::3", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7:8::", "12345::", "g::1", ":1::",
        "fe80::1%eth0", "1.2.3.4::", "::1.2.3", "1:2:3:4:5:6:7:1.2.3.4", "[free.fr]", "http://1.2.3.4/"})
    void whenNotAnIpLiteral_thenEmpty(String text) {
        assertTrue(IpLiterals.ipLiteral(text).isEmpty(), text);
    }

    @ParameterizedTest
    @ValueSource(strings = {"[::1]", "[2001:db8::1]"})
    void whenBracketedIpv6_thenUnwrapped(String text) {
        assertEquals(Optional.of(text.substring(1, text.length() - 1)), IpLiterals.ipLiteral(text));
    }
}
