package net.swarming.indexer;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;
import net.swarming.common.mqtt.BrokerAddress;
import net.swarming.common.mqtt.MqttLink;
import net.swarming.common.mqtt.MqttSecurity;

/**
 * Everything an {@link Indexer} needs. Immutable; the compact constructor checks every value and reports all problems
 * at once in one {@link IllegalArgumentException}, each naming the option, the bad value and what would be accepted.
 *
 * @param brokers the MQTT brokers to listen to, one link each (at least one)
 * @param elasticsearch base URLs of Elasticsearch nodes of one cluster (at least one; {@code http} or {@code https})
 * @param pingsStream data stream for ping results; must match the {@code swarm-pings-*} template
 * @param agentsStream data stream for agent presence documents; must match the {@code swarm-agents-*} template
 * @param clientId MQTT client id used on every broker; null to use the one kept in {@code spoolDir}
 * @param persistentSession whether to connect with clean session false, so each broker queues QoS 1 results while
 *     this indexer is away; only useful with a client id that stays the same across restarts, so the builder turns it
 *     on when a client id is given and off with the generated (random) default, which would only leave orphaned
 *     sessions piling up messages on the brokers
 * @param bulkSize documents per {@code _bulk} request; a full batch is flushed at once
 * @param bulkConcurrency bulk requests sent to Elasticsearch at once (2 gave ~2.5× the rate of 1 on a 2-core node)
 * @param flushInterval longest time a document waits in memory before a flush is attempted
 * @param spoolDir directory of the durable spool (and of the persisted client id); null for a temporary directory
 *     removed at close, for embedded use where nothing must survive a restart
 * @param spoolMaxBytes most bytes of documents waiting in the spool for Elasticsearch; when reached, messages are no
 *     longer acknowledged (the brokers hold them back) until Elasticsearch takes some
 * @param deadLetterStream data stream for messages that cannot be indexed; must match the {@code swarm-deadletter-*}
 *     template
 * @param maxMessageBytes larger MQTT payloads are not decoded and go to the dead letters as oversized
 * @param elasticsearchAuth credentials for Elasticsearch (none, basic or API key) and the CA file for https
 * @param maxRetryBackoff longest pause between two attempts to reach Elasticsearch
 * @param shutdownTimeout longest time {@link Indexer#close()} spends on the final flush
 * @param metricsHost address the Prometheus endpoint binds to
 * @param metricsPort port of the Prometheus endpoint; 0 picks a free port, -1 disables it
 * @param bulkWriter what drains the spool to Elasticsearch: the client's BulkIngester or the indexer's own
 *     {@code _bulk} writer (see docs/performance.md, "Indexer", for the measured comparison)
 * @param mqttIntake the MQTT client the intake runs on: Netty's MQTT codec (the default, about half the CPU per
 *     message) or the project's Paho link, kept for comparison
 * @param mqttSecurity user name, password and CA file for the brokers ({@link MqttSecurity#NONE}: anonymous, the
 *     JVM's trust store for {@code ssl://} brokers)
 */
