package net.swarming.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.PrintWriter;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import net.swarming.broker.internal.auth.PasswordFile;
import net.swarming.common.cli.ExitCodes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class PasswdMainTest {

    @TempDir
    Path tmp;

    private final StringWriter err = new StringWriter();

    private int run(String stdin, String... args) {
        PasswdMain main = new PasswdMain(new BufferedReader(new StringReader(stdin)), new PrintWriter(err, true));
        return new CommandLine(main).setErr(new PrintWriter(err, true)).execute(args);
    }

    @Test
    void whenUserIsAddedThenReplaced_thenTheFileChecksTheNewPasswordAndKeepsOtherLines() throws Exception {
        Path file = Files.write(tmp.resolve("passwd"), List.of("# ops", "other:" + PasswordFile.hash("o".toCharArray())));

        assertEquals(ExitCodes.OK, run("first\n", "--password-stdin", file.toString(), "agent-1"));
        assertEquals(ExitCodes.OK, run("second\n", "--password-stdin", file.toString(), "agent-1"));

        List<String> lines = Files.readAllLines(file);
        assertEquals(3, lines.size(), lines.toString());
        assertEquals("# ops", lines.get(0));
        PasswordFile passwords = PasswordFile.read(file);
        assertTrue(passwords.check("agent-1", "second".getBytes(StandardCharsets.UTF_8)));
        assertFalse(passwords.check("agent-1", "first".getBytes(StandardCharsets.UTF_8)));
        assertTrue(passwords.check("other", "o".getBytes(StandardCharsets.UTF_8)));
        assertTrue(err.toString().contains("replaced agent-1"), err.toString());
    }

    @Test
    void whenUserNameHoldsAColonOrPasswordIsEmpty_thenExitTwoAndNoFile() {
        Path file = tmp.resolve("passwd");

        assertEquals(ExitCodes.USAGE, run("pw\n", "--password-stdin", file.toString(), "a:b"));
        assertEquals(ExitCodes.USAGE, run("\n", "--password-stdin", file.toString(), "agent-1"));

        assertFalse(Files.exists(file));
    }
}
