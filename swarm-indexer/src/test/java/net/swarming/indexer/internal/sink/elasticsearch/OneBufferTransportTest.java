package net.swarming.indexer.internal.sink.elasticsearch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import co.elastic.clients.transport.http.TransportHttpClient.Request;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The body Elasticsearch receives is byte for byte the client's, in one buffer. */
class OneBufferTransportTest {

    private static ByteBuffer utf8(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void whenABodyHasSeveralBuffers_thenItIsSentAsOneWithTheSameBytesAndTheRestOfTheRequestKept() {
        ByteBuffer offset = utf8("xx{\"index\":{}}\n");
        offset.position(2); // a line that does not start at its array's start
        List<ByteBuffer> lines = List.of(offset, utf8("{\"a\":1}\n"), utf8("{\"create\":{\"_id\":\"é\"}}\n"),
                utf8("{\"b\":2}\n"));
        Request request = new Request("POST", "/_bulk", Map.of("refresh", "false"), Map.of("X-A", "1"), lines);

        Request merged = OneBufferTransport.OneBufferHttpClient.merged(request);

        List<ByteBuffer> body = new ArrayList<>();
        merged.body().forEach(body::add);
        assertEquals(1, body.size());
        byte[] sent = new byte[body.get(0).remaining()];
        body.get(0).duplicate().get(sent);
        assertArrayEquals("{\"index\":{}}\n{\"a\":1}\n{\"create\":{\"_id\":\"é\"}}\n{\"b\":2}\n"
                .getBytes(StandardCharsets.UTF_8), sent);
        assertEquals("POST", merged.method());
        assertEquals("/_bulk", merged.path());
        assertEquals(Map.of("refresh", "false"), merged.queryParams());
        assertEquals(Map.of("X-A", "1"), merged.headers());
        assertEquals(2, offset.position(), "the client's buffers are not consumed");
    }

    @Test
    void whenABodyIsEmptyOrOneBuffer_thenTheRequestIsPassedOnAsItIs() {
        Request none = new Request("GET", "/", Map.of(), Map.of(), null);
        Request one = new Request("PUT", "/_index_template/t", Map.of(), Map.of(), List.of(utf8("{}")));
        assertSame(none, OneBufferTransport.OneBufferHttpClient.merged(none));
        assertSame(one, OneBufferTransport.OneBufferHttpClient.merged(one));
    }
}
