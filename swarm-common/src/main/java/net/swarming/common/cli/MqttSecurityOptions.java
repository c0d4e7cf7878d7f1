package net.swarming.common.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.BiConsumer;
import net.swarming.common.mqtt.BrokerAddress;
import net.swarming.common.mqtt.MqttSecurity;
import net.swarming.common.tls.PemTrust;
import picocli.CommandLine.Option;

/**
 * The MQTT credential and CA options of every daemon and command that connects to brokers, as a picocli mixin:
 * {@code --mqtt-username}, {@code --mqtt-password} or {@code --mqtt-password-file}, {@code --mqtt-ca}. Like every
 * option they also come from the environment and the {@code --config} file; the password is best kept out of the
 * command line (which {@code ps} shows to every user): in a file readable by the daemon's user only, or in the
 * environment.
 */
public final class MqttSecurityOptions {

    @Option(names = "--mqtt-username", paramLabel = "USER",
            description = "User name sent to the MQTT brokers (for a broker with a password file); with "
                    + "--mqtt-password-file or --mqtt-password.")
    String username;

    @Option(names = "--mqtt-password", paramLabel = "PASSWORD",
            description = "Password of --mqtt-username; prefer --mqtt-password-file or the environment variable to "
                    + "the command line.")
    String password;

    @Option(names = "--mqtt-password-file", paramLabel = "FILE",
            description = "File whose first line is the password of --mqtt-username (e.g. mode 0600, owned by the "
                    + "daemon's user).")
    Path passwordFile;

    @Option(names = "--mqtt-ca", paramLabel = "PEM",
            description = "CA certificate file (PEM) to trust for ssl:// brokers instead of the JVM's trust store; "
                    + "the broker's host name is still checked against its certificate.")
    Path caFile;

    /** No options set. */
    public MqttSecurityOptions() {
    }

    /** For tests and embedding: the values as if given as options (any may be null). */
    public MqttSecurityOptions(String username, String password, Path passwordFile, Path caFile) {
        this.username = username;
        this.password = password;
        this.passwordFile = passwordFile;
        this.caFile = caFile;
    }

    /**
     * Checks the options together, reads the password file and the CA file, and reports every problem.
     *
     * @param brokers the brokers the options are for (a CA file with no {@code ssl://} broker is a mistake); may be
     *     empty when the brokers are missing, which is reported elsewhere
     * @param problems receives each problem as option name (without dashes) and message naming the value and the fix
     * @return the settings, or null when there was a problem
     */
    public MqttSecurity resolve(List<BrokerAddress> brokers, BiConsumer<String, String> problems) {
        boolean ok = true;
        if (username != null && username.isEmpty()) {
            problems.accept("mqtt-username", "is empty; leave it out to connect without a user name");
            ok = false;
        }
        String secret = password;
        if (password != null && passwordFile != null) {
            problems.accept("mqtt-password", "and --mqtt-password-file are both set; give the password one way");
            ok = false;
        } else if (passwordFile != null) {
            secret = readPassword(problems);
            ok &= secret != null;
        }
        if ((password != null || passwordFile != null) && username == null) {
            problems.accept(password != null ? "mqtt-password" : "mqtt-password-file",
                    "needs --mqtt-username: MQTT sends no password without a user name");
            ok = false;
        }
        if (caFile != null) {
            if (!Files.isRegularFile(caFile) || !Files.isReadable(caFile)) {
                problems.accept("mqtt-ca", "'" + caFile + "' is not a readable file; give the PEM file of the CA "
                        + "that signed the brokers' certificates");
                ok = false;
            } else {
                try {
                    PemTrust.sslContext(caFile, "mqtt-ca");
                } catch (IllegalArgumentException e) {
                    problems.accept("mqtt-ca", e.getMessage().replaceFirst("^mqtt-ca: ", ""));
                    ok = false;
                }
            }
            if (brokers != null && !brokers.isEmpty() && brokers.stream().noneMatch(BrokerAddress::isTls)) {
                problems.accept("mqtt-ca", "is set but no broker is ssl://, so it would not be used; write the "
                        + "brokers as ssl://host:8883");
                ok = false;
            }
        }
        return ok ? new MqttSecurity(username, secret, caFile) : null;
    }

    private String readPassword(BiConsumer<String, String> problems) {
        if (!Files.isRegularFile(passwordFile) || !Files.isReadable(passwordFile)) {
            problems.accept("mqtt-password-file", "'" + passwordFile + "' is not a readable file");
            return null;
        }
        try {
            List<String> lines = Files.readAllLines(passwordFile, StandardCharsets.UTF_8);
            if (lines.isEmpty() || lines.get(0).isEmpty()) {
                problems.accept("mqtt-password-file", "'" + passwordFile + "' is empty; put the password on its "
                        + "first line");
                return null;
            }
            return lines.get(0);
        } catch (IOException e) {
            problems.accept("mqtt-password-file", "cannot read '" + passwordFile + "': " + e.getMessage());
            return null;
        }
    }

    /** The settings for a log line, without the password. */
    public static String describe(MqttSecurity security) {
        if (security.username() == null && security.caFile() == null) {
            return "anonymous";
        }
        String who = security.username() == null ? "anonymous"
                : "user " + security.username() + (security.password() == null ? " (no password)" : " (password set)");
        return who + (security.caFile() != null ? ", CA " + security.caFile() : "");
    }
}
