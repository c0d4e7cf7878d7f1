package net.swarming.indexer.internal.bench;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLSocketFactory;
import net.swarming.common.mqtt.BrokerAddress;

/**
 * The benchmark's publisher: MQTT 3.1.1 PUBLISH frames at QoS 1 encoded before the clock starts (as the raw loop's
 * NDJSON is) and written in large chunks over one plain socket, with the PUBACKs read back on a thread of its own.
 * It is harness, not product: it does only what the benchmark needs (clean session, no keep-alive, no reconnect), so
 * that publishing takes as little of the shared CPU as the raw loop's preparation does.
 *
 * <p>Packet identifiers are fixed per frame ({@code 1 + i % 65535}) and reused: at most {@code window} publishes are
 * outstanding, fewer than the 65,535 identifiers, and the broker acknowledges one connection's publishes in order
 * (checked: an acknowledgement out of order fails the run), so an identifier is never reused while still in flight.
 */
public final class MqttFramePublisher implements Closeable {

    /** Packet identifiers are 1..65535. */
    static final int PACKET_IDS = 65_535;
    /** Frames written per {@code write} call. */
    static final int FRAMES_PER_CHUNK = 256;

    /** Pre-encoded PUBLISH frames, {@link #FRAMES_PER_CHUNK} to a chunk. */
    public record Frames(List<byte[]> chunks, int count) {
        public Frames {
            chunks = List.copyOf(chunks);
        }
    }

    private final Socket socket;
    private final OutputStream out;
    private final Thread reader;
    private final Object acks = new Object();
    private long acked;
    private IOException readFailure;
    private volatile boolean closing;

