package net.swarming.indexer.internal.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.List;
import net.swarming.indexer.internal.document.IndexDocument;
import org.junit.jupiter.api.Test;

class DocumentBufferTest {

    static IndexDocument doc(int n) {
        return new IndexDocument("swarm-pings-test", "id-" + n, ("{\"n\":" + n + "}").getBytes(StandardCharsets.UTF_8));
    }

    static List<String> ids(List<IndexDocument> docs) {
        return docs.stream().map(IndexDocument::id).toList();
    }

    @Test
    void whenPolled_thenOldestFirstAndAtMostMax() {
        DocumentBuffer buffer = new DocumentBuffer(10);
        for (int i = 1; i <= 5; i++) {
            buffer.add(doc(i));
        }

        assertEquals(List.of("id-1", "id-2", "id-3"), ids(buffer.poll(3)));
        assertEquals(List.of("id-4", "id-5"), ids(buffer.poll(3)));
        assertEquals(List.of(), buffer.poll(3));
    }

    @Test
    void whenFull_thenOldestDroppedAndCounted() {
        DocumentBuffer buffer = new DocumentBuffer(3);
        buffer.add(doc(1));
        buffer.add(doc(2));
        assertEquals(new DocumentBuffer.AddResult(3, 0), buffer.add(doc(3)));

        assertEquals(new DocumentBuffer.AddResult(3, 1), buffer.add(doc(4)));

        assertEquals(List.of("id-2", "id-3", "id-4"), ids(buffer.poll(10)));
    }

    @Test
    void whenRequeued_thenGoesFirstInOrder() {
        DocumentBuffer buffer = new DocumentBuffer(10);
        buffer.add(doc(1));
        buffer.add(doc(2));
        buffer.add(doc(3));
        List<IndexDocument> batch = buffer.poll(2);
        buffer.add(doc(4));

        assertEquals(0, buffer.requeue(batch));

        assertEquals(List.of("id-1", "id-2", "id-3", "id-4"), ids(buffer.poll(10)));
    }

    @Test
    void whenRequeueOverflows_thenOldestDropped() {
        DocumentBuffer buffer = new DocumentBuffer(3);
        buffer.add(doc(1));
        buffer.add(doc(2));
        List<IndexDocument> batch = buffer.poll(2);
        buffer.add(doc(3));
        buffer.add(doc(4));

        assertEquals(1, buffer.requeue(batch));

        assertEquals(List.of("id-2", "id-3", "id-4"), ids(buffer.poll(10)));
    }
}
