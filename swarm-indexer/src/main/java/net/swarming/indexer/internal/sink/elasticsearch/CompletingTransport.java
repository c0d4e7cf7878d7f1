package net.swarming.indexer.internal.sink.elasticsearch;

import co.elastic.clients.json.JsonpMapper;
import co.elastic.clients.transport.ElasticsearchTransport;
import co.elastic.clients.transport.Endpoint;
import co.elastic.clients.transport.TransportOptions;
import java.io.IOException;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * A transport whose asynchronous responses complete on an executor of ours instead of the HTTP client's I/O thread
 * (or the calling thread, when a connection is refused at once). With the default transport, BulkIngester deadlocks
 * while Elasticsearch refuses connections: the I/O thread and the producer take the ingester's lock and the client's in
 * opposite order (elastic/elasticsearch-java#925). Completing elsewhere breaks that cycle: nothing the ingester does on
 * completion runs while a transport lock is held. Synchronous requests go straight through.
 */
final class CompletingTransport implements ElasticsearchTransport {

    private final ElasticsearchTransport delegate;
    private final Executor completion;

    CompletingTransport(ElasticsearchTransport delegate, Executor completion) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
        this.completion = Objects.requireNonNull(completion, "completion");
    }

    @Override
    public <RequestT, ResponseT, ErrorT> ResponseT performRequest(RequestT request,
            Endpoint<RequestT, ResponseT, ErrorT> endpoint, TransportOptions options) throws IOException {
        return delegate.performRequest(request, endpoint, options);
    }

    @Override
    public <RequestT, ResponseT, ErrorT> CompletableFuture<ResponseT> performRequestAsync(RequestT request,
            Endpoint<RequestT, ResponseT, ErrorT> endpoint, TransportOptions options) {
        CompletableFuture<ResponseT> out = new CompletableFuture<>();
        CompletableFuture<ResponseT> in;
        try {
            in = delegate.performRequestAsync(request, endpoint, options);
        } catch (RuntimeException e) {
            in = CompletableFuture.failedFuture(e);
        }
        in.whenComplete((response, failure) -> {
            try {
                completion.execute(() -> {
                    if (failure != null) {
                        out.completeExceptionally(failure);
                    } else {
                        out.complete(response);
                    }
                });
            } catch (RejectedExecutionException e) {
                // Shutting down: complete here rather than leave the ingester waiting forever.
                out.completeExceptionally(failure != null ? failure : e);
            }
        });
        return out;
    }

    @Override
    public JsonpMapper jsonpMapper() {
        return delegate.jsonpMapper();
    }

    @Override
    public TransportOptions options() {
        return delegate.options();
    }

    @Override
    public void close() throws IOException {
        delegate.close();
    }
}
