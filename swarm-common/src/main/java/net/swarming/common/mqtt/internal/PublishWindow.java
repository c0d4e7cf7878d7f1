package net.swarming.common.mqtt.internal;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;
import net.swarming.common.mqtt.MqttLinkException;
import net.swarming.common.mqtt.NotConnectedException;
import org.eclipse.paho.client.mqttv3.IMqttActionListener;
import org.eclipse.paho.client.mqttv3.IMqttToken;
import org.eclipse.paho.client.mqttv3.MqttException;

/**
 * The publishes of one connection: at most {@code window} handed to Paho and not yet completed, the rest queued in
 * order. Paho 1.2.5 refuses a publish outright ("Too many publishes in progress") once its own in-flight count reaches
 * {@code maxInflight}, so a burst larger than the window must wait here instead.
 *
 * <p>Thread-safety: {@link #submit} may be called from any thread. Completions from Paho are handed to the
 * {@code completer} executor, which also completes the futures, so that no caller code ever runs on a Paho thread and
 * nothing here takes a lock on a Paho thread. Paho's {@code publish} is called under this object's lock (it does not
 * block and no Paho thread ever waits for this lock), which keeps publishes of one thread in order.
 */
public final class PublishWindow {

    /** Hands one publish to Paho. */
    @FunctionalInterface
    public interface Sender {
        void send(String topic, byte[] payload, int qos, boolean retained, IMqttActionListener listener)
                throws MqttException;
    }

    private static final class Outgoing {
        final String topic;
        final byte[] payload;
        final int qos;
        final boolean retained;
        final CompletableFuture<Void> future = new CompletableFuture<>();

        Outgoing(String topic, byte[] payload, int qos, boolean retained) {
            this.topic = topic;
            this.payload = payload;
            this.qos = qos;
            this.retained = retained;
        }
    }

    private final String brokerName;
    private final Sender sender;
    private final int window;
    private final int maxQueued;
    private final Executor completer;
    private final Consumer<Runnable> retryLater;

    private final Object lock = new Object();
    private final ArrayDeque<Outgoing> queued = new ArrayDeque<>();
    private final Set<Outgoing> inflight = new LinkedHashSet<>(); // identity: Outgoing keeps Object.equals
    private boolean open;
    private volatile boolean lost;

    /**
     * @param brokerName for messages
     * @param sender calls Paho's publish
     * @param window most publishes handed to Paho at once
     * @param maxQueued most publishes waiting for room in the window; more fail at once
     * @param completer where completions are processed and futures completed (a single thread keeps them ordered)
     * @param retryLater runs a task on the completer a little later (after Paho refused for lack of room)
     */
    public PublishWindow(String brokerName, Sender sender, int window, int maxQueued, Executor completer,
            Consumer<Runnable> retryLater) {
        this.brokerName = Objects.requireNonNull(brokerName, "brokerName");
        this.sender = Objects.requireNonNull(sender, "sender");
        if (window < 1 || maxQueued < 0) {
            throw new IllegalArgumentException("window must be >= 1 and maxQueued >= 0");
        }
        this.window = window;
        this.maxQueued = maxQueued;
        this.completer = Objects.requireNonNull(completer, "completer");
        this.retryLater = Objects.requireNonNull(retryLater, "retryLater");
    }

    /** Starts accepting publishes (once the connection is up). */
    public void open() {
        synchronized (lock) {
            open = !lost;
        }
    }

    /** The connection is gone: refuse new publishes at once. Takes no lock, so it is safe on a Paho thread. */
    public void markLost() {
        lost = true;
    }

    /** Queues or sends one publish; the future completes on the completer thread. */
    public CompletableFuture<Void> submit(String topic, byte[] payload, int qos, boolean retained) {
        Outgoing o = new Outgoing(topic, payload, qos, retained);
        List<Runnable> completions = new ArrayList<>(0);
        synchronized (lock) {
            if (!open || lost) {
                return CompletableFuture.failedFuture(new NotConnectedException("not connected to " + brokerName));
            }
            if (queued.isEmpty() && inflight.size() < window) {
                sendLocked(o, completions);
            } else if (queued.size() >= maxQueued) {
                return CompletableFuture.failedFuture(new MqttLinkException("publish queue full: " + queued.size()
                        + " publishes wait for " + window + " in flight to " + brokerName));
            } else {
                queued.addLast(o);
            }
        }
        completions.forEach(Runnable::run);
        return o.future;
    }

    /** Sends queued publishes while the window has room. */
    public void drain() {
        List<Runnable> completions = new ArrayList<>(0);
        synchronized (lock) {
            drainLocked(completions);
        }
        completions.forEach(Runnable::run);
    }

