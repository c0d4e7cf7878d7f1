package net.swarming.agent;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import net.swarming.agent.AgentConfigException.Problem;
import net.swarming.common.HostName;
import net.swarming.common.cli.Durations;
import net.swarming.common.mqtt.BrokerAddress;
import net.swarming.common.mqtt.MqttLink;
import net.swarming.common.mqtt.MqttSecurity;
import net.swarming.common.wire.ProbeType;

/**
 * Everything an {@link Agent} needs; validated as a whole: the constructor reports every bad value at once in an
 * {@link AgentConfigException}. Build one with {@link #builder()}, which starts from the defaults below.
 *
 * @param brokers where to connect, tried round-robin in shuffled order
 * @param name this agent's name in payloads and in its will topic {@code rip/agent/<name>}; a single topic level
 * @param clientId the MQTT client id; unique per running agent
 * @param format payload format on {@code ping/<target>}
 * @param probe the probe used for targets whose watch entry names none
 * @param tcpPort the port TCP probes connect to when the watch names none
 * @param step time between two rounds of the same target
 * @param pings probes per round
 * @param pingInterval spacing between the probes of a round
 * @param timeout how long one probe waits for its answer
 * @param maxParallel rounds (targets) measured at the same time: the size of the {@code swarm-probe-<n>} pool
 * @param metricsHost where {@code /metrics} listens
 * @param metricsPort port of {@code /metrics}; 0 picks a free one, {@link #METRICS_OFF} serves none
 * @param queueCapacity results kept in memory while no broker is reachable; beyond it the oldest are dropped
 * @param location free-form location label announced in the birth message ({@code --location}); null for none
 * @param spoolDir where results wait on disk while no broker is reachable; null keeps them in memory only
 * @param spoolMaxBytes most bytes the spool keeps; beyond it the oldest results are dropped and counted
 * @param minProbeInterval the shortest time between two probes to the same target, whatever the watch asks for
 * @param mqttSecurity user name, password and CA file for the brokers ({@link MqttSecurity#NONE}: anonymous, the
 *     JVM's trust store)
 */
