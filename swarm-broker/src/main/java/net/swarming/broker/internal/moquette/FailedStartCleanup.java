package net.swarming.broker.internal.moquette;

import io.moquette.broker.Server;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Releases what a failed {@code Server.startServer} of Moquette 0.17 left running.
 *
 * <p>Moquette's {@code stopServer()} returns at once when the failure came before its network acceptor existed (bad
 * store, corrupt session, defect (1)), leaving its scheduler, its store, its interceptor pool and its non-daemon
 * "Session Executor" threads alive: the JVM then never exits. This class closes each part that exists, found by
 * reflection on Moquette 0.17's private fields, and interrupts the session loops the failed start created, which
 * Moquette keeps in a local variable only. Every step is independent and logged, so one failing step does not stop the
 * others.
 */
public final class FailedStartCleanup {

    private static final Logger LOG = LoggerFactory.getLogger(FailedStartCleanup.class);
    private static final String SESSION_LOOP_CLASS = "io.moquette.broker.SessionEventLoop";
    private static final long JOIN_MILLIS = 5_000;

    private FailedStartCleanup() {}

    /** The threads alive now, taken just before {@code startServer} to recognise the ones it created. */
    public static Set<Thread> snapshotThreads() {
        return Set.copyOf(Thread.getAllStackTraces().keySet());
    }

    /**
     * Stops every part of {@code server} that a failed start left behind.
     *
     * @param threadsBefore {@link #snapshotThreads()} taken before the start
     */
    public static void cleanUp(Server server, Set<Thread> threadsBefore) {
        Object acceptor = field(server, "acceptor");
        if (acceptor != null) {
            step("close the network acceptor", () -> invoke(acceptor, "close"));
        }
        Object scheduler = field(server, "scheduler");
        if (scheduler instanceof ExecutorService executor) {
            step("stop the scheduler", executor::shutdownNow);
        }
        Object sessions = field(server, "sessions");
        if (sessions != null) {
            step("close the session registry", () -> invoke(sessions, "close"));
        }
        Object h2 = field(server, "h2Builder");
        if (h2 != null) {
            step("close the H2 store", () -> invoke(h2, "closeStore"));
        }
        Object interceptor = field(server, "interceptor");
        if (interceptor != null) {
            step("stop the interceptor pool", () -> invoke(interceptor, "stop"));
        }
        Object dispatcher = field(server, "dispatcher");
        if (dispatcher != null) {
            step("stop the session loops", () -> invoke(dispatcher, "terminate"));
        }
        step("stop orphaned session loops", () -> stopOrphanedSessionLoops(threadsBefore));
    }

    private static void stopOrphanedSessionLoops(Set<Thread> threadsBefore) throws InterruptedException {
        List<Thread> orphans = new ArrayList<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (!threadsBefore.contains(t) && t.isAlive() && t.getClass().getName().equals(SESSION_LOOP_CLASS)) {
                orphans.add(t);
            }
        }
        for (Thread t : orphans) {
            t.interrupt();
        }
        for (Thread t : orphans) {
            t.join(JOIN_MILLIS);
            if (t.isAlive()) {
                LOG.warn("Moquette thread '{}' did not stop after a failed start", t.getName());
            }
        }
    }

    private interface Step {
        void run() throws Exception;
    }

    private static void step(String what, Step step) {
        try {
            step.run();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            LOG.warn("interrupted while trying to {} after a failed Moquette start", what);
        } catch (Exception | LinkageError e) {
            LOG.warn("could not {} after a failed Moquette start: {}", what, e.toString());
        }
    }

    private static Object field(Object target, String name) {
        try {
            Field f = target.getClass().getDeclaredField(name);
            f.setAccessible(true);
            return f.get(target);
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.warn("cannot read Moquette's Server.{} to clean up a failed start: {}", name, e.toString());
            return null;
        }
    }

    private static void invoke(Object target, String method) throws Exception {
        Method m = target.getClass().getDeclaredMethod(method);
        m.setAccessible(true);
        try {
            m.invoke(target);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof Exception cause) {
                throw cause;
            }
            throw e;
        }
    }
}
