package net.swarming.broker.internal.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import net.swarming.common.cli.StartupException;

/** The broker's persistence directory: created when missing and proven writable before Moquette opens its store. */
public final class DataDirectory {

    private DataDirectory() {}

    /**
     * Creates {@code dir} (and its parents) when missing and checks that a file can be written in it.
     *
     * <p>Moquette 0.17 only logs a warning when it cannot create its {@code data_path} and then fails deep inside its
     * start; this check names the directory instead. A real write is tried because {@code Files.isWritable} says yes to
     * root even on a read-only file system.
     *
     * @return the absolute, normalised directory
     * @throws StartupException naming the directory when it cannot be created or written
     */
    public static Path prepare(Path dir) {
        Path absolute = dir.toAbsolutePath().normalize();
        try {
            Files.createDirectories(absolute);
        } catch (IOException e) {
            throw new StartupException("data directory " + absolute + " cannot be created: " + describe(e), e);
        }
        try {
            Path probe = Files.createTempFile(absolute, ".swarm-broker-write-check", ".tmp");
            Files.delete(probe);
        } catch (IOException e) {
            throw new StartupException("data directory " + absolute + " is not writable: " + describe(e), e);
        }
        return absolute;
    }

    private static String describe(IOException e) {
        return e.getClass().getSimpleName() + (e.getMessage() == null ? "" : " " + e.getMessage());
    }
}
