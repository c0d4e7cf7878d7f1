package net.swarming.indexer.internal.pipeline;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import net.swarming.indexer.internal.document.IndexDocument;

/**
 * The bounded in-memory queue between intake and the flush executor. When full, the oldest documents are dropped:
 * during a long Elasticsearch outage the most recent measurements are the ones worth keeping.
 *
 * <p>Thread-safe; every operation is short and holds one lock, so MQTT dispatch threads never wait for Elasticsearch.
 * The durable spool of the full pipeline will replace this class behind the same role.
 */
public final class DocumentBuffer {

    /** What an {@link #add} did: the size afterwards and how many old documents it pushed out. */
    public record AddResult(int size, int dropped) {}

    private final int capacity;
    private final ArrayDeque<IndexDocument> queue = new ArrayDeque<>();

    public DocumentBuffer(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1, got " + capacity);
        }
        this.capacity = capacity;
    }

    /** Appends a document, dropping the oldest ones if the buffer is full. */
    public synchronized AddResult add(IndexDocument doc) {
        int dropped = 0;
        while (queue.size() >= capacity) {
            queue.pollFirst();
            dropped++;
        }
        queue.addLast(doc);
        return new AddResult(queue.size(), dropped);
    }

    /** Removes and returns up to {@code max} documents, oldest first. */
    public synchronized List<IndexDocument> poll(int max) {
        int n = Math.min(max, queue.size());
        List<IndexDocument> batch = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            batch.add(queue.pollFirst());
        }
        return batch;
    }

    /**
     * Puts documents that could not be written back at the head, in their order, so they go out first next time.
     *
     * @return how many documents had to be dropped to respect the capacity (the oldest ones)
     */
    public synchronized int requeue(List<IndexDocument> docs) {
        for (int i = docs.size() - 1; i >= 0; i--) {
            queue.addFirst(docs.get(i));
        }
        int dropped = 0;
        while (queue.size() > capacity) {
            queue.pollFirst();
            dropped++;
        }
        return dropped;
    }

    public synchronized int size() {
        return queue.size();
    }

    public int capacity() {
        return capacity;
    }
}
