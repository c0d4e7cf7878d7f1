package net.swarming.common.wire;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import net.swarming.common.wire.PayloadException.Reason;
import net.swarming.common.wire.internal.Decimals;
import net.swarming.common.wire.internal.Json;
import net.swarming.common.wire.internal.PythonJson;
import net.swarming.common.wire.internal.Texts;
import net.swarming.common.wire.internal.Utf8;

/**
 * Result payloads on {@code ping/<target>}: the original Python agents' JSON array (version 1) and our JSON object
 * (version 2). Decoding accepts both, so an indexer reads old and new agents alike. See docs/wire-protocol.md.
 *
 * <p>Stateless and thread-safe.
 */
public final class PingCodec {

    /** Payloads larger than this are refused unparsed: a result is a few kilobytes even with 1,000 RTTs. */
    public static final int MAX_PAYLOAD_BYTES = 1024 * 1024;
    /** {@link PingResult#version()} of the original array format. */
    public static final int ORIGINAL_VERSION = 1;
    /** {@link PingResult#version()} of the object format, also its {@code "v"} field. */
    public static final int V2_VERSION = 2;

    /** Always milliseconds, always three digits: easy to read and to sort as text, and what Elasticsearch stores. */
    private static final DateTimeFormatter START_FORMAT =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSX").withZone(ZoneOffset.UTC);

    private PingCodec() {
    }

