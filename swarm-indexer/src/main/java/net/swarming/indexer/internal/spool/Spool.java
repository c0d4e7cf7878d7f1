package net.swarming.indexer.internal.spool;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32C;
import net.swarming.indexer.internal.document.IndexDocument;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The indexer's durable local queue: append-only segment files of CRC-checked frames, one frame per document, and a
 * checkpoint file telling how far Elasticsearch has confirmed them.
 *
 * <p>One thread appends ({@link #append}, {@link #sync}); one other thread reads ({@link #read}, {@link #commit},
 * {@link #rewind}). A document is safe once {@link #sync} returned after its append: only then may its MQTT message
 * be acknowledged. The reader sees appended frames at once (before the fsync): writing them to Elasticsearch early
 * is harmless.
 *
 * <p>Frame: {@code int length, int crc32c(body), body}; body: {@code UTF index, UTF id ("" when none), source bytes}.
 * After a crash a torn frame at the end of a segment fails its length or CRC check and is cut off at start-up; frames
 * before it were fsynced (or were never acknowledged, and the broker sends them again).
 *
 * <p>Documents not yet in Elasticsearch are bounded by {@code maxBytes} (the disk holds at most one segment more: the
 * confirmed head of the oldest one): {@link #append} waits for the reader to confirm documents rather than exceed it,
 * which stops acknowledgements and so holds new messages back at the brokers.
 */
public final class Spool implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Spool.class);

    static final String SEGMENT_PREFIX = "segment-";
    static final String SEGMENT_SUFFIX = ".log";
    static final String CHECKPOINT = "checkpoint";
    static final String LOCK = "lock";
    private static final int HEADER = 8;
    /** No frame can be larger: a larger length field means a torn or corrupt frame. */
    static final int MAX_FRAME = 64 * 1024 * 1024;

    /** A place in the spool: a segment number and a byte offset in it. */
    public record Position(long segment, long offset) implements Comparable<Position> {
        @Override
        public int compareTo(Position o) {
            int c = Long.compare(segment, o.segment);
            return c != 0 ? c : Long.compare(offset, o.offset);
        }
    }

    /** Documents read from the spool, and the position just after the last of them. */
    public record Batch(List<IndexDocument> documents, Position end) {}

    private final Path dir;
    private final long maxBytes;
    private final long segmentBytes;
    private final Object lock = new Object();
    /** Segment number → size in bytes, of every segment on disk. Guarded by {@link #lock}. */
    private final TreeMap<Long, Long> segments = new TreeMap<>();
    private final AtomicLong records = new AtomicLong();
    private volatile boolean full;
    private volatile boolean closed;
    private FileChannel lockChannel;

    // Writer side.
    private long writeSegment;
    private FileChannel writeChannel;
    private long writeOffset;
    /** Published end of appended data, read by the reader. */
    private volatile Position writeEnd;

    // Reader side.
    private volatile Position committed;
    private Position readPos;
    private long readSegmentOpen = -1;
    private FileChannel readChannel;
    private ByteBuffer readBuffer = ByteBuffer.allocate(1 << 20);

    private Spool(Path dir, long maxBytes, long segmentBytes) {
        this.dir = dir;
        this.maxBytes = maxBytes;
        this.segmentBytes = segmentBytes;
    }

    /**
     * Opens (or creates) the spool in {@code dir}, checking every frame after the checkpoint and cutting off a torn
     * tail; new appends go to a fresh segment.
     *
     * @param maxBytes most bytes of segment files on disk
     * @param segmentBytes a segment is closed and a new one started beyond this size
     */
    public static Spool open(Path dir, long maxBytes, long segmentBytes) throws IOException {
        if (segmentBytes < 1 || maxBytes < segmentBytes) {
            throw new IllegalArgumentException("need 0 < segmentBytes <= maxBytes, got " + segmentBytes + " and "
                    + maxBytes);
        }
        Files.createDirectories(dir);
        Spool spool = new Spool(dir, maxBytes, segmentBytes);
        spool.lock();
        try {
            spool.recover();
        } catch (IOException | RuntimeException e) {
            spool.close();
            throw e;
        }
        return spool;
    }

    /** One indexer per spool directory: a second one would interleave frames and share the client id. */
    private void lock() throws IOException {
        lockChannel = FileChannel.open(dir.resolve(LOCK), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock l;
        try {
            l = lockChannel.tryLock();
        } catch (OverlappingFileLockException e) {
            l = null;
        }
        if (l == null) {
            lockChannel.close();
            lockChannel = null;
            throw new IOException("spool directory " + dir + " is in use by another indexer; give each indexer its "
                    + "own --spool-dir");
        }
    }

    private void recover() throws IOException {
        Position checkpoint = readCheckpoint();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, SEGMENT_PREFIX + "*" + SEGMENT_SUFFIX)) {
            for (Path p : files) {
                String name = p.getFileName().toString();
                long n;
                try {
                    n = Long.parseLong(name.substring(SEGMENT_PREFIX.length(), name.length()
                            - SEGMENT_SUFFIX.length()));
                } catch (NumberFormatException e) {
                    LOG.warn("ignoring {} in the spool directory: not a segment name", p);
                    continue;
                }
                segments.put(n, Files.size(p));
            }
        }
        if (checkpoint == null) {
            checkpoint = new Position(segments.isEmpty() ? 0 : segments.firstKey(), 0);
        }
        for (Long n : List.copyOf(segments.headMap(checkpoint.segment()).keySet())) {
            Files.deleteIfExists(segmentPath(n));
            segments.remove(n);
        }
        long pending = 0;
        for (Long n : List.copyOf(segments.keySet())) {
            long from = n == checkpoint.segment() ? checkpoint.offset() : 0;
            long[] scan = scan(n, from);
            pending += scan[0];
            if (scan[1] < segments.get(n)) {
                LOG.warn("spool segment {} ends with {} bytes of a torn or corrupt frame (a crash while writing): "
                        + "cut off; the broker redelivers what was never acknowledged", segmentPath(n),
                        segments.get(n) - scan[1]);
                try (FileChannel ch = FileChannel.open(segmentPath(n), StandardOpenOption.WRITE)) {
                    ch.truncate(scan[1]);
                    ch.force(true);
                }
                segments.put(n, scan[1]);
            }
        }
        records.set(pending);
        committed = checkpoint;
        readPos = checkpoint;
        writeSegment = segments.isEmpty() ? Math.max(checkpoint.segment(), 0) : segments.lastKey() + 1;
        if (segments.isEmpty() || checkpoint.segment() > segments.lastKey()) {
            // Nothing unread on disk: reading starts at the first new segment.
            committed = new Position(writeSegment, 0);
            readPos = committed;
        }
        openWriteSegment(writeSegment);
        if (pending > 0) {
            LOG.info("spool {}: {} documents from before the restart still to write to Elasticsearch", dir, pending);
        }
    }

    /** Counts the valid frames of a segment from an offset; returns {count, end offset of the last valid frame}. */
    private long[] scan(long segment, long from) throws IOException {
        long count = 0;
        long pos = from;
        try (FileChannel ch = FileChannel.open(segmentPath(segment), StandardOpenOption.READ)) {
            long size = ch.size();
            ByteBuffer header = ByteBuffer.allocate(HEADER);
            while (pos + HEADER <= size) {
                header.clear();
                readFully(ch, header, pos);
                header.flip();
                int len = header.getInt();
                int crc = header.getInt();
                if (len < 0 || len > MAX_FRAME || pos + HEADER + len > size) {
                    break;
                }
                ByteBuffer body = ByteBuffer.allocate(len);
                readFully(ch, body, pos + HEADER);
                if (crc(body.array(), 0, len) != crc) {
                    break;
                }
                pos += HEADER + len;
                count++;
            }
        }
        return new long[] {count, pos};
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
        long p = pos;
        while (buf.hasRemaining()) {
            int n = ch.read(buf, p);
            if (n < 0) {
                break;
            }
            p += n;
        }
    }

    private void openWriteSegment(long n) throws IOException {
        writeChannel = FileChannel.open(segmentPath(n), StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.READ);
        writeOffset = writeChannel.size();
        synchronized (lock) {
            segments.put(n, writeOffset);
        }
        writeEnd = new Position(n, writeOffset);
    }

    private Path segmentPath(long n) {
        return dir.resolve(String.format(Locale.ROOT, "%s%020d%s", SEGMENT_PREFIX, n, SEGMENT_SUFFIX));
    }

    /**
     * Appends documents (writer thread). Waits while the spool is at its disk limit, rechecking every
     * {@code pollMillis}, until there is room or the spool is closed.
     *
     * @return false when the spool was closed before there was room: the documents were not appended
     */
    public boolean append(List<IndexDocument> docs) throws IOException, InterruptedException {
        if (docs.isEmpty()) {
            return true;
        }
        List<byte[]> frames = new ArrayList<>(docs.size());
        long total = 0;
        for (IndexDocument doc : docs) {
            byte[] f = frame(doc);
            frames.add(f);
            total += f.length;
        }
        if (!awaitRoom(total)) {
            return false;
        }
        // A group may span segments: rolling frame by frame keeps every segment within segmentBytes (a single
        // frame larger than that gets a segment of its own), which is what bounds the disk to maxBytes + one segment.
        ByteArrayOutputStream chunk = new ByteArrayOutputStream((int) Math.min(total, segmentBytes));
        for (byte[] f : frames) {
            if (writeOffset + chunk.size() > 0 && writeOffset + chunk.size() + f.length > segmentBytes) {
                writeChunk(chunk);
                if (writeOffset > 0) {
                    roll();
                }
            }
            chunk.write(f);
        }
        writeChunk(chunk);
        records.addAndGet(docs.size());
        writeEnd = new Position(writeSegment, writeOffset);
        return true;
    }

    private void writeChunk(ByteArrayOutputStream chunk) throws IOException {
        if (chunk.size() == 0) {
            return;
        }
        ByteBuffer buf = ByteBuffer.wrap(chunk.toByteArray());
        while (buf.hasRemaining()) {
            writeOffset += writeChannel.write(buf, writeOffset);
        }
        synchronized (lock) {
            segments.put(writeSegment, writeOffset);
        }
        chunk.reset();
    }

    private boolean awaitRoom(long needed) throws InterruptedException {
        synchronized (lock) {
            while (!closed && pendingBytesLocked() > 0 && pendingBytesLocked() + needed > maxBytes) {
                if (!full) {
                    full = true;
                    LOG.error("spool {} is full ({} of {} bytes, {} documents waiting for Elasticsearch): no more "
                            + "messages are acknowledged, so the brokers hold them back, until Elasticsearch takes "
                            + "some; raise --spool-max-size or fix Elasticsearch", dir, diskBytesLocked(), maxBytes,
                            records.get());
                }
                lock.wait(200);
            }
            if (full && !closed) {
                full = false;
                LOG.info("spool {} has room again ({} of {} bytes)", dir, diskBytesLocked(), maxBytes);
            }
            return !closed;
        }
    }

    private void roll() throws IOException {
        writeChannel.force(false);
        writeChannel.close();
        writeSegment++;
        writeOffset = 0;
        openWriteSegment(writeSegment);
    }

    /** Makes everything appended so far durable (writer thread). */
    public void sync() throws IOException {
        writeChannel.force(false);
    }

    static byte[] frame(IndexDocument doc) {
        ByteArrayOutputStream body = new ByteArrayOutputStream(doc.source().length + 64);
        try (DataOutputStream out = new DataOutputStream(body)) {
            out.writeUTF(doc.index());
            out.writeUTF(doc.id() == null ? "" : doc.id());
            out.write(doc.source());
        } catch (IOException e) {
            throw new UncheckedIOException("writing to memory", e);
        }
        byte[] b = body.toByteArray();
        ByteBuffer frame = ByteBuffer.allocate(HEADER + b.length);
        frame.putInt(b.length).putInt(crc(b, 0, b.length)).put(b);
        return frame.array();
    }

    private static int crc(byte[] b, int off, int len) {
        CRC32C c = new CRC32C();
        c.update(b, off, len);
        return (int) c.getValue();
    }

    /**
     * Reads up to {@code max} documents after the last one read (reader thread), following segments in order.
     * Returns an empty batch when everything appended has been read.
     */
    public Batch read(int max) throws IOException {
        List<IndexDocument> docs = new ArrayList<>(Math.min(max, 4096));
        Position end = writeEnd;
        while (docs.size() < max && readPos.compareTo(end) < 0) {
            long limit;
            if (readPos.segment() < end.segment()) {
                Long size;
                synchronized (lock) {
                    size = segments.get(readPos.segment());
                }
                if (size == null || readPos.offset() >= size) {
                    Long next;
                    synchronized (lock) {
                        next = segments.higherKey(readPos.segment());
                    }
                    readPos = new Position(next == null ? end.segment() : next, 0);
                    continue;
                }
                limit = size;
            } else {
                limit = end.offset();
            }
            FileChannel ch = readChannel(readPos.segment());
            readBuffer.clear();
            long want = Math.min(readBuffer.capacity(), limit - readPos.offset());
            readBuffer.limit((int) want);
            readFully(ch, readBuffer, readPos.offset());
            readBuffer.flip();
            long offset = readPos.offset();
            boolean progressed = false;
            int needed = 0;
            while (docs.size() < max && readBuffer.remaining() >= HEADER) {
                int len = readBuffer.getInt(readBuffer.position());
                if (len < 0 || len > MAX_FRAME) {
                    throw new IOException("corrupt spool frame in " + segmentPath(readPos.segment()) + " at "
                            + offset);
                }
                if (readBuffer.remaining() < HEADER + len) {
                    needed = HEADER + len;
                    break;
                }
                readBuffer.getInt();
                readBuffer.getInt();
                docs.add(decode(readBuffer, len));
                offset += HEADER + len;
                progressed = true;
            }
            readPos = new Position(readPos.segment(), offset);
            if (!progressed) {
                if (needed > readBuffer.capacity()) {
                    readBuffer = ByteBuffer.allocate(needed);
                    continue;
                }
                throw new IOException("truncated frame in " + segmentPath(readPos.segment()) + " at " + offset);
            }
        }
        return new Batch(docs, readPos);
    }

    private static IndexDocument decode(ByteBuffer buf, int len) throws IOException {
        int start = buf.position();
        String index = readUtf(buf);
        String id = readUtf(buf);
        byte[] source = new byte[len - (buf.position() - start)];
        buf.get(source);
        return new IndexDocument(index, id.isEmpty() ? null : id, source);
    }

    private static String readUtf(ByteBuffer buf) throws IOException {
        int n = Short.toUnsignedInt(buf.getShort());
        byte[] b = new byte[n];
        buf.get(b);
        // Index names and ids are ASCII, where modified UTF-8 and UTF-8 agree.
        return new String(b, StandardCharsets.UTF_8);
    }

    private FileChannel readChannel(long segment) throws IOException {
        if (readSegmentOpen != segment) {
            if (readChannel != null) {
                readChannel.close();
            }
            readChannel = FileChannel.open(segmentPath(segment), StandardOpenOption.READ);
            readSegmentOpen = segment;
        }
        return readChannel;
    }

    /** Goes back to the last committed position, to read again what was not confirmed (reader thread). */
    public void rewind() {
        readPos = committed;
    }

    /**
     * Records that every document up to {@code upTo} (from {@link Batch#end()}) is in Elasticsearch, and deletes the
     * segments wholly before it (reader thread).
     *
     * @param count how many documents that covers since the previous commit
     */
    public void commit(Position upTo, int count) throws IOException {
        if (upTo.compareTo(committed) <= 0) {
            return;
        }
        writeCheckpoint(upTo);
        committed = upTo;
        records.addAndGet(-count);
        synchronized (lock) {
            for (Long n : List.copyOf(segments.headMap(upTo.segment()).keySet())) {
                if (readSegmentOpen == n && readChannel != null) {
                    readChannel.close();
                    readChannel = null;
                    readSegmentOpen = -1;
                }
                Files.deleteIfExists(segmentPath(n));
                segments.remove(n);
            }
            lock.notifyAll();
        }
    }

    private void writeCheckpoint(Position p) throws IOException {
        Path tmp = dir.resolve(CHECKPOINT + ".tmp");
        ByteBuffer b = ByteBuffer.allocate(20);
        b.putLong(p.segment()).putLong(p.offset());
        b.putInt(crc(b.array(), 0, 16));
        b.flip();
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            while (b.hasRemaining()) {
                ch.write(b);
            }
        }
        // Not fsynced: a checkpoint lost in a crash only means documents are sent again, and come back as duplicates.
        try {
            Files.move(tmp, dir.resolve(CHECKPOINT), StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, dir.resolve(CHECKPOINT), StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private Position readCheckpoint() throws IOException {
        Path p = dir.resolve(CHECKPOINT);
        if (!Files.exists(p)) {
            return null;
        }
        byte[] b = Files.readAllBytes(p);
        if (b.length != 20 || ByteBuffer.wrap(b, 16, 4).getInt() != crc(b, 0, 16)) {
            LOG.warn("spool checkpoint {} is unreadable: reading the spool from its first segment again "
                    + "(duplicates are dropped by Elasticsearch)", p);
            return null;
        }
        ByteBuffer buf = ByteBuffer.wrap(b);
        return new Position(buf.getLong(), buf.getLong());
    }

    /** Documents appended and not yet committed. */
    public long depth() {
        return records.get();
    }

    /** Bytes of segment files on disk. */
    public long diskBytes() {
        synchronized (lock) {
            return diskBytesLocked();
        }
    }

    /** Bytes not yet confirmed by Elasticsearch: what the disk limit applies to. */
    private long pendingBytesLocked() {
        Position c = committed;
        long done = segments.containsKey(c.segment()) ? c.offset() : 0;
        return diskBytesLocked() - done;
    }

    private long diskBytesLocked() {
        long sum = 0;
        for (long s : segments.values()) {
            sum += s;
        }
        return sum;
    }

    /** Whether an append is waiting for room right now. */
    public boolean isFull() {
        return full;
    }

    public long maxBytes() {
        return maxBytes;
    }

    public Path directory() {
        return dir;
    }

    /** Releases files and wakes an append waiting for room; idempotent. Call when neither thread uses it any more. */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            lock.notifyAll();
        }
        try {
            if (writeChannel != null) {
                writeChannel.force(false);
                writeChannel.close();
            }
            if (readChannel != null) {
                readChannel.close();
            }
            if (lockChannel != null) {
                lockChannel.close();
            }
        } catch (IOException e) {
            LOG.warn("closing the spool {} failed: {}", dir, e.toString());
        }
    }
}
