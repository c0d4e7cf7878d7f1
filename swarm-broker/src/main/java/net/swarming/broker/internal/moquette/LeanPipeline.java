package net.swarming.broker.internal.moquette;

import io.netty.channel.ChannelPipeline;
import java.util.List;
import java.util.function.Consumer;

/**
 * Takes out of each connection the per-packet handlers of Moquette 0.17 that only feed its own logs and counters.
 *
 * <p>Its message logger sets and clears three logging MDC entries (new strings each time) for every packet in and out,
 * whatever the log level, although swarm-broker keeps Moquette's loggers at WARN, where it logs nothing per packet; its
 * message and byte counters feed only a line Moquette logs at shutdown, and swarm-broker counts the same traffic itself
 * ({@code TrafficMetrics}).
 */
public final class LeanPipeline {

    /** Moquette 0.17's names for those handlers (see {@link ChannelHooks}). */
    static final List<String> MOQUETTE_EXTRAS = List.of("messageLogger", "metrics", ChannelHooks.BYTES);

    private LeanPipeline() {}

    /** For {@link ChannelHooks#install}. */
    public static Consumer<ChannelPipeline> customizer() {
        return pipeline -> {
            for (String name : MOQUETTE_EXTRAS) {
                if (pipeline.get(name) != null) {
                    pipeline.remove(name);
                }
            }
        };
    }
}
