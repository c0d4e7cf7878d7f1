package net.swarming.common.mqtt.internal;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import net.swarming.common.mqtt.LinkState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a link stands, for the links of every MQTT client: read without a lock, waited for by callers, and told to
 * listeners after each change. {@link LinkState#CLOSED} is final.
 */
public final class LinkStateCell {

    private static final Logger log = LoggerFactory.getLogger(LinkStateCell.class);

    private final String name;
    private final Object monitor = new Object();
    private final List<Consumer<LinkState>> listeners = new CopyOnWriteArrayList<>();
    private volatile LinkState state = LinkState.DISCONNECTED;

    /** @param name how logs call the link, such as {@code MQTT link <clientId>} */
    public LinkStateCell(String name) {
        this.name = Objects.requireNonNull(name, "name");
    }

    public LinkState get() {
        return state;
    }

    /** @return true once connected; false when the timeout passed or the link is closed */
    public boolean awaitConnected(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (monitor) {
            while (state != LinkState.CONNECTED) {
                if (state == LinkState.CLOSED) {
                    return false;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(monitor, left);
            }
            return true;
        }
    }

    /** Changes the state (nothing after {@link LinkState#CLOSED}) and tells the listeners, on the calling thread. */
    public void set(LinkState next) {
        LinkState previous;
        synchronized (monitor) {
            previous = state;
            if (previous == next || previous == LinkState.CLOSED) {
                return;
            }
            state = next;
            monitor.notifyAll();
        }
        log.debug("{}: {} -> {}", name, previous, next);
        for (Consumer<LinkState> l : listeners) {
            try {
                l.accept(next);
            } catch (Throwable t) {
                log.error("{}: state listener failed on {}", name, next, t);
            }
        }
    }

    public void addListener(Consumer<LinkState> l) {
        listeners.add(Objects.requireNonNull(l, "listener"));
    }

    /** A failure in one line for a log: its message, and its root cause when it has one. */
    public static String describe(Throwable e) {
        if (e == null) {
            return "no reason given";
        }
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String s = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
        if (root != e) {
            s += " (" + root + ")";
        }
        return s;
    }
}
