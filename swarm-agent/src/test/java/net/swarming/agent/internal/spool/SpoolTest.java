package net.swarming.agent.internal.spool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpoolTest {

    @TempDir
    Path dir;

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static List<String> payloads(List<Spool.Entry> entries) {
        List<String> out = new ArrayList<>();
        for (Spool.Entry e : entries) {
            out.add(new String(e.payload(), StandardCharsets.UTF_8));
        }
        return out;
    }

    @Test
    void whenAppendedAndPolled_thenSameResultsInOrderAcrossSegments() throws Exception {
        try (Spool spool = Spool.open(dir, 8 * 1024)) {
            for (int i = 0; i < 100; i++) {
                spool.append("ping/t" + i, bytes("r" + i));
            }
            assertEquals(100, spool.messages());
            assertTrue(segmentFiles() > 1, "small segments roll");
            List<Spool.Entry> all = new ArrayList<>();
            for (int round = 0; round < 50 && !spool.isEmpty(); round++) {
                all.addAll(spool.poll(7));
            }
            assertEquals(100, all.size());
            for (int i = 0; i < 100; i++) {
                assertEquals("ping/t" + i, all.get(i).topic());
                assertEquals("r" + i, new String(all.get(i).payload(), StandardCharsets.UTF_8));
            }
            assertEquals(0, spool.bytes());
            assertEquals(0, spool.dropped());
        }
        assertEquals(0, segmentFiles(), "read segments are deleted");
    }

    @Test
    void whenReopenedAfterPartialRead_thenOnlyUnreadResultsComeBackInOrder() throws Exception {
        try (Spool spool = Spool.open(dir, 64 * 1024)) {
            for (int i = 0; i < 10; i++) {
                spool.append("ping/x", bytes("r" + i));
            }
            assertEquals(List.of("r0", "r1", "r2"), payloads(spool.poll(3)));
            spool.prepend(List.of(new Spool.Entry("ping/x", bytes("m1")), new Spool.Entry("ping/x", bytes("m2"))));
        }
        try (Spool spool = Spool.open(dir, 64 * 1024)) {
            assertEquals(9, spool.messages());
            spool.append("ping/x", bytes("r10"));
            assertEquals(List.of("m1", "m2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10"),
                    payloads(spool.poll(100)));
        }
    }

    @Test
    void whenFull_thenOldestDroppedAndCountedAndNewestKept() throws Exception {
        int n = 500;
        try (Spool spool = Spool.open(dir, 4 * 1024)) {
            for (int i = 0; i < n; i++) {
                spool.append("ping/t", bytes(String.format("result-%04d", i)));
                assertTrue(spool.bytes() <= 4 * 1024, "bound holds after append " + i + ": " + spool.bytes());
            }
            long kept = spool.messages();
            assertTrue(spool.dropped() > 0, "something was dropped");
            assertEquals(n, kept + spool.dropped());
            List<String> rest = payloads(spool.poll(n));
            assertEquals(kept, rest.size());
            for (int i = 0; i < rest.size(); i++) {
                assertEquals(String.format("result-%04d", n - kept + i), rest.get(i));
            }
        }
    }

    @Test
    void whenLastRecordTorn_thenCutAndEarlierRecordsKept() throws Exception {
        try (Spool spool = Spool.open(dir, 64 * 1024)) {
            spool.append("ping/a", bytes("one"));
            spool.append("ping/a", bytes("two"));
        }
        Path seg;
        try (Stream<Path> files = Files.list(dir)) {
            seg = files.filter(p -> p.toString().endsWith(".seg")).findFirst().orElseThrow();
        }
        // A crash in the middle of a write: a header promising more bytes than follow.
        Files.write(seg, new byte[] {0, 0, 0, 50, 1, 2}, StandardOpenOption.APPEND);
        try (Spool spool = Spool.open(dir, 64 * 1024)) {
            assertEquals(2, spool.messages());
            assertEquals(List.of("one", "two"), payloads(spool.poll(10)));
        }
    }

    @Test
    void whenDirectoryInUse_thenSecondOpenIsRefusedUntilTheFirstCloses() throws Exception {
        Spool first = Spool.open(dir, 64 * 1024);
        IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> Spool.open(dir, 64 * 1024));
        assertTrue(e.getMessage().contains("in use by another agent"), e.getMessage());
        first.close();
        Spool.open(dir, 64 * 1024).close();
    }

    @Test
    void whenOneResultIsLargerThanTheSpool_thenItAloneIsDroppedAndCounted() throws Exception {
        try (Spool spool = Spool.open(dir, 4096)) {
            spool.append("ping/a", bytes("small"));
            spool.append("ping/a", new byte[5000]);
            assertEquals(1, spool.messages());
            assertEquals(1, spool.dropped());
            assertEquals(List.of("small"), payloads(spool.poll(10)));
        }
    }

    private long segmentFiles() throws Exception {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.toString().endsWith(".seg")).count();
        }
    }
}
