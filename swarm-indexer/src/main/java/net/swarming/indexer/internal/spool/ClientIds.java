package net.swarming.indexer.internal.spool;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Locale;
import net.swarming.common.HostName;

/**
 * The MQTT client id of an indexer that has a spool directory: {@code swarm-indexer-<host>-<random>}, created once and
 * kept in {@code <spool>/client-id}. Stable across restarts (so persistent sessions find their queued messages) and
 * unique per spool directory (two indexers never share a spool, so never an id either).
 */
public final class ClientIds {

    static final String FILE = "client-id";
    private static final int MAX_HOST = 32;

    private ClientIds() {}

    /** Reads the persisted id, or creates and persists a new one. */
    public static String persisted(Path spoolDir) throws IOException {
        Path file = spoolDir.resolve(FILE);
        if (Files.exists(file)) {
            String id = Files.readString(file, StandardCharsets.UTF_8).trim();
            if (!id.isEmpty()) {
                return id;
            }
        }
        Files.createDirectories(spoolDir);
        byte[] random = new byte[4];
        new SecureRandom().nextBytes(random);
        String host = HostName.local().toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9.-]", "-");
        if (host.length() > MAX_HOST) {
            host = host.substring(0, MAX_HOST);
        }
        String id = "swarm-indexer-" + host + "-" + HexFormat.of().formatHex(random);
        Path tmp = spoolDir.resolve(FILE + ".tmp");
        Files.writeString(tmp, id + "\n", StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        return id;
    }
}
