package net.swarming.indexer.internal.pipeline;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;

/**
 * A writer's view of Elasticsearch being unreachable: a capped exponential backoff between attempts, and a log that
 * says the outage once at ERROR, then one WARN line per {@link #LOG_PERIOD} rather than one per attempt, then its end.
 * Shared by both bulk writers; used from the flush thread only.
 */
public final class Outage {

    /** The first pause after a failure; each further failure doubles it up to the configured maximum. */
    public static final Duration INITIAL_BACKOFF = Duration.ofMillis(200);
    /** While Elasticsearch stays down, one WARN line per this period. */
    public static final Duration LOG_PERIOD = Duration.ofSeconds(30);

    private final Logger log;
    private final long maxBackoffNanos;
    private final LongSupplier nanoTime;

    private long backoffNanos;
    private long notBeforeNanos;
    private int failedAttempts;
    private long startNanos;
    private long lastLogNanos;

    /** @param log the writer's logger, so lines keep naming the writer */
    public Outage(Logger log, Duration maxBackoff, LongSupplier nanoTime) {
        this.log = log;
        this.maxBackoffNanos = maxBackoff.toNanos();
        this.nanoTime = nanoTime;
    }

    /** Whether the backoff still asks to wait before the next attempt. */
    public boolean waiting() {
        return nanoTime.getAsLong() < notBeforeNanos;
    }

    /** The current pause between attempts (0 when nothing failed). */
    public long backoffNanos() {
        return backoffNanos;
    }

    /** Ignores the pause once (the final flush retries at its own pace). */
    public void retryNow() {
        notBeforeNanos = 0;
    }

    /** Waits longer before the next attempt, without counting a failure (Elasticsearch pushed documents back). */
    public void backOff() {
        backoffNanos = Math.min(backoffNanos == 0 ? INITIAL_BACKOFF.toNanos() : backoffNanos * 2, maxBackoffNanos);
        notBeforeNanos = nanoTime.getAsLong() + backoffNanos;
    }

    /**
     * An attempt failed: backs off and logs.
     *
     * @param what what was being done
     * @param spoolDepth documents kept in the spool, for the log
     */
    public void failed(Exception e, String what, long spoolDepth) {
        long now = nanoTime.getAsLong();
        failedAttempts++;
        backOff();
        if (!(e instanceof SinkUnavailableException)) {
            log.error("unexpected failure while writing to Elasticsearch", e);
        }
        String cause = e instanceof SinkUnavailableException && e.getCause() != null ? e.getCause().toString()
                : e.toString();
        if (failedAttempts == 1) {
            startNanos = now;
            lastLogNanos = now;
            log.error("Elasticsearch unavailable: {}: {}; {} documents kept in the spool, retrying in {} ms", what,
                    cause, spoolDepth, TimeUnit.NANOSECONDS.toMillis(backoffNanos));
        } else if (now - lastLogNanos >= LOG_PERIOD.toNanos()) {
            lastLogNanos = now;
            log.warn("Elasticsearch still unavailable after {} attempts ({} s): {}: {}; {} documents in the spool",
                    failedAttempts, TimeUnit.NANOSECONDS.toSeconds(now - startNanos), what, cause, spoolDepth);
        } else {
            log.debug("Elasticsearch still unavailable (attempt {}): {}", failedAttempts, cause);
        }
    }

    /** An attempt went through: ends the outage (logged if there was one) and the backoff. */
    public void recovered() {
        if (failedAttempts > 0) {
            log.info("Elasticsearch reachable again after {} failed attempts ({} s)", failedAttempts,
                    TimeUnit.NANOSECONDS.toSeconds(nanoTime.getAsLong() - startNanos));
        }
        failedAttempts = 0;
        backoffNanos = 0;
        notBeforeNanos = 0;
    }
}
