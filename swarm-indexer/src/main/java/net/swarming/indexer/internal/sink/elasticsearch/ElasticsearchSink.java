package net.swarming.indexer.internal.sink.elasticsearch;

import co.elastic.clients.elasticsearch.ElasticsearchClient;
import co.elastic.clients.elasticsearch._types.ElasticsearchException;
import co.elastic.clients.elasticsearch._types.ErrorCause;
import co.elastic.clients.elasticsearch.core.BulkRequest;
import co.elastic.clients.elasticsearch.core.BulkResponse;
import co.elastic.clients.elasticsearch.core.bulk.BulkOperation;
import co.elastic.clients.elasticsearch.core.bulk.BulkResponseItem;
import co.elastic.clients.elasticsearch.core.bulk.CreateOperation;
import co.elastic.clients.json.jackson.JacksonJsonpMapper;
import co.elastic.clients.transport.rest_client.RestClientTransport;
import co.elastic.clients.util.BinaryData;
import co.elastic.clients.util.ContentType;
import java.io.IOException;
import java.nio.file.Path;
import javax.net.ssl.SSLContext;
import net.swarming.common.tls.PemTrust;
import net.swarming.indexer.ElasticsearchAuth;
import org.apache.http.Header;
import org.apache.http.auth.AuthScope;
import org.apache.http.auth.UsernamePasswordCredentials;
import org.apache.http.impl.client.BasicCredentialsProvider;
import org.apache.http.message.BasicHeader;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.concurrent.atomic.AtomicBoolean;
import net.swarming.indexer.internal.document.IndexDocument;
import net.swarming.indexer.internal.pipeline.BulkOutcome;
import net.swarming.indexer.internal.pipeline.DocumentSink;
import net.swarming.indexer.internal.pipeline.RejectedDocument;
import net.swarming.indexer.internal.pipeline.SinkUnavailableException;
import org.apache.http.HttpHost;
import org.elasticsearch.client.RestClient;
import org.elasticsearch.client.RestClientBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Elasticsearch client: installs the templates, and for the own writer ({@code --bulk-writer OWN}) writes batches
 * with one synchronous {@code _bulk} request of {@code create} operations (data streams accept nothing else), reading
 * the response item by item. The default writer, {@link IngesterWriter}, sends through the client's BulkIngester over
 * the same transport and checks items with {@link #outcome}.
 */
public final class ElasticsearchSink implements DocumentSink {

    private static final Logger LOG = LoggerFactory.getLogger(ElasticsearchSink.class);

    static final int CONNECT_TIMEOUT_MS = 2_000;
    static final int SOCKET_TIMEOUT_MS = 30_000;
    /** Distinct item errors logged per batch at ERROR; the rest are counted. */
    private static final int MAX_ERROR_KINDS_LOGGED = 5;

    private final RestClientTransport transport;
    private final ElasticsearchClient client;
    private final String hosts;
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile Consumer<List<RejectedDocument>> rejectedHandler = rejected -> { };

    public ElasticsearchSink(List<URI> urls, ElasticsearchAuth auth) {
        HttpHost[] hostArray = new HttpHost[urls.size()];
        for (int i = 0; i < hostArray.length; i++) {
            URI u = urls.get(i);
            int port = u.getPort() != -1 ? u.getPort() : ("https".equalsIgnoreCase(u.getScheme()) ? 443 : 9200);
            hostArray[i] = new HttpHost(u.getHost(), port, u.getScheme().toLowerCase(java.util.Locale.ROOT));
        }
        RestClientBuilder builder = RestClient.builder(hostArray)
                .setRequestConfigCallback(rc -> rc
                        .setConnectTimeout(CONNECT_TIMEOUT_MS)
                        .setSocketTimeout(SOCKET_TIMEOUT_MS));
        if (auth.apiKey() != null) {
            builder.setDefaultHeaders(new Header[] {new BasicHeader("Authorization", "ApiKey " + auth.apiKey())});
        }
        SSLContext ssl = auth.caFile() == null ? null : sslContext(auth.caFile());
        builder.setHttpClientConfigCallback(hc -> {
            if (auth.username() != null) {
                BasicCredentialsProvider credentials = new BasicCredentialsProvider();
                credentials.setCredentials(AuthScope.ANY,
                        new UsernamePasswordCredentials(auth.username(), auth.password()));
                hc.setDefaultCredentialsProvider(credentials);
            }
            if (ssl != null) {
                hc.setSSLContext(ssl);
            }
            return hc;
        });
        String path = urls.get(0).getPath();
        if (path != null && !path.isEmpty() && !path.equals("/")) {
            builder.setPathPrefix(path);
        }
        this.transport = new RestClientTransport(builder.build(), new JacksonJsonpMapper());
        this.client = new ElasticsearchClient(transport);
        this.hosts = urls.toString();
    }

    /** Trusts exactly the CA certificates of a PEM file. */
    static SSLContext sslContext(Path caFile) {
        return PemTrust.sslContext(caFile, "elasticsearch-ca");
    }

    /** The low-level client, for requests the typed client does not cover (setup, benchmark). */
    public ElasticsearchClient client() {
        return client;
    }

    /** The transport, for the BulkIngester-based writer (which wraps it). */
    RestClientTransport transport() {
        return transport;
    }

    @Override
    public void prepare() throws SinkUnavailableException {
        try {
            IndexTemplates.install(client);
        } catch (ElasticsearchException e) {
            throw new SinkUnavailableException("cannot install index templates on " + hosts,
                    CredentialsRefusedException.isRefusal(e) ? new CredentialsRefusedException(e) : e);
        } catch (IOException | RuntimeException e) {
            throw new SinkUnavailableException("cannot install index templates on " + hosts, e);
        }
    }

    @Override
    public BulkOutcome write(List<IndexDocument> batch) throws SinkUnavailableException {
        List<BulkOperation> operations = new ArrayList<>(batch.size());
        for (IndexDocument doc : batch) {
            CreateOperation.Builder<BinaryData> create = new CreateOperation.Builder<BinaryData>()
                    .index(doc.index())
                    .document(BinaryData.of(doc.source(), ContentType.APPLICATION_JSON));
            if (doc.id() != null) {
                create.id(doc.id());
            }
            operations.add(new BulkOperation(create.build()));
        }
        BulkResponse response;
        try {
            response = client.bulk(BulkRequest.of(b -> b.operations(operations)));
        } catch (ElasticsearchException e) {
            if (e.status() == 429 || e.status() >= 500) {
                throw new SinkUnavailableException("Elasticsearch answered " + e.status() + " to _bulk", e);
            }
            if (CredentialsRefusedException.isRefusal(e)) {
                // Not the documents' fault: keep them until the credentials are fixed.
                throw new SinkUnavailableException("Elasticsearch answered " + e.status() + " to _bulk",
                        new CredentialsRefusedException(e));
            }
            // A request refused as a whole with a 4xx will be refused again: its documents become dead letters.
            return refusedAsAWhole(batch, e);
        } catch (IOException | RuntimeException e) {
            throw new SinkUnavailableException("_bulk request to " + hosts + " failed", e);
        }
        return outcome(batch, response);
    }

    @Override
    public void onRejected(Consumer<List<RejectedDocument>> handler) {
        this.rejectedHandler = Objects.requireNonNull(handler, "handler");
    }

    /** A {@code _bulk} request refused as a whole with a 4xx (not 429) would be refused again: its documents are rejected. */
    BulkOutcome refusedAsAWhole(List<IndexDocument> batch, ElasticsearchException e) {
        LOG.error("Elasticsearch refused a _bulk request of {} documents with {}: {}; documents go to the dead letters",
                batch.size(), e.status(), e.getMessage());
        String type = e.error() == null ? null : e.error().type();
        String reason = e.error() == null ? e.getMessage() : e.error().reason();
        List<RejectedDocument> rejected = new ArrayList<>(batch.size());
        for (IndexDocument doc : batch) {
            rejected.add(new RejectedDocument(doc, e.status(), type, reason));
        }
        handOver(rejected);
        return new BulkOutcome(0, 0, batch.size(), List.of());
    }

    private void handOver(List<RejectedDocument> rejected) {
        if (rejected.isEmpty()) {
            return;
        }
        try {
            rejectedHandler.accept(rejected);
        } catch (RuntimeException e) {
            LOG.error("could not hand {} refused documents to the dead letters", rejected.size(), e);
        }
    }

    /** Reads the response item by item (items come back in request order); refused documents go to the handler. */
    BulkOutcome outcome(List<IndexDocument> batch, BulkResponse response) {
        List<RejectedDocument> rejected = new ArrayList<>();
        BulkOutcome outcome = outcome(batch, response, rejected);
        handOver(rejected);
        return outcome;
    }

    /** Reads the response item by item: items come back in request order. */
    static BulkOutcome outcome(List<IndexDocument> batch, BulkResponse response, List<RejectedDocument> rejected) {
        List<BulkResponseItem> items = response.items();
        if (items.size() != batch.size()) {
            LOG.error("_bulk answered {} items for {} documents; counting the difference as failed", items.size(),
                    batch.size());
        }
        int written = 0;
        int duplicates = 0;
        int failed = Math.max(0, batch.size() - items.size());
        List<IndexDocument> retry = new ArrayList<>();
        Map<String, Integer> errorKinds = new LinkedHashMap<>();
        for (int i = 0; i < items.size() && i < batch.size(); i++) {
            BulkResponseItem item = items.get(i);
            ErrorCause error = item.error();
            int status = item.status();
            if (error == null && status >= 200 && status < 300) {
                written++;
            } else if (status == 409) {
                duplicates++;
            } else if (status == 429 || status >= 500) {
                retry.add(batch.get(i));
            } else if (status == 401 || status == 403) {
                // The credentials lack a privilege (e.g. on one data stream): not the document's fault, keep it.
                retry.add(batch.get(i));
                if (errorKinds.merge(status + " " + (error == null ? "?" : error.type()), 1, Integer::sum) == 1) {
                    LOG.error("Elasticsearch refused a document for {} with {}: {}; check the privileges of the"
                            + " configured credentials; documents stay in the spool and are sent again",
                            batch.get(i).index(), status, error == null ? "?" : error.reason());
                }
            } else {
                failed++;
                rejected.add(new RejectedDocument(batch.get(i), status, error == null ? null : error.type(),
                        error == null ? null : error.reason()));
                String kind = status + " " + (error == null ? "?" : error.type());
                if (errorKinds.merge(kind, 1, Integer::sum) == 1 && errorKinds.size() <= MAX_ERROR_KINDS_LOGGED) {
                    LOG.error("Elasticsearch refused a document for {}: {} {}: {}", batch.get(i).index(), status,
                            error == null ? "?" : error.type(), error == null ? "?" : error.reason());
                }
                LOG.debug("refused document {}: {}", batch.get(i).id(), batch.get(i).sourceText());
            }
        }
        if (failed > 0) {
            LOG.error("{} of {} documents refused by Elasticsearch, sent to the dead letters: {}", failed, batch.size(), errorKinds);
        }
        if (!retry.isEmpty()) {
            LOG.warn("{} of {} documents pushed back by Elasticsearch (429/5xx/401/403); they will be sent again", retry.size(),
                    batch.size());
        }
        return new BulkOutcome(written, duplicates, failed, retry);
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            try {
                transport.close();
            } catch (IOException e) {
                LOG.warn("closing the Elasticsearch client failed: {}", e.toString());
            }
        }
    }
}
