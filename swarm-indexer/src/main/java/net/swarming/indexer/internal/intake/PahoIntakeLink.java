package net.swarming.indexer.internal.intake;

import java.time.Clock;
import java.time.Duration;
import net.swarming.common.mqtt.InboundMessage;
import net.swarming.common.mqtt.LinkState;
import net.swarming.common.mqtt.MessageHandler;
import net.swarming.common.mqtt.MqttLink;
import net.swarming.common.mqtt.MqttLinkConfig;

/** The intake on the project's Paho-based {@link MqttLink} ({@code --mqtt-intake PAHO}), kept for comparison. */
final class PahoIntakeLink implements IntakeLink {

    private final MqttLink link;

    PahoIntakeLink(MqttLinkConfig config, MessageHandler handler, Clock clock) {
        this.link = new MqttLink(config, handler, clock);
    }

    @Override
    public void start() {
        link.start();
    }

    @Override
    public void ack(InboundMessage m) {
        link.ack(m);
    }

    @Override
    public LinkState state() {
        return link.state();
    }

    @Override
    public boolean awaitConnected(Duration timeout) throws InterruptedException {
        return link.awaitConnected(timeout);
    }

    @Override
    public void close() {
        link.close();
    }
}
