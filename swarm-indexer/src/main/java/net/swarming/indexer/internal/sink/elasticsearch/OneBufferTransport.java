package net.swarming.indexer.internal.sink.elasticsearch;

import co.elastic.clients.transport.ElasticsearchTransportBase;
import co.elastic.clients.transport.TransportOptions;
import co.elastic.clients.transport.http.TransportHttpClient;
import co.elastic.clients.transport.rest_client.RestClientHttpClient;
import co.elastic.clients.transport.rest_client.RestClientTransport;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The client's transport over the same low-level REST client, except that a request body is handed to the HTTP
 * client as one buffer. The client builds a {@code _bulk} body as one buffer per NDJSON line, and the HTTP client
 * writes each as a chunk of its own: two thousand chunk writes and I/O events per request of 1,000 documents, which a
 * profile of the benchmark showed as the largest cost of the BulkIngester writer (its HTTP threads took more samples
 * than the own writer's request threads), and as many small writes for Elasticsearch to read. Copying the lines into
 * one buffer costs one copy of the body.
 */
final class OneBufferTransport extends ElasticsearchTransportBase {

    OneBufferTransport(RestClientTransport transport) {
        super(new OneBufferHttpClient(new RestClientHttpClient(transport.restClient())), transport.options(),
                transport.jsonpMapper());
    }

    /** Merges a body of several buffers into one; everything else goes to the delegate as is. */
    static final class OneBufferHttpClient implements TransportHttpClient {
        private final TransportHttpClient delegate;

        OneBufferHttpClient(TransportHttpClient delegate) {
            this.delegate = delegate;
        }

        static Request merged(Request request) {
            Iterable<ByteBuffer> body = request.body();
            if (body == null) {
                return request;
            }
            int total = 0;
            int parts = 0;
            for (ByteBuffer b : body) {
                total = Math.addExact(total, b.remaining());
                parts++;
            }
            if (parts <= 1) {
                return request;
            }
            ByteBuffer one = ByteBuffer.allocate(total);
            for (ByteBuffer b : body) {
                one.put(b.duplicate());
            }
            one.flip();
            return new Request(request.method(), request.path(), request.queryParams(), request.headers(),
                    List.of(one));
        }

        @Override
        public TransportOptions createOptions(TransportOptions options) {
            return delegate.createOptions(options);
        }

        @Override
        public Response performRequest(String endpointId, Node node, Request request, TransportOptions options)
                throws IOException {
            return delegate.performRequest(endpointId, node, merged(request), options);
        }

        @Override
        public CompletableFuture<Response> performRequestAsync(String endpointId, Node node, Request request,
                                                               TransportOptions options) {
            return delegate.performRequestAsync(endpointId, node, merged(request), options);
        }

        @Override
        public void close() throws IOException {
            delegate.close();
        }
    }
}
