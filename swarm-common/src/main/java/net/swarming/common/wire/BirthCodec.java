package net.swarming.common.wire;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import net.swarming.common.wire.PayloadException.Reason;
import net.swarming.common.wire.internal.Json;
import net.swarming.common.wire.internal.Utf8;

/**
 * {@link BirthMessage} as JSON: {@code {"v":1,"agent_id":…,"agent":…,"version":…,"location":…,"probes":["tcp"],
 * "started":"2026-11-21T18:00:00.123Z"}}. Stateless and thread-safe.
 */
public final class BirthCodec {

    /** The {@code "v"} field. */
    public static final int VERSION = 1;
    /** Payloads larger than this are refused unparsed. */
    public static final int MAX_PAYLOAD_BYTES = 64 * 1024;

    private BirthCodec() {
    }

    public static byte[] encode(BirthMessage m) {
        Objects.requireNonNull(m, "m");
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        try (JsonGenerator gen = Json.FACTORY.createGenerator(out)) {
            gen.writeStartObject();
            gen.writeNumberField("v", VERSION);
            gen.writeStringField("agent_id", m.agentId());
            gen.writeStringField("agent", m.name());
            gen.writeStringField("version", m.version());
            gen.writeStringField("location", m.location());
            gen.writeArrayFieldStart("probes");
            for (ProbeType p : m.probes()) {
                gen.writeString(p.wireName());
            }
            gen.writeEndArray();
            gen.writeStringField("started", m.started().toString());
            gen.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /**
     * @throws PayloadException for anything that is not a birth message; probe types unknown to this reader are
     *     skipped (a newer agent may have more)
     */
    public static BirthMessage decode(byte[] payload) throws PayloadException {
        if (payload == null || payload.length == 0) {
            throw new PayloadException(Reason.NOT_JSON, "birth payload is empty (a cleared retained birth)");
        }
        if (payload.length > MAX_PAYLOAD_BYTES) {
            throw new PayloadException(Reason.TOO_LARGE, "birth payload of " + payload.length + " bytes is too large");
        }
        JsonNode root;
        try {
            root = Json.readTree(Utf8.decode(payload));
        } catch (Utf8.InvalidUtf8Exception e) {
            throw new PayloadException(Reason.NOT_UTF8, "birth payload is " + e.getMessage());
        } catch (JsonProcessingException e) {
            throw new PayloadException(Reason.NOT_JSON, "birth payload is not JSON: " + Json.describe(e));
        }
        if (root == null || !root.isObject()) {
            throw new PayloadException(Reason.WRONG_SHAPE, "a birth message is a JSON object");
        }
        try {
            List<ProbeType> probes = new ArrayList<>();
            JsonNode list = root.get("probes");
            if (list != null && list.isArray()) {
                for (JsonNode p : list) {
                    try {
                        probes.add(ProbeType.fromWire(p.asText()));
                    } catch (IllegalArgumentException e) {
                        // A probe type newer than this reader.
                    }
                }
            }
            return new BirthMessage(text(root, "agent_id"), text(root, "agent"), text(root, "version"),
                    text(root, "location"), probes, Instant.parse(Objects.requireNonNull(text(root, "started"),
                    "started is required")));
        } catch (IllegalArgumentException | NullPointerException | DateTimeParseException e) {
            throw new PayloadException(Reason.BAD_FIELD, "birth message has a bad field: " + e.getMessage(), e);
        }
    }

    private static String text(JsonNode root, String field) {
        JsonNode n = root.get(field);
        return n == null || n.isNull() ? null : n.asText();
    }
}