    private MqttFramePublisher(Socket socket) throws IOException {
        this.socket = socket;
        this.out = socket.getOutputStream();
        DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(socket.getInputStream(), 64 * 1024));
        this.reader = new Thread(() -> readAcks(in), "swarm-bench-puback");
        this.reader.setDaemon(true);
    }

    /** Connects with a clean session and waits for a successful CONNACK. */
    public static MqttFramePublisher connect(BrokerAddress broker, String clientId, int timeoutMillis)
            throws IOException {
        Objects.requireNonNull(broker, "broker");
        Socket socket = broker.isTls() ? SSLSocketFactory.getDefault().createSocket() : new Socket();
        try {
            socket.setTcpNoDelay(true);
            socket.connect(new InetSocketAddress(broker.host(), broker.port()), timeoutMillis);
            socket.setSoTimeout(timeoutMillis);
            socket.getOutputStream().write(connectFrame(clientId));
            socket.getOutputStream().flush();
            DataInputStream in = new DataInputStream(socket.getInputStream());
            int type = in.readUnsignedByte();
            int length = readRemainingLength(in);
            byte[] body = new byte[length];
            in.readFully(body);
            if (type != 0x20 || length != 2 || body[1] != 0) {
                throw new IOException("broker " + broker + " refused the connection: CONNACK "
                        + String.format("%02x", type) + (length == 2 ? " return code " + body[1] : ""));
            }
            socket.setSoTimeout(0);
            MqttFramePublisher p = new MqttFramePublisher(socket);
            p.reader.start();
            return p;
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    /** Encodes one QoS 1 PUBLISH per payload, frame {@code i} with packet identifier {@code 1 + i % 65535}. */
    public static Frames encode(List<String> topics, List<byte[]> payloads) {
        if (topics.size() != payloads.size()) {
            throw new IllegalArgumentException(topics.size() + " topics for " + payloads.size() + " payloads");
        }
        List<byte[]> chunks = new ArrayList<>();
        ByteArrayOutputStream chunk = new ByteArrayOutputStream(FRAMES_PER_CHUNK * 600);
        for (int i = 0; i < payloads.size(); i++) {
            writePublish(chunk, topics.get(i), payloads.get(i), packetId(i));
            if ((i + 1) % FRAMES_PER_CHUNK == 0) {
                chunks.add(chunk.toByteArray());
                chunk.reset();
            }
        }
        if (chunk.size() > 0) {
            chunks.add(chunk.toByteArray());
        }
        return new Frames(chunks, payloads.size());
    }

    static int packetId(long i) {
        return (int) (1 + i % PACKET_IDS);
    }

    /**
     * Writes every frame, keeping at most {@code window} publishes unacknowledged, and returns once all are
     * acknowledged.
     */
    public void publish(Frames frames, int window, long timeout, TimeUnit unit)
            throws IOException, InterruptedException, TimeoutException {
        if (window < FRAMES_PER_CHUNK || window >= PACKET_IDS) {
            throw new IllegalArgumentException("window " + window + " must be between " + FRAMES_PER_CHUNK + " and "
                    + (PACKET_IDS - 1));
        }
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        long base = ackedSoFar();
        long sent = 0;
        for (byte[] chunk : frames.chunks()) {
            long end = Math.min(sent + FRAMES_PER_CHUNK, frames.count());
            awaitAcked(base + end - window, deadline);
            out.write(chunk);
            sent = end;
        }
        out.flush();
        awaitAcked(base + frames.count(), deadline);
    }

    private long ackedSoFar() throws IOException {
        synchronized (acks) {
            if (readFailure != null) {
                throw readFailure;
            }
            return acked;
        }
    }

    private void awaitAcked(long count, long deadline) throws IOException, InterruptedException, TimeoutException {
        synchronized (acks) {
            while (acked < count) {
                if (readFailure != null) {
                    throw readFailure;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new TimeoutException(acked + " PUBACKs, waiting for " + count);
                }
                TimeUnit.NANOSECONDS.timedWait(acks, left);
            }
        }
    }

    private void readAcks(DataInputStream in) {
        long seen = 0;
        try {
            while (true) {
                int type = in.readUnsignedByte();
                int length = readRemainingLength(in);
                if (type == 0x40 && length == 2) {
                    int id = in.readUnsignedShort();
                    if (id != packetId(seen)) {
                        throw new IOException("PUBACK " + id + " out of order: expected " + packetId(seen));
                    }
                    seen++;
                    // Wake the writer only every so often: one notify per PUBACK would cost more than the rest.
                    if (seen % 64 == 0 || in.available() == 0) {
                        synchronized (acks) {
                            acked = seen;
                            acks.notifyAll();
                        }
                    }
                } else {
                    in.skipNBytes(length);
                }
            }
        } catch (IOException e) {
            synchronized (acks) {
                acked = seen;
                readFailure = closing ? new EOFException("publisher closed") : e;
                acks.notifyAll();
            }
        }
    }

    /** Sends DISCONNECT and closes the socket. */
    @Override
    public void close() throws IOException {
        closing = true;
        try {
            out.write(new byte[] {(byte) 0xE0, 0});
            out.flush();
        } catch (IOException e) {
            // The connection is gone already.
        } finally {
            socket.close();
            try {
                reader.join(2_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    static byte[] connectFrame(String clientId) {
        byte[] id = clientId.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        writeString(body, "MQTT".getBytes(StandardCharsets.US_ASCII));
        body.write(4); // protocol level 3.1.1
        body.write(0x02); // clean session
        body.write(0);
        body.write(0); // no keep-alive: the connection lives only for one run
        writeString(body, id);
        ByteArrayOutputStream frame = new ByteArrayOutputStream();
        frame.write(0x10);
        writeRemainingLength(frame, body.size());
        frame.writeBytes(body.toByteArray());
        return frame.toByteArray();
    }

    static void writePublish(ByteArrayOutputStream out, String topic, byte[] payload, int packetId) {
        byte[] t = topic.getBytes(StandardCharsets.UTF_8);
        out.write(0x32); // PUBLISH, QoS 1, not retained, not a duplicate
        writeRemainingLength(out, 2 + t.length + 2 + payload.length);
        writeString(out, t);
        out.write(packetId >> 8);
        out.write(packetId & 0xFF);
        out.writeBytes(payload);
    }

    static void writeRemainingLength(ByteArrayOutputStream out, int length) {
        if (length < 0 || length > 268_435_455) {
            throw new IllegalArgumentException("MQTT remaining length " + length + " is out of range");
        }
        int x = length;
        do {
            int b = x % 128;
            x /= 128;
            out.write(x > 0 ? b | 0x80 : b);
        } while (x > 0);
    }

    static int readRemainingLength(InputStream in) throws IOException {
        int value = 0;
        for (int shift = 0; shift <= 21; shift += 7) {
            int b = in.read();
            if (b < 0) {
                throw new EOFException();
            }
            value |= (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                return value;
            }
        }
        throw new IOException("malformed MQTT remaining length");
    }

    private static void writeString(ByteArrayOutputStream out, byte[] s) {
        out.write(s.length >> 8);
        out.write(s.length & 0xFF);
        out.writeBytes(s);
    }
}