public record IndexerConfig(
        List<BrokerAddress> brokers,
        List<URI> elasticsearch,
        String pingsStream,
        String agentsStream,
        String clientId,
        boolean persistentSession,
        int bulkSize,
        int bulkConcurrency,
        Duration flushInterval,
        Path spoolDir,
        long spoolMaxBytes,
        String deadLetterStream,
        int maxMessageBytes,
        ElasticsearchAuth elasticsearchAuth,
        Duration maxRetryBackoff,
        Duration shutdownTimeout,
        String metricsHost,
        int metricsPort,
        BulkWriter bulkWriter,
        MqttIntake mqttIntake,
        MqttSecurity mqttSecurity) {

    public static final URI DEFAULT_ELASTICSEARCH = URI.create("http://localhost:9200");
    public static final String PINGS_TEMPLATE_PREFIX = "swarm-pings-";
    public static final String AGENTS_TEMPLATE_PREFIX = "swarm-agents-";
    public static final String DEFAULT_PINGS_STREAM = PINGS_TEMPLATE_PREFIX + "default";
    public static final String DEFAULT_AGENTS_STREAM = AGENTS_TEMPLATE_PREFIX + "default";
    public static final int DEFAULT_BULK_SIZE = 1000;

    /** What drains the spool to Elasticsearch. */
    public enum BulkWriter {
        /** elasticsearch-java's BulkIngester, with item checks, in-order spool commits and re-reads on failure. */
        INGESTER,
        /** The indexer's own writer: {@code bulkConcurrency} synchronous {@code _bulk} requests kept in flight. */
        OWN
    }

    public static final BulkWriter DEFAULT_BULK_WRITER = BulkWriter.INGESTER;

    /** The MQTT client of the intake; both subscribe, acknowledge and fail over alike. */
    public enum MqttIntake {
        /** Netty's MQTT codec ({@code internal.intake.netty}). */
        NETTY,
        /** The project's Paho 1.2.5 link ({@code MqttLink}). */
        PAHO
    }

    public static final MqttIntake DEFAULT_MQTT_INTAKE = MqttIntake.NETTY;
    public static final int DEFAULT_BULK_CONCURRENCY = 2;
    public static final int MAX_BULK_CONCURRENCY = 16;
    public static final Duration DEFAULT_FLUSH_INTERVAL = Duration.ofSeconds(1);
    public static final String DEAD_LETTER_TEMPLATE_PREFIX = "swarm-deadletter-";
    public static final String DEFAULT_DEAD_LETTER_STREAM = DEAD_LETTER_TEMPLATE_PREFIX + "default";
    public static final long DEFAULT_SPOOL_MAX_BYTES = 1L << 30;
    /** Smallest spool: one bulk of large documents must fit. */
    public static final long MIN_SPOOL_MAX_BYTES = 1L << 20;
    public static final int DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024;
    public static final Duration DEFAULT_MAX_RETRY_BACKOFF = Duration.ofSeconds(10);
    public static final Duration DEFAULT_SHUTDOWN_TIMEOUT = Duration.ofSeconds(10);
    public static final String DEFAULT_METRICS_HOST = "0.0.0.0";
    public static final int DEFAULT_METRICS_PORT = 9462;
    public static final int METRICS_DISABLED = -1;

    /** Largest bulk we accept: far beyond it a request risks ES's {@code http.max_content_length}. */
    public static final int MAX_BULK_SIZE = 100_000;

    /** Data stream names: lower case, no characters Elasticsearch refuses in index names. */
    private static final Pattern STREAM_NAME = Pattern.compile("[a-z0-9][a-z0-9._-]*");

    public IndexerConfig {
        brokers = brokers == null ? null : List.copyOf(brokers);
        elasticsearch = elasticsearch == null ? null : List.copyOf(elasticsearch);
        List<String> problems = new ArrayList<>();
        if (brokers == null || brokers.isEmpty()) {
            problems.add("brokers: at least one broker host[:port] is required");
        }
        if (elasticsearch == null || elasticsearch.isEmpty()) {
            problems.add("elasticsearch: at least one URL is required, e.g. " + DEFAULT_ELASTICSEARCH);
        } else {
            for (URI url : elasticsearch) {
                String problem = elasticsearchUrlProblem(url);
                if (problem != null) {
                    problems.add("elasticsearch: " + problem);
                }
            }
            // The REST client has one path prefix for all nodes (e.g. behind a proxy at /es).
            long prefixes = elasticsearch.stream().filter(Objects::nonNull)
                    .map(u -> u.getPath() == null ? "" : u.getPath().replaceAll("/+$", "")).distinct().count();
            if (prefixes > 1) {
                problems.add("elasticsearch: " + elasticsearch + " have different paths; all nodes must share one"
                        + " path prefix");
            }
        }
        if (mqttIntake == null) {
            problems.add("mqtt-intake: required; use one of " + java.util.Arrays.toString(MqttIntake.values()));
        }
        if (mqttSecurity == null) {
            problems.add("mqtt security: must not be null (use MqttSecurity.NONE)");
        }
        if (bulkWriter == null) {
            problems.add("bulk-writer: required; use one of " + java.util.Arrays.toString(BulkWriter.values()));
        }
        checkStream(problems, "pings-stream", pingsStream, PINGS_TEMPLATE_PREFIX);
        checkStream(problems, "agents-stream", agentsStream, AGENTS_TEMPLATE_PREFIX);
        if (pingsStream != null && pingsStream.equals(agentsStream)) {
            problems.add("pings-stream and agents-stream: both are '" + pingsStream + "'; they must differ");
        }
        if (clientId == null && spoolDir == null) {
            problems.add("client-id: must be given when there is no spool-dir to keep one in");
        } else if (clientId != null && clientId.isBlank()) {
            problems.add("client-id: must not be empty");
        } else if (clientId != null && clientId.length() > 65535) {
            problems.add("client-id: " + clientId.length() + " characters is too long for MQTT (at most 65535)");
        }
        if (bulkSize < 1 || bulkSize > MAX_BULK_SIZE) {
            problems.add("bulk-size: " + bulkSize + " is out of range; use 1.." + MAX_BULK_SIZE);
        }
        if (bulkConcurrency < 1 || bulkConcurrency > MAX_BULK_CONCURRENCY) {
            problems.add("bulk-concurrency: " + bulkConcurrency + " is out of range; use 1.." + MAX_BULK_CONCURRENCY);
        }
        checkPositive(problems, "flush-interval", flushInterval);
        if (spoolMaxBytes < MIN_SPOOL_MAX_BYTES) {
            problems.add("spool-max-size: " + spoolMaxBytes + " bytes is too small; use at least "
                    + MIN_SPOOL_MAX_BYTES + " (1m)");
        }
        checkStream(problems, "dead-letter-stream", deadLetterStream, DEAD_LETTER_TEMPLATE_PREFIX);
        if (maxMessageBytes < 16 || maxMessageBytes > 16 * 1024 * 1024) {
            problems.add("max-message-size: " + maxMessageBytes + " is out of range; use 16..16777216 bytes");
        }
        if (elasticsearchAuth == null) {
            problems.add("elasticsearch auth: must not be null (use ElasticsearchAuth.NONE)");
        } else {
            problems.addAll(elasticsearchAuth.problems());
        }
        checkPositive(problems, "max-retry-backoff", maxRetryBackoff);
        if (shutdownTimeout == null || shutdownTimeout.isNegative()) {
            problems.add("shutdown-timeout: " + shutdownTimeout + " must be zero or positive");
        }
        if (mqttSecurity == null) {
            problems.add("mqtt security: must not be null (use MqttSecurity.NONE)");
        }
        if (metricsHost == null || metricsHost.isBlank()) {
            problems.add("metrics-host: must not be empty (use 0.0.0.0 for every interface)");
        }
        if (metricsPort < METRICS_DISABLED || metricsPort > 65535) {
            problems.add("metrics-port: " + metricsPort + " is out of range; use 0..65535, or -1 to disable");
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("invalid indexer configuration: " + String.join("; ", problems));
        }
    }

    /** A builder with every default set; only the brokers must be given. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Parses one {@code --elasticsearch} value.
     *
     * @throws IllegalArgumentException naming the value and the expected form
     */
    public static URI parseElasticsearchUrl(String text) {
        URI url;
        try {
            url = new URI(text == null ? "" : text.trim());
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("'" + text + "' is not a URL (" + e.getReason()
                    + "); expected e.g. http://localhost:9200", e);
        }
        String problem = elasticsearchUrlProblem(url);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
        return url;
    }

    private static String elasticsearchUrlProblem(URI url) {
        if (url == null) {
            return "a URL is null";
        }
        String scheme = url.getScheme() == null ? null : url.getScheme().toLowerCase(Locale.ROOT);
        if (!"http".equals(scheme) && !"https".equals(scheme)) {
            return "'" + url + "' must start with http:// or https:// (e.g. http://localhost:9200)";
        }
        if (url.getHost() == null || url.getHost().isEmpty()) {
            return "'" + url + "' has no host name (e.g. http://localhost:9200)";
        }
        if (url.getUserInfo() != null || url.getQuery() != null || url.getFragment() != null) {
            return "'" + url + "' must be scheme://host[:port][/path] without credentials, query or fragment"
                    + " (e.g. http://localhost:9200)";
        }
        return null;
    }

    private static void checkStream(List<String> problems, String key, String name, String prefix) {
        if (name == null || !name.startsWith(prefix) || name.length() == prefix.length()) {
            problems.add(key + ": '" + name + "' must start with '" + prefix + "' and name a namespace after it"
                    + " (e.g. " + prefix + "default) so the " + prefix + "* index template applies");
        } else if (!STREAM_NAME.matcher(name).matches() || name.length() > 200) {
            problems.add(key + ": '" + name + "' is not a valid data stream name; use lower-case letters, digits,"
                    + " '.', '_' and '-' (at most 200 characters)");
        }
    }

    private static void checkPositive(List<String> problems, String key, Duration value) {
        if (value == null || value.isNegative() || value.isZero()) {
            problems.add(key + ": " + value + " must be a positive duration, e.g. 1s");
        }
    }

    /** Builds an {@link IndexerConfig}; {@link #build()} validates. */
    public static final class Builder {
        private List<BrokerAddress> brokers = List.of();
        private List<URI> elasticsearch = List.of(DEFAULT_ELASTICSEARCH);
        private String pingsStream = DEFAULT_PINGS_STREAM;
        private String agentsStream = DEFAULT_AGENTS_STREAM;
        private String clientId;
        private Boolean persistentSession;
        private int bulkSize = DEFAULT_BULK_SIZE;
        private int bulkConcurrency = DEFAULT_BULK_CONCURRENCY;
        private Duration flushInterval = DEFAULT_FLUSH_INTERVAL;
        private Path spoolDir;
        private long spoolMaxBytes = DEFAULT_SPOOL_MAX_BYTES;
        private String deadLetterStream = DEFAULT_DEAD_LETTER_STREAM;
        private int maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES;
        private ElasticsearchAuth elasticsearchAuth = ElasticsearchAuth.NONE;
        private Duration maxRetryBackoff = DEFAULT_MAX_RETRY_BACKOFF;
        private Duration shutdownTimeout = DEFAULT_SHUTDOWN_TIMEOUT;
        private String metricsHost = DEFAULT_METRICS_HOST;
        private int metricsPort = DEFAULT_METRICS_PORT;
        private BulkWriter bulkWriter = DEFAULT_BULK_WRITER;
        private MqttIntake mqttIntake = DEFAULT_MQTT_INTAKE;
        private MqttSecurity mqttSecurity = MqttSecurity.NONE;

        private Builder() {}

        public Builder brokers(List<BrokerAddress> value) {
            this.brokers = Objects.requireNonNull(value, "brokers");
            return this;
        }

        public Builder elasticsearch(List<URI> value) {
            this.elasticsearch = Objects.requireNonNull(value, "elasticsearch");
            return this;
        }

        public Builder pingsStream(String value) {
            this.pingsStream = value;
            return this;
        }

        public Builder agentsStream(String value) {
            this.agentsStream = value;
            return this;
        }

        /**
         * Defaults to {@link MqttLink#defaultClientId(String)} for role {@code swarm-indexer}, which is different on
         * every start.
         */
        public Builder clientId(String value) {
            this.clientId = value;
            return this;
        }

        /** Defaults to true when a {@link #clientId} is given, false otherwise; null restores that default. */
        public Builder persistentSession(Boolean value) {
            this.persistentSession = value;
            return this;
        }

        public Builder bulkSize(int value) {
            this.bulkSize = value;
            return this;
        }

        public Builder bulkConcurrency(int value) {
            this.bulkConcurrency = value;
            return this;
        }

        public Builder flushInterval(Duration value) {
            this.flushInterval = value;
            return this;
        }

        /**
         * The durable spool's directory. When given (and no {@link #clientId}), the indexer reads its client id from
         * {@code client-id} in it at start, or creates it there on first use, so it is stable across restarts and
         * unique per directory ({@link IndexerConfig#clientId()} is then null); persistent sessions are then on by
         * default.
         */
        public Builder spoolDir(Path value) {
            this.spoolDir = value;
            return this;
        }

        public Builder spoolMaxBytes(long value) {
            this.spoolMaxBytes = value;
            return this;
        }

        public Builder deadLetterStream(String value) {
            this.deadLetterStream = value;
            return this;
        }

        public Builder maxMessageBytes(int value) {
            this.maxMessageBytes = value;
            return this;
        }

        public Builder elasticsearchAuth(ElasticsearchAuth value) {
            this.elasticsearchAuth = value;
            return this;
        }

        public Builder maxRetryBackoff(Duration value) {
            this.maxRetryBackoff = value;
            return this;
        }

        public Builder shutdownTimeout(Duration value) {
            this.shutdownTimeout = value;
            return this;
        }

        public Builder metricsHost(String value) {
            this.metricsHost = value;
            return this;
        }

        public Builder metricsPort(int value) {
            this.metricsPort = value;
            return this;
        }

        public Builder bulkWriter(BulkWriter value) {
            this.bulkWriter = value;
            return this;
        }

        public Builder mqttIntake(MqttIntake value) {
            this.mqttIntake = value;
            return this;
        }

        /** User name, password and CA file for the brokers. */
        public Builder mqttSecurity(MqttSecurity value) {
            this.mqttSecurity = value;
            return this;
        }

        /**
         * Validates and builds.
         *
         * @throws IllegalArgumentException listing every problem
         */
        public IndexerConfig build() {
            String id = clientId;
            if (id == null && spoolDir == null) {
                id = MqttLink.defaultClientId("swarm-indexer");
            }
            boolean persistent = persistentSession != null ? persistentSession : clientId != null || spoolDir != null;
            return new IndexerConfig(brokers, elasticsearch, pingsStream, agentsStream, id, persistent, bulkSize,
                    bulkConcurrency, flushInterval, spoolDir, spoolMaxBytes, deadLetterStream, maxMessageBytes, elasticsearchAuth,
                    maxRetryBackoff, shutdownTimeout, metricsHost, metricsPort, bulkWriter, mqttIntake,
                    mqttSecurity);
        }
    }
}
