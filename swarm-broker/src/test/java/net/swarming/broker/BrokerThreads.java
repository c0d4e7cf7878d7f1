package net.swarming.broker;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/** Finds threads that a broker left running: tests snapshot the threads before, then check after. */
public final class BrokerThreads {

    /** Names of threads Moquette 0.17, Netty and H2 create (Moquette's scheduler and interceptor use pool-N-thread-M). */
    private static final Pattern BROKER_THREAD =
            Pattern.compile("Session Executor.*|nioEventLoopGroup.*|epollEventLoopGroup.*|pool-\\d+-thread-\\d+|MVStore.*"
                    + "|swarm-broker.*|prometheus-http.*");

    private BrokerThreads() {}

    /** The threads alive now. */
    public static Set<Thread> snapshot() {
        return Set.copyOf(Thread.getAllStackTraces().keySet());
    }

    /**
     * Threads started since {@code before} that are still alive and either look like broker threads or would keep the
     * JVM from exiting (non-daemon), waiting up to {@code patience} for them to finish.
     */
    public static List<String> leftoverSince(Set<Thread> before, Duration patience) throws InterruptedException {
        long deadline = System.nanoTime() + patience.toNanos();
        List<String> left;
        do {
            left = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> !before.contains(t) && t.isAlive() && t != Thread.currentThread())
                    .filter(t -> BROKER_THREAD.matcher(t.getName()).matches() || !t.isDaemon())
                    .map(t -> t.getName() + (t.isDaemon() ? " (daemon)" : ""))
                    .sorted()
                    .collect(Collectors.toList());
            if (left.isEmpty()) {
                return left;
            }
            Thread.sleep(100);
        } while (System.nanoTime() < deadline);
        return left;
    }
}
