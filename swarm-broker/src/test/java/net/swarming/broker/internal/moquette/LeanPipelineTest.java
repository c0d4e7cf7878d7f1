package net.swarming.broker.internal.moquette;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.List;
import org.junit.jupiter.api.Test;

class LeanPipelineTest {

    @Test
    void whenMoquettesLoggerAndCountersAreThere_thenOnlyTheyAreRemoved() {
        EmbeddedChannel channel = new EmbeddedChannel();
        for (String name : List.of(ChannelHooks.BYTES, ChannelHooks.DECODER, ChannelHooks.ENCODER, "metrics",
                "messageLogger", ChannelHooks.HANDLER)) {
            channel.pipeline().addLast(name, new ChannelInboundHandlerAdapter());
        }

        LeanPipeline.customizer().accept(channel.pipeline());

        List<String> left = channel.pipeline().names().stream().filter(n -> !n.startsWith("DefaultChannelPipeline"))
                .toList();
        assertEquals(List.of(ChannelHooks.DECODER, ChannelHooks.ENCODER, ChannelHooks.HANDLER), left);
    }

    @Test
    void whenAHandlerIsMissing_thenTheOthersAreStillRemoved() {
        EmbeddedChannel channel = new EmbeddedChannel();
        channel.pipeline().addLast("messageLogger", new ChannelInboundHandlerAdapter());
        channel.pipeline().addLast(ChannelHooks.HANDLER, new ChannelInboundHandlerAdapter());

        LeanPipeline.customizer().accept(channel.pipeline());

        assertEquals(null, channel.pipeline().get("messageLogger"));
    }
}
