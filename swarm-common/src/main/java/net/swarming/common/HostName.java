package net.swarming.common;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** This machine's host name, found without a DNS round trip where possible: client ids and agent names. */
public final class HostName {

    private static final String LOCAL;

    static {
        LOCAL = find();
    }

    private HostName() {
    }

    /** @return the host name, or "unknown" when none could be found; never blank */
    public static String local() {
        return LOCAL;
    }

    private static String find() {
        // Linux knows its own name; InetAddress.getLocalHost() may wait on a resolver.
        try {
            Path p = Path.of("/proc/sys/kernel/hostname");
            if (Files.isReadable(p)) {
                String s = new String(Files.readAllBytes(p), StandardCharsets.UTF_8).strip();
                if (!s.isEmpty()) {
                    return s;
                }
            }
        } catch (IOException | RuntimeException e) {
            // fall through to the next source
        }
        String env = System.getenv("HOSTNAME");
        if (env != null && !env.isBlank()) {
            return env.strip();
        }
        try {
            String s = InetAddress.getLocalHost().getHostName();
            if (s != null && !s.isBlank()) {
                return s.strip();
            }
        } catch (IOException | RuntimeException e) {
            // fall through
        }
        return "unknown";
    }
}
