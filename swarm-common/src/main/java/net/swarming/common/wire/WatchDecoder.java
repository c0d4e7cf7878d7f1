package net.swarming.common.wire;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import net.swarming.common.wire.WatchRejectedException.Reason;
import net.swarming.common.wire.internal.Json;
import net.swarming.common.wire.internal.Texts;
import net.swarming.common.wire.internal.Utf8;

/**
 * Reads a {@code watch} payload, all or nothing: either every entry is valid and the whole list is returned, or
 * {@link WatchRejectedException} says what is wrong and the caller keeps its previous list.
 *
 * <p>Two forms (see docs/wire-protocol.md): text, i.e. target names separated by any run of whitespace, as the
 * original operators published with {@code mosquitto_pub -m "free.fr yahoo.fr"}; and a versioned JSON document,
 * recognised by its first non-whitespace character being <code>{</code>. An empty or whitespace-only payload is the
 * empty list.
 *
 * <p>Thread-safe: it holds only its limits.
 */
public final class WatchDecoder {

    /** The only JSON document version this decoder reads. */
    public static final int JSON_VERSION = 1;

    private static final BigDecimal MIN_STEP_SECONDS = BigDecimal.valueOf(WatchTarget.MIN_STEP.getSeconds());
    private static final BigDecimal MAX_STEP_SECONDS = BigDecimal.valueOf(WatchTarget.MAX_STEP.getSeconds());
    private static final char BYTE_ORDER_MARK = '\uFEFF';

    private final WatchLimits limits;

    public WatchDecoder(WatchLimits limits) {
        this.limits = Objects.requireNonNull(limits, "limits");
    }

    /**
     * Decodes one payload.
     *
     * @throws WatchRejectedException with the reason and a message naming the offending value and its position
     */
    public WatchList decode(byte[] payload) throws WatchRejectedException {
        Objects.requireNonNull(payload, "payload");
        // Before anything else, so an oversized message costs nothing but this comparison.
        if (payload.length > limits.maxPayloadBytes()) {
            throw new WatchRejectedException(Reason.TOO_LARGE, "watch payload of " + payload.length
                    + " bytes is larger than the limit of " + limits.maxPayloadBytes() + " bytes");
        }
        String text;
        try {
            text = Utf8.decode(payload);
        } catch (Utf8.InvalidUtf8Exception e) {
            throw new WatchRejectedException(Reason.NOT_UTF8, "watch payload is " + e.getMessage());
        }
        int start = 0;
        // A byte order mark, as some Windows editors write, is not part of the first target.
        if (!text.isEmpty() && text.charAt(0) == BYTE_ORDER_MARK) {
            start = 1;
        }
        while (start < text.length() && Character.isWhitespace(text.charAt(start))) {
            start++;
        }
        if (start == text.length()) {
            return WatchList.empty();
        }
        return text.charAt(start) == '{' ? decodeJson(text.substring(start)) : decodeText(text, start);
    }

    private WatchList decodeText(String text, int start) throws WatchRejectedException {
        List<WatchTarget> targets = new ArrayList<>();
        int n = text.length();
        int i = start;
        int count = 0;
        while (i < n) {
            while (i < n && Character.isWhitespace(text.charAt(i))) {
                i++;
            }
            if (i == n) {
                break;
            }
            int from = i;
            while (i < n && !Character.isWhitespace(text.charAt(i))) {
                i++;
            }
            count++;
            if (count > limits.maxTargets()) {
                throw tooMany("more than " + limits.maxTargets());
            }
            try {
                targets.add(WatchTarget.of(text.substring(from, i)));
            } catch (IllegalArgumentException e) {
                throw new WatchRejectedException(Reason.INVALID_TARGET,
                        "watch entry #" + count + " (character " + from + "): " + e.getMessage());
            }
        }
        return new WatchList(targets, WatchList.Format.TEXT);
    }

