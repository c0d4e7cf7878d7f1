package net.swarming.agent.internal.publish;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import net.swarming.agent.internal.metrics.AgentMetrics;
import net.swarming.agent.internal.spool.Spool;
import net.swarming.common.mqtt.NotConnectedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes results in the order they were produced, keeping up to {@code capacity} of them in memory while no broker
 * is reachable (the oldest are dropped and counted beyond that), and draining them in order once the link is back.
 *
 * <p>With a {@link Spool}, results that cannot go out now (no broker connected, or {@code capacity} results already
 * waiting in memory) are appended to the spool instead, and everything produced after them follows them there, so the
 * order holds: memory always holds the oldest results, the spool the newer ones. While connected, the sender drains
 * memory, then takes the spool's oldest results back into memory, a window at a time. {@link #close} writes whatever
 * is still in memory (unacknowledged included) in front of the spool, so a clean restart loses nothing (and may send
 * a result whose acknowledgement was lost once more, as QoS 1 allows).
 *
 * <p>One thread ({@code swarm-agent-publish}) hands results to the transport, with at most {@code window} awaiting
 * the broker's acknowledgement. A publish that fails goes back into the queue at its original place (every entry keeps
 * its sequence number), so order holds across failovers; a result that fails {@value #MAX_ATTEMPTS} times for any
 * reason other than a lost connection is dropped. QoS 1 is at-least-once: a result whose acknowledgement was lost with
 * the connection is sent again and may arrive twice.
 *
 * <p>{@link #submit} never blocks, so probe threads can call it.
 */
public final class ResultPublisher implements AutoCloseable {

    /** Where results go: the MQTT link, or a test double. */
    public interface Transport {
        /** Whether a publish has a chance now. */
        boolean isConnected();

        /** Publishes at QoS 1, not retained; completes when the broker acknowledged. Must not block. */
        CompletableFuture<Void> publish(String topic, byte[] payload);
    }

    static final int MAX_ATTEMPTS = 5;
    /** Pause after a failure before the next try, unless the connection comes back first. */
    static final long RETRY_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(200);
    private static final long IDLE_RECHECK_NANOS = TimeUnit.SECONDS.toNanos(1);

    private static final Logger LOG = LoggerFactory.getLogger(ResultPublisher.class);

    private record Pending(long seq, String topic, byte[] payload, int failures) {
        Pending failedOnce() {
            return new Pending(seq, topic, payload, failures + 1);
        }
    }

    private final Transport transport;
    private final int capacity;
    private final int window;
    private final AgentMetrics metrics;
    private final Thread sender;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final TreeMap<Long, Pending> queue = new TreeMap<>();
    /** Handed to the transport, not yet acknowledged; by sequence number. */
    private final TreeMap<Long, Pending> inflightItems = new TreeMap<>();
    private final Spool spool;
    private long nextSeq;
    private int inflight;
    private boolean spoolFailing;
    private long pausedUntil;
    private boolean paused;
    private boolean overflowing;
    private boolean closed;

    /**
     * @param capacity most results kept (queued and in flight)
     * @param window most results awaiting acknowledgement at once
     */
    public ResultPublisher(Transport transport, int capacity, int window, AgentMetrics metrics) {
        this(transport, capacity, window, metrics, null);
    }

    /**
     * @param spool where results wait while they cannot go out; null to keep them in memory only. Not closed here.
     */
    public ResultPublisher(Transport transport, int capacity, int window, AgentMetrics metrics, Spool spool) {
        this.spool = spool;
        this.transport = Objects.requireNonNull(transport, "transport");
        if (capacity < 1 || window < 1) {
            throw new IllegalArgumentException("capacity and window must be >= 1");
        }
        this.capacity = capacity;
        this.window = window;
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.sender = new Thread(this::sendLoop, "swarm-agent-publish");
        sender.setDaemon(true);
        sender.start();
    }

    /** Queues one result; drops (and counts) the oldest when full. Never blocks. */
    public void submit(String topic, byte[] payload) {
        lock.lock();
        try {
            if (closed) {
                metrics.dropped(1);
                LOG.debug("publisher closed: result for {} dropped", topic);
                return;
            }
            if (spool != null && (!spool.isEmpty() || queue.size() + inflight >= capacity
                    || !transport.isConnected())) {
                if (spoolLocked(topic, payload)) {
                    changed.signalAll();
                    return;
                }
            }
            queue.put(nextSeq, new Pending(nextSeq, topic, payload, 0));
            nextSeq++;
            trimLocked();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** The link's state changed: a reconnect ends any pause, so the queue drains at once. */
    public void connectionChanged() {
        lock.lock();
        try {
            paused = false;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Appends to the spool; false (the result then stays in memory) when the disk fails. */
    private boolean spoolLocked(String topic, byte[] payload) {
        try {
            spool.append(topic, payload);
            spoolFailing = false;
            return true;
        } catch (IOException | RuntimeException e) {
            if (!spoolFailing) {
                spoolFailing = true;
                LOG.error("cannot write to the spool, keeping results in memory: {}", e.toString());
            }
            return false;
        }
    }

    /** Results not yet acknowledged (queued and in flight) in memory; see {@link #spooled()} for the spool. */
    public int depth() {
        lock.lock();
        try {
            return queue.size() + inflight;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until every result is acknowledged, at most {@code timeout}; gives up early while no broker is connected.
     *
     * @return whether the queue is empty
     */
    public boolean flush(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            while (!queue.isEmpty() || inflight > 0 || spool != null && !spool.isEmpty()) {
                long left = deadline - System.nanoTime();
                if (left <= 0 || !transport.isConnected()) {
                    return false;
                }
                changed.awaitNanos(Math.min(left, TimeUnit.MILLISECONDS.toNanos(100)));
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Results waiting in the spool (0 without one). */
    public long spooled() {
        return spool == null ? 0 : spool.messages();
    }

    /**
     * Stops the sender. Results still in memory (queued, or sent but not acknowledged) go in front of the spool when
     * there is one; otherwise they are dropped and counted. Idempotent.
     */
    @Override
    public void close() {
        int left;
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            left = queue.size();
            if (spool != null && (!queue.isEmpty() || !inflightItems.isEmpty())) {
                TreeMap<Long, Pending> keep = new TreeMap<>(inflightItems);
                keep.putAll(queue);
                List<Spool.Entry> entries = new ArrayList<>(keep.size());
                for (Pending p : keep.values()) {
                    entries.add(new Spool.Entry(p.topic(), p.payload()));
                }
                try {
                    spool.prepend(entries);
                    LOG.info("{} unpublished results kept in the spool for the next start", keep.size());
                    // Acknowledgements still to come for these are ignored: they go out again after the restart.
                    inflightItems.clear();
                    left = 0;
                } catch (IOException | RuntimeException e) {
                    LOG.error("cannot write {} unpublished results to the spool", keep.size(), e);
                }
            }
            queue.clear();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        if (left > 0) {
            metrics.dropped(left);
            LOG.warn("{} results were never published (no broker acknowledged them before shutdown)", left);
        }
        try {
            sender.join(TimeUnit.SECONDS.toMillis(2));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void sendLoop() {
        while (true) {
            try {
                if (!sendNext()) {
                    return;
                }
            } catch (InterruptedException e) {
                return;
            } catch (Throwable t) {
                // Never let one failure end publishing for good; pause so a persistent fault cannot spin.
                LOG.error("publishing loop failed; continuing", t);
                lock.lock();
                try {
                    paused = true;
                    pausedUntil = System.nanoTime() + RETRY_PAUSE_NANOS;
                } finally {
                    lock.unlock();
                }
            }
        }
    }

    /** Waits for a result that can be sent and hands it to the transport; false once closed. */
    private boolean sendNext() throws InterruptedException {
        Pending next;
        lock.lock();
        try {
            while (!closed && !readyLocked()) {
                long wait = IDLE_RECHECK_NANOS;
                if (paused) {
                    wait = Math.min(wait, Math.max(1, pausedUntil - System.nanoTime()));
                }
                changed.awaitNanos(wait);
            }
            if (closed) {
                return false;
            }
            next = queue.pollFirstEntry().getValue();
            inflight++;
            inflightItems.put(next.seq(), next);
            if (queue.isEmpty()) {
                overflowing = false;
            }
        } finally {
            lock.unlock();
        }
        CompletableFuture<Void> sent;
        try {
            sent = transport.publish(next.topic(), next.payload());
        } catch (RuntimeException e) {
            sent = CompletableFuture.failedFuture(e);
        }
        sent.whenComplete((ok, failure) -> completed(next, failure));
        return true;
    }

    private boolean readyLocked() {
        if (inflight >= window) {
            return false;
        }
        if (queue.isEmpty()) {
            if (spool == null || spool.isEmpty() || !transport.isConnected()
                    || paused && System.nanoTime() - pausedUntil < 0) {
                return false;
            }
            refillLocked();
            if (queue.isEmpty()) {
                return false;
            }
        }
        if (paused && System.nanoTime() - pausedUntil < 0) {
            return false;
        }
        paused = false;
        return transport.isConnected();
    }

    /** Takes the spool's oldest results into memory: they are newer than anything there, so they queue last. */
    private void refillLocked() {
        try {
            for (Spool.Entry e : spool.poll(window - inflight)) {
                queue.put(nextSeq, new Pending(nextSeq, e.topic(), e.payload(), 0));
                nextSeq++;
            }
        } catch (IOException | RuntimeException e) {
            LOG.error("cannot read the spool; retrying", e);
            paused = true;
            pausedUntil = System.nanoTime() + RETRY_PAUSE_NANOS;
        }
    }

    private void completed(Pending p, Throwable failure) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                ? failure.getCause() : failure;
        boolean dropped = false;
        lock.lock();
        try {
            if (inflightItems.remove(p.seq()) == null) {
                // Handed over to the spool by close(): it will be sent again after the restart.
                return;
            }
            inflight--;
            if (cause == null) {
                metrics.published();
            } else if (closed) {
                dropped = true;
            } else {
                boolean connectionLost = cause instanceof NotConnectedException;
                Pending retry = connectionLost ? p : p.failedOnce();
                if (retry.failures() >= MAX_ATTEMPTS) {
                    dropped = true;
                    LOG.warn("result for {} dropped after {} failed publishes: {}", p.topic(), MAX_ATTEMPTS,
                            cause.toString());
                } else {
                    if (!connectionLost) {
                        LOG.debug("publish to {} failed, will retry: {}", p.topic(), cause.toString());
                    }
                    queue.put(retry.seq(), retry);
                    trimLocked();
                    paused = true;
                    pausedUntil = System.nanoTime() + RETRY_PAUSE_NANOS;
                }
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        if (dropped) {
            metrics.dropped(1);
        }
    }

    private void trimLocked() {
        int over = queue.size() + inflight - capacity;
        if (over <= 0) {
            return;
        }
        int dropped = 0;
        while (over-- > 0 && !queue.isEmpty()) {
            queue.pollFirstEntry();
            dropped++;
        }
        if (dropped > 0) {
            metrics.dropped(dropped);
            if (!overflowing) {
                // Once per overflow episode; swarm_agent_results_dropped_total counts every one.
                overflowing = true;
                LOG.warn("result queue full ({} results, broker {}): dropping the oldest until it drains", capacity,
                        transport.isConnected() ? "too slow" : "unreachable");
            }
        }
    }
}
