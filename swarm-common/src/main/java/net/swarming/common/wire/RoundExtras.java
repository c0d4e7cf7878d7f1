package net.swarming.common.wire;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a round measured beyond {@link PingResult}: written as extra fields of the version 2 object by
 * {@link PingCodec#encodeV2(PingResult, RoundExtras)}, never in the original array. Every part is optional; decoders
 * that do not know a field ignore it (docs/wire-protocol.md §5), so adding them is backward compatible.
 *
 * @param late replies that came after their probe had already been counted as lost (not answers); null when unknown
 * @param errors error answers received instead of replies (ICMP destination unreachable, time exceeded…), one per
 *     probe that got one, in probe order; that probe stays lost in {@code rtts}; empty when none or unknown
 * @param httpStatus the HTTP status code of the round's last response; null for other probes or when none came
 * @param phasesMs named phases of the last measured exchange in milliseconds ({@code dns}, {@code connect},
 *     {@code tls}, {@code first_byte}); empty when none
 */
public record RoundExtras(Integer late, List<ErrorAnswer> errors, Integer httpStatus,
                          Map<String, Double> phasesMs) {

    /**
     * An error answer to one probe.
     *
     * @param ping the probe's index within the round (0-based, as in {@code rtts})
     * @param description what came back, e.g. {@code destination unreachable (host unreachable)}
     * @param from the address the error came from (a router, or the target itself); null when unknown
     */
    public record ErrorAnswer(int ping, String description, String from) {
        public ErrorAnswer {
            if (ping < 0) {
                throw new IllegalArgumentException("ping index must be >= 0, was " + ping);
            }
            if (description == null || description.isBlank()) {
                throw new IllegalArgumentException("an error answer needs a description");
            }
        }
    }

    /** Nothing beyond {@link PingResult}. */
    public static final RoundExtras NONE = new RoundExtras(null, List.of(), null, Map.of());

    /**
     * @throws IllegalArgumentException naming the bad value
     */
    public RoundExtras {
        if (late != null && late < 0) {
            throw new IllegalArgumentException("late cannot be negative, was " + late);
        }
        errors = errors == null ? List.of() : List.copyOf(errors);
        if (httpStatus != null && (httpStatus < 100 || httpStatus > 999)) {
            throw new IllegalArgumentException("HTTP status must be 100-999, was " + httpStatus);
        }
        phasesMs = copy(phasesMs);
        for (Map.Entry<String, Double> e : phasesMs.entrySet()) {
            Double v = e.getValue();
            if (v == null || !Double.isFinite(v) || v < 0) {
                throw new IllegalArgumentException("phase " + e.getKey() + " must be >= 0 ms, was " + v);
            }
        }
    }

    /** Only late replies and error answers (ICMP). */
    public static RoundExtras icmp(int late, List<ErrorAnswer> errors) {
        return new RoundExtras(late, errors, null, Map.of());
    }

    /** Only an HTTP status and phase timings. */
    public static RoundExtras http(Integer status, Map<String, Double> phasesMs) {
        return new RoundExtras(null, List.of(), status, phasesMs);
    }

    /** Whether there is nothing to write. */
    public boolean isEmpty() {
        return late == null && errors.isEmpty() && httpStatus == null && phasesMs.isEmpty();
    }

    private static <V> Map<String, V> copy(Map<String, V> in) {
        if (in == null || in.isEmpty()) {
            return Map.of();
        }
        for (String key : in.keySet()) {
            Objects.requireNonNull(key, "key");
        }
        // Insertion order is the order on the wire.
        return Collections.unmodifiableMap(new LinkedHashMap<>(in));
    }
}
