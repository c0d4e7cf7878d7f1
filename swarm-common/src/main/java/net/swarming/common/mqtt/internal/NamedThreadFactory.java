package net.swarming.common.mqtt.internal;

import java.util.Objects;
import java.util.concurrent.ThreadFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates daemon threads with one fixed name, for single-thread executors: the name is what shows up in logs and thread
 * dumps, and what code uses to recognise "am I on this executor?". An exception escaping a task is logged.
 */
public final class NamedThreadFactory implements ThreadFactory {

    private static final Logger log = LoggerFactory.getLogger(NamedThreadFactory.class);

    private final String name;
    private volatile Thread last;

    public NamedThreadFactory(String name) {
        this.name = Objects.requireNonNull(name, "name");
    }

    @Override
    public Thread newThread(Runnable r) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        t.setUncaughtExceptionHandler((thread, e) -> log.error("uncaught exception on thread {}", thread.getName(), e));
        last = t;
        return t;
    }

    /** @return whether the calling thread is the (latest) thread this factory made */
    public boolean isCurrentThread() {
        return Thread.currentThread() == last;
    }

    public String name() {
        return name;
    }
}
