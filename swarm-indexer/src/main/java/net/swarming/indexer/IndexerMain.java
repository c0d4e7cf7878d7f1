package net.swarming.indexer;

import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import net.swarming.common.cli.Durations;
import net.swarming.common.cli.ExitCodes;
import net.swarming.common.cli.MqttSecurityOptions;
import net.swarming.common.cli.SwarmCli;
import net.swarming.common.cli.SwarmVersion;
import net.swarming.common.mqtt.BrokerAddress;
import net.swarming.common.mqtt.MqttSecurity;
import net.swarming.indexer.internal.cli.Converters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code swarm-indexer [options] host[:port]...}: the command line of the indexer, compatible with the original
 * ({@code indexer.py broker...}). Every option can also come from the environment ({@code SWARM_INDEXER_BULK_SIZE})
 * or from the file given with {@code --config} (key {@code bulk-size}).
 */
@Command(name = "swarm-indexer", mixinStandardHelpOptions = true, versionProvider = SwarmVersion.class,
        sortOptions = false, usageHelpAutoWidth = true,
        subcommands = {SetupCommand.class, WatchCommand.class, BenchmarkCommand.class},
        description = {
            "Listens to every MQTT broker of the swarm (ping/+ and rip/#) and writes the results into "
                    + "Elasticsearch data streams, in bulk.",
            "Options also read SWARM_INDEXER_<OPTION> from the environment and <option> keys from --config FILE."
        })
public final class IndexerMain implements Callable<Integer> {

    private static final Logger LOG = LoggerFactory.getLogger(IndexerMain.class);

    @Spec
    CommandSpec spec;

    // 0..* rather than 1..*: picocli would otherwise demand brokers before running a subcommand; call() checks.
    @Parameters(arity = "0..*", paramLabel = "host[:port]", converter = Converters.Broker.class,
            description = "Brokers to listen to, each on its own connection (default port 1883).")
    List<BrokerAddress> brokers;

    @Option(names = "--elasticsearch", paramLabel = "URL", split = ",", converter = Converters.ElasticsearchUrl.class,
            defaultValue = "http://localhost:9200",
            description = "Elasticsearch node URL; repeat (or separate with commas) for more nodes of the same "
                    + "cluster. Default: ${DEFAULT-VALUE}.")
    List<URI> elasticsearch;

    @Option(names = "--pings-stream", paramLabel = "NAME", defaultValue = IndexerConfig.DEFAULT_PINGS_STREAM,
            description = "Data stream for results; must start with swarm-pings-. Default: ${DEFAULT-VALUE}.")
    String pingsStream;

    @Option(names = "--agents-stream", paramLabel = "NAME", defaultValue = IndexerConfig.DEFAULT_AGENTS_STREAM,
            description = "Data stream for agent presence (wills); must start with swarm-agents-. "
                    + "Default: ${DEFAULT-VALUE}.")
    String agentsStream;

    @Option(names = "--client-id", paramLabel = "ID",
            description = "MQTT client id on every broker. Giving one turns on persistent sessions (clean session "
                    + "false): brokers keep results for this indexer while it is down. Keep it stable across restarts "
                    + "and unique per indexer. Default: swarm-indexer-<hostname>-<random>, created once and kept in "
                    + "the spool directory.")
    String clientId;

    @Option(names = "--bulk-size", paramLabel = "DOCS", defaultValue = "" + IndexerConfig.DEFAULT_BULK_SIZE,
            description = "Documents per bulk request; a full batch is sent at once. Default: ${DEFAULT-VALUE}.")
    int bulkSize;

    @Option(names = "--bulk-concurrency", paramLabel = "N",
            defaultValue = "" + IndexerConfig.DEFAULT_BULK_CONCURRENCY,
            description = "Bulk requests sent at once. Default: ${DEFAULT-VALUE}.")
    int bulkConcurrency;

    @Option(names = "--bulk-writer", paramLabel = "WRITER", defaultValue = "INGESTER",
            description = "What drains the spool to Elasticsearch: OWN (the indexer's own _bulk writer) or INGESTER "
                    + "(elasticsearch-java's BulkIngester). Default: ${DEFAULT-VALUE}.")
    IndexerConfig.BulkWriter bulkWriter;

    @Option(names = "--mqtt-intake", paramLabel = "CLIENT", defaultValue = "NETTY",
            description = "MQTT client of the intake: NETTY (Netty's MQTT codec, about half the CPU per message) or "
                    + "PAHO (the Paho link, for comparison); both acknowledge only what is durable. "
                    + "Default: ${DEFAULT-VALUE}.")
    IndexerConfig.MqttIntake mqttIntake;

    @Option(names = "--flush-interval", paramLabel = "DURATION", defaultValue = "1s",
            converter = Durations.Converter.class,
            description = "Longest wait before queued documents are sent (500ms, 1s, 2m…). Default: ${DEFAULT-VALUE}.")
    Duration flushInterval;

