package net.swarming.common.mqtt;

/**
 * Receives the messages of a link's subscriptions.
 *
 * <p>Called on the link's own dispatch thread ({@code swarm-mqtt-dispatch-<clientId>}), one message at a time in
 * arrival order, never on a Paho thread. It may block briefly and may call {@link MqttLink#publish} and
 * {@link MqttLink#ack}; it must not wait for a publish to complete ({@code publish(...).get()}) for longer than it is
 * willing to hold up every later message. An exception it throws is logged and the next message is still delivered.
 */
@FunctionalInterface
public interface MessageHandler {

    void onMessage(InboundMessage m);
}
