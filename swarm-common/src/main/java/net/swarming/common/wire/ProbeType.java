package net.swarming.common.wire;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;
import net.swarming.common.wire.internal.Texts;

/** How a target is probed; on the wire as the lowercase {@link #wireName()}. */
public enum ProbeType {
    ICMP, TCP, HTTP, DNS;

    private final String wireName = name().toLowerCase(Locale.ROOT);

    /** The name used in watch lists and results: {@code icmp}, {@code tcp}, {@code http}, {@code dns}. */
    public String wireName() {
        return wireName;
    }

    /**
     * Reads a wire name, ignoring case.
     *
     * @throws IllegalArgumentException naming the value and the accepted names
     */
    public static ProbeType fromWire(String name) {
        for (ProbeType type : values()) {
            if (type.wireName.equalsIgnoreCase(name)) {
                return type;
            }
        }
        throw new IllegalArgumentException("unknown probe type " + Texts.quote(name)
                + "; accepted: " + Arrays.stream(values()).map(ProbeType::wireName).collect(Collectors.joining(", ")));
    }
}