    /**
     * Stops intake and fails the publishes that never left this process; those already handed to Paho may still
     * complete (used by a clean close, before the quiesce period).
     */
    public void closeIntake(String why) {
        List<Outgoing> notSent;
        synchronized (lock) {
            open = false;
            notSent = new ArrayList<>(queued);
            queued.clear();
        }
        for (Outgoing o : notSent) {
            o.future.completeExceptionally(new NotConnectedException(why + " (" + brokerName + ")"));
        }
    }

    /** Stops intake and fails everything still pending, on the calling thread. */
    public void failAll(String why) {
        List<Outgoing> notSent;
        List<Outgoing> sent;
        synchronized (lock) {
            open = false;
            lost = true;
            notSent = new ArrayList<>(queued);
            queued.clear();
            sent = new ArrayList<>(inflight);
            inflight.clear();
        }
        for (Outgoing o : notSent) {
            o.future.completeExceptionally(new NotConnectedException(why + " (" + brokerName + ")"));
        }
        for (Outgoing o : sent) {
            o.future.completeExceptionally(new NotConnectedException(
                    why + " before " + brokerName + " acknowledged the publish to " + o.topic, true, null));
        }
    }

    /** @return publishes handed to Paho and not completed */
    public int inflight() {
        synchronized (lock) {
            return inflight.size();
        }
    }

    /** @return publishes waiting for room in the window */
    public int queued() {
        synchronized (lock) {
            return queued.size();
        }
    }

    private void drainLocked(List<Runnable> completions) {
        while (open && !lost && inflight.size() < window && !queued.isEmpty()) {
            if (!sendLocked(queued.pollFirst(), completions)) {
                return;
            }
        }
    }

    /** @return false when Paho had no room and {@code o} went back to the head of the queue */
    private boolean sendLocked(Outgoing o, List<Runnable> completions) {
        inflight.add(o);
        try {
            sender.send(o.topic, o.payload, o.qos, o.retained, new Listener(o));
            return true;
        } catch (MqttException e) {
            inflight.remove(o);
            if (e.getReasonCode() == MqttException.REASON_CODE_MAX_INFLIGHT) {
                // Paho decrements its own count a moment after telling us (QoS 0): try again shortly.
                queued.addFirst(o);
                retryLater.accept(this::drain);
                return false;
            }
            completions.add(() -> o.future.completeExceptionally(translate(o, e, false)));
            return true;
        } catch (RuntimeException e) {
            inflight.remove(o);
            completions.add(() -> o.future.completeExceptionally(
                    new MqttLinkException("publish to " + o.topic + " on " + brokerName + " failed: " + e, e)));
            return true;
        }
    }

    private void completed(Outgoing o, Throwable failure) {
        List<Runnable> completions = new ArrayList<>(0);
        synchronized (lock) {
            inflight.remove(o);
            drainLocked(completions);
        }
        if (failure == null) {
            o.future.complete(null);
        } else {
            o.future.completeExceptionally(translate(o, failure, true));
        }
        completions.forEach(Runnable::run);
    }

    private MqttLinkException translate(Outgoing o, Throwable e, boolean written) {
        if (e instanceof MqttException me) {
            switch (me.getReasonCode()) {
                case MqttException.REASON_CODE_CLIENT_NOT_CONNECTED:
                case MqttException.REASON_CODE_CONNECTION_LOST:
                case MqttException.REASON_CODE_CLIENT_DISCONNECTING:
                case MqttException.REASON_CODE_CLIENT_CLOSED:
                case MqttException.REASON_CODE_CLIENT_TIMEOUT:
                    return new NotConnectedException("connection to " + brokerName + " lost or closed before it "
                            + "acknowledged the publish to " + o.topic + ": " + me.getMessage(), written, e);
                default:
                    break;
            }
        }
        return new MqttLinkException("publish to " + o.topic + " on " + brokerName + " failed: " + e, e);
    }

    /** Runs on Paho's callback thread: only hands over to the completer. */
    private final class Listener implements IMqttActionListener {
        private final Outgoing o;

        Listener(Outgoing o) {
            this.o = o;
        }

        @Override
        public void onSuccess(IMqttToken token) {
            handOver(null);
        }

        @Override
        public void onFailure(IMqttToken token, Throwable exception) {
            handOver(exception == null ? new MqttLinkException("publish failed without a reason") : exception);
        }

        private void handOver(Throwable failure) {
            try {
                completer.execute(() -> completed(o, failure));
            } catch (RejectedExecutionException e) {
                // The link is closed; close() already failed every pending future, so this is normally a no-op.
                o.future.completeExceptionally(new NotConnectedException("link closed", true, failure));
            }
        }
    }
}