    @Option(names = "--spool-dir", paramLabel = "DIR", defaultValue = "swarm-indexer-spool",
            description = "Directory of the durable spool between the brokers and Elasticsearch; it also keeps the "
                    + "client id. One per indexer. Default: ${DEFAULT-VALUE}.")
    Path spoolDir;

    @Option(names = "--spool-max-size", paramLabel = "SIZE", defaultValue = "1g", converter = Converters.ByteSize.class,
            description = "Most documents waiting in the spool for Elasticsearch (512m, 2g…); when reached, messages "
                    + "are no longer acknowledged and the brokers hold them. Default: ${DEFAULT-VALUE}.")
    long spoolMaxBytes;

    @Option(names = "--dead-letter-stream", paramLabel = "NAME",
            defaultValue = IndexerConfig.DEFAULT_DEAD_LETTER_STREAM,
            description = "Data stream for messages that cannot be indexed; must start with swarm-deadletter-. "
                    + "Default: ${DEFAULT-VALUE}.")
    String deadLetterStream;

    @Option(names = "--max-message-size", paramLabel = "SIZE", defaultValue = "64k",
            converter = Converters.ByteSize.class,
            description = "Larger messages go to the dead letters undecoded. Default: ${DEFAULT-VALUE}.")
    long maxMessageBytes;

    @Mixin
    ElasticsearchOptions es = new ElasticsearchOptions();

    @Mixin
    MqttSecurityOptions mqtt = new MqttSecurityOptions();

    @Option(names = "--shutdown-timeout", paramLabel = "DURATION", defaultValue = "10s",
            converter = Durations.Converter.class,
            description = "Longest final flush at shutdown. Default: ${DEFAULT-VALUE}.")
    Duration shutdownTimeout;

    @Option(names = "--metrics-host", paramLabel = "ADDRESS", defaultValue = IndexerConfig.DEFAULT_METRICS_HOST,
            description = "Address of the Prometheus endpoint. Default: ${DEFAULT-VALUE}.")
    String metricsHost;

    @Option(names = "--metrics-port", paramLabel = "PORT", defaultValue = "" + IndexerConfig.DEFAULT_METRICS_PORT,
            description = "Port of the Prometheus endpoint /metrics; -1 disables it. Default: ${DEFAULT-VALUE}.")
    int metricsPort;

    @Option(names = "--config", paramLabel = "FILE",
            description = "Properties file of option defaults (keys are option names without dashes).")
    String config;

    public static void main(String[] args) {
        System.exit(SwarmCli.run(new IndexerMain(), "SWARM_INDEXER_", args));
    }

    /** The configuration the options describe; validation problems come back as one IllegalArgumentException. */
    IndexerConfig toConfig() {
        List<String> mqttProblems = new ArrayList<>();
        MqttSecurity security = mqtt.resolve(brokers, (key, message) -> mqttProblems.add(key + ": " + message));
        IndexerConfig.Builder builder = IndexerConfig.builder()
                .brokers(brokers)
                .elasticsearch(elasticsearch)
                .pingsStream(pingsStream)
                .agentsStream(agentsStream)
                .clientId(clientId)
                .bulkSize(bulkSize)
                .bulkConcurrency(bulkConcurrency)
                .bulkWriter(bulkWriter)
                .mqttIntake(mqttIntake)
                .flushInterval(flushInterval)
                .spoolDir(spoolDir)
                .spoolMaxBytes(spoolMaxBytes)
                .deadLetterStream(deadLetterStream)
                .maxMessageBytes((int) Math.min(Integer.MAX_VALUE, maxMessageBytes))
                .elasticsearchAuth(es.auth())
                .shutdownTimeout(shutdownTimeout)
                .metricsHost(metricsHost)
                .metricsPort(metricsPort)
                .mqttSecurity(security != null ? security : MqttSecurity.NONE);
        // Every problem at once: the MQTT options' with the rest.
        try {
            IndexerConfig config = builder.build();
            if (mqttProblems.isEmpty()) {
                return config;
            }
        } catch (IllegalArgumentException e) {
            if (mqttProblems.isEmpty()) {
                throw e;
            }
            throw new IllegalArgumentException(e.getMessage() + "; " + String.join("; ", mqttProblems), e);
        }
        throw new IllegalArgumentException("invalid indexer configuration: " + String.join("; ", mqttProblems));
    }

    @Override
    public Integer call() throws InterruptedException {
        if (brokers == null || brokers.isEmpty()) {
            spec.commandLine().getErr().println("Missing required parameter: 'host[:port]'");
            spec.commandLine().usage(spec.commandLine().getErr());
            return ExitCodes.USAGE;
        }
        IndexerConfig cfg = toConfig();
        Indexer indexer = Indexer.start(cfg, Clock.systemUTC());
        Thread hook = new Thread(indexer::close, "swarm-indexer-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        LOG.info("swarm-indexer {} running; stop with SIGTERM or Ctrl-C", SwarmVersion.version());
        indexer.awaitTermination();
        return ExitCodes.OK;
    }
}
