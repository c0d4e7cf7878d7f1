package net.swarming.indexer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import net.swarming.common.cli.Durations;
import net.swarming.common.cli.ExitCodes;
import net.swarming.common.cli.MqttSecurityOptions;
import net.swarming.common.mqtt.BrokerAddress;
import net.swarming.common.mqtt.MqttSecurity;
import net.swarming.indexer.internal.cli.Converters;
import net.swarming.indexer.internal.watch.WatchPublisher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code swarm-indexer watch [--file F [--follow]] [-t target]... host[:port]...}: publishes the swarm's target list as a
 * retained QoS 1 {@code watch} message to every broker; with {@code --follow}, publishes again whenever the file
 * changes.
 */
@Command(name = "watch", mixinStandardHelpOptions = true, sortOptions = false, usageHelpAutoWidth = true,
        description = {"Publishes the target list as a retained QoS 1 'watch' message to every broker.",
            "Targets come from --target options and/or --file (separated by spaces or new lines, # comments)."})
public final class WatchCommand implements Callable<Integer> {

    private static final Logger LOG = LoggerFactory.getLogger(WatchCommand.class);

    @Parameters(arity = "1..*", paramLabel = "host[:port]", converter = Converters.Broker.class,
            description = "Brokers to publish to (default port 1883).")
    List<BrokerAddress> brokers;

    @Option(names = {"-t", "--target"}, paramLabel = "TARGET", split = " ",
            description = "A target (repeat, or several separated by spaces).")
    List<String> targets = new ArrayList<>();

    @Option(names = {"-f", "--file"}, paramLabel = "FILE", description = "File of targets.")
    Path file;

    @Option(names = "--follow", description = "Keep running and publish again whenever --file changes.")
    boolean follow;

    @Option(names = "--poll", paramLabel = "DURATION", defaultValue = "1s", converter = Durations.Converter.class,
            description = "How often --follow checks the file. Default: ${DEFAULT-VALUE}.")
    Duration poll;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "30s", converter = Durations.Converter.class,
            description = "Longest wait for every broker to acknowledge. Default: ${DEFAULT-VALUE}.")
    Duration timeout;

    @Mixin
    MqttSecurityOptions mqtt = new MqttSecurityOptions();

    private List<String> targetsWith(String fileContent) {
        List<String> all = new ArrayList<>(targets);
        if (fileContent != null) {
            all.addAll(WatchPublisher.parseTargets(fileContent));
        }
        return all;
    }

    @Override
    public Integer call() throws Exception {
        if (follow && file == null) {
            throw new IllegalArgumentException("--follow needs --file");
        }
        if (file == null && targets.isEmpty()) {
            throw new IllegalArgumentException("no targets: give --target or --file");
        }
        List<String> problems = new ArrayList<>();
        MqttSecurity security = mqtt.resolve(brokers, (key, message) -> problems.add("--" + key + ": " + message));
        if (security == null) {
            throw new IllegalArgumentException(String.join("; ", problems));
        }
        LOG.info("publishing to {} ({})", brokers, MqttSecurityOptions.describe(security));
        try (WatchPublisher publisher = new WatchPublisher(brokers, security, Clock.systemUTC())) {
            // The content is read once and published: a change made while publishing is seen by the next poll.
            String last = file == null ? null : Files.readString(file);
            List<String> failed = publisher.publish(targetsWith(last), timeout);
            if (!follow) {
                if (!failed.isEmpty()) {
                    LOG.error("the watch list did not reach {}", failed);
                    return ExitCodes.FAILURE;
                }
                return ExitCodes.OK;
            }
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    Thread.sleep(poll.toMillis());
                } catch (InterruptedException e) {
                    // Stopped (Ctrl-C, or the embedding thread): the retained list stays on the brokers.
                    break;
                }
                String now;
                try {
                    now = Files.readString(file);
                } catch (IOException e) {
                    LOG.warn("cannot read {}: {}; keeping the last list", file, e.toString());
                    continue;
                }
                if (now.equals(last)) {
                    continue;
                }
                try {
                    List<String> changed = targetsWith(now);
                    LOG.info("{} changed: publishing {} targets", file, changed.size());
                    failed = publisher.publish(changed, timeout);
                    if (failed.isEmpty()) {
                        last = now;
                    } else {
                        LOG.error("the watch list did not reach {}; trying again", failed);
                    }
                } catch (IllegalArgumentException e) {
                    last = now;
                    LOG.error("{} has an invalid target, not published: {}", file, e.getMessage());
                }
            }
            return ExitCodes.OK;
        }
    }
}
