package net.swarming.broker;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Configuration of one {@link SwarmBroker}.
 *
 * <p>Every problem is collected and reported together by the constructor, each naming the command-line option, the bad
 * value and what is allowed, so an operator fixes a configuration file in one pass.
 *
 * @param host address the MQTT listener binds, {@value #DEFAULT_HOST} for every interface
 * @param port MQTT port; 0 picks a free port (see {@link SwarmBroker#port()})
 * @param dataDir directory holding the persisted retained messages, sessions and queues; created when missing
 * @param maxMessageBytes largest MQTT packet accepted; a 100,000-target {@code watch} is about 1.5 MB
 * @param metricsHost address the Prometheus {@code /metrics} endpoint binds
 * @param metricsPort port of the {@code /metrics} endpoint; 0 picks a free port, {@value #METRICS_OFF} turns it off
 */
public record BrokerConfig(String host, int port, Path dataDir, int maxMessageBytes, String metricsHost,
                           int metricsPort) {

    /** Every interface. */
    public static final String DEFAULT_HOST = "0.0.0.0";
    /** The IANA MQTT port. */
    public static final int DEFAULT_PORT = 1883;
    /** Relative to the working directory, like mosquitto's and Moquette's own default. */
    public static final String DEFAULT_DATA_DIR = "data";
    /** 16 MiB: ten times the largest expected {@code watch}, far below MQTT's own limit. */
    public static final int DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
    /** Every interface. */
    public static final String DEFAULT_METRICS_HOST = "0.0.0.0";
    /** The broker's own Prometheus port. */
    public static final int DEFAULT_METRICS_PORT = 9463;
    /** {@link #metricsPort()} value that disables the metrics endpoint. */
    public static final int METRICS_OFF = -1;
    /** MQTT 3.1.1 "remaining length" cannot exceed 268,435,455 bytes. */
    public static final int MQTT_MAX_PACKET_BYTES = 268_435_455;

    /**
     * Validates every field at once.
     *
     * @throws IllegalArgumentException listing every problem
     */
    public BrokerConfig {
        List<String> problems = new ArrayList<>();
        if (host == null || host.isBlank()) {
            problems.add("host='" + host + "' must be an address or host name, e.g. " + DEFAULT_HOST);
        }
        if (port < 0 || port > 65535) {
            problems.add("port=" + port + " must be 0..65535 (0 picks a free port)");
        }
        if (dataDir == null || dataDir.toString().isBlank()) {
            problems.add("data-dir='" + dataDir + "' must name a directory, e.g. " + DEFAULT_DATA_DIR);
        }
        if (maxMessageBytes < 1 || maxMessageBytes > MQTT_MAX_PACKET_BYTES) {
            problems.add("max-message-bytes=" + maxMessageBytes + " must be 1.." + MQTT_MAX_PACKET_BYTES
                    + " (default " + DEFAULT_MAX_MESSAGE_BYTES + ")");
        }
        if (metricsHost == null || metricsHost.isBlank()) {
            problems.add("metrics-host='" + metricsHost + "' must be an address or host name, e.g. "
                    + DEFAULT_METRICS_HOST);
        }
        if (metricsPort < METRICS_OFF || metricsPort > 65535) {
            problems.add("metrics-port=" + metricsPort + " must be 0..65535 (0 picks a free port) or "
                    + METRICS_OFF + " to turn metrics off");
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("invalid broker configuration: " + String.join("; ", problems));
        }
    }

    /** Every default: all interfaces, port 1883, {@code ./data}, 16 MiB messages, metrics on port 9463. */
    public static BrokerConfig defaults() {
        return new BrokerConfig(DEFAULT_HOST, DEFAULT_PORT, Path.of(DEFAULT_DATA_DIR), DEFAULT_MAX_MESSAGE_BYTES,
                DEFAULT_METRICS_HOST, DEFAULT_METRICS_PORT);
    }

    /** A copy listening on {@code host:port}. */
    public BrokerConfig withListener(String newHost, int newPort) {
        return new BrokerConfig(newHost, newPort, dataDir, maxMessageBytes, metricsHost, metricsPort);
    }

    /** A copy persisting under {@code newDataDir}. */
    public BrokerConfig withDataDir(Path newDataDir) {
        return new BrokerConfig(host, port, newDataDir, maxMessageBytes, metricsHost, metricsPort);
    }

    /** A copy accepting packets up to {@code bytes}. */
    public BrokerConfig withMaxMessageBytes(int bytes) {
        return new BrokerConfig(host, port, dataDir, bytes, metricsHost, metricsPort);
    }

    /** A copy serving metrics on {@code newHost:newPort} ({@link #METRICS_OFF} for none). */
    public BrokerConfig withMetrics(String newHost, int newPort) {
        return new BrokerConfig(host, port, dataDir, maxMessageBytes, newHost, newPort);
    }

    /** Whether the {@code /metrics} endpoint is served. */
    public boolean metricsEnabled() {
        return metricsPort != METRICS_OFF;
    }
}
