package net.swarming.indexer.internal.intake.netty;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * Acknowledgements of one connection waiting to be written: added from any thread (the spool writer acks a whole
 * fsynced group in a row), written by the event loop as one buffer with one flush. {@link #add} says when the buffer
 * was empty, so the caller schedules exactly one write task per batch instead of one per message.
 */
final class PendingAcks {

    /** PUBACK (QoS 1) and PUBREC (QoS 2): first byte of the fixed header, remaining length 2, packet id. */
    static final int PUBACK = 0x40;
    static final int PUBREC = 0x50;
    static final int FRAME_BYTES = 4;

    private int[] frames = new int[64];
    private int count;

    /**
     * @param packetId the message's packet identifier (1..65535)
     * @param qos 1 or 2
     * @return true when nothing was pending before: the caller must schedule {@link #writeTo}
     */
    synchronized boolean add(int packetId, int qos) {
        if (count == frames.length) {
            int[] bigger = new int[frames.length * 2];
            System.arraycopy(frames, 0, bigger, 0, count);
            frames = bigger;
        }
        frames[count++] = (qos == 2 ? PUBREC : PUBACK) << 16 | (packetId & 0xffff);
        return count == 1;
    }

    /** @return every pending acknowledgement encoded in one buffer, or null when none is pending; clears them */
    ByteBuf drain(ByteBufAllocator alloc) {
        int[] taken;
        int n;
        synchronized (this) {
            if (count == 0) {
                return null;
            }
            taken = frames;
            n = count;
            frames = new int[Math.max(64, Math.min(n, 4096))];
            count = 0;
        }
        ByteBuf buf = alloc.buffer(n * FRAME_BYTES);
        for (int i = 0; i < n; i++) {
            int f = taken[i];
            buf.writeByte(f >>> 16);
            buf.writeByte(2);
            buf.writeShort(f & 0xffff);
        }
        return buf;
    }

    synchronized int size() {
        return count;
    }
}