public record AgentConfig(
        List<BrokerAddress> brokers,
        String name,
        String clientId,
        ResultFormat format,
        ProbeType probe,
        int tcpPort,
        Duration step,
        int pings,
        Duration pingInterval,
        Duration timeout,
        int maxParallel,
        String metricsHost,
        int metricsPort,
        int queueCapacity,
        String location,
        java.nio.file.Path spoolDir,
        long spoolMaxBytes,
        Duration minProbeInterval,
        MqttSecurity mqttSecurity) {

    /** The original agent's brokers when none are given. */
    public static final List<String> DEFAULT_BROKERS = List.of("localhost", "127.0.0.1:1884");
    /** Version 2 carries every RTT, counts and the resolved address; {@code --format original} for old readers. */
    public static final ResultFormat DEFAULT_FORMAT = ResultFormat.V2;
    public static final ProbeType DEFAULT_PROBE = ProbeType.ICMP;
    public static final int DEFAULT_TCP_PORT = 80;
    public static final Duration DEFAULT_STEP = Duration.ofSeconds(60);
    public static final int DEFAULT_PINGS = 20;
    public static final Duration DEFAULT_PING_INTERVAL = Duration.ofSeconds(1);
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(1);
    public static final int DEFAULT_MAX_PARALLEL = 64;
    public static final String DEFAULT_METRICS_HOST = "127.0.0.1";
    public static final int DEFAULT_METRICS_PORT = 9461;
    /** {@link #metricsPort()} value that turns the metrics endpoint off. */
    public static final int METRICS_OFF = -1;
    public static final int DEFAULT_QUEUE_CAPACITY = 10_000;
    /** The spool directory under the working directory. */
    public static final java.nio.file.Path DEFAULT_SPOOL_DIR = java.nio.file.Path.of("swarm-agent-spool");
    public static final long DEFAULT_SPOOL_MAX_BYTES = 256L * 1024 * 1024;
    public static final long MIN_SPOOL_MAX_BYTES = 4 * 1024;
    /** Ten probes a second to one target at most, unless configured otherwise. */
    public static final Duration DEFAULT_MIN_PROBE_INTERVAL = Duration.ofMillis(100);
    public static final int MAX_LOCATION_LENGTH = 200;

    public static final Duration MIN_STEP = Duration.ofMillis(100);
    public static final Duration MAX_STEP = Duration.ofDays(1);
    public static final int MAX_PINGS = 1_000;
    public static final Duration MIN_PING_INTERVAL = Duration.ofMillis(1);
    public static final Duration MIN_TIMEOUT = Duration.ofMillis(1);
    public static final Duration MAX_TIMEOUT = Duration.ofSeconds(60);
    public static final int MAX_PARALLEL_LIMIT = 4_096;
    public static final int MAX_QUEUE_CAPACITY = 10_000_000;

    public AgentConfig {
        brokers = brokers == null ? null : List.copyOf(brokers);
        List<Problem> problems = new ArrayList<>();
        if (brokers == null || brokers.isEmpty()) {
            problems.add(new Problem("brokers", "at least one broker host[:port] is needed"));
        }
        String nameProblem = nameProblem(name);
        if (nameProblem != null) {
            problems.add(new Problem("name", nameProblem));
        }
        if (clientId == null || clientId.isBlank()) {
            problems.add(new Problem("client-id", "must not be blank"));
        } else if (clientId.chars().anyMatch(Character::isISOControl)) {
            problems.add(new Problem("client-id", "must not contain control characters"));
        }
        if (format == null) {
            problems.add(new Problem("format", "is missing; one of original, v2"));
        }
        if (probe == null) {
            problems.add(new Problem("probe", "is missing"));
        }
        if (tcpPort < 1 || tcpPort > 65_535) {
            problems.add(new Problem("tcp-port", "must be 1-65535, got " + tcpPort));
        }
        boolean stepOk = checkRange(problems, "step", step, MIN_STEP, MAX_STEP);
        boolean pingsOk = pings >= 1 && pings <= MAX_PINGS;
        if (!pingsOk) {
            problems.add(new Problem("pings", "must be 1-" + MAX_PINGS + ", got " + pings));
        }
        boolean intervalOk = checkRange(problems, "ping-interval", pingInterval, MIN_PING_INTERVAL, MAX_STEP);
        boolean timeoutOk = checkRange(problems, "timeout", timeout, MIN_TIMEOUT, MAX_TIMEOUT);
        if (stepOk && pingsOk && intervalOk && timeoutOk) {
            Duration round = pingInterval.multipliedBy(pings - 1L).plus(timeout);
            if (round.compareTo(step) > 0) {
                problems.add(new Problem("step", "a round ((pings - 1) × ping-interval + timeout = "
                        + Durations.format(round) + ") must fit in the step (" + Durations.format(step)
                        + "): raise --step or lower --pings, --ping-interval or --timeout"));
            }
        }
        if (maxParallel < 1 || maxParallel > MAX_PARALLEL_LIMIT) {
            problems.add(new Problem("max-parallel", "must be 1-" + MAX_PARALLEL_LIMIT + ", got " + maxParallel));
        }
        if (metricsHost == null || metricsHost.isBlank()) {
            problems.add(new Problem("metrics-host", "must not be blank"));
        }
        if (metricsPort < METRICS_OFF || metricsPort > 65_535) {
            problems.add(new Problem("metrics-port", "must be 0-65535, or -1 for no metrics endpoint, got "
                    + metricsPort));
        }
        if (queueCapacity < 1 || queueCapacity > MAX_QUEUE_CAPACITY) {
            problems.add(new Problem("queue-capacity", "must be 1-" + MAX_QUEUE_CAPACITY + ", got " + queueCapacity));
        }
        if (location != null && location.isBlank()) {
            location = null;
        }
        if (location != null && (location.length() > MAX_LOCATION_LENGTH
                || location.chars().anyMatch(Character::isISOControl))) {
            problems.add(new Problem("location", "must be at most " + MAX_LOCATION_LENGTH
                    + " characters without control characters"));
        }
        if (spoolDir != null && spoolMaxBytes < MIN_SPOOL_MAX_BYTES) {
            problems.add(new Problem("spool-max-bytes", "must be at least " + MIN_SPOOL_MAX_BYTES + ", got "
                    + spoolMaxBytes));
        }
        checkRange(problems, "min-probe-interval", minProbeInterval, Duration.ZERO, MAX_STEP);
        if (mqttSecurity == null) {
            problems.add(new Problem("mqtt-username", "MQTT security settings are missing; use MqttSecurity.NONE"));
        }
        if (!problems.isEmpty()) {
            throw new AgentConfigException(problems);
        }
    }

    /** A builder holding every default; {@code name} is this machine's host name. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from this configuration. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /** Whether {@code /metrics} is served. */
    public boolean metricsEnabled() {
        return metricsPort != METRICS_OFF;
    }

    /**
     * @return null when {@code name} can be the agent's name, else what is wrong: it becomes the single level
     *     {@code <name>} of {@code rip/agent/<name>}
     */
    public static String nameProblem(String name) {
        if (name == null || name.isBlank()) {
            return "must not be blank";
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == '/' || c == '+' || c == '#' || Character.isISOControl(c) || Character.isWhitespace(c)) {
                return "must be one MQTT topic level without '/', '+', '#', spaces or control characters, got '"
                        + name + "'";
            }
        }
        return null;
    }

    /** This machine's host name as the kernel knows it (the original's {@code socket.gethostname()}). */
    public static String localHostName() {
        return HostName.local();
    }

    private static boolean checkRange(List<Problem> problems, String key, Duration value, Duration min,
                                      Duration max) {
        if (value == null) {
            problems.add(new Problem(key, "is missing"));
            return false;
        }
        if (value.compareTo(min) < 0 || value.compareTo(max) > 0) {
            problems.add(new Problem(key, "must be between " + Durations.format(min) + " and " + Durations.format(max)
                    + ", got " + Durations.format(value)));
            return false;
        }
        return true;
    }

    /** Builds an {@link AgentConfig}; starts from the defaults. Not thread-safe. */
    public static final class Builder {
        private List<BrokerAddress> brokers;
        private String name;
        private String clientId;
        private ResultFormat format = DEFAULT_FORMAT;
        private ProbeType probe = DEFAULT_PROBE;
        private int tcpPort = DEFAULT_TCP_PORT;
        private Duration step = DEFAULT_STEP;
        private int pings = DEFAULT_PINGS;
        private Duration pingInterval = DEFAULT_PING_INTERVAL;
        private Duration timeout = DEFAULT_TIMEOUT;
        private int maxParallel = DEFAULT_MAX_PARALLEL;
        private String metricsHost = DEFAULT_METRICS_HOST;
        private int metricsPort = DEFAULT_METRICS_PORT;
        private int queueCapacity = DEFAULT_QUEUE_CAPACITY;
        private String location;
        private java.nio.file.Path spoolDir = DEFAULT_SPOOL_DIR;
        private long spoolMaxBytes = DEFAULT_SPOOL_MAX_BYTES;
        private Duration minProbeInterval = DEFAULT_MIN_PROBE_INTERVAL;
        private MqttSecurity mqttSecurity = MqttSecurity.NONE;

        private Builder() {
        }

        private Builder(AgentConfig c) {
            brokers = c.brokers;
            name = c.name;
            clientId = c.clientId;
            format = c.format;
            probe = c.probe;
            tcpPort = c.tcpPort;
            step = c.step;
            pings = c.pings;
            pingInterval = c.pingInterval;
            timeout = c.timeout;
            maxParallel = c.maxParallel;
            metricsHost = c.metricsHost;
            metricsPort = c.metricsPort;
            queueCapacity = c.queueCapacity;
            location = c.location;
            spoolDir = c.spoolDir;
            spoolMaxBytes = c.spoolMaxBytes;
            minProbeInterval = c.minProbeInterval;
            mqttSecurity = c.mqttSecurity;
        }

        public Builder brokers(List<BrokerAddress> brokers) {
            this.brokers = brokers;
            return this;
        }

        /** Parses each of {@code host}, {@code host:port}, {@code tcp://host:port}, {@code ssl://host:port}. */
        public Builder brokers(String... brokers) {
            List<BrokerAddress> parsed = new ArrayList<>(brokers.length);
            for (String b : brokers) {
                parsed.add(BrokerAddress.parse(b));
            }
            this.brokers = parsed;
            return this;
        }

        public Builder name(String name) {
            this.name = name;
            return this;
        }

        public Builder clientId(String clientId) {
            this.clientId = clientId;
            return this;
        }

        public Builder format(ResultFormat format) {
            this.format = format;
            return this;
        }

        public Builder probe(ProbeType probe) {
            this.probe = probe;
            return this;
        }

        public Builder tcpPort(int tcpPort) {
            this.tcpPort = tcpPort;
            return this;
        }

        public Builder step(Duration step) {
            this.step = step;
            return this;
        }

        public Builder pings(int pings) {
            this.pings = pings;
            return this;
        }

        public Builder pingInterval(Duration pingInterval) {
            this.pingInterval = pingInterval;
            return this;
        }

        public Builder timeout(Duration timeout) {
            this.timeout = timeout;
            return this;
        }

        public Builder maxParallel(int maxParallel) {
            this.maxParallel = maxParallel;
            return this;
        }

        public Builder metricsHost(String metricsHost) {
            this.metricsHost = metricsHost;
            return this;
        }

        public Builder metricsPort(int metricsPort) {
            this.metricsPort = metricsPort;
            return this;
        }

        /** Where {@code /metrics} listens; port {@link #METRICS_OFF} serves none, 0 picks a free port. */
        public Builder metrics(String host, int port) {
            return metricsHost(host).metricsPort(port);
        }

        public Builder queueCapacity(int queueCapacity) {
            this.queueCapacity = queueCapacity;
            return this;
        }

        public Builder location(String location) {
            this.location = location;
            return this;
        }

        /** Where results wait on disk while no broker is reachable; null keeps them in memory only. */
        public Builder spoolDir(java.nio.file.Path spoolDir) {
            this.spoolDir = spoolDir;
            return this;
        }

        public Builder spoolMaxBytes(long spoolMaxBytes) {
            this.spoolMaxBytes = spoolMaxBytes;
            return this;
        }

        public Builder minProbeInterval(Duration minProbeInterval) {
            this.minProbeInterval = minProbeInterval;
            return this;
        }

        /** User name, password and CA file for the brokers. */
        public Builder mqttSecurity(MqttSecurity mqttSecurity) {
            this.mqttSecurity = mqttSecurity;
            return this;
        }

        /**
         * @throws AgentConfigException listing every bad value
         */
        public AgentConfig build() {
            List<BrokerAddress> b = brokers;
            if (b == null) {
                b = DEFAULT_BROKERS.stream().map(BrokerAddress::parse).toList();
            }
            return new AgentConfig(b, name != null ? name : localHostName(),
                    clientId != null ? clientId : MqttLink.defaultClientId("swarm-agent"),
                    format, probe, tcpPort, step, pings, pingInterval, timeout, maxParallel, metricsHost, metricsPort,
                    queueCapacity, location, spoolDir, spoolMaxBytes, minProbeInterval, mqttSecurity);
        }
    }
}