    private WatchList decodeJson(String text) throws WatchRejectedException {
        JsonNode root;
        try {
            root = Json.readTree(text);
        } catch (JsonProcessingException e) {
            throw malformed("watch JSON is malformed: " + Json.describe(e));
        }
        if (root == null || !root.isObject()) {
            throw malformed("watch JSON must be an object");
        }
        checkVersion(root.get("version"));

        JsonNode defaults = root.get("defaults");
        ProbeType defaultProbe = null;
        Duration defaultStep = null;
        Integer defaultPings = null;
        Integer defaultPort = null;
        if (defaults != null && !defaults.isNull()) {
            if (!defaults.isObject()) {
                throw malformed("watch JSON \"defaults\" must be an object, was " + type(defaults));
            }
            defaultProbe = probe(defaults.get("probe"), "defaults.probe");
            defaultStep = step(defaults.get("step"), "defaults.step");
            defaultPings = integer(defaults.get("pings"), "defaults.pings", WatchTarget.MIN_PINGS,
                    WatchTarget.MAX_PINGS);
            defaultPort = integer(defaults.get("port"), "defaults.port", WatchTarget.MIN_PORT, WatchTarget.MAX_PORT);
        }

        JsonNode entries = root.get("targets");
        if (entries == null || !entries.isArray()) {
            throw malformed("watch JSON needs a \"targets\" array"
                    + (entries == null ? "" : ", \"targets\" was " + type(entries)));
        }
        if (entries.size() > limits.maxTargets()) {
            throw tooMany(Integer.toString(entries.size()));
        }
        List<WatchTarget> targets = new ArrayList<>(entries.size());
        for (int i = 0; i < entries.size(); i++) {
            JsonNode entry = entries.get(i);
            String path = "targets[" + i + "]";
            try {
                if (entry.isTextual()) {
                    targets.add(new WatchTarget(entry.textValue(), defaultProbe, defaultStep, defaultPings,
                            defaultPort));
                } else if (entry.isObject()) {
                    JsonNode name = entry.get("target");
                    if (name == null || !name.isTextual()) {
                        throw invalid(path + " needs a \"target\" string");
                    }
                    targets.add(new WatchTarget(name.textValue(),
                            orDefault(probe(entry.get("probe"), path + ".probe"), defaultProbe),
                            orDefault(step(entry.get("step"), path + ".step"), defaultStep),
                            orDefault(integer(entry.get("pings"), path + ".pings", WatchTarget.MIN_PINGS,
                                    WatchTarget.MAX_PINGS), defaultPings),
                            orDefault(integer(entry.get("port"), path + ".port", WatchTarget.MIN_PORT,
                                    WatchTarget.MAX_PORT), defaultPort)));
                } else {
                    throw invalid(path + " must be a target string or an object, was " + type(entry));
                }
            } catch (IllegalArgumentException e) {
                throw invalid(path + ": " + e.getMessage());
            }
        }
        return new WatchList(targets, WatchList.Format.JSON);
    }

    private static void checkVersion(JsonNode version) throws WatchRejectedException {
        if (version == null || version.isNull()) {
            throw new WatchRejectedException(Reason.UNSUPPORTED_VERSION,
                    "watch JSON has no \"version\"; this decoder reads version " + JSON_VERSION);
        }
        if (!version.isNumber() || !version.canConvertToExactIntegral() || version.asLong() != JSON_VERSION) {
            throw new WatchRejectedException(Reason.UNSUPPORTED_VERSION, "watch JSON version "
                    + Texts.quote(version.toString()) + " is not supported; this decoder reads version " + JSON_VERSION);
        }
    }

    private static ProbeType probe(JsonNode node, String path) throws WatchRejectedException {
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isTextual()) {
            throw invalid(path + " must be a string, was " + type(node));
        }
        try {
            return ProbeType.fromWire(node.textValue());
        } catch (IllegalArgumentException e) {
            throw invalid(path + ": " + e.getMessage());
        }
    }

    /** Seconds, possibly fractional (nanosecond precision), within the step bounds of {@link WatchTarget}. */
    private static Duration step(JsonNode node, String path) throws WatchRejectedException {
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isNumber() || (node.isFloatingPointNumber() && !Double.isFinite(node.doubleValue()))) {
            throw invalid(path + " must be a number of seconds, was " + Texts.quote(node.toString()));
        }
        BigDecimal seconds = node.decimalValue();
        if (seconds.compareTo(MIN_STEP_SECONDS) < 0 || seconds.compareTo(MAX_STEP_SECONDS) > 0) {
            throw invalid(path + " " + Texts.quote(node.toString()) + " is out of range; it must be between "
                    + MIN_STEP_SECONDS + " and " + MAX_STEP_SECONDS + " seconds");
        }
        return Duration.ofNanos(seconds.movePointRight(9).setScale(0, RoundingMode.HALF_UP).longValueExact());
    }

    private static Integer integer(JsonNode node, String path, int min, int max) throws WatchRejectedException {
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isNumber() || !node.canConvertToExactIntegral()) {
            throw invalid(path + " must be an integer, was " + Texts.quote(node.toString()));
        }
        // Compare as BigDecimal: a huge integer must be reported as out of range, not wrapped around.
        BigDecimal value = node.decimalValue();
        if (value.compareTo(BigDecimal.valueOf(min)) < 0 || value.compareTo(BigDecimal.valueOf(max)) > 0) {
            throw invalid(path + " " + Texts.quote(node.toString()) + " is out of range; it must be between " + min
                    + " and " + max);
        }
        return value.intValueExact();
    }

    private static <T> T orDefault(T value, T fallback) {
        return value != null ? value : fallback;
    }

    private static String type(JsonNode node) {
        return node.getNodeType().name().toLowerCase(Locale.ROOT);
    }

    private WatchRejectedException tooMany(String count) {
        return new WatchRejectedException(Reason.TOO_MANY_TARGETS, "watch list has " + count
                + " targets; the limit is " + limits.maxTargets());
    }

    private static WatchRejectedException malformed(String message) {
        return new WatchRejectedException(Reason.MALFORMED_JSON, message);
    }

    private static WatchRejectedException invalid(String message) {
        return new WatchRejectedException(Reason.INVALID_TARGET, message);
    }
}
