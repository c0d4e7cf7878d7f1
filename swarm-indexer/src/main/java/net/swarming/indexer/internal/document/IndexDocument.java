package net.swarming.indexer.internal.document;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * One document ready for a {@code _bulk} {@code create}: the data stream it goes to, its {@code _id} when it has a
 * deterministic one, and its source already serialised (compact in memory, and exactly what a future spool stores).
 *
 * @param index the data stream
 * @param id the deterministic {@code _id}, or {@code null} to let Elasticsearch generate one
 * @param source the JSON source, UTF-8
 */
public record IndexDocument(String index, String id, byte[] source) {

    public IndexDocument {
        Objects.requireNonNull(index, "index");
        Objects.requireNonNull(source, "source");
        if (id != null && id.isEmpty()) {
            throw new IllegalArgumentException("id must be null or non-empty");
        }
    }

    /** The source as text, for logs at debug level and tests. */
    public String sourceText() {
        return new String(source, StandardCharsets.UTF_8);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof IndexDocument other && index.equals(other.index) && Objects.equals(id, other.id)
                && Arrays.equals(source, other.source);
    }

    @Override
    public int hashCode() {
        return Objects.hash(index, id, Arrays.hashCode(source));
    }

    @Override
    public String toString() {
        return "IndexDocument[index=" + index + ", id=" + id + ", source=" + sourceText() + "]";
    }
}
