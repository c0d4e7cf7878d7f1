package net.swarming.indexer.internal.spool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import net.swarming.indexer.internal.document.IndexDocument;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(30)
class SpoolTest {

    @TempDir
    Path dir;

    static IndexDocument doc(int n) {
        return new IndexDocument("swarm-pings-test", n % 5 == 0 ? null : "id-" + n,
                ("{\"n\":" + n + ",\"pad\":\"" + "x".repeat(100) + "\"}").getBytes(StandardCharsets.UTF_8));
    }

    static List<IndexDocument> docs(int from, int to) {
        List<IndexDocument> out = new ArrayList<>();
        for (int i = from; i <= to; i++) {
            out.add(doc(i));
        }
        return out;
    }

    private static List<IndexDocument> readAll(Spool spool) throws IOException {
        List<IndexDocument> out = new ArrayList<>();
        while (true) {
            Spool.Batch b = spool.read(7);
            if (b.documents().isEmpty()) {
                return out;
            }
            out.addAll(b.documents());
        }
    }

    private long segmentFiles() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().startsWith(Spool.SEGMENT_PREFIX)).count();
        }
    }

    @Test
    void whenOneGroupIsLargerThanASegment_thenItSpansSegmentsThatStayWithinTheirSize() throws Exception {
        try (Spool spool = Spool.open(dir, 1 << 20, 1000)) {
            // ~140 bytes a frame: 100 documents are ~14 segments' worth in one append (one fsync group).
            assertTrue(spool.append(docs(1, 100)));
            spool.sync();
            try (Stream<Path> s = Files.list(dir)) {
                List<Path> segments = s.filter(p -> p.getFileName().toString().startsWith(Spool.SEGMENT_PREFIX))
                        .toList();
                assertTrue(segments.size() > 10, "the group was split: " + segments.size());
                for (Path seg : segments) {
                    assertTrue(Files.size(seg) <= 1000, seg + " has " + Files.size(seg) + " bytes");
                }
            }
            assertEquals(docs(1, 100), readAll(spool));
        }
    }

    @Test
    void whenAppendedAcrossSegments_thenReadBackInOrderAndSegmentsDeletedOnCommit() throws Exception {
        try (Spool spool = Spool.open(dir, 1 << 20, 1000)) {
            for (int i = 1; i <= 50; i += 5) {
                assertTrue(spool.append(docs(i, i + 4)));
            }
            spool.sync();
            assertEquals(50, spool.depth());
            assertTrue(segmentFiles() > 2, "rolled over small segments: " + segmentFiles());

            Spool.Batch first = spool.read(20);
            assertEquals(docs(1, 20), first.documents());
            List<IndexDocument> rest = readAll(spool);
            assertEquals(docs(21, 50), rest);

            spool.commit(first.end(), 20);
            assertEquals(30, spool.depth());
            spool.rewind();
            assertEquals(docs(21, 50), readAll(spool), "rewind goes back to the last commit");
            Spool.Batch none = spool.read(10);
            assertTrue(none.documents().isEmpty());
            spool.commit(none.end(), 30);
            assertEquals(0, spool.depth());
            assertEquals(1, segmentFiles(), "only the segment being written is left");
        }
    }

    @Test
    void whenReopened_thenUncommittedDocumentsReadAgainAndCommittedOnesNot() throws Exception {
        try (Spool spool = Spool.open(dir, 1 << 20, 1 << 16)) {
            spool.append(docs(1, 10));
            spool.sync();
            Spool.Batch b = spool.read(4);
            spool.commit(b.end(), 4);
        }
        try (Spool spool = Spool.open(dir, 1 << 20, 1 << 16)) {
            assertEquals(6, spool.depth());
            spool.append(docs(11, 12));
            assertEquals(docs(5, 12), readAll(spool));
        }
    }

    @Test
    void whenLastFrameTorn_thenCutOffAtOpenAndEarlierFramesKept() throws Exception {
        try (Spool spool = Spool.open(dir, 1 << 20, 1 << 16)) {
            spool.append(docs(1, 3));
            spool.sync();
        }
        Path segment;
        try (Stream<Path> s = Files.list(dir)) {
            segment = s.filter(p -> p.getFileName().toString().startsWith(Spool.SEGMENT_PREFIX)).findFirst()
                    .orElseThrow();
        }
        long size = Files.size(segment);
        try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.WRITE)) {
            ch.truncate(size - 10);
        }

        try (Spool spool = Spool.open(dir, 1 << 20, 1 << 16)) {
            assertEquals(2, spool.depth());
            assertEquals(docs(1, 2), readAll(spool));
        }
    }

    @Test
    void whenCorruptByteInAFrame_thenThatFrameAndWhatFollowsInTheSegmentAreCutOff() throws Exception {
        try (Spool spool = Spool.open(dir, 1 << 20, 1 << 16)) {
            spool.append(docs(1, 3));
        }
        Path segment;
        try (Stream<Path> s = Files.list(dir)) {
            segment = s.filter(p -> p.getFileName().toString().startsWith(Spool.SEGMENT_PREFIX)).findFirst()
                    .orElseThrow();
        }
        byte[] bytes = Files.readAllBytes(segment);
        int second = Spool.frame(doc(1)).length;
        bytes[second + 20] ^= 0x55;
        Files.write(segment, bytes);

        try (Spool spool = Spool.open(dir, 1 << 20, 1 << 16)) {
            assertEquals(docs(1, 1), readAll(spool));
        }
    }

    @Test
    void whenFull_thenAppendWaitsUntilACommitMakesRoom() throws Exception {
        int frame = Spool.frame(doc(1)).length;
        try (Spool spool = Spool.open(dir, frame * 10L, frame * 4L)) {
            assertTrue(spool.append(docs(1, 10)));
            CompletableFuture<Boolean> blocked = CompletableFuture.supplyAsync(() -> {
                try {
                    return spool.append(docs(11, 12));
                } catch (IOException | InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            Thread.sleep(500);
            assertFalse(blocked.isDone(), "no room for two more frames");
            assertTrue(spool.isFull());

            Spool.Batch b = spool.read(5);
            spool.commit(b.end(), 5);

            assertTrue(blocked.get(10, TimeUnit.SECONDS));
            assertFalse(spool.isFull());
            assertEquals(7, spool.depth());
            assertEquals(docs(6, 12), readAll(spool));
        }
    }

    @Test
    void whenClosedWhileFull_thenWaitingAppendReturnsFalse() throws Exception {
        int frame = Spool.frame(doc(1)).length;
        Spool spool = Spool.open(dir, frame * 2L, frame * 2L);
        spool.append(docs(1, 2));
        CompletableFuture<Boolean> blocked = CompletableFuture.supplyAsync(() -> {
            try {
                return spool.append(docs(3, 3));
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        Thread.sleep(300);
        spool.close();
        assertFalse(blocked.get(10, TimeUnit.SECONDS));
    }

    @Test
    void whenSecondSpoolOpensTheSameDirectory_thenRefused() throws Exception {
        Spool first = Spool.open(dir, 1 << 20, 1 << 16);
        IOException e = assertThrows(IOException.class, () -> Spool.open(dir, 1 << 20, 1 << 16));
        assertTrue(e.getMessage().contains("in use by another indexer"), e.getMessage());
        first.close();
        Spool.open(dir, 1 << 20, 1 << 16).close();
    }

    @Test
    void whenClientIdAskedTwice_thenSameIdAndOtherDirectoryGetsAnother(@TempDir Path other) throws Exception {
        String id = ClientIds.persisted(dir);
        assertTrue(id.startsWith("swarm-indexer-"), id);
        assertEquals(id, ClientIds.persisted(dir));
        assertNotEquals(id, ClientIds.persisted(other));
    }
}
