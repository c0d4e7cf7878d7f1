package net.swarming.indexer.internal.pipeline;

import java.util.List;
import java.util.Objects;
import net.swarming.indexer.internal.document.IndexDocument;

/**
 * What became of every document of one batch.
 *
 * @param written documents created
 * @param duplicates documents refused with 409 because their {@code _id} already exists (a redelivery)
 * @param failed documents refused for good (mapping errors and the like); already logged by the sink
 * @param retry documents refused for a passing reason (429, 5xx) that should be sent again, in batch order
 */
public record BulkOutcome(int written, int duplicates, int failed, List<IndexDocument> retry) {

    public BulkOutcome {
        retry = List.copyOf(Objects.requireNonNull(retry, "retry"));
        if (written < 0 || duplicates < 0 || failed < 0) {
            throw new IllegalArgumentException("counts must not be negative");
        }
    }

    /** Every document of a batch of {@code n} was created. */
    public static BulkOutcome allWritten(int n) {
        return new BulkOutcome(n, 0, 0, List.of());
    }
}
