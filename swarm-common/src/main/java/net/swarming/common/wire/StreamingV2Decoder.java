package net.swarming.common.wire;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import net.swarming.common.wire.internal.IsoInstants;
import net.swarming.common.wire.internal.Json;

/**
 * The fast path of {@link PingCodec#decode} for the payloads agents actually send: a version 2 object in ASCII, read
 * with Jackson's streaming parser straight from the bytes, without a String copy or a tree. It decides only the
 * ordinary case: for anything else (another format, a syntax error, a field of an unexpected type, a value the record
 * refuses, an integer written as {@code 5.0}, a number too large for a double…) it returns null and the caller decodes
 * with the tree decoder, which gives the exact result or {@link PayloadException} it always gave. So this path never
 * changes what is accepted or the error for what is not; it must only ever produce what the tree decoder produces,
 * which {@code StreamingV2DecoderTest} checks against it.
 */
final class StreamingV2Decoder {

    /** Thrown inside to give up; caught in {@link #tryDecode}. No stack trace: it is control flow. */
    private static final class GiveUp extends RuntimeException {
        private static final long serialVersionUID = 1L;

        GiveUp() {
            super(null, null, false, false);
        }
    }

    private static final GiveUp GIVE_UP = new GiveUp();

    private StreamingV2Decoder() {
    }

    /** Whether the fast path may try {@code payload}: an object (no leading blank, BOM or other encoding) in ASCII. */
    static boolean applies(byte[] payload) {
        if (payload.length < 2 || payload[0] != '{') {
            return false;
        }
        for (byte b : payload) {
            if (b < 0) {
                return false;
            }
        }
        return true;
    }

    /** The decoded result, or null when the tree decoder must decide. Never throws. */
    static PingResult tryDecode(String topicTarget, byte[] payload) {
        try (JsonParser p = Json.FACTORY.createParser(payload)) {
            return read(topicTarget, p);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static PingResult read(String topicTarget, JsonParser p) throws IOException {
        if (p.nextToken() != JsonToken.START_OBJECT) {
            return null;
        }
        boolean versionSeen = false;
        String agent = null;
        String target = null;
        String probeName = null;
        String ip = null;
        String start = null;
        String status = null;
        String error = null;
        String agentId = null;
        Double loss = null;
        RttStats rtt = null;
        List<Double> rtts = List.of();
        Integer sent = null;
        Integer received = null;
        Integer dup = null;
        JsonToken t;
        while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            JsonToken v = p.nextToken();
            switch (name) {
                case "v" -> {
                    if (v != JsonToken.VALUE_NUMBER_INT || p.getNumberType() != JsonParser.NumberType.INT
                            || p.getIntValue() != PingCodec.V2_VERSION) {
                        return null;
                    }
                    versionSeen = true;
                }
                case "agent" -> agent = string(p, v);
                case "agent_id" -> agentId = string(p, v);
                case "target" -> target = string(p, v);
                case "probe" -> probeName = string(p, v);
                case "ip" -> ip = string(p, v);
                case "start" -> start = string(p, v);
                case "status" -> status = string(p, v);
                case "error" -> error = string(p, v);
                case "sent" -> sent = integer(p, v);
                case "received" -> received = integer(p, v);
                case "dup" -> dup = integer(p, v);
                case "loss" -> loss = number(p, v);
                case "rtt" -> rtt = rtt(p, v);
                case "rtts" -> rtts = rtts(p, v);
                default -> p.skipChildren(); // fields of later versions are ignored, as by the tree decoder
            }
        }
        if (t != JsonToken.END_OBJECT || p.nextToken() != null || !versionSeen) {
            return null;
        }
        if (agent == null || agent.isBlank() || status == null) {
            return null;
        }
        if (target == null) {
            target = topicTarget;
        }
        if (target == null || target.isBlank()) {
            return null;
        }
        ProbeType probe = null;
        if (probeName != null) {
            try {
                probe = ProbeType.fromWire(probeName);
            } catch (IllegalArgumentException e) {
                probe = null; // a probe type newer than this reader, as in the tree decoder
            }
        }
        // A bad start, status or field value throws: the tree decoder then reports it.
        return new PingResult(agent, target, ResultStatus.fromWire(status), error, loss, rtt, rtts, sent, received,
                dup, ip, probe, start == null ? null : instant(start), agentId, PingCodec.V2_VERSION);
    }

    private static Instant instant(String text) {
        Instant fast = IsoInstants.parseMillisUtc(text);
        return fast != null ? fast : Instant.parse(text);
    }

    private static String string(JsonParser p, JsonToken v) throws IOException {
        if (v == JsonToken.VALUE_NULL) {
            return null;
        }
        if (v != JsonToken.VALUE_STRING) {
            throw GIVE_UP;
        }
        return p.getText();
    }

    private static Integer integer(JsonParser p, JsonToken v) throws IOException {
        if (v == JsonToken.VALUE_NULL) {
            return null;
        }
        if (v != JsonToken.VALUE_NUMBER_INT || p.getNumberType() != JsonParser.NumberType.INT) {
            throw GIVE_UP;
        }
        return p.getIntValue();
    }

    private static Double number(JsonParser p, JsonToken v) throws IOException {
        if (v == JsonToken.VALUE_NULL) {
            return null;
        }
        if (v == JsonToken.VALUE_NUMBER_INT) {
            JsonParser.NumberType type = p.getNumberType();
            if (type != JsonParser.NumberType.INT && type != JsonParser.NumberType.LONG) {
                throw GIVE_UP;
            }
        } else if (v != JsonToken.VALUE_NUMBER_FLOAT || p.getNumberType() != JsonParser.NumberType.DOUBLE) {
            throw GIVE_UP;
        }
        double value = p.getDoubleValue();
        if (!Double.isFinite(value)) {
            throw GIVE_UP;
        }
        return value;
    }

    private static RttStats rtt(JsonParser p, JsonToken v) throws IOException {
        if (v == JsonToken.VALUE_NULL) {
            return null;
        }
        if (v != JsonToken.START_OBJECT) {
            throw GIVE_UP;
        }
        Double min = null;
        Double avg = null;
        Double max = null;
        Double stddev = null;
        Double median = null;
        Double p95 = null;
        JsonToken t;
        while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            JsonToken value = p.nextToken();
            switch (name) {
                case "min" -> min = number(p, value);
                case "avg" -> avg = number(p, value);
                case "max" -> max = number(p, value);
                case "stddev" -> stddev = number(p, value);
                case "median" -> median = number(p, value);
                case "p95" -> p95 = number(p, value);
                default -> p.skipChildren();
            }
        }
        if (t != JsonToken.END_OBJECT || min == null || avg == null || max == null || stddev == null) {
            throw GIVE_UP;
        }
        return new RttStats(min, avg, max, stddev, median, p95);
    }

    private static List<Double> rtts(JsonParser p, JsonToken v) throws IOException {
        if (v == JsonToken.VALUE_NULL) {
            return List.of();
        }
        if (v != JsonToken.START_ARRAY) {
            throw GIVE_UP;
        }
        List<Double> values = new ArrayList<>();
        JsonToken t;
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            if (t == null) {
                throw GIVE_UP;
            }
            values.add(number(p, t));
        }
        return values;
    }
}
