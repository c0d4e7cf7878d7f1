package net.swarming.common.wire;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import net.swarming.common.wire.internal.Json;

/** Writes {@code watch} payloads that {@link WatchDecoder} (and, for text, the original agents) read. */
public final class WatchEncoder {

    private WatchEncoder() {
    }

    /**
     * The text form: names separated by single spaces, which is also what the original agents split on.
     * An empty list is written as one space, not as an empty payload: publishing an empty payload with the retain
     * flag would delete the broker's retained list instead of announcing "no targets".
     *
     * @throws IllegalArgumentException when a name is not a valid target (it would be rejected by every agent)
     */
    public static byte[] encodeText(List<String> targets) {
        Objects.requireNonNull(targets, "targets");
        if (targets.isEmpty()) {
            return new byte[] {' '};
        }
        StringBuilder sb = new StringBuilder(targets.size() * 16);
        for (String target : targets) {
            WatchTarget.of(target);
            if (sb.length() > 0) {
                sb.append(' ');
            }
            sb.append(target);
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    /**
     * The JSON form, version 1, without {@code defaults}: every option is written on its entry, and an entry without
     * options is written as a plain string. {@code step} is in seconds.
     */
    public static byte[] encodeJson(WatchList list) {
        Objects.requireNonNull(list, "list");
        ByteArrayOutputStream out = new ByteArrayOutputStream(64 + list.targets().size() * 24);
        try (JsonGenerator gen = Json.FACTORY.createGenerator(out)) {
            gen.writeStartObject();
            gen.writeNumberField("version", WatchDecoder.JSON_VERSION);
            gen.writeArrayFieldStart("targets");
            for (WatchTarget target : list.targets()) {
                if (target.hasNoOptions()) {
                    gen.writeString(target.target());
                    continue;
                }
                gen.writeStartObject();
                gen.writeStringField("target", target.target());
                if (target.probe() != null) {
                    gen.writeStringField("probe", target.probe().wireName());
                }
                if (target.step() != null) {
                    gen.writeFieldName("step");
                    writeSeconds(gen, target.step());
                }
                if (target.pings() != null) {
                    gen.writeNumberField("pings", target.pings());
                }
                if (target.port() != null) {
                    gen.writeNumberField("port", target.port());
                }
                gen.writeEndObject();
            }
            gen.writeEndArray();
            gen.writeEndObject();
        } catch (IOException e) {
            // A ByteArrayOutputStream does not fail; this is unreachable short of a Jackson bug.
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static void writeSeconds(JsonGenerator gen, Duration step) throws IOException {
        if (step.getNano() == 0) {
            gen.writeNumber(step.getSeconds());
        } else {
            BigDecimal seconds = BigDecimal.valueOf(step.getSeconds()).add(BigDecimal.valueOf(step.getNano(), 9));
            gen.writeNumber(seconds.stripTrailingZeros().toPlainString());
        }
    }
}
