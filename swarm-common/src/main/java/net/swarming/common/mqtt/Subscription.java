package net.swarming.common.mqtt;

import net.swarming.common.mqtt.internal.Topics;

/**
 * A topic filter the link subscribes to on every successful connect.
 *
 * @param filter an MQTT topic filter such as {@code ping/+} or {@code rip/#}
 * @param qos 0, 1 or 2 (at most 1 with manual acknowledgements)
 */
public record Subscription(String filter, int qos) {

    public Subscription {
        String problem = Topics.filterProblem(filter);
        if (problem != null) {
            throw new IllegalArgumentException(
                    "subscription filter " + (filter == null ? "null" : "'" + filter + "'") + " " + problem);
        }
        if (qos < 0 || qos > 2) {
            throw new IllegalArgumentException("subscription qos " + qos + " for '" + filter + "' must be 0, 1 or 2");
        }
    }
}
