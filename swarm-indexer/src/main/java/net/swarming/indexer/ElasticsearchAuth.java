package net.swarming.indexer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * How the indexer authenticates to Elasticsearch, and which CA it trusts for {@code https} URLs. At most one of basic
 * auth ({@code username} + {@code password}) and {@code apiKey} (the base64 {@code id:key} Elasticsearch returns as
 * {@code encoded}). {@link #toString()} never shows a secret.
 *
 * @param username basic-auth user, or null
 * @param password basic-auth password, or null
 * @param apiKey encoded API key, or null
 * @param caFile PEM file of the CA certificate(s) to trust instead of the JVM's, or null
 */
public record ElasticsearchAuth(String username, String password, String apiKey, Path caFile) {

    /** No credentials, the JVM's trust store. */
    public static final ElasticsearchAuth NONE = new ElasticsearchAuth(null, null, null, null);

    /** Problems with these settings, each naming the option and the fix; empty when fine. */
    public List<String> problems() {
        List<String> problems = new ArrayList<>();
        if ((username == null) != (password == null)) {
            problems.add("elasticsearch-username and elasticsearch-password: give both or neither");
        }
        if (username != null && apiKey != null) {
            problems.add("elasticsearch-api-key: cannot be combined with elasticsearch-username; choose one");
        }
        if (apiKey != null && apiKey.isBlank()) {
            problems.add("elasticsearch-api-key: must not be empty");
        }
        if (caFile != null && !Files.isReadable(caFile)) {
            problems.add("elasticsearch-ca: '" + caFile + "' is not a readable file; give the PEM file of the CA "
                    + "that signed the Elasticsearch certificate");
        }
        return problems;
    }

    @Override
    public String toString() {
        String how = apiKey != null ? "api key" : username != null ? "basic auth as " + username : "no credentials";
        return how + (caFile != null ? ", CA " + caFile : "");
    }
}
