package net.swarming.indexer.internal.pipeline;

import java.util.Objects;
import net.swarming.indexer.internal.document.IndexDocument;

/**
 * A document Elasticsearch refused for good (a 4xx other than 409 and 429: a mapping conflict, a bad value, a request
 * refused as a whole), with the reason it gave. Sending it again would be refused again, so it becomes a dead letter.
 *
 * @param doc the refused document
 * @param status the HTTP status of the item (or of the whole request)
 * @param type Elasticsearch's error type, e.g. {@code document_parsing_exception}
 * @param reason Elasticsearch's explanation
 */
public record RejectedDocument(IndexDocument doc, int status, String type, String reason) {

    public RejectedDocument {
        Objects.requireNonNull(doc, "doc");
        type = type == null ? "unknown" : type;
        reason = reason == null ? "" : reason;
    }
}
