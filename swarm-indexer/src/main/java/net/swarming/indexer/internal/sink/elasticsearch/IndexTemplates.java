package net.swarming.indexer.internal.sink.elasticsearch;

import co.elastic.clients.elasticsearch.ElasticsearchClient;
import co.elastic.clients.elasticsearch._types.ElasticsearchException;
import co.elastic.clients.elasticsearch.indices.GetIndexTemplateResponse;
import co.elastic.clients.elasticsearch.indices.PutIndexTemplateRequest;
import co.elastic.clients.elasticsearch.indices.get_index_template.IndexTemplateItem;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The composable index templates behind the data streams: {@code swarm-pings} for {@code swarm-pings-*} and
 * {@code swarm-agents} for {@code swarm-agents-*}. Installed (or upgraded) before the first write, because a write to
 * a data stream name without its template would create a plain index with guessed mappings.
 *
 * <p>A template already installed by a newer indexer (higher {@code version}) is left alone, so an old indexer
 * restarted beside a new one cannot downgrade the mappings.
 */
public final class IndexTemplates {

    private static final Logger LOG = LoggerFactory.getLogger(IndexTemplates.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One template: its name, its body as sent to {@code PUT _index_template/<name>}, and its version. */
    public record Template(String name, String body, long version) {}

    public static final List<Template> ALL = List.of(load("swarm-pings"), load("swarm-agents"),
            load("swarm-deadletter"));

    private IndexTemplates() {}

    /** Installs every template; throws on the first failure so the caller retries the lot later. */
    public static void install(ElasticsearchClient client) throws IOException {
        for (Template t : ALL) {
            Long installed = installedVersion(client, t.name());
            if (installed != null && installed > t.version()) {
                LOG.warn("index template {} has version {} in Elasticsearch, newer than this indexer's {}: kept",
                        t.name(), installed, t.version());
                continue;
            }
            client.indices().putIndexTemplate(PutIndexTemplateRequest.of(b -> b
                    .name(t.name())
                    .withJson(new StringReader(t.body()))));
            if (installed == null) {
                LOG.info("installed index template {} version {}", t.name(), t.version());
            } else if (installed < t.version()) {
                LOG.info("upgraded index template {} from version {} to {}", t.name(), installed, t.version());
            } else {
                LOG.info("index template {} version {} is up to date", t.name(), t.version());
            }
        }
    }

    private static Long installedVersion(ElasticsearchClient client, String name) throws IOException {
        GetIndexTemplateResponse response;
        try {
            response = client.indices().getIndexTemplate(g -> g.name(name));
        } catch (ElasticsearchException e) {
            if (e.status() == 404) {
                return null;
            }
            throw e;
        }
        for (IndexTemplateItem item : response.indexTemplates()) {
            if (item.name().equals(name)) {
                Long v = item.indexTemplate().version();
                return v == null ? 0L : v;
            }
        }
        return null;
    }

    private static Template load(String name) {
        String resource = name + ".json";
        try (InputStream in = IndexTemplates.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("index template resource " + resource + " is missing from the jar");
            }
            String body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            JsonNode version = JSON.readTree(body).path("version");
            if (!version.canConvertToLong()) {
                throw new IllegalStateException("index template " + resource + " has no numeric version");
            }
            return new Template(name, body, version.asLong());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read index template " + resource, e);
        }
    }
}
