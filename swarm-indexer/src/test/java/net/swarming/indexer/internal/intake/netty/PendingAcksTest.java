package net.swarming.indexer.internal.intake.netty;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.api.Test;

class PendingAcksTest {

    private final PendingAcks acks = new PendingAcks();

    @Test
    void whenAcksAdded_thenOnlyTheFirstAsksForAWrite_andOneBufferHoldsEveryFrameInOrder() {
        assertTrue(acks.add(1, 1));
        assertFalse(acks.add(0xBEEF, 1));
        assertFalse(acks.add(65535, 2));

        ByteBuf buf = acks.drain(UnpooledByteBufAllocator.DEFAULT);

        assertArrayEquals(new byte[] {0x40, 2, 0, 1, 0x40, 2, (byte) 0xBE, (byte) 0xEF, 0x50, 2, (byte) 0xFF,
            (byte) 0xFF}, ByteBufUtil.getBytes(buf));
        buf.release();
        assertNull(acks.drain(UnpooledByteBufAllocator.DEFAULT));
        assertTrue(acks.add(7, 1), "after a drain the next ack asks for a write again");
    }

    @Test
    void whenMoreThanTheInitialCapacity_thenNothingIsLost() {
        for (int i = 1; i <= 10_000; i++) {
            acks.add(i, 1);
        }
        assertEquals(10_000, acks.size());
        ByteBuf buf = acks.drain(UnpooledByteBufAllocator.DEFAULT);
        assertEquals(40_000, buf.readableBytes());
        buf.skipBytes(39_996);
        assertEquals(0x40, buf.readByte());
        assertEquals(2, buf.readByte());
        assertEquals(10_000, buf.readUnsignedShort());
        buf.release();
    }
}
