package net.swarming.broker.internal.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Password files as the real {@code mosquitto_passwd} writes them, and swarm-broker's own format. */
class PasswordFileTest {

    @TempDir
    Path tmp;

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private void mosquittoPasswd(String... args) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(args).redirectErrorStream(true).start();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "mosquitto_passwd did not finish");
        assertEquals(0, p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    @Test
    void whenFileIsWrittenByMosquittoPasswd_thenBothOfItsHashFormatsCheck() throws Exception {
        Path file = tmp.resolve("passwd");
        mosquittoPasswd("mosquitto_passwd", "-c", "-b", file.toString(), "agent-1", "s3cret é");
        mosquittoPasswd("mosquitto_passwd", "-H", "sha512", "-b", file.toString(), "indexer-1", "other");
        String text = Files.readString(file);
        assertTrue(text.contains("agent-1:$7$101$"), text);
        assertTrue(text.contains("indexer-1:$6$"), text);

        PasswordFile passwords = PasswordFile.read(file);

        assertEquals(2, passwords.size());
        assertEquals(Optional.of("sha512-pbkdf2"), passwords.algorithm("agent-1"));
        assertEquals(Optional.of("sha512"), passwords.algorithm("indexer-1"));
        assertTrue(passwords.check("agent-1", bytes("s3cret é")));
        assertTrue(passwords.check("indexer-1", bytes("other")));
        assertFalse(passwords.check("agent-1", bytes("s3cret e")));
        assertFalse(passwords.check("agent-1", bytes("other")));
        assertFalse(passwords.check("indexer-1", bytes("s3cret é")));
        assertFalse(passwords.check("nobody", bytes("other")));
        assertFalse(passwords.check("agent-1", null));
        assertFalse(passwords.check(null, bytes("other")));
    }

    @Test
    void whenHashIsOurOwn_thenItChecksAndIsSaltedAfresh() throws IOException {
        String first = PasswordFile.hash("pw".toCharArray());
        String second = PasswordFile.hash("pw".toCharArray());
        assertTrue(first.startsWith(PasswordFile.SWARM_PREFIX + PasswordFile.SWARM_ITERATIONS + "$"), first);
        assertFalse(first.equals(second), "two hashes of one password must differ by their salt");
        Path file = Files.write(tmp.resolve("passwd"), List.of("# operators", "", "ops:" + first));

        PasswordFile passwords = PasswordFile.read(file);

        assertTrue(passwords.check("ops", bytes("pw")));
        assertFalse(passwords.check("ops", bytes("pw ")));
    }

    @Test
    void whenLinesAreBad_thenEveryOneIsReportedAtOnce() throws IOException {
        Path file = Files.write(tmp.resolve("passwd"), List.of(
                "plain:secret",
                "nocolon",
                "short:$7$101$c2FsdA==",
                "bad64:$6$!!!$!!!",
                "ok:" + PasswordFile.hash("x".toCharArray()),
                "ok:" + PasswordFile.hash("y".toCharArray())));

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PasswordFile.read(file));

        String m = e.getMessage();
        assertTrue(m.startsWith("password-file " + file + ": "), m);
        assertTrue(m.contains("line 1: user 'plain': unknown hash format"), m);
        assertTrue(m.contains("line 2: expected user:hash"), m);
        assertTrue(m.contains("line 3: user 'short': $7$ hash has 3 fields, expected 4"), m);
        assertTrue(m.contains("line 4: user 'bad64': malformed hash"), m);
        assertTrue(m.contains("line 6: user 'ok' appears twice"), m);
        assertFalse(m.contains("line 5"), m);
    }
}
