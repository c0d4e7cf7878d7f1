package net.swarming.agent.internal.publish;

import java.time.Duration;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import net.swarming.agent.internal.metrics.AgentMetrics;
import net.swarming.common.mqtt.NotConnectedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes results in the order they were produced, keeping up to {@code capacity} of them in memory while no broker
 * is reachable (the oldest are dropped and counted beyond that), and draining them in order once the link is back. A
 * disk spool replaces this memory queue in a later issue.
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
    private long nextSeq;
    private int inflight;
    private long pausedUntil;
    private boolean paused;
    private boolean overflowing;
    private boolean closed;

    /**
     * @param capacity most results kept (queued and in flight)
     * @param window most results awaiting acknowledgement at once
     */
    public ResultPublisher(Transport transport, int capacity, int window, AgentMetrics metrics) {
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

    /** Results not yet acknowledged (queued and in flight). */
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
            while (!queue.isEmpty() || inflight > 0) {
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

    /** Stops the sender; results still queued are dropped and counted. Idempotent. */
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
        if (queue.isEmpty() || inflight >= window) {
            return false;
        }
        if (paused && System.nanoTime() - pausedUntil < 0) {
            return false;
        }
        paused = false;
        return transport.isConnected();
    }

    private void completed(Pending p, Throwable failure) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                ? failure.getCause() : failure;
        boolean dropped = false;
        lock.lock();
        try {
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
