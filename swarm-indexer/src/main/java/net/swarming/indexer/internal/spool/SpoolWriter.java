package net.swarming.indexer.internal.spool;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import net.swarming.indexer.internal.document.IndexDocument;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one thread that appends to the {@link Spool}: takes everything handed over since its last round, appends it,
 * fsyncs once, then runs the acknowledgements. One fsync covers a whole group, so the rate is not limited by a broker's
 * in-flight window times the fsync latency of single messages.
 *
 * <p>The hand-over queue is unbounded on purpose: what it holds is unacknowledged, and refusing it would lose nothing
 * but gain nothing either (Paho cannot be told to stop reading). Brokers bound it with their in-flight window where they
 * enforce one; mosquitto 2.0.11 was seen delivering thousands of unacknowledged messages while the spool was full.
 */
public final class SpoolWriter implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(SpoolWriter.class);

    public static final String THREAD = "swarm-indexer-spool";
    /**
     * Most messages per fsync. Small enough that a group of ordinary results (~0.5 MB) fits in the smallest spool, so
     * a full spool admits the next group as soon as Elasticsearch confirms that much.
     */
    static final int MAX_GROUP = 1_000;
    private static final long IO_RETRY_MILLIS = 1_000;

    /** A document to spool (or none, for a message that only needs its ack) and what to run once it is durable. */
    private record Entry(IndexDocument doc, Runnable ack) {}

    private final Spool spool;
    private final Runnable appended;
    private final LinkedBlockingQueue<Entry> queue = new LinkedBlockingQueue<>();
    private final AtomicInteger unacknowledged = new AtomicInteger();
    private final Thread thread;
    private volatile boolean stopping;

    /**
     * @param appended run after each durable group (on the writer thread): tells the reader there is more to read
     */
    public SpoolWriter(Spool spool, Runnable appended) {
        this.spool = Objects.requireNonNull(spool, "spool");
        this.appended = Objects.requireNonNull(appended, "appended");
        this.thread = new Thread(this::run, THREAD);
        this.thread.setDaemon(true);
    }

    public void start() {
        thread.start();
    }

    /**
     * Hands a document over (any thread; never blocks). {@code ack} runs on the writer thread once the document is
     * fsynced; with {@code doc == null} it runs after the next fsync.
     */
    public void submit(IndexDocument doc, Runnable ack) {
        queue.add(new Entry(doc, Objects.requireNonNull(ack, "ack")));
        unacknowledged.incrementAndGet();
    }

    /** Messages handed over and not yet acknowledged (not yet durable in the spool). */
    public int unacknowledged() {
        return unacknowledged.get();
    }

    private void run() {
        List<Entry> group = new ArrayList<>();
        while (true) {
            try {
                if (group.isEmpty()) {
                    Entry first = queue.poll(100, TimeUnit.MILLISECONDS);
                    if (first == null) {
                        if (stopping) {
                            return;
                        }
                        continue;
                    }
                    group.add(first);
                    queue.drainTo(group, MAX_GROUP - 1);
                }
                List<IndexDocument> docs = new ArrayList<>(group.size());
                for (Entry e : group) {
                    if (e.doc() != null) {
                        docs.add(e.doc());
                    }
                }
                if (!spool.append(docs)) {
                    LOG.warn("spool closed while full: {} messages not acknowledged; their brokers will send them "
                            + "again", group.size() + queue.size());
                    return;
                }
                spool.sync();
                for (Entry e : group) {
                    try {
                        e.ack().run();
                    } catch (RuntimeException ex) {
                        LOG.warn("acknowledging a message failed: {}", ex.toString());
                    }
                }
                unacknowledged.addAndGet(-group.size());
                group.clear();
                appended.run();
            } catch (InterruptedException e) {
                LOG.warn("spool writer interrupted: {} messages not acknowledged", group.size() + queue.size());
                return;
            } catch (IOException | RuntimeException e) {
                // The group is kept and appended again: a frame written twice is a duplicate Elasticsearch drops.
                LOG.error("cannot write to the spool {}: {}; {} messages wait unacknowledged, retrying in {} ms",
                        spool.directory(), e.toString(), group.size() + queue.size(), IO_RETRY_MILLIS);
                try {
                    Thread.sleep(IO_RETRY_MILLIS);
                } catch (InterruptedException ie) {
                    return;
                }
            }
        }
    }

    /**
     * Spools and acknowledges what was handed over, then stops; call after intake stopped. Waits at most
     * {@code timeoutMillis}.
     */
    @Override
    public void close() {
        close(10_000);
    }

    public void close(long timeoutMillis) {
        stopping = true;
        try {
            thread.join(timeoutMillis);
            if (thread.isAlive()) {
                LOG.warn("spool writer still busy after {} ms; interrupting it", timeoutMillis);
                thread.interrupt();
                thread.join(2_000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
