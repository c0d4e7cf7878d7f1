package net.swarming.agent.internal;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Thread factories that name their daemon threads after the agent's concerns, for logs and thread dumps. */
public final class NamedThreads {

    private static final Logger LOG = LoggerFactory.getLogger(NamedThreads.class);

    private NamedThreads() {
    }

    /** Threads named exactly {@code name}, for single-thread executors. */
    public static ThreadFactory single(String name) {
        return r -> create(r, name);
    }

    /** Threads named {@code prefix-1}, {@code prefix-2}, … */
    public static ThreadFactory numbered(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> create(r, prefix + "-" + n.incrementAndGet());
    }

    private static Thread create(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        t.setUncaughtExceptionHandler((thread, e) -> LOG.error("uncaught exception on {}", thread.getName(), e));
        return t;
    }
}
