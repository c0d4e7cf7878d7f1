package net.swarming.common.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import net.swarming.common.mqtt.BrokerAddress;
import net.swarming.common.mqtt.MqttSecurity;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MqttSecurityOptionsTest {

    private static final List<BrokerAddress> TLS = List.of(BrokerAddress.parse("ssl://queen1:8883"));
    private static final List<BrokerAddress> PLAIN = List.of(BrokerAddress.parse("queen1"));

    @TempDir
    Path dir;

    private final List<String> problems = new ArrayList<>();

    private MqttSecurity resolve(MqttSecurityOptions options, List<BrokerAddress> brokers) {
        return options.resolve(brokers, (key, message) -> problems.add(key + ": " + message));
    }

    @Test
    void whenNothingSet_thenAnonymousWithoutProblems() {
        MqttSecurity s = resolve(new MqttSecurityOptions(), PLAIN);

        assertEquals(MqttSecurity.NONE, s);
        assertEquals(List.of(), problems);
        assertEquals("anonymous", MqttSecurityOptions.describe(s));
    }

    @Test
    void whenPasswordFileGiven_thenItsFirstLineIsThePasswordAndNeverDescribed() throws Exception {
        Path file = Files.writeString(dir.resolve("pw"), "s3cret word\nignored\n");

        MqttSecurity s = resolve(new MqttSecurityOptions("agent-1", null, file, null), PLAIN);

        assertEquals(List.of(), problems);
        assertEquals(new MqttSecurity("agent-1", "s3cret word", null), s);
        String described = MqttSecurityOptions.describe(s) + " " + s;
        assertFalse(described.contains("s3cret"), described);
        assertTrue(described.contains("agent-1"), described);
    }

    @Test
    void whenSeveralOptionsAreWrong_thenEveryProblemIsReportedAtOnce() {
        Path missing = dir.resolve("no-such-ca.pem");

        MqttSecurity s = resolve(new MqttSecurityOptions(null, "pw", dir.resolve("pw-file"), missing), PLAIN);

        assertNull(s);
        assertEquals(4, problems.size(), problems.toString());
        assertTrue(problems.get(0).startsWith("mqtt-password: and --mqtt-password-file are both set"), problems.get(0));
        assertTrue(problems.get(1).startsWith("mqtt-password: needs --mqtt-username"), problems.get(1));
        assertTrue(problems.get(2).startsWith("mqtt-ca: '" + missing + "' is not a readable file"), problems.get(2));
        assertTrue(problems.get(3).startsWith("mqtt-ca: is set but no broker is ssl://"), problems.get(3));
    }

    @Test
    void whenPasswordFileIsMissingOrEmpty_thenNamed() throws Exception {
        Path empty = Files.writeString(dir.resolve("empty"), "");

        assertNull(resolve(new MqttSecurityOptions("agent-1", null, empty, null), PLAIN));
        assertNull(resolve(new MqttSecurityOptions("agent-1", null, dir.resolve("gone"), null), PLAIN));
        assertNull(resolve(new MqttSecurityOptions("", null, null, null), PLAIN));

        assertEquals(List.of("mqtt-password-file: '" + empty + "' is empty; put the password on its first line",
                "mqtt-password-file: '" + dir.resolve("gone") + "' is not a readable file",
                "mqtt-username: is empty; leave it out to connect without a user name"), problems);
    }

    @Test
    void whenCaFileHoldsNoCertificate_thenRefusedNamingTheFile() throws Exception {
        Path ca = Files.writeString(dir.resolve("ca.pem"), "not a certificate\n");

        assertNull(resolve(new MqttSecurityOptions(null, null, null, ca), TLS));

        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).startsWith("mqtt-ca: ") && problems.get(0).contains(ca.toString()),
                problems.get(0));
    }
}
