package net.swarming.common.mqtt;

import java.util.Arrays;
import java.util.Objects;
import net.swarming.common.mqtt.internal.Topics;

/**
 * The last-will message the broker publishes when this client's connection dies without a clean DISCONNECT. A clean
 * {@link MqttLink#close()} does not trigger it.
 *
 * @param topic where the will is published, such as {@code rip/agent/<hostname>}; no wildcards
 * @param payload the will's payload; null means empty (the original agent's will is empty)
 * @param qos 0, 1 or 2
 * @param retained whether the broker retains the will
 */
public record Will(String topic, byte[] payload, int qos, boolean retained) {

    public Will {
        String problem = Topics.publishTopicProblem(topic);
        if (problem != null) {
            throw new IllegalArgumentException("will topic " + quote(topic) + " " + problem);
        }
        if (qos < 0 || qos > 2) {
            throw new IllegalArgumentException("will qos " + qos + " must be 0, 1 or 2");
        }
        payload = payload == null ? new byte[0] : payload.clone();
    }

    /** @return a copy of the payload */
    @Override
    public byte[] payload() {
        return payload.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Will w && topic.equals(w.topic) && Arrays.equals(payload, w.payload) && qos == w.qos
                && retained == w.retained;
    }

    @Override
    public int hashCode() {
        return Objects.hash(topic, Arrays.hashCode(payload), qos, retained);
    }

    @Override
    public String toString() {
        return "Will[topic=" + topic + ", payload=" + payload.length + " bytes, qos=" + qos + ", retained=" + retained
                + "]";
    }

    private static String quote(String s) {
        return s == null ? "null" : "'" + s + "'";
    }
}
