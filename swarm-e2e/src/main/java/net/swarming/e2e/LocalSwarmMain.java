package net.swarming.e2e;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import net.swarming.agent.Agent;
import net.swarming.agent.AgentConfig;
import net.swarming.broker.BrokerConfig;
import net.swarming.broker.SwarmBroker;
import net.swarming.common.cli.Durations;
import net.swarming.common.cli.ExitCodes;
import net.swarming.common.cli.StartupException;
import net.swarming.common.cli.SwarmCli;
import net.swarming.common.cli.SwarmVersion;
import net.swarming.common.mqtt.BrokerAddress;
import net.swarming.common.mqtt.MqttLink;
import net.swarming.common.mqtt.MqttLinkConfig;
import net.swarming.common.wire.Topics;
import net.swarming.common.wire.WatchDecoder;
import net.swarming.common.wire.WatchEncoder;
import net.swarming.common.wire.WatchLimits;
import net.swarming.common.wire.WatchRejectedException;
import net.swarming.indexer.Indexer;
import net.swarming.indexer.IndexerConfig;
import net.swarming.testkit.LocalElasticsearch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code bin/local-swarm}: a whole swarm on one machine — an Elasticsearch node from the minimal distribution, a
 * swarm-broker, one agent and the indexer — for trying Swarming out and for demos.
 */
@Command(name = "local-swarm", mixinStandardHelpOptions = true, versionProvider = SwarmVersion.class,
        description = "Runs Elasticsearch, a swarm-broker, one agent and the indexer on this machine until Ctrl-C.")
public final class LocalSwarmMain implements Callable<Integer> {

    private static final Logger LOG = LoggerFactory.getLogger(LocalSwarmMain.class);

    @Spec
    CommandSpec spec;

    @Option(names = "--mqtt-port", defaultValue = "1883", description = "Port of the local broker (default ${DEFAULT-VALUE}).")
    int mqttPort;

    @Option(names = "--es-port", defaultValue = "9200", description = "HTTP port of the local Elasticsearch node (default ${DEFAULT-VALUE}).")
    int esPort;

    @Option(names = "--es-heap", defaultValue = "512m", description = "Heap of the Elasticsearch node (default ${DEFAULT-VALUE}).")
    String esHeap;

    @Option(names = "--es-zip", description = "The Elasticsearch distribution zip (default: the one Maven fetched for this build).")
    Path esZip;

    @Option(names = "--work-dir", defaultValue = "local-swarm",
            description = "Where the node's data, the broker's data and logs live; kept between runs (default ${DEFAULT-VALUE}).")
    Path workDir;

    @Option(names = "--targets", defaultValue = "127.0.0.1 localhost ::1",
            description = "Retained watch published at start when the broker holds none (default \"${DEFAULT-VALUE}\"); \"\" to publish nothing.")
    String targets;

    @Option(names = "--step", defaultValue = "10s", converter = Durations.Converter.class,
            description = "The agent's step between rounds of one target (default ${DEFAULT-VALUE}).")
    Duration step;

    @Option(names = "--pings", defaultValue = "5",
            description = "Probes per round, one per second; the round must fit in the step (default ${DEFAULT-VALUE}).")
    int pings;

