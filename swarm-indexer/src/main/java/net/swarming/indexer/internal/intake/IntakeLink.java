package net.swarming.indexer.internal.intake;

import java.time.Duration;
import net.swarming.common.mqtt.InboundMessage;
import net.swarming.common.mqtt.LinkState;

/**
 * One subscribing connection of the intake to one broker, whichever MQTT client runs it: messages go to the handler
 * on the link's dispatch thread, and are acknowledged only through {@link #ack}.
 */
public interface IntakeLink extends AutoCloseable {

    /** Starts connecting in the background and returns at once. */
    void start();

    /**
     * Acknowledges a QoS 1 message on the connection it came on; does nothing for QoS 0 or for a message of an earlier
     * connection (the broker sends that one again). Any thread.
     */
    void ack(InboundMessage m);

    /** Where the link stands; {@link LinkState#CONNECTED} means CONNACK received and every subscription answered. */
    LinkState state();

    /** Waits until connected; false when the timeout passed or the link is closed. */
    boolean awaitConnected(Duration timeout) throws InterruptedException;

    /** Stops reconnecting and disconnects cleanly; idempotent. */
    @Override
    void close();
}