    /**
     * The original agents' payload, byte for byte as Python's {@code json.dumps} wrote it:
     * {@code ["<agent>", "ok", {"Error": null, "loss": 0.0, "Round trip": [min, avg, max, stddev]}]}, or
     * {@code ["<agent>", "error", "<message>"]}. {@code "loss"} is left out when unknown and {@code "Round trip"}
     * when nothing came back, as the original did; numbers are rounded to three decimals (what {@code ping}
     * prints) and written like Python's {@code repr(float)}. Fields the original lacks are not written.
     */
    public static byte[] encodeOriginal(PingResult r) {
        Objects.requireNonNull(r, "r");
        StringBuilder sb = new StringBuilder(128).append('[');
        PythonJson.appendString(sb, r.agent()).append(", ");
        PythonJson.appendString(sb, r.status().wireName()).append(", ");
        if (r.status() == ResultStatus.ERROR) {
            // The original always sent a string here; it has no way to say "no message".
            PythonJson.appendString(sb, r.error() == null ? "" : r.error());
        } else {
            sb.append("{\"Error\": null");
            if (r.loss() != null) {
                PythonJson.appendFloat(sb.append(", \"loss\": "), Decimals.round(r.loss()));
            }
            RttStats rtt = r.rtt();
            if (rtt != null) {
                sb.append(", \"Round trip\": [");
                PythonJson.appendFloat(sb, Decimals.round(rtt.min())).append(", ");
                PythonJson.appendFloat(sb, Decimals.round(rtt.avg())).append(", ");
                PythonJson.appendFloat(sb, Decimals.round(rtt.max())).append(", ");
                PythonJson.appendFloat(sb, Decimals.round(rtt.stddev())).append(']');
            }
            sb.append('}');
        }
        // ensure_ascii made it pure ASCII.
        return sb.append(']').toString().getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * The version 2 object. Every field is written, null when unknown, in a fixed order; milliseconds and
     * percentages with three decimals; {@code start} in UTC with milliseconds.
     */
    public static byte[] encodeV2(PingResult r) {
        return encodeV2(r, RoundExtras.NONE);
    }

    /**
     * The version 2 object with what the round measured beyond {@link PingResult} appended after {@code "rtts"}:
     * {@code "late"}, {@code "errors"} (error answers such as ICMP unreachable: {@code [{"ping":2,"what":"…","from":"…"}]}), {@code "http_status"} and {@code "phases"} (object of
     * milliseconds), each only when present, so {@code encodeV2(r, RoundExtras.NONE)} is {@code encodeV2(r)}.
     * Readers that do not know these fields ignore them.
     */
    public static byte[] encodeV2(PingResult r, RoundExtras extras) {
        Objects.requireNonNull(r, "r");
        Objects.requireNonNull(extras, "extras");
        ByteArrayOutputStream out = new ByteArrayOutputStream(256 + r.rtts().size() * 8);
        try (JsonGenerator gen = Json.FACTORY.createGenerator(out)) {
            gen.writeStartObject();
            gen.writeNumberField("v", V2_VERSION);
            gen.writeStringField("agent", r.agent());
            gen.writeStringField("agent_id", r.agentId());
            gen.writeStringField("target", r.target());
            gen.writeStringField("probe", r.probe() == null ? null : r.probe().wireName());
            gen.writeStringField("ip", r.resolvedIp());
            gen.writeStringField("start", r.roundStart() == null ? null : START_FORMAT.format(r.roundStart()));
            gen.writeStringField("status", r.status().wireName());
            gen.writeStringField("error", r.error());
            writeInteger(gen, "sent", r.sent());
            writeInteger(gen, "received", r.received());
            writeInteger(gen, "dup", r.duplicates());
            gen.writeFieldName("loss");
            writeDecimal(gen, r.loss());
            gen.writeFieldName("rtt");
            RttStats rtt = r.rtt();
            if (rtt == null) {
                gen.writeNull();
            } else {
                gen.writeStartObject();
                gen.writeFieldName("min");
                writeDecimal(gen, rtt.min());
                gen.writeFieldName("avg");
                writeDecimal(gen, rtt.avg());
                gen.writeFieldName("median");
                writeDecimal(gen, rtt.median());
                gen.writeFieldName("p95");
                writeDecimal(gen, rtt.p95());
                gen.writeFieldName("max");
                writeDecimal(gen, rtt.max());
                gen.writeFieldName("stddev");
                writeDecimal(gen, rtt.stddev());
                gen.writeEndObject();
            }
            gen.writeArrayFieldStart("rtts");
            for (Double value : r.rtts()) {
                writeDecimal(gen, value);
            }
            gen.writeEndArray();
            writeExtras(gen, extras);
            gen.writeEndObject();
        } catch (IOException e) {
            // A ByteArrayOutputStream does not fail; this is unreachable short of a Jackson bug.
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /**
     * Decodes either format.
     *
     * @param topicTarget the target decoded from the topic ({@link Topics#pingTarget(String)}); the original format
     *     carries none of its own. Version 2 carries {@code "target"}, which wins; the topic's is used when absent.
     * @throws PayloadException for any payload that is not a valid result; nothing else is thrown, whatever the
     *     bytes, because a decoder exception on an MQTT callback thread would drop the connection
     */
    public static PingResult decode(String topicTarget, byte[] payload) throws PayloadException {
        try {
            return decodeChecked(topicTarget, payload);
        } catch (IllegalArgumentException e) {
            // The record constructors' validation: the shape was right, a value was not.
            throw new PayloadException(Reason.BAD_FIELD, "result has a bad field: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            // A bug of ours or of a library on hostile input must not escape as an unchecked exception either.
            throw new PayloadException(Reason.WRONG_SHAPE, "result could not be decoded: " + e, e);
        }
    }

    private static PingResult decodeChecked(String topicTarget, byte[] payload) throws PayloadException {
        if (payload != null && payload.length <= MAX_PAYLOAD_BYTES && StreamingV2Decoder.applies(payload)) {
            // What agents send, without a String copy or a tree; anything else is decided below, as before.
            PingResult fast = StreamingV2Decoder.tryDecode(topicTarget, payload);
            if (fast != null) {
                return fast;
            }
        }
        return decodeWithTree(topicTarget, payload);
    }

    /** The reference decoder (a Jackson tree): decides every payload the streaming fast path leaves to it. */
    static PingResult decodeWithTree(String topicTarget, byte[] payload) throws PayloadException {
        if (payload == null || payload.length == 0) {
            throw new PayloadException(Reason.NOT_JSON, "result payload is empty");
        }
        if (payload.length > MAX_PAYLOAD_BYTES) {
            throw new PayloadException(Reason.TOO_LARGE, "result payload of " + payload.length
                    + " bytes is larger than the limit of " + MAX_PAYLOAD_BYTES + " bytes");
        }
        String text;
        try {
            text = Utf8.decode(payload);
        } catch (Utf8.InvalidUtf8Exception e) {
            throw new PayloadException(Reason.NOT_UTF8, "result payload is " + e.getMessage());
        }
        JsonNode root;
        try {
            root = Json.readTree(text);
        } catch (JsonProcessingException e) {
            throw new PayloadException(Reason.NOT_JSON, "result payload is not JSON: " + Json.describe(e));
        }
        if (root == null || root.isMissingNode()) {
            throw new PayloadException(Reason.NOT_JSON, "result payload is blank");
        }
        if (root.isArray()) {
            return decodeOriginal(topicTarget, root);
        }
        if (root.isObject()) {
            return decodeV2(topicTarget, root);
        }
        throw new PayloadException(Reason.WRONG_SHAPE,
                "a result is a JSON array (original) or object (version 2), not a " + type(root));
    }

    private static PingResult decodeOriginal(String topicTarget, JsonNode root) throws PayloadException {
        if (root.size() != 3) {
            throw new PayloadException(Reason.WRONG_SHAPE,
                    "an original result is [agent, status, details], this array has " + root.size() + " elements");
        }
        String agent = requiredString(root.get(0), "[0] (agent)");
        ResultStatus status = status(root.get(1), "[1] (status)");
        if (topicTarget == null || topicTarget.isBlank()) {
            throw new PayloadException(Reason.BAD_FIELD,
                    "an original result carries no target and the topic gave none");
        }
        JsonNode details = root.get(2);
        if (status == ResultStatus.ERROR) {
            String error;
            if (details.isTextual()) {
                error = details.textValue();
            } else if (details.isNull()) {
                error = null;
            } else if (details.isObject()) {
                // Not something the original wrote, but cheap to read: the message of the "ok" shape.
                error = optionalString(details.get("Error"), "[2].Error");
            } else {
                throw new PayloadException(Reason.WRONG_SHAPE,
                        "[2] of an original error result is a message string, not a " + type(details));
            }
            return new PingResult(agent, topicTarget, ResultStatus.ERROR, emptyToNull(error), null, null, List.of(),
                    null, null, null, null, null, null, null, ORIGINAL_VERSION);
        }
        if (!details.isObject()) {
            throw new PayloadException(Reason.WRONG_SHAPE,
                    "[2] of an original ok result is an object, not a " + type(details));
        }
        // The original only ever sent "Error": null with "ok" (it switched to "error" otherwise); a message here is
        // still a failure report, so it wins over the status.
        String error = emptyToNull(optionalString(details.get("Error"), "[2].Error"));
        Double loss = optionalNumber(details.get("loss"), "[2].loss");
        RttStats rtt = null;
        JsonNode roundTrip = details.get("Round trip");
        if (roundTrip != null && !roundTrip.isNull()) {
            if (!roundTrip.isArray() || roundTrip.size() != 4) {
                throw new PayloadException(Reason.BAD_FIELD,
                        "[2].\"Round trip\" must be [min, avg, max, stddev], was " + Texts.quote(roundTrip.toString()));
            }
            rtt = new RttStats(requiredNumber(roundTrip.get(0), "[2].\"Round trip\"[0]"),
                    requiredNumber(roundTrip.get(1), "[2].\"Round trip\"[1]"),
                    requiredNumber(roundTrip.get(2), "[2].\"Round trip\"[2]"),
                    requiredNumber(roundTrip.get(3), "[2].\"Round trip\"[3]"), null, null);
        }
        return new PingResult(agent, topicTarget, error == null ? ResultStatus.OK : ResultStatus.ERROR, error, loss,
                rtt, List.of(), null, null, null, null, null, null, null, ORIGINAL_VERSION);
    }

    private static PingResult decodeV2(String topicTarget, JsonNode root) throws PayloadException {
        JsonNode v = root.get("v");
        if (v == null || !v.isNumber() || !v.canConvertToExactIntegral() || v.asLong() != V2_VERSION) {
            throw new PayloadException(Reason.WRONG_SHAPE, "an object result needs \"v\": " + V2_VERSION + ", had "
                    + (v == null ? "none" : Texts.quote(v.toString())));
        }
        String agent = requiredString(root.get("agent"), "agent");
        String target = optionalString(root.get("target"), "target");
        if (target == null) {
            target = topicTarget;
        }
        if (target == null || target.isBlank()) {
            throw new PayloadException(Reason.BAD_FIELD, "result has no \"target\" and the topic gave none");
        }
        ProbeType probe = null;
        String probeName = optionalString(root.get("probe"), "probe");
        if (probeName != null) {
            try {
                probe = ProbeType.fromWire(probeName);
            } catch (IllegalArgumentException e) {
                // A probe type newer than this reader: keep the result, lose only the type.
                probe = null;
            }
        }
        Instant start = null;
        String startText = optionalString(root.get("start"), "start");
        if (startText != null) {
            try {
                start = Instant.parse(startText);
            } catch (DateTimeParseException e) {
                throw new PayloadException(Reason.BAD_FIELD,
                        "\"start\" must be an ISO-8601 instant such as 2026-11-21T18:00:00.123Z, was "
                                + Texts.quote(startText));
            }
        }
        RttStats rtt = null;
        JsonNode rttNode = root.get("rtt");
        if (rttNode != null && !rttNode.isNull()) {
            if (!rttNode.isObject()) {
                throw new PayloadException(Reason.BAD_FIELD, "\"rtt\" must be an object, was " + type(rttNode));
            }
            rtt = new RttStats(requiredNumber(rttNode.get("min"), "rtt.min"),
                    requiredNumber(rttNode.get("avg"), "rtt.avg"),
                    requiredNumber(rttNode.get("max"), "rtt.max"),
                    requiredNumber(rttNode.get("stddev"), "rtt.stddev"),
                    optionalNumber(rttNode.get("median"), "rtt.median"),
                    optionalNumber(rttNode.get("p95"), "rtt.p95"));
        }
        List<Double> rtts = List.of();
        JsonNode rttsNode = root.get("rtts");
        if (rttsNode != null && !rttsNode.isNull()) {
            if (!rttsNode.isArray()) {
                throw new PayloadException(Reason.BAD_FIELD, "\"rtts\" must be an array, was " + type(rttsNode));
            }
            rtts = new ArrayList<>(rttsNode.size());
            for (int i = 0; i < rttsNode.size(); i++) {
                rtts.add(optionalNumber(rttsNode.get(i), "rtts[" + i + "]"));
            }
        }
        return new PingResult(agent, target, status(root.get("status"), "status"),
                optionalString(root.get("error"), "error"),
                optionalNumber(root.get("loss"), "loss"),
                rtt, rtts,
                optionalInteger(root.get("sent"), "sent"),
                optionalInteger(root.get("received"), "received"),
                optionalInteger(root.get("dup"), "dup"),
                optionalString(root.get("ip"), "ip"),
                probe, start,
                optionalString(root.get("agent_id"), "agent_id"),
                V2_VERSION);
    }

    private static ResultStatus status(JsonNode node, String field) throws PayloadException {
        String name = requiredString(node, field);
        try {
            return ResultStatus.fromWire(name);
        } catch (IllegalArgumentException e) {
            throw new PayloadException(Reason.BAD_FIELD, field + ": " + e.getMessage());
        }
    }

    private static String requiredString(JsonNode node, String field) throws PayloadException {
        String value = optionalString(node, field);
        if (value == null || value.isBlank()) {
            throw new PayloadException(Reason.BAD_FIELD, field + " must be a non-blank string");
        }
        return value;
    }

    private static String optionalString(JsonNode node, String field) throws PayloadException {
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isTextual()) {
            throw new PayloadException(Reason.BAD_FIELD, field + " must be a string, was " + type(node));
        }
        return node.textValue();
    }

    private static double requiredNumber(JsonNode node, String field) throws PayloadException {
        Double value = optionalNumber(node, field);
        if (value == null) {
            throw new PayloadException(Reason.BAD_FIELD, field + " is required");
        }
        return value;
    }

    /** Integer or float alike: the original wrote {@code 10.0} where a hand-made payload may say {@code 10}. */
    private static Double optionalNumber(JsonNode node, String field) throws PayloadException {
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isNumber()) {
            throw new PayloadException(Reason.BAD_FIELD, field + " must be a number, was " + type(node));
        }
        double value = node.doubleValue();
        if (!Double.isFinite(value)) {
            throw new PayloadException(Reason.BAD_FIELD, field + " is out of range: " + Texts.quote(node.toString()));
        }
        return value;
    }

    private static Integer optionalInteger(JsonNode node, String field) throws PayloadException {
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isNumber() || !node.canConvertToExactIntegral() || !node.canConvertToInt()) {
            throw new PayloadException(Reason.BAD_FIELD, field + " must be an integer, was "
                    + Texts.quote(node.toString()));
        }
        return node.intValue();
    }

    private static void writeExtras(JsonGenerator gen, RoundExtras extras) throws IOException {
        if (extras.late() != null) {
            gen.writeNumberField("late", extras.late());
        }
        if (!extras.errors().isEmpty()) {
            gen.writeArrayFieldStart("errors");
            for (RoundExtras.ErrorAnswer e : extras.errors()) {
                gen.writeStartObject();
                gen.writeNumberField("ping", e.ping());
                gen.writeStringField("what", e.description());
                gen.writeStringField("from", e.from());
                gen.writeEndObject();
            }
            gen.writeEndArray();
        }
        if (extras.httpStatus() != null) {
            gen.writeNumberField("http_status", extras.httpStatus());
        }
        if (!extras.phasesMs().isEmpty()) {
            gen.writeObjectFieldStart("phases");
            for (Map.Entry<String, Double> e : extras.phasesMs().entrySet()) {
                gen.writeFieldName(e.getKey());
                writeDecimal(gen, e.getValue());
            }
            gen.writeEndObject();
        }
    }

    private static void writeInteger(JsonGenerator gen, String field, Integer value) throws IOException {
        gen.writeFieldName(field);
        if (value == null) {
            gen.writeNull();
        } else {
            gen.writeNumber(value.intValue());
        }
    }

    private static void writeDecimal(JsonGenerator gen, Double value) throws IOException {
        if (value == null) {
            gen.writeNull();
        } else {
            gen.writeNumber(Decimals.plain(value));
        }
    }

    private static String emptyToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }

    private static String type(JsonNode node) {
        return node.getNodeType().name().toLowerCase(Locale.ROOT);
    }
}
