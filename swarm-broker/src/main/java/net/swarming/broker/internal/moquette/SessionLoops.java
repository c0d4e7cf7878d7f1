package net.swarming.broker.internal.moquette;

import io.moquette.broker.Server;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.IntConsumer;

/**
 * Runs work on Moquette 0.17's session event loops, the threads that own its sessions ({@code SessionEventLoopGroup}).
 *
 * <p>Moquette confines each session to one loop, chosen by its client id; state of a session (its queue, its in-flight
 * window) may only be touched there. Work handed over here runs on every loop, in order after the commands already
 * queued there, and whatever the caller wrote before is visible to it (the loops take commands from blocking queues).
 */
final class SessionLoops {

    private static final long WAIT_SECONDS = 30;

    private final Object group;
    private final Method route;
    private final Method ordinal;
    private final int count;

    private SessionLoops(Object group, Method route, Method ordinal, int count) {
        this.group = group;
        this.route = route;
        this.ordinal = ordinal;
        this.count = count;
    }

    /** @throws IllegalStateException if this is not a started Moquette 0.17 */
    static SessionLoops of(Server server) {
        Object registry = ChannelHooks.read(server, "sessions");
        Object group = ChannelHooks.read(registry, "loopsGroup");
        try {
            Method route = group.getClass().getDeclaredMethod("routeCommand", String.class, String.class,
                    Callable.class);
            route.setAccessible(true);
            Method ordinal = group.getClass().getDeclaredMethod("targetQueueOrdinal", String.class);
            ordinal.setAccessible(true);
            Method count = group.getClass().getDeclaredMethod("getEventLoopCount");
            count.setAccessible(true);
            return new SessionLoops(group, route, ordinal, (int) count.invoke(group));
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalStateException("Moquette " + Server.MOQUETTE_VERSION + " has no usable session loop group:"
                    + " swarm-broker needs Moquette 0.17", e);
        }
    }

    /** The number of loops. */
    int count() {
        return count;
    }

    /** The loop that owns {@code clientId}'s session. */
    int loopOf(String clientId) {
        try {
            return (int) ordinal.invoke(group, clientId);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot ask Moquette for the session loop of " + clientId, e);
        }
    }

    /**
     * Runs {@code work} once on each loop, given that loop's number, and waits for all of them.
     *
     * @throws IllegalStateException if a loop refused the work (its command queue is full), failed or did not run it
     *                               within 30 s
     */
    void runOnEach(IntConsumer work) {
        List<CompletableFuture<Void>> done = new ArrayList<>();
        for (int loop = 0; loop < count; loop++) {
            int n = loop;
            CompletableFuture<Void> ran = new CompletableFuture<>();
            Callable<String> command = () -> {
                try {
                    work.accept(n);
                    ran.complete(null);
                } catch (RuntimeException | Error e) {
                    ran.completeExceptionally(e);
                }
                return null;
            };
            route(loop, command);
            done.add(ran);
        }
        try {
            CompletableFuture.allOf(done.toArray(CompletableFuture[]::new)).get(WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted waiting for Moquette's session loops", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("Moquette's session loops did not run swarm-broker's set-up", e);
        }
    }

    /**
     * Queues {@code command} on {@code loop} as Moquette queues its own: an exception it throws ends that loop's thread.
     *
     * @throws IllegalStateException if the loop refused it (its command queue is full)
     */
    void route(int loop, Callable<String> command) {
        route(clientIdOn(loop), command);
    }

    /**
     * Queues {@code command} on the loop that owns {@code clientId}'s session, after the commands already queued there;
     * an exception it throws ends that loop's thread.
     *
     * @throws IllegalStateException if the loop refused it (its command queue is full)
     */
    void route(String clientId, Callable<String> command) {
        int loop = loopOf(clientId);
        try {
            Object result = route.invoke(group, clientId, "swarm-broker", command);
            Method isSuccess = result.getClass().getDeclaredMethod("isSuccess");
            isSuccess.setAccessible(true);
            if (!(boolean) isSuccess.invoke(result)) {
                throw new IllegalStateException("Moquette's session loop " + loop + " refused a command");
            }
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot hand work to Moquette's session loop " + loop, e);
        }
    }

    /** A client id that Moquette routes to {@code loop}; no session by that id is ever created or touched. */
    private String clientIdOn(int loop) {
        for (int i = 0; ; i++) {
            String id = "swarm-broker-loop-" + i;
            if (loopOf(id) == loop) {
                return id;
            }
        }
    }
}
