package net.swarming.agent.probe.icmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The engine's socket decisions, for real: child JVMs in network namespaces of their own ({@code unshare --net}, gone
 * with the child), as root or as {@code nobody} without capabilities ({@code setpriv}), with the namespace's own
 * {@code ping_group_range}. ICMP errors come from an nftables {@code reject} rule inside the namespace.
 */
@Timeout(120)
class IcmpNamespaceIT {

    private static final String NOBODY = "setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "
            + "--bounding-set=-all -- ";
    private static final String ALLOW_PING = "sysctl -qw net.ipv4.ping_group_range='0 2147483647'; ";
    private static final String REJECT = "nft add table inet swarm && nft add chain inet swarm out "
            + "'{ type filter hook output priority 0; }' && "
            + "nft add rule inet swarm out ip daddr 127.0.0.9 icmp type echo-request reject with icmp type "
            + "host-unreachable && "
            + "nft add rule inet swarm out ip6 daddr ::1 icmpv6 type echo-request reject with icmpv6 type "
            + "addr-unreachable; ";

    private static Path dir;
    private static String java;
    private static String classpath;

    /** Copies the classes a child needs where {@code nobody} can read them (not under /root or a private repo). */
    @BeforeAll
    static void prepare() throws IOException {
        dir = Files.createTempDirectory("swarm-icmp-ns");
        List<String> entries = new ArrayList<>();
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        int n = 0;
        for (String entry : cp.split(File.pathSeparator)) {
            Path p = Path.of(entry);
            String name = p.getFileName().toString();
            boolean needed = Files.isDirectory(p) || name.startsWith("jna") || name.startsWith("slf4j")
                    || name.startsWith("logback") || name.startsWith("swarm-common")
                    || name.startsWith("swarm-agent");
            if (!needed || !Files.exists(p)) {
                continue;
            }
            Path copy = dir.resolve("cp" + n++ + "-" + name);
            copyTree(p, copy);
            entries.add(copy.toString());
        }
        Files.createDirectories(dir.resolve("jna"));
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(
                        Files.isDirectory(p) ? "rwxrwxrwx" : "rw-r--r--"));
            }
        }
        classpath = String.join(File.pathSeparator, entries);
        java = ProcessHandle.current().info().command().orElse("java");
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> all = Files.walk(from)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    @AfterAll
    static void cleanUp() throws IOException {
        if (dir != null) {
            try (Stream<Path> all = Files.walk(dir)) {
                for (Path p : (Iterable<Path>) all.sorted(Comparator.reverseOrder())::iterator) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /** Runs {@code setup} then the child JVM in a fresh network namespace; returns the child's key=value lines. */
    private static Map<String, List<String>> child(String setup, String user, String... args)
            throws IOException, InterruptedException {
        String command = "ip link set lo up; " + setup + "exec " + user + java + " -Djna.tmpdir=" + dir.resolve("jna")
                + " -Duser.home=" + dir + " -cp " + classpath + " " + IcmpChild.class.getName() + " "
                + String.join(" ", args);
        Process p = new ProcessBuilder("unshare", "--net", "--", "sh", "-c", command).redirectErrorStream(true)
                .start();
        try {
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child did not finish");
            assertEquals(0, p.exitValue(), () -> "child failed:\n" + out);
            Map<String, List<String>> values = new HashMap<>();
            for (String line : out.split("\n")) {
                int eq = line.indexOf('=');
                if (eq > 0 && !line.contains(" ")) {
                    values.computeIfAbsent(line.substring(0, eq), k -> new ArrayList<>()).add(line.substring(eq + 1));
                } else if (eq > 0 && line.matches("[a-zA-Z]+=.*")) {
                    values.computeIfAbsent(line.substring(0, eq), k -> new ArrayList<>()).add(line.substring(eq + 1));
                }
            }
            values.put("output", List.of(out));
            return values;
        } finally {
            p.destroyForcibly();
        }
    }

    private static String one(Map<String, List<String>> values, String key) {
        List<String> v = values.get(key);
        assertTrue(v != null && v.size() == 1, () -> "no single " + key + " in:\n" + values.get("output"));
        return v.get(0);
    }

    @Test
    void whenNeitherDatagramNorRawSocketIsAllowed_thenErrorNamesBothRemediesAndRoundsFail() throws Exception {
        // A new namespace has the kernel default ping_group_range "1 0"; nobody has no CAP_NET_RAW.
        Map<String, List<String>> v = child("sysctl -qw net.ipv4.ping_group_range='1 0'; ", NOBODY,
                "AUTO", "127.0.0.1", "3");

        String why = one(v, "unavailable");
        assertTrue(why.contains("EACCES"), why);
        assertTrue(why.contains("EPERM"), why);
        assertTrue(why.contains("sysctl -w net.ipv4.ping_group_range=\"0 2147483647\""), why);
        assertTrue(why.contains("setcap cap_net_raw+ep $(readlink -f $(which java))"), why);
        assertTrue(why.contains("AmbientCapabilities=CAP_NET_RAW"), why);
        assertEquals(why, one(v, "error"), "ICMP rounds are errors carrying the reason");
        assertEquals("0", one(v, "sent"));
    }

    @Test
    void whenPingGroupRangeAllowsIt_thenUnprivilegedUserPingsThroughDatagramSocket() throws Exception {
        Map<String, List<String>> v = child(ALLOW_PING, NOBODY, "AUTO", "127.0.0.1", "5");

        assertEquals("datagram", one(v, "mode"));
        assertEquals("null", one(v, "error"));
        assertEquals("5", one(v, "sent"));
        assertEquals("5", one(v, "received"));
    }

    @Test
    void whenDatagramSocketGetsIpv4Unreachable_thenErrorsAreRecordedNotPlainLoss() throws Exception {
        Map<String, List<String>> v = child(ALLOW_PING + REJECT, NOBODY, "DATAGRAM", "127.0.0.9", "3");

        assertEquals("datagram", one(v, "mode"));
        assertUnreachable(v, "destination unreachable (host unreachable)", "127.0.0.9");
    }

    @Test
    void whenDatagramSocketGetsIpv6Unreachable_thenErrorsAreRecorded() throws Exception {
        Map<String, List<String>> v = child(ALLOW_PING + REJECT, NOBODY, "DATAGRAM", "::1", "3");

        assertUnreachable(v, "destination unreachable (address unreachable)", "0:0:0:0:0:0:0:1");
    }

    @Test
    void whenRawSocketGetsIpv4Unreachable_thenErrorsAreRecorded() throws Exception {
        Map<String, List<String>> v = child(REJECT, "", "RAW", "127.0.0.9", "3");

        assertEquals("raw", one(v, "mode"));
        assertUnreachable(v, "destination unreachable (host unreachable)", "127.0.0.9");
    }

    @Test
    void whenRawSocketGetsIpv6Unreachable_thenErrorsAreRecorded() throws Exception {
        Map<String, List<String>> v = child(REJECT, "", "RAW", "::1", "3");

        assertEquals("raw", one(v, "mode"));
        assertUnreachable(v, "destination unreachable (address unreachable)", "0:0:0:0:0:0:0:1");
    }

    @Test
    void whenAReplyComesAfterTheTimeout_thenItIsCountedLateAndTheProbeStaysLost() throws Exception {
        // 169.254.7.7 answers nothing in the namespace: only the forged (late) replies come back.
        Map<String, List<String>> v = child("", "", "LATE", "169.254.7.7");

        assertEquals("[null,null]", one(v, "rtts"));
        assertEquals("1", one(v, "late"));
        assertEquals("1", one(v, "duplicates"));
    }

    private static void assertUnreachable(Map<String, List<String>> v, String description, String from) {
        assertEquals("null", one(v, "error"), () -> v.get("output").get(0));
        assertEquals("3", one(v, "sent"));
        assertEquals("0", one(v, "received"));
        // The reject rule also makes sendto itself fail (EPERM) for some requests: that is recorded too, as a send
        // failure; here only the ICMP errors are counted.
        List<String> errors = v.getOrDefault("probeError", List.of()).stream()
                .filter(e -> !e.contains("send failed")).toList();
        // The kernel rate-limits ICMP errors (a burst of 6 per peer, then one a second): 3 fit in the burst.
        assertEquals(3, errors.size(), () -> v.get("output").get(0));
        for (int i = 0; i < errors.size(); i++) {
            assertEquals(i + "|" + description + "|" + from, errors.get(i));
        }
    }
}
