package net.swarming.agent;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;
import java.util.function.Function;
import net.swarming.agent.AgentConfigException.Problem;
import net.swarming.common.cli.Durations;
import net.swarming.agent.probe.ProbeRegistry;
import net.swarming.agent.probe.icmp.IcmpOptions;
import net.swarming.agent.probe.icmp.IcmpProbe;
import net.swarming.common.cli.ExitCodes;
import net.swarming.common.cli.MqttSecurityOptions;
import net.swarming.common.cli.SwarmCli;
import net.swarming.common.cli.SwarmVersion;
import net.swarming.common.mqtt.BrokerAddress;
import net.swarming.common.mqtt.MqttSecurity;
import net.swarming.common.wire.ProbeType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code swarm-agent [options] host[:port]...}: the command line of the original agent (brokers as arguments, the
 * original's {@code localhost 127.0.0.1:1884} when none), plus options. Every option also comes from the environment
 * ({@code SWARM_AGENT_STEP} for {@code --step}) or from the {@code --config} properties file ({@code step=30s}).
 *
 * <p>Values are read as text and checked together, so that one run reports every bad value (exit 2) rather than the
 * first one. Runs until SIGTERM or SIGINT, then shuts the agent down in order from a shutdown hook; the JVM then exits
 * with the signal's status (143 for SIGTERM), which systemd units declare with {@code SuccessExitStatus=143}.
 */
@Command(name = "swarm-agent", mixinStandardHelpOptions = true, versionProvider = SwarmVersion.class,
        sortOptions = false, usageHelpAutoWidth = true,
        description = {
            "The bee of the swarm: takes its target list from the MQTT topic 'watch', probes every target once per "
                    + "step, and publishes each round's result on 'ping/<target>' (QoS 1).",
            "Probes nothing until a watch arrives, e.g.: mosquitto_pub -t watch -r -q 1 -m \"example.org 192.0.2.1\"",
            "Every option can also be set as environment variable SWARM_AGENT_<OPTION> (SWARM_AGENT_STEP=30s) or as "
                    + "key of the --config file (step=30s)."
        },
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:--help, --version",
            "1:unexpected failure",
            "2:bad command line or configuration",
            "3:could not start (e.g. metrics port in use)",
            "143:stopped by SIGTERM after an orderly shutdown (130: SIGINT), as for every JVM"
        })
public final class AgentMain implements Callable<Integer> {

    private static final Logger LOG = LoggerFactory.getLogger(AgentMain.class);

    @Parameters(paramLabel = "host[:port]", arity = "0..*",
            description = "MQTT brokers (host, host:port, tcp://host:port, ssl://host:port, [ipv6]:port), tried in "
                    + "shuffled order, one at a time. Default: localhost 127.0.0.1:1884.")
    List<String> brokers = new ArrayList<>();

    @Option(names = "--name", paramLabel = "NAME",
            description = "Agent name in results and in its will topic rip/agent/<name>. Default: this host's name.")
    String name;

    @Option(names = "--client-id", paramLabel = "ID",
            description = "MQTT client id, unique per running agent. Default: swarm-agent-<host>-<random>.")
    String clientId;

    @Option(names = "--format", paramLabel = "original|v2", defaultValue = "v2",
            description = "Result payload: v2 (every RTT, counts, loss, median/p95, resolved address, round start, "
                    + "error answers), or the original agent's array for old readers. Default: ${DEFAULT-VALUE}.")
    String format;

    @Option(names = "--probe", paramLabel = "TYPE", defaultValue = "icmp",
            description = "Probe for targets whose watch entry names none. Available: icmp (needs CAP_NET_RAW or ping_group_range), tcp, http (URL targets), dns. Default: ${DEFAULT-VALUE}.")
    String probe;

    @Option(names = "--tcp-port", paramLabel = "PORT", defaultValue = "80",
            description = "Port TCP probes connect to when the watch names none. Default: ${DEFAULT-VALUE}.")
    String tcpPort;

    @Option(names = "--step", paramLabel = "DURATION", defaultValue = "60s",
            description = "Time between two rounds of a target (500ms, 60s, 2m…). Default: ${DEFAULT-VALUE}.")
    String step;

    @Option(names = "--pings", paramLabel = "N", defaultValue = "20",
            description = "Probes per round. Default: ${DEFAULT-VALUE}.")
    String pings;

