package net.swarming.broker.internal.auth;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;

/**
 * A password file of {@code user:hash} lines, as written by mosquitto's {@code mosquitto_passwd} or by
 * {@link #hash(char[])}.
 *
 * <p>Accepted hashes:
 * <ul>
 *   <li>{@code $7$iterations$salt$hash}: mosquitto 2.x default, PBKDF2-HMAC-SHA512, 64-byte key;</li>
 *   <li>{@code $6$salt$hash}: mosquitto 1.x, SHA-512 of password then salt;</li>
 *   <li>{@code $swarm-pbkdf2-sha256$iterations$salt$hash}: swarm-broker's own, PBKDF2-HMAC-SHA256, 32-byte key.</li>
 * </ul>
 * Salts and hashes are standard Base64 in every format. Blank lines and lines starting with {@code #} are ignored.
 */
public final class PasswordFile {

    /** Prefix of swarm-broker's own hash format. */
    public static final String SWARM_PREFIX = "$swarm-pbkdf2-sha256$";
    /** Iterations used by {@link #hash(char[])}: OWASP's 2023 figure for PBKDF2-HMAC-SHA256. */
    public static final int SWARM_ITERATIONS = 600_000;
    private static final int SALT_BYTES = 16;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Map<String, Hash> users;

    private PasswordFile(Map<String, Hash> users) {
        this.users = users;
    }

    /**
     * Reads and checks every line.
     *
     * @throws IllegalArgumentException naming the file and every bad line (line number, user, what is wrong)
     * @throws IOException when the file cannot be read
     */
    public static PasswordFile read(Path file) throws IOException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        Map<String, Hash> users = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int colon = line.indexOf(':');
            if (colon <= 0) {
                problems.add("line " + (i + 1) + ": expected user:hash");
                continue;
            }
            String user = line.substring(0, colon);
            try {
                Hash hash = Hash.parse(line.substring(colon + 1));
                if (users.put(user, hash) != null) {
                    problems.add("line " + (i + 1) + ": user '" + user + "' appears twice");
                }
            } catch (IllegalArgumentException e) {
                problems.add("line " + (i + 1) + ": user '" + user + "': " + e.getMessage());
            }
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("password-file " + file + ": " + String.join("; ", problems)
                    + " (write lines with mosquitto_passwd or net.swarming.broker.PasswdMain)");
        }
        return new PasswordFile(users);
    }

    /** Number of users. */
    public int size() {
        return users.size();
    }

    /** Whether {@code user} exists and {@code password} matches its hash. Constant time in the hash comparison. */
    public boolean check(String user, byte[] password) {
        Hash hash = user == null ? null : users.get(user);
        if (hash == null || password == null) {
            return false;
        }
        return hash.matches(password);
    }

    /** A new line value in swarm-broker's own format, with a fresh random salt. */
    public static String hash(char[] password) {
        byte[] salt = new byte[SALT_BYTES];
        RANDOM.nextBytes(salt);
        byte[] key = pbkdf2("PBKDF2WithHmacSHA256", password, salt, SWARM_ITERATIONS, 32);
        Base64.Encoder b64 = Base64.getEncoder();
        return SWARM_PREFIX + SWARM_ITERATIONS + "$" + b64.encodeToString(salt) + "$" + b64.encodeToString(key);
    }

    /** Optional lookup, for tests and diagnostics. */
    Optional<String> algorithm(String user) {
        return Optional.ofNullable(users.get(user)).map(Hash::algorithm);
    }

    private static byte[] pbkdf2(String algorithm, char[] password, byte[] salt, int iterations, int bytes) {
        PBEKeySpec spec = new PBEKeySpec(password, salt, iterations, bytes * 8);
        try {
            return SecretKeyFactory.getInstance(algorithm).generateSecret(spec).getEncoded();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(algorithm + " is part of every Java 17 runtime", e);
        } finally {
            spec.clearPassword();
        }
    }

    /** One parsed hash. */
    private record Hash(String algorithm, int iterations, byte[] salt, byte[] key) {

        static Hash parse(String text) {
            String[] parts = text.split("\\$", -1);
            // "$7$101$salt$hash" splits into "", "7", "101", "salt", "hash".
            if (parts.length < 4 || !parts[0].isEmpty()) {
                throw new IllegalArgumentException("unknown hash format (expected $7$…, $6$… or " + SWARM_PREFIX
                        + "…); plain-text passwords are not accepted");
            }
            try {
                Base64.Decoder b64 = Base64.getDecoder();
                switch (parts[1]) {
                    case "7":
                        requireParts(parts, 5);
                        return new Hash("sha512-pbkdf2", iterations(parts[2]), b64.decode(parts[3]),
                                b64.decode(parts[4]));
                    case "6":
                        requireParts(parts, 4);
                        return new Hash("sha512", 0, b64.decode(parts[2]), b64.decode(parts[3]));
                    case "swarm-pbkdf2-sha256":
                        requireParts(parts, 5);
                        return new Hash("swarm-pbkdf2-sha256", iterations(parts[2]), b64.decode(parts[3]),
                                b64.decode(parts[4]));
                    default:
                        throw new IllegalArgumentException("unknown hash type $" + parts[1] + "$");
                }
            } catch (IllegalArgumentException e) {
                String m = e.getMessage();
                if (m != null && (m.startsWith("unknown") || m.startsWith("$") || m.startsWith("iterations"))) {
                    throw e;
                }
                throw new IllegalArgumentException("malformed hash: " + e.getMessage(), e);
            }
        }

        private static void requireParts(String[] parts, int expected) {
            if (parts.length != expected) {
                throw new IllegalArgumentException("$" + parts[1] + "$ hash has " + (parts.length - 1)
                        + " fields, expected " + (expected - 1));
            }
        }

        private static int iterations(String text) {
            int n = Integer.parseInt(text);
            if (n < 1) {
                throw new IllegalArgumentException("iterations must be positive, not " + n);
            }
            return n;
        }

        boolean matches(byte[] password) {
            byte[] computed;
            switch (algorithm) {
                case "sha512": {
                    try {
                        MessageDigest sha = MessageDigest.getInstance("SHA-512");
                        sha.update(password);
                        sha.update(salt);
                        computed = sha.digest();
                    } catch (GeneralSecurityException e) {
                        throw new IllegalStateException("SHA-512 is part of every Java runtime", e);
                    }
                    break;
                }
                case "sha512-pbkdf2":
                    computed = pbkdf2("PBKDF2WithHmacSHA512", chars(password), salt, iterations, key.length);
                    break;
                default:
                    computed = pbkdf2("PBKDF2WithHmacSHA256", chars(password), salt, iterations, key.length);
                    break;
            }
            return MessageDigest.isEqual(computed, key);
        }

        /**
         * MQTT passwords are bytes; mosquitto feeds them to PBKDF2 as bytes. Java's PBEKeySpec takes chars and encodes
         * them as UTF-8, so a UTF-8 password round-trips; other bytes are mapped one to one (ISO-8859-1) as a fallback.
         */
        private static char[] chars(byte[] password) {
            String utf8 = new String(password, StandardCharsets.UTF_8);
            if (Arrays.equals(utf8.getBytes(StandardCharsets.UTF_8), password)) {
                return utf8.toCharArray();
            }
            return new String(password, StandardCharsets.ISO_8859_1).toCharArray();
        }

        @Override
        public String toString() {
            return "Hash[" + algorithm + "]";
        }

        @Override
        public boolean equals(Object o) {
            return this == o;
        }

        @Override
        public int hashCode() {
            return System.identityHashCode(this);
        }
    }
}
