package net.swarming.broker.internal.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import net.swarming.common.cli.StartupException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataDirectoryTest {

    @TempDir
    Path tmp;

    @Test
    void whenMissing_thenCreatedWithParentsAndReturnedAbsoluteAndEmpty() throws Exception {
        Path dir = tmp.resolve("a/b/../c");

        Path prepared = DataDirectory.prepare(dir);

        assertEquals(tmp.resolve("a/c").toAbsolutePath(), prepared);
        assertTrue(Files.isDirectory(prepared));
        try (Stream<Path> left = Files.list(prepared)) {
            assertEquals(List.of(), left.toList(), "the write check must clean up after itself");
        }
    }

    @Test
    void whenAFileIsInTheWay_thenStartupExceptionNamesTheDirectory() throws Exception {
        Path file = Files.writeString(tmp.resolve("file"), "x");

        StartupException e = assertThrows(StartupException.class, () -> DataDirectory.prepare(file));

        assertTrue(e.getMessage().startsWith("data directory " + file + " cannot be created"), e.getMessage());
    }
}
