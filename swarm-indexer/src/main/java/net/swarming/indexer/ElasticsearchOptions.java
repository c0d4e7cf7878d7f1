package net.swarming.indexer;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The Elasticsearch credential and TLS options, shared by the indexer and its {@code setup} command. */
public final class ElasticsearchOptions {

    @Option(names = "--elasticsearch-username", paramLabel = "USER",
            description = "Basic-auth user for Elasticsearch (with --elasticsearch-password).")
    String username;

    @Option(names = "--elasticsearch-password", paramLabel = "PASSWORD",
            description = "Basic-auth password; prefer SWARM_INDEXER_ELASTICSEARCH_PASSWORD or --config to the "
                    + "command line.")
    String password;

    @Option(names = "--elasticsearch-api-key", paramLabel = "KEY",
            description = "Elasticsearch API key (the base64 'encoded' value); instead of basic auth.")
    String apiKey;

    @Option(names = "--elasticsearch-ca", paramLabel = "PEM",
            description = "CA certificate file (PEM) to trust for https Elasticsearch URLs.")
    Path caFile;

    /** The options as credentials. */
    public ElasticsearchAuth auth() {
        return new ElasticsearchAuth(username, password, apiKey, caFile);
    }
}
