package net.swarming.common.wire;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * An agent's announcement on {@code birth/agent/<name>} when it connects to a broker: who it is, where it stands and
 * what it can measure. The counterpart of the will on {@code rip/agent/<name>}. See docs/wire-protocol.md §6.
 *
 * @param agentId the agent's MQTT client id, unique per running agent (as {@code agent_id} in results)
 * @param name the agent's name (as {@code agent} in results and the level of its topics)
 * @param version the agent's build version ({@code 0.1.0-SNAPSHOT})
 * @param location free-form location label ({@code --location}), null when not set
 * @param probes probe types this agent can run right now, in {@link ProbeType} order (e.g. no {@code icmp} when it
 *     has no ICMP socket)
 * @param started when the agent process started, by its clock
 */
public record BirthMessage(String agentId, String name, String version, String location, List<ProbeType> probes,
                           Instant started) {

    /**
     * @throws IllegalArgumentException naming the missing field
     */
    public BirthMessage {
        require("agentId", agentId);
        require("name", name);
        require("version", version);
        if (location != null && location.isBlank()) {
            location = null;
        }
        probes = List.copyOf(Objects.requireNonNull(probes, "probes"));
        Objects.requireNonNull(started, "started");
    }

    private static void require(String field, String value) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(field + " is required and cannot be blank");
        }
    }
}
