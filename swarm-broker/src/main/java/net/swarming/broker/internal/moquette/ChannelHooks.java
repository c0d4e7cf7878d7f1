package net.swarming.broker.internal.moquette;

import io.moquette.broker.Server;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.util.AttributeKey;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lets swarm-broker add its own Netty handlers to every MQTT connection of an embedded Moquette 0.17.
 *
 * <p>Moquette 0.17 has no public hook on its channels. Its {@code NewNettyAcceptor} keeps one optional handler (meant
 * for Dropwizard metrics, unused by us) in a private field that it reads each time it builds a new connection's
 * pipeline. {@link #install} puts one sharable installer there; for each new channel the installer hands the pipeline
 * to every customizer and then removes itself. Connections accepted before the install (the few microseconds between
 * Moquette binding its port and {@code startServer} returning) are customized afterwards from Moquette's connection
 * list.
 *
 * <p>The pipeline a customizer sees (Moquette 0.17, plain TCP or WebSocket): {@value #BYTES} (first, sees bytes),
 * …, {@value #DECODER}, {@value #ENCODER}, Moquette's message metrics and logger, this slot, {@value #HANDLER}
 * (Moquette's MQTT logic). A handler added just before {@value #HANDLER} sees every decoded inbound
 * {@code MqttMessage} before Moquette does, and every outbound one Moquette writes before it is encoded.
 */
public final class ChannelHooks {

    private static final Logger LOG = LoggerFactory.getLogger(ChannelHooks.class);

    /** Moquette's first handler: counts raw bytes. */
    public static final String BYTES = "bytemetrics";
    /** Moquette's MQTT decoder: bytes in, {@code MqttMessage} out. */
    public static final String DECODER = "decoder";
    /** Moquette's MQTT encoder: {@code MqttMessage} in, bytes out. */
    public static final String ENCODER = "encoder";
    /** Moquette's MQTT logic; add message-level handlers before it. */
    public static final String HANDLER = "handler";

    private ChannelHooks() {}

    /**
     * Installs {@code customizers} into {@code server}'s acceptor; each is called once per new connection, on that
     * connection's event loop, and must not block.
     *
     * @throws IllegalStateException if this Moquette build does not have the expected private fields (a different
     *                               version): the broker must not start without its fixes
     */
    public static void install(Server server, List<Consumer<ChannelPipeline>> customizers) {
        Installer installer = new Installer(List.copyOf(customizers));
        Object acceptor = read(server, "acceptor");
        write(acceptor, "metrics", Optional.of(installer));
        for (Channel channel : connectedChannels(server)) {
            channel.eventLoop().execute(() -> installer.customize(channel.pipeline()));
        }
    }

    private static Collection<Channel> connectedChannels(Server server) {
        List<Channel> channels = new ArrayList<>();
        Object registry = read(server, "sessions");
        Object pool = read(registry, "pool");
        if (pool instanceof java.util.Map<?, ?> sessions) {
            for (Object session : sessions.values()) {
                Object connection = read(session, "mqttConnection");
                if (connection != null && read(connection, "channel") instanceof Channel channel && channel.isActive()) {
                    channels.add(channel);
                }
            }
        }
        return channels;
    }

    static Object read(Object target, String name) {
        try {
            return field(target.getClass(), name).get(target);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalStateException("Moquette " + Server.MOQUETTE_VERSION + " has no usable field '" + name
                    + "' in " + target.getClass().getName() + ": swarm-broker's channel hooks need Moquette 0.17", e);
        }
    }

    static void write(Object target, String name, Object value) {
        try {
            field(target.getClass(), name).set(target, value);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalStateException("Moquette " + Server.MOQUETTE_VERSION + " has no usable field '" + name
                    + "' in " + target.getClass().getName() + ": swarm-broker's channel hooks need Moquette 0.17", e);
        }
    }

    static Field field(Class<?> type, String name) throws NoSuchFieldException {
        for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            try {
                Field f = c.getDeclaredField(name);
                f.setAccessible(true);
                return f;
            } catch (NoSuchFieldException next) {
                // look in the superclass
            }
        }
        throw new NoSuchFieldException(type.getName() + "." + name);
    }

    /** Sits in Moquette's optional slot only until the pipeline is complete, then adds the real handlers. */
    @ChannelHandler.Sharable
    private static final class Installer extends ChannelInboundHandlerAdapter {
        private static final AttributeKey<Boolean> HOOKED = AttributeKey.valueOf("swarm-hooked");
        private final List<Consumer<ChannelPipeline>> customizers;

        Installer(List<Consumer<ChannelPipeline>> customizers) {
            this.customizers = customizers;
        }

        // Moquette adds its own handler after this slot, so the pipeline is only complete once the channel is active.
        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            customize(ctx.pipeline());
            ctx.pipeline().remove(this);
            ctx.fireChannelActive();
        }

        /** Once per channel: a channel found in the sweep may also have passed through the slot. */
        void customize(ChannelPipeline pipeline) {
            if (pipeline.channel().attr(HOOKED).setIfAbsent(Boolean.TRUE) != null || pipeline.get(HANDLER) == null) {
                return;
            }
            for (Consumer<ChannelPipeline> customizer : customizers) {
                try {
                    customizer.accept(pipeline);
                } catch (RuntimeException e) {
                    LOG.error("could not add swarm-broker's handlers to connection {}: {}",
                            pipeline.channel().remoteAddress(), e.toString(), e);
                    pipeline.channel().close();
                    return;
                }
            }
        }
    }
}