    @Option(names = "--metrics", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Serve Prometheus metrics on 9461 (agent), 9462 (indexer), 9463 (broker); --no-metrics turns them off.")
    boolean metrics;

    public static void main(String[] args) {
        System.exit(SwarmCli.run(new LocalSwarmMain(), "SWARM_LOCAL_", args));
    }

    @Override
    public Integer call() throws Exception {
        checkTargets();
        Path work = workDir.toAbsolutePath();
        Files.createDirectories(work);
        Path zip = esZip != null ? esZip : defaultZip();
        if (!Files.isRegularFile(zip)) {
            throw new StartupException("Elasticsearch distribution not found at " + zip
                    + "; run `mvn -DskipTests install` first or give --es-zip");
        }
        List<AutoCloseable> running = new ArrayList<>();
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            stopAll(running);
            stopped.countDown();
        }, "local-swarm-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            LOG.info("starting Elasticsearch on 127.0.0.1:{} (data in {})", esPort, work.resolve("elasticsearch"));
            // Stopped by our own ordered hook below, after the indexer has flushed into it.
            LocalElasticsearch es = LocalElasticsearch.builder()
                    .zip(zip)
                    .installBase(work.resolve("elasticsearch"))
                    .nodeDir(work.resolve("elasticsearch").resolve("node"))
                    .httpPort(esPort)
                    .heap(esHeap)
                    .stopAtJvmExit(false)
                    .start();
            running.add(es);

            SwarmBroker broker = SwarmBroker.start(BrokerConfig.defaults()
                    .withListener("127.0.0.1", mqttPort)
                    .withDataDir(work.resolve("broker"))
                    .withMetrics("127.0.0.1", metrics ? BrokerConfig.DEFAULT_METRICS_PORT : BrokerConfig.METRICS_OFF));
            running.add(broker);
            BrokerAddress brokerAddress = BrokerAddress.parse("127.0.0.1:" + broker.port());

            Indexer indexer = Indexer.start(IndexerConfig.builder()
                    .brokers(List.of(brokerAddress))
                    .elasticsearch(List.of(URI.create(es.url())))
                    .spoolDir(work.resolve("indexer-spool"))
                    .metricsHost("127.0.0.1").metricsPort(metrics ? IndexerConfig.DEFAULT_METRICS_PORT : IndexerConfig.METRICS_DISABLED)
                    .build(), Clock.systemUTC());
            running.add(indexer);

            publishWatch(brokerAddress);

            Agent agent = Agent.start(AgentConfig.builder()
                    .brokers(List.of(brokerAddress))
                    .step(step)
                    .pings(pings)
                    .location("local")
                    .spoolDir(work.resolve("agent-spool"))
                    .metrics("127.0.0.1", metrics ? AgentConfig.DEFAULT_METRICS_PORT : AgentConfig.METRICS_OFF)
                    .build(), Clock.systemUTC());
            running.add(agent);

            printHowTo(es.url(), broker.port(), agent.config().name());
        } catch (RuntimeException e) {
            Runtime.getRuntime().removeShutdownHook(hook);
            stopAll(running);
            throw e;
        }
        stopped.await();
        return ExitCodes.OK;
    }

    private void checkTargets() {
        if (targets.isBlank()) {
            return;
        }
        try {
            new WatchDecoder(WatchLimits.DEFAULT).decode(targets.getBytes(StandardCharsets.UTF_8));
        } catch (WatchRejectedException e) {
            throw new IllegalArgumentException("--targets: " + e.getMessage(), e);
        }
    }

    /** Publishes the starting targets as a retained watch, as an operator would with mosquitto_pub. */
    private void publishWatch(BrokerAddress broker) throws Exception {
        if (targets.isBlank()) {
            return;
        }
        MqttLinkConfig config = MqttLinkConfig.builder()
                .broker(broker)
                .clientId(MqttLink.defaultClientId("local-swarm"))
                .build();
        try (MqttLink link = new MqttLink(config, m -> { }, Clock.systemUTC())) {
            link.start();
            if (!link.awaitConnected(Duration.ofSeconds(10))) {
                throw new StartupException("could not connect to the local broker at " + broker);
            }
            List<String> names = List.of(targets.trim().split("\\s+"));
            link.publish(Topics.WATCH, WatchEncoder.encodeText(names), 1, true).get(10, TimeUnit.SECONDS);
            LOG.info("published retained watch: {}", String.join(" ", names));
        }
    }

    private void printHowTo(String esUrl, int port, String agentName) {
        PrintWriter out = spec.commandLine().getOut();
        String p = port == 1883 ? "" : " -p " + port;
        out.println();
        out.println("Local swarm running: Elasticsearch " + esUrl + ", broker 127.0.0.1:" + port + ", agent "
                + agentName + ", indexer. Ctrl-C stops everything.");
        out.println();
        out.println("  Change the targets:   mosquitto_pub" + p + " -t watch -m \"127.0.0.1 localhost ::1\" -q 1 -r");
        out.println("  Watch results:        mosquitto_sub" + p + " -t 'ping/+' -v");
        out.println("  Look at the data:     curl '" + esUrl + "/_cat/indices?v&expand_wildcards=all'");
        out.println("                        curl '" + esUrl + "/swarm-pings-default/_search?size=3&sort=@timestamp:desc&pretty'");
        if (metrics) {
            out.println("  Metrics:              curl http://127.0.0.1:9461/metrics   (indexer 9462, broker 9463)");
        }
        out.println();
        out.flush();
    }

    private static void stopAll(List<AutoCloseable> running) {
        for (int i = running.size() - 1; i >= 0; i--) {
            AutoCloseable c = running.get(i);
            try {
                c.close();
            } catch (Exception e) {
                LOG.warn("stopping {} failed: {}", c, e.toString());
            }
        }
        running.clear();
    }

    private static Path defaultZip() {
        Properties p = new Properties();
        try (InputStream in = LocalSwarmMain.class.getResourceAsStream("local-swarm.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String zip = p.getProperty("es.zip", "");
        if (!zip.isEmpty() && !zip.startsWith("${")) {
            return Path.of(zip);
        }
        String version = p.getProperty("es.version", "8.19.21");
        return Path.of(System.getProperty("user.home"), ".m2", "repository", "org", "elasticsearch", "distribution",
                "integ-test-zip", "elasticsearch", version, "elasticsearch-" + version + ".zip");
    }
}
