package net.swarming.broker.internal.moquette;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moquette.broker.Server;
import io.moquette.broker.config.IConfig;
import io.moquette.broker.config.MemoryConfig;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.mqtt.MqttMessage;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import net.swarming.broker.Mosquitto;
import net.swarming.broker.internal.net.ListenAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The hook really reaches every connection of a real Moquette 0.17, in both directions, at message level. */
@Timeout(60)
class ChannelHooksIT {

    @TempDir
    Path tmp;

    @Test
    void whenHooksAreInstalled_thenHandlersSeeEveryMessageOfEveryConnection() throws Exception {
        int port = ListenAddress.reserve("127.0.0.1", 0);
        IConfig config = new MemoryConfig(MoquetteProperties.of("127.0.0.1", port, tmp.resolve("data"), 1 << 20, true));
        Map<String, AtomicInteger> seen = new ConcurrentHashMap<>();
        Server server = new Server();
        server.startServer(config, List.of());
        try {
            ChannelHooks.install(server, List.of(pipeline -> pipeline.addBefore(ChannelHooks.HANDLER, "count",
                    new ChannelDuplexHandler() {
                        @Override
                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                            if (msg instanceof MqttMessage m) {
                                seen.computeIfAbsent("in " + m.fixedHeader().messageType(),
                                        k -> new AtomicInteger()).incrementAndGet();
                            }
                            ctx.fireChannelRead(msg);
                        }

                        @Override
                        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
                            if (msg instanceof MqttMessage m) {
                                seen.computeIfAbsent("out " + m.fixedHeader().messageType(),
                                        k -> new AtomicInteger()).incrementAndGet();
                            }
                            ctx.write(msg, promise);
                        }
                    })));

            assertEquals(0, Mosquitto.pub(port, "-i", "p1", "-q", "1", "-t", "watch", "-m", "a b", "-r").exitCode());
            assertEquals(0, Mosquitto.pub(port, "-i", "p2", "-q", "1", "-t", "watch", "-m", "c d", "-r").exitCode());

            assertEquals(2, seen.get("in CONNECT").get(), seen.toString());
            assertEquals(2, seen.get("in PUBLISH").get(), seen.toString());
            assertEquals(2, seen.get("out CONNACK").get(), seen.toString());
            assertEquals(2, seen.get("out PUBACK").get(), seen.toString());
            assertTrue(seen.containsKey("in DISCONNECT"), seen.toString());
        } finally {
            server.stopServer();
        }
    }
}
