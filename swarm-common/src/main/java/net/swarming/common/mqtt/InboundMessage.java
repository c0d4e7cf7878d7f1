package net.swarming.common.mqtt;

import java.nio.charset.StandardCharsets;

/**
 * A message received on one of the link's subscriptions.
 *
 * <p>The payload array is handed over as received and is not copied: do not modify it. As for any record with an
 * array component, {@code equals} compares the payload by identity, not content.
 *
 * @param topic the topic it was published to
 * @param payload its payload
 * @param qos the QoS it was delivered with
 * @param retained whether the broker delivered it as a retained message (Moquette 0.17 clears this flag on QoS ≥ 1
 *     subscriptions)
 * @param duplicate whether the broker flagged it as a redelivery
 * @param broker the broker it came from
 * @param messageId the MQTT packet identifier (0 for QoS 0)
 * @param connectionId which connection of the link it arrived on (the link numbers its connect attempts from 1; 0 when
 *     unknown): {@link MqttLink#ack} acknowledges only on that connection
 */
public record InboundMessage(String topic, byte[] payload, int qos, boolean retained, boolean duplicate,
        BrokerAddress broker, int messageId, long connectionId) {

    /** A message not tied to a connection (tests, replays): {@link MqttLink#ack} ignores it. */
    public InboundMessage(String topic, byte[] payload, int qos, boolean retained, boolean duplicate,
            BrokerAddress broker, int messageId) {
        this(topic, payload, qos, retained, duplicate, broker, messageId, 0L);
    }

    /** @return the payload decoded as UTF-8 */
    public String payloadAsString() {
        return new String(payload, StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return "InboundMessage[topic=" + topic + ", payload=" + (payload == null ? 0 : payload.length) + " bytes, qos="
                + qos + ", retained=" + retained + ", duplicate=" + duplicate + ", broker=" + broker + ", messageId="
                + messageId + ", connectionId=" + connectionId + "]";
    }
}
