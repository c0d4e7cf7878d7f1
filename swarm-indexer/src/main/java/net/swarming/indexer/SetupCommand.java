package net.swarming.indexer;

import java.net.URI;
import java.util.List;
import java.util.concurrent.Callable;
import net.swarming.common.cli.ExitCodes;
import net.swarming.indexer.internal.cli.Converters;
import net.swarming.indexer.internal.pipeline.SinkUnavailableException;
import net.swarming.indexer.internal.sink.elasticsearch.ElasticsearchSink;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code swarm-indexer setup}: installs or upgrades the index templates (results, agents, dead letters) and exits;
 * what the indexer also does at start-up, for deployments that prepare Elasticsearch first.
 */
@Command(name = "setup", mixinStandardHelpOptions = true, sortOptions = false, usageHelpAutoWidth = true,
        description = "Installs or upgrades the swarm-pings, swarm-agents and swarm-deadletter index templates.")
public final class SetupCommand implements Callable<Integer> {

    private static final Logger LOG = LoggerFactory.getLogger(SetupCommand.class);

    @Option(names = "--elasticsearch", paramLabel = "URL", split = ",", converter = Converters.ElasticsearchUrl.class,
            defaultValue = "http://localhost:9200",
            description = "Elasticsearch node URL; repeat or separate with commas. Default: ${DEFAULT-VALUE}.")
    List<URI> elasticsearch;

    @Mixin
    ElasticsearchOptions es = new ElasticsearchOptions();

    @Override
    public Integer call() {
        ElasticsearchAuth auth = es.auth();
        List<String> problems = auth.problems();
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(String.join("; ", problems));
        }
        try (ElasticsearchSink sink = new ElasticsearchSink(elasticsearch, auth)) {
            sink.prepare();
            LOG.info("index templates installed on {}", elasticsearch);
            return ExitCodes.OK;
        } catch (SinkUnavailableException e) {
            LOG.error("{}: {}", e.getMessage(), e.getCause() == null ? "" : e.getCause().toString());
            return ExitCodes.FAILURE;
        }
    }
}