    @Option(names = "--ping-interval", paramLabel = "DURATION", defaultValue = "1s",
            description = "Spacing of the probes of a round. Default: ${DEFAULT-VALUE}.")
    String pingInterval;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "1s",
            description = "How long one probe waits for its answer. Default: ${DEFAULT-VALUE}.")
    String timeout;

    @Option(names = "--max-parallel", paramLabel = "N", defaultValue = "64",
            description = "Targets probed at the same time. Default: ${DEFAULT-VALUE}.")
    String maxParallel;

    @Option(names = "--queue-capacity", paramLabel = "N", defaultValue = "10000",
            description = "Results kept in memory while no broker is reachable; the oldest are dropped beyond. "
                    + "Default: ${DEFAULT-VALUE}.")
    String queueCapacity;

    @Option(names = "--metrics-host", paramLabel = "HOST", defaultValue = "127.0.0.1",
            description = "Address of the Prometheus endpoint /metrics. Default: ${DEFAULT-VALUE}.")
    String metricsHost;

    @Option(names = "--metrics-port", paramLabel = "PORT", defaultValue = "9461",
            description = "Port of /metrics; 0 picks a free port, -1 turns it off. Default: ${DEFAULT-VALUE}.")
    String metricsPort;

    @Option(names = "--location", paramLabel = "LABEL",
            description = "Where this agent stands (free text, e.g. 'Paris, AS3215'), announced in its birth message.")
    String location;

    @Option(names = "--spool-dir", paramLabel = "DIR", defaultValue = "swarm-agent-spool",
            description = "Directory where results wait on disk while no broker is reachable (and across a clean "
                    + "restart); 'none' keeps them in memory only. Default: ${DEFAULT-VALUE} (under the working "
                    + "directory).")
    String spoolDir;

    @Option(names = "--spool-max-bytes", paramLabel = "BYTES", defaultValue = "268435456",
            description = "Most bytes the spool keeps; beyond it the oldest results are dropped and counted. "
                    + "Default: ${DEFAULT-VALUE} (256 MiB).")
    String spoolMaxBytes;

    @Option(names = "--min-probe-interval", paramLabel = "DURATION", defaultValue = "100ms",
            description = "Shortest time between two probes to the same target, whatever the watch asks for. "
                    + "Default: ${DEFAULT-VALUE}.")
    String minProbeInterval;

    @Option(names = "--max-pps", paramLabel = "N", defaultValue = "1000",
            description = "Most ICMP echo requests per second, all targets together (a global cap; rounds that "
                    + "would exceed it are delayed, not dropped). Default: ${DEFAULT-VALUE}.")
    String maxPps;

    @Mixin
    MqttSecurityOptions mqtt = new MqttSecurityOptions();

    @Option(names = "--config", paramLabel = "FILE",
            description = "Properties file with defaults for the options above (keys without dashes: step=30s).")
    Path config;

    @Spec
    CommandSpec spec;

    /** {@code --max-pps} once parsed. */
    int maxPpsValue = IcmpOptions.DEFAULT_MAX_PPS;

    public static void main(String[] args) {
        System.exit(SwarmCli.run(new AgentMain(), "SWARM_AGENT_", args));
    }

    @Override
    public Integer call() throws Exception {
        List<Problem> problems = new ArrayList<>();
        AgentConfig agentConfig = toConfig(problems);
        if (agentConfig == null) {
            PrintWriter err = spec.commandLine().getErr();
            for (Problem p : problems) {
                err.println("error: " + optionName(p.key()) + ": " + p.message());
            }
            err.println("Run swarm-agent --help for the options.");
            err.flush();
            return ExitCodes.USAGE;
        }
        IcmpOptions icmp = IcmpOptions.defaults().withMaxPps(maxPpsValue)
                .withMinTargetInterval(agentConfig.minProbeInterval());
        Agent agent = Agent.start(agentConfig, Clock.systemUTC(),
                ProbeRegistry.builtIn().with(ProbeType.ICMP, context -> new IcmpProbe(context, icmp)));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            LOG.info("shutdown requested");
            try {
                agent.close();
            } finally {
                stopped.countDown();
            }
        }, "swarm-agent-shutdown"));
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            agent.close();
            return ExitCodes.FAILURE;
        }
        return ExitCodes.OK;
    }

    /**
     * Reads every option; collects every problem (parse errors first, then range checks of the values that parsed).
     *
     * @return the configuration, or null when {@code problems} is not empty
     */
    AgentConfig toConfig(List<Problem> problems) {
        AgentConfig.Builder b = AgentConfig.builder();
        Set<String> unparsed = new HashSet<>();
        List<BrokerAddress> parsed = new ArrayList<>();
        if (!brokers.isEmpty()) {
            for (String s : brokers) {
                try {
                    parsed.add(BrokerAddress.parse(s));
                } catch (IllegalArgumentException e) {
                    problems.add(new Problem("brokers", e.getMessage()));
                }
            }
            if (new HashSet<>(parsed).size() != parsed.size()) {
                problems.add(new Problem("brokers", parsed + " lists a broker twice; list each broker once"));
            }
            if (!parsed.isEmpty()) {
                b.brokers(parsed);
            }
        }
        // Only a complete broker list can tell whether a CA file would be used.
        List<BrokerAddress> forSecurity = brokers.isEmpty() ? defaultBrokers()
                : parsed.size() == brokers.size() ? parsed : List.of();
        MqttSecurity security = mqtt.resolve(forSecurity,
                (key, message) -> problems.add(new Problem(key, message)));
        if (security != null) {
            b.mqttSecurity(security);
        }
        b.name(name).clientId(clientId);
        parse("format", format, AgentMain::parseFormat, b::format, problems, unparsed);
        parse("probe", probe, AgentMain::parseProbe, b::probe, problems, unparsed);
        parse("tcp-port", tcpPort, AgentMain::parseInt, b::tcpPort, problems, unparsed);
        parse("step", step, Durations::parse, b::step, problems, unparsed);
        parse("pings", pings, AgentMain::parseInt, b::pings, problems, unparsed);
        parse("ping-interval", pingInterval, Durations::parse, b::pingInterval, problems, unparsed);
        parse("timeout", timeout, Durations::parse, b::timeout, problems, unparsed);
        parse("max-parallel", maxParallel, AgentMain::parseInt, b::maxParallel, problems, unparsed);
        parse("queue-capacity", queueCapacity, AgentMain::parseInt, b::queueCapacity, problems, unparsed);
        b.metricsHost(metricsHost);
        b.location(location);
        if (spoolDir != null) {
            String dir = spoolDir.strip();
            b.spoolDir(dir.equalsIgnoreCase("none") || dir.isEmpty() ? null : Path.of(dir));
        }
        parse("spool-max-bytes", spoolMaxBytes, AgentMain::parseLong, b::spoolMaxBytes, problems, unparsed);
        parse("min-probe-interval", minProbeInterval, Durations::parse, b::minProbeInterval, problems, unparsed);
        parse("metrics-port", metricsPort, AgentMain::parseInt, b::metricsPort, problems, unparsed);
        parse("max-pps", maxPps, AgentMain::parseInt, v -> maxPpsValue = v, problems, unparsed);
        if (maxPpsValue < 1) {
            problems.add(new Problem("max-pps", "must be at least 1, got " + maxPpsValue));
        }
        AgentConfig built = null;
        try {
            built = b.build();
        } catch (AgentConfigException e) {
            for (Problem p : e.problems()) {
                // A value that did not parse was left at its default; its range check would only add noise.
                if (!unparsed.contains(p.key())) {
                    problems.add(p);
                }
            }
        }
        return problems.isEmpty() ? built : null;
    }

    private static List<BrokerAddress> defaultBrokers() {
        return AgentConfig.DEFAULT_BROKERS.stream().map(BrokerAddress::parse).toList();
    }

    private static <T> void parse(String key, String text, Function<String, T> parser, Consumer<T> setter,
                                  List<Problem> problems, Set<String> unparsed) {
        if (text == null) {
            return;
        }
        try {
            setter.accept(parser.apply(text));
        } catch (IllegalArgumentException e) {
            problems.add(new Problem(key, e.getMessage()));
            unparsed.add(key);
        }
    }

    private static Integer parseInt(String text) {
        try {
            return Integer.valueOf(text.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' is not a whole number", e);
        }
    }

    private static Long parseLong(String text) {
        try {
            return Long.valueOf(text.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' is not a whole number", e);
        }
    }

    private static ResultFormat parseFormat(String text) {
        return switch (text.strip().toLowerCase(Locale.ROOT)) {
            case "original" -> ResultFormat.ORIGINAL;
            case "v2" -> ResultFormat.V2;
            default -> throw new IllegalArgumentException("'" + text + "' is not a format; one of original, v2");
        };
    }

    private static ProbeType parseProbe(String text) {
        ProbeType type = ProbeType.fromWire(text.strip());
        ProbeRegistry available = ProbeRegistry.builtIn();
        if (!available.supports(type)) {
            throw new IllegalArgumentException(type.wireName() + " probes are not available in this build yet; "
                    + "available: " + available.types().stream().map(ProbeType::wireName).toList());
        }
        return type;
    }

    private static String optionName(String key) {
        return key.equals("brokers") ? "host[:port]" : "--" + key;
    }
}
