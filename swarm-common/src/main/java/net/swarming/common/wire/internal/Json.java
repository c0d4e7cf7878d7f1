package net.swarming.common.wire.internal;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

/** The shared, immutable (hence thread-safe) Jackson instances of the wire package. */
public final class Json {

    /**
     * Our messages are at most three levels deep; a low limit stops a hostile payload from costing deep recursion.
     */
    public static final int MAX_NESTING_DEPTH = 16;

    public static final JsonFactory FACTORY = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_NESTING_DEPTH).build())
            // A repeated key is ambiguous (which one wins differs between parsers): refuse it.
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    public static final ObjectMapper MAPPER = JsonMapper.builder(FACTORY)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private Json() {
    }

    /** Parses one JSON document; trailing content after it is an error. */
    public static JsonNode readTree(String text) throws JsonProcessingException {
        return MAPPER.readTree(text);
    }

    /** Jackson's message without the source excerpt, plus line and column, for an error message of ours. */
    public static String describe(JsonProcessingException e) {
        String message = e.getOriginalMessage();
        if (message == null) {
            message = e.getClass().getSimpleName();
        }
        // Jackson quotes parts of the input; keep our messages one line and bounded.
        message = message.replace('\n', ' ').replace('\r', ' ');
        if (message.length() > 2 * Texts.MAX_SHOWN) {
            message = message.substring(0, 2 * Texts.MAX_SHOWN) + "…";
        }
        JsonLocation location = e.getLocation();
        if (location != null && location.getLineNr() > 0) {
            return message + " (line " + location.getLineNr() + ", column " + location.getColumnNr() + ")";
        }
        return message;
    }
}
