package net.swarming.agent.internal.spool;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.zip.CRC32;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A bounded, ordered on-disk queue of results (topic and payload) for the time no broker takes them.
 *
 * <p>Append-only segment files {@code <id>.seg} in one directory, read from the lowest id. A record is
 * {@code [int length][int crc32][short topic length][topic UTF-8][payload]} (big-endian; length and CRC cover what
 * follows them). Reading moves a position kept in memory; a fully read segment is deleted, and {@link #close} rewrites
 * a partly read one, so a clean restart neither loses nor repeats a result. A record torn by a crash (short or with a
 * bad CRC) ends its segment: the file is cut there when the spool is opened.
 *
 * <p>Bounded by {@code maxBytes} of unread records: beyond it whole segments are dropped, oldest first, and every
 * result in them is counted in {@link #dropped()}. Segments are at most {@code maxBytes / 8} (at most 8 MiB), so a
 * drop costs at most an eighth of the spool.
 *
 * <p>One process per directory: {@link #open} takes an exclusive lock on {@code <dir>/lock} (released by
 * {@link #close} or the process's end), so two agents started in the same working directory cannot interleave their
 * segments; the second one is refused.
 *
 * <p>Thread-safe (every method synchronized); the publisher calls it under its own lock, from probe threads
 * ({@link #append}) and from its sender thread ({@link #poll}).
 */
public final class Spool implements AutoCloseable {

    /** One spooled result. */
    public record Entry(String topic, byte[] payload) {
        public Entry {
            Objects.requireNonNull(topic, "topic");
            Objects.requireNonNull(payload, "payload");
        }
    }

    private static final Logger LOG = LoggerFactory.getLogger(Spool.class);
    private static final String SUFFIX = ".seg";
    /** Ids start high so that {@link #prepend} can always go below the first one. */
    private static final long FIRST_ID = 1_000_000_000_000L;
    private static final int HEADER = 8;
    private static final int MAX_RECORD = 16 * 1024 * 1024;
    private static final long MAX_SEGMENT = 8L * 1024 * 1024;

    private static final class Segment {
        final long id;
        final Path path;
        long bytes;
        int count;
        long readOffset;
        int readCount;

        Segment(long id, Path path) {
            this.id = id;
            this.path = path;
        }

        long unreadBytes() {
            return bytes - readOffset;
        }

        int unread() {
            return count - readCount;
        }
    }

    private final Path dir;
    private final long maxBytes;
    private final long segmentBytes;
    private final TreeMap<Long, Segment> segments = new TreeMap<>();
    private FileChannel lockChannel;
    private java.nio.channels.FileLock lock;
    private FileChannel tailChannel;
    private Segment tail;
    private long unreadBytes;
    private long unread;
    private long dropped;
    private boolean closed;

    private Spool(Path dir, long maxBytes) {
        this.dir = dir;
        this.maxBytes = maxBytes;
        this.segmentBytes = Math.max(512, Math.min(MAX_SEGMENT, maxBytes / 8));
    }

    /**
     * Opens (creating the directory when needed) and scans what an earlier run left.
     *
     * @throws UncheckedIOException when the directory cannot be created or read
     * @throws IllegalStateException when another process uses the directory
     */
    public static Spool open(Path dir, long maxBytes) {
        Objects.requireNonNull(dir, "dir");
        if (maxBytes < 1024) {
            throw new IllegalArgumentException("maxBytes must be at least 1024, got " + maxBytes);
        }
        Spool spool = new Spool(dir, maxBytes);
        try {
            Files.createDirectories(dir);
            spool.lockDirectory();
            spool.scan();
        } catch (IOException e) {
            spool.unlock();
            throw new UncheckedIOException("cannot use spool directory " + dir + ": " + e.getMessage(), e);
        }
        return spool;
    }

    /** Appends one result; drops the oldest segments when the spool would exceed its bound. */
    public synchronized void append(String topic, byte[] payload) throws IOException {
        checkOpen();
        ByteBuffer record = encode(topic, payload);
        long size = record.remaining();
        if (size > maxBytes) {
            dropped++;
            LOG.warn("a result of {} bytes is larger than the whole spool ({} bytes): dropped", size, maxBytes);
            return;
        }
        makeRoom(size);
        if (tail == null || tail.bytes > 0 && tail.bytes + size > segmentBytes) {
            roll(segments.isEmpty() ? FIRST_ID : segments.lastKey() + 1);
        }
        writeFully(tailChannel, record);
        tail.bytes += size;
        tail.count++;
        unreadBytes += size;
        unread++;
    }

    /**
     * Puts results before everything spooled, in the given order: what was still in memory at shutdown is older than
     * what the spool holds.
     */
    public synchronized void prepend(List<Entry> entries) throws IOException {
        checkOpen();
        if (entries.isEmpty()) {
            return;
        }
        if (segments.isEmpty()) {
            for (Entry e : entries) {
                append(e.topic(), e.payload());
            }
            return;
        }
        long id = segments.firstKey() - 1;
        Segment s = new Segment(id, dir.resolve(id + SUFFIX));
        try (FileChannel ch = FileChannel.open(s.path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            for (Entry e : entries) {
                ByteBuffer record = encode(e.topic(), e.payload());
                long size = record.remaining();
                writeFully(ch, record);
                s.bytes += size;
                s.count++;
            }
            ch.force(true);
        }
        segments.put(id, s);
        unreadBytes += s.bytes;
        unread += s.count;
    }

    /** Removes and returns up to {@code max} of the oldest results, in order. */
    public synchronized List<Entry> poll(int max) throws IOException {
        checkOpen();
        List<Entry> out = new ArrayList<>(Math.min(max, 1024));
        while (out.size() < max && !segments.isEmpty()) {
            Segment s = segments.firstEntry().getValue();
            if (s.unread() > 0) {
                try (FileChannel ch = FileChannel.open(s.path, StandardOpenOption.READ)) {
                    while (out.size() < max && s.readOffset < s.bytes) {
                        Read r = readRecord(ch, s.readOffset, s.bytes);
                        if (r == null) {
                            // Only possible if the file changed under us: give the rest up rather than loop.
                            LOG.warn("spool segment {} is damaged at byte {}; skipping its rest", s.path,
                                    s.readOffset);
                            dropped += s.unread();
                            unread -= s.unread();
                            unreadBytes -= s.unreadBytes();
                            s.readOffset = s.bytes;
                            s.readCount = s.count;
                            break;
                        }
                        out.add(r.entry);
                        s.readOffset += r.size;
                        s.readCount++;
                        unread--;
                        unreadBytes -= r.size;
                    }
                }
            }
            if (s.unread() > 0) {
                break;
            }
            delete(s);
        }
        return out;
    }

    /** Results waiting. */
    public synchronized long messages() {
        return unread;
    }

    /** Bytes of the results waiting (record framing included). */
    public synchronized long bytes() {
        return unreadBytes;
    }

    /** Results dropped since opened because the spool was full (or a segment damaged). */
    public synchronized long dropped() {
        return dropped;
    }

    public synchronized boolean isEmpty() {
        return unread == 0;
    }

    /** Keeps what is unread for the next run: a partly read segment is rewritten without its read records. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (tailChannel != null) {
                tailChannel.force(true);
                tailChannel.close();
            }
            for (Segment s : new ArrayList<>(segments.values())) {
                if (s.unread() == 0) {
                    Files.deleteIfExists(s.path);
                } else if (s.readOffset > 0) {
                    compact(s);
                }
            }
        } catch (IOException e) {
            LOG.error("closing the spool in {} failed; results may be repeated or lost after a restart", dir, e);
        } finally {
            unlock();
        }
    }

    private void lockDirectory() throws IOException {
        lockChannel = FileChannel.open(dir.resolve("lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        try {
            lock = lockChannel.tryLock();
        } catch (java.nio.channels.OverlappingFileLockException e) {
            lock = null;
        }
        if (lock == null) {
            lockChannel.close();
            throw new IllegalStateException("spool directory " + dir.toAbsolutePath() + " is in use by another agent; "
                    + "give each agent its own --spool-dir");
        }
    }

    private void unlock() {
        try {
            if (lock != null) {
                lock.release();
            }
            if (lockChannel != null) {
                lockChannel.close();
            }
        } catch (IOException e) {
            LOG.debug("releasing the spool lock failed", e);
        }
    }

    private void compact(Segment s) throws IOException {
        Path tmp = dir.resolve(s.id + SUFFIX + ".tmp");
        try (FileChannel in = FileChannel.open(s.path, StandardOpenOption.READ);
             FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                     StandardOpenOption.TRUNCATE_EXISTING)) {
            long pos = s.readOffset;
            while (pos < s.bytes) {
                pos += in.transferTo(pos, s.bytes - pos, out);
            }
            out.force(true);
        }
        Files.move(tmp, s.path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private void makeRoom(long size) throws IOException {
        while (unreadBytes + size > maxBytes && !segments.isEmpty()) {
            Segment oldest = segments.firstEntry().getValue();
            if (oldest == tail) {
                // Never write into a segment that is being dropped: start a fresh one.
                roll(tail.id + 1);
            }
            int lost = oldest.unread();
            dropped += lost;
            unread -= lost;
            unreadBytes -= oldest.unreadBytes();
            delete(oldest);
            LOG.warn("spool full ({} bytes): dropped the {} oldest results", maxBytes, lost);
        }
    }

    private void roll(long id) throws IOException {
        if (tailChannel != null) {
            tailChannel.close();
        }
        Segment s = new Segment(id, dir.resolve(id + SUFFIX));
        tailChannel = FileChannel.open(s.path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND);
        s.bytes = tailChannel.size();
        segments.put(id, s);
        tail = s;
    }

    private void delete(Segment s) throws IOException {
        segments.remove(s.id);
        if (s == tail) {
            tailChannel.close();
            tailChannel = null;
            tail = null;
        }
        Files.deleteIfExists(s.path);
    }

    private void scan() throws IOException {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*" + SUFFIX)) {
            for (Path p : files) {
                String name = p.getFileName().toString();
                try {
                    long id = Long.parseLong(name.substring(0, name.length() - SUFFIX.length()));
                    segments.put(id, new Segment(id, p));
                } catch (NumberFormatException e) {
                    LOG.warn("ignoring {} in the spool directory: not a segment", p);
                }
            }
        }
        for (Segment s : new ArrayList<>(segments.values())) {
            long size = Files.size(s.path);
            try (FileChannel ch = FileChannel.open(s.path, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                long pos = 0;
                while (pos < size) {
                    Read r = readRecord(ch, pos, size);
                    if (r == null) {
                        LOG.warn("spool segment {} ends in a torn record at byte {} of {}: cut there", s.path, pos,
                                size);
                        ch.truncate(pos);
                        break;
                    }
                    pos += r.size;
                    s.count++;
                }
                s.bytes = pos;
            }
            if (s.count == 0) {
                segments.remove(s.id);
                Files.deleteIfExists(s.path);
            } else {
                unread += s.count;
                unreadBytes += s.bytes;
            }
        }
        if (unread > 0) {
            LOG.info("spool {}: {} results ({} bytes) from an earlier run, published first", dir, unread,
                    unreadBytes);
        }
        for (Map.Entry<Long, Segment> e : segments.entrySet()) {
            LOG.debug("spool segment {}: {} results", e.getValue().path, e.getValue().count);
        }
    }

    private record Read(Entry entry, int size) {
    }

    /** The record at {@code pos}, or null when it is torn or damaged. */
    private static Read readRecord(FileChannel ch, long pos, long end) throws IOException {
        if (end - pos < HEADER) {
            return null;
        }
        ByteBuffer header = ByteBuffer.allocate(HEADER);
        readFully(ch, header, pos);
        header.flip();
        int length = header.getInt();
        int crc = header.getInt();
        if (length < 2 || length > MAX_RECORD || end - pos - HEADER < length) {
            return null;
        }
        ByteBuffer body = ByteBuffer.allocate(length);
        readFully(ch, body, pos + HEADER);
        CRC32 check = new CRC32();
        check.update(body.array(), 0, length);
        if ((int) check.getValue() != crc) {
            return null;
        }
        body.flip();
        int topicLength = body.getShort() & 0xffff;
        if (topicLength > body.remaining()) {
            return null;
        }
        String topic = new String(body.array(), 2, topicLength, StandardCharsets.UTF_8);
        byte[] payload = new byte[length - 2 - topicLength];
        body.position(2 + topicLength);
        body.get(payload);
        return new Read(new Entry(topic, payload), HEADER + length);
    }

    private static ByteBuffer encode(String topic, byte[] payload) {
        byte[] t = topic.getBytes(StandardCharsets.UTF_8);
        if (t.length > 0xffff || payload.length > MAX_RECORD - 2 - t.length) {
            throw new IllegalArgumentException("result too large to spool: topic " + t.length + " bytes, payload "
                    + payload.length + " bytes");
        }
        int length = 2 + t.length + payload.length;
        ByteBuffer b = ByteBuffer.allocate(HEADER + length);
        b.putInt(length).putInt(0).putShort((short) t.length).put(t).put(payload);
        CRC32 crc = new CRC32();
        crc.update(b.array(), HEADER, length);
        b.putInt(4, (int) crc.getValue());
        b.flip();
        return b;
    }

    private static void readFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
        while (b.hasRemaining()) {
            int n = ch.read(b, pos + b.position());
            if (n < 0) {
                throw new IOException("unexpected end of spool segment");
            }
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("spool is closed");
        }
    }
}
