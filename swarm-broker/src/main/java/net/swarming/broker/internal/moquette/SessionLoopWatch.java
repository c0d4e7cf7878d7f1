package net.swarming.broker.internal.moquette;

import io.moquette.interception.AbstractInterceptHandler;
import io.moquette.interception.messages.InterceptExceptionMessage;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes the death of one of Moquette 0.17's session loops visible.
 *
 * <p>Moquette runs every session command on a few "Session Executor" threads; a command that throws ends its thread
 * (no handler catches it), and from then on every client whose id maps to that loop gets nothing delivered and no
 * acknowledgement, while the others carry on — a silent partial stall that only a restart ends (how the flood test
 * stalled before {@link DetachedQueues}). Moquette itself logs a warning about one failed command. This handler, called
 * by Moquette on the dying thread, logs an error that says what it means and counts it in
 * {@code swarm_broker_session_loops_failed_total}, for an alert.
 */
public final class SessionLoopWatch extends AbstractInterceptHandler {

    private static final Logger LOG = LoggerFactory.getLogger(SessionLoopWatch.class);

    private final Counter failed;

    /** @param registry where the counter is registered */
    public SessionLoopWatch(PrometheusRegistry registry) {
        this.failed = Counter.builder()
                .name("swarm_broker_session_loops_failed_total")
                .help("Moquette session loops (threads) that died on an exception: clients mapped to one get nothing "
                        + "more until the broker restarts")
                .withoutExemplars()
                .register(registry);
    }

    @Override
    public String getID() {
        return "swarm-broker-session-loop-watch";
    }

    @Override
    public Class<?>[] getInterceptedMessageTypes() {
        return new Class<?>[] {InterceptExceptionMessage.class};
    }

    @Override
    public void onSessionLoopError(Throwable error) {
        failed.inc();
        LOG.error("Moquette session loop {} died: the clients it serves get no messages and no acknowledgements until "
                + "the broker restarts; restart it", Thread.currentThread().getName(), error);
    }

    /** Session loops that died so far. */
    public long failures() {
        return (long) failed.get();
    }
}
