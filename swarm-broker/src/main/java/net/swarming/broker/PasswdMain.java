package net.swarming.broker;

import java.io.BufferedReader;
import java.io.Console;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import net.swarming.broker.internal.auth.PasswordFile;
import net.swarming.common.cli.ExitCodes;
import net.swarming.common.cli.SwarmVersion;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Adds or replaces a user in a password file, hashed in swarm-broker's own format (PBKDF2-HMAC-SHA256). Files made by
 * {@code mosquitto_passwd} can be edited too: other lines are kept as they are.
 *
 * <pre>java -cp swarm-broker.jar net.swarming.broker.PasswdMain /etc/swarm-broker/passwd agent-paris</pre>
 */
@Command(name = "swarm-broker-passwd", mixinStandardHelpOptions = true, versionProvider = SwarmVersion.class,
        description = "Add or replace a user in a swarm-broker password file (created if missing).")
public final class PasswdMain implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "FILE", description = "Password file.")
    Path file;

    @Parameters(index = "1", paramLabel = "USER", description = "User name (no ':').")
    String user;

    @Option(names = "--password-stdin", description = "Read the password from the first line of standard input "
            + "instead of asking twice on the terminal.")
    boolean passwordStdin;

    private final BufferedReader stdin;
    private final PrintWriter err;

    PasswdMain(BufferedReader stdin, PrintWriter err) {
        this.stdin = stdin;
        this.err = err;
    }

    public static void main(String[] args) {
        PrintWriter err = new PrintWriter(System.err, true);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        System.exit(new CommandLine(new PasswdMain(in, err)).setErr(err).execute(args));
    }

    @Override
    public Integer call() throws IOException {
        if (user.isEmpty() || user.contains(":") || user.contains("\n")) {
            err.println("error: user name '" + user + "' must be non-empty and hold no ':'");
            return ExitCodes.USAGE;
        }
        char[] password = readPassword();
        if (password == null || password.length == 0) {
            err.println("error: no password given");
            return ExitCodes.USAGE;
        }
        String line = user + ":" + PasswordFile.hash(password);
        Arrays.fill(password, '\0');
        List<String> lines = new ArrayList<>();
        boolean replaced = false;
        if (Files.exists(file)) {
            for (String existing : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                if (existing.startsWith(user + ":")) {
                    if (!replaced) {
                        lines.add(line);
                        replaced = true;
                    }
                } else {
                    lines.add(existing);
                }
            }
        }
        if (!replaced) {
            lines.add(line);
        }
        Path tmp = Files.createTempFile(file.toAbsolutePath().getParent(), ".passwd", ".tmp");
        Files.write(tmp, lines, StandardCharsets.UTF_8);
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        err.println((replaced ? "replaced " : "added ") + user + " in " + file);
        return ExitCodes.OK;
    }

    private char[] readPassword() throws IOException {
        Console console = System.console();
        if (passwordStdin || console == null) {
            String first = stdin.readLine();
            return first == null ? null : first.toCharArray();
        }
        char[] once = console.readPassword("Password: ");
        char[] twice = console.readPassword("Reenter password: ");
        if (once == null || !Arrays.equals(once, twice)) {
            err.println("error: passwords do not match");
            return null;
        }
        return once;
    }
}
