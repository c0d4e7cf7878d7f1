package net.swarming.indexer.internal.intake;

import java.time.Clock;
import java.time.Instant;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;
import net.swarming.common.mqtt.InboundMessage;
import net.swarming.common.mqtt.MessageHandler;
import net.swarming.common.wire.PayloadException;
import net.swarming.common.wire.PingCodec;
import net.swarming.common.wire.PingResult;
import net.swarming.common.wire.Topics;
import net.swarming.indexer.internal.IndexerMetrics;
import net.swarming.indexer.internal.document.DocumentMapper;
import net.swarming.indexer.internal.document.IndexDocument;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns every message of every broker into a document, or counts it as bad. Runs on the links' dispatch threads and
 * only decodes, maps and hands over: it never waits for Elasticsearch. Nothing a publisher sends can make it throw.
 */
public final class MessageRouter implements MessageHandler {

    private static final Logger LOG = LoggerFactory.getLogger(MessageRouter.class);

    /** Values of the {@code reason} label of {@code swarm_indexer_bad_messages_total} besides the codec's own. */
    public static final String REASON_UNKNOWN_TOPIC = "unknown_topic";
    public static final String REASON_INTERNAL = "internal_error";

    private final DocumentMapper mapper;
    private final Consumer<IndexDocument> sink;
    private final IndexerMetrics metrics;
    private final Clock clock;

    /**
     * @param sink receives each document; must be quick and must not block for long
     */
    public MessageRouter(DocumentMapper mapper, Consumer<IndexDocument> sink, IndexerMetrics metrics, Clock clock) {
        this.mapper = Objects.requireNonNull(mapper, "mapper");
        this.sink = Objects.requireNonNull(sink, "sink");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    @Override
    public void onMessage(InboundMessage m) {
        String broker = m.broker().toString();
        metrics.message(broker);
        Instant received = clock.instant();
        try {
            Optional<String> target = Topics.pingTarget(m.topic());
            if (target.isPresent()) {
                PingResult result = PingCodec.decode(target.get(), m.payload());
                sink.accept(mapper.ping(result, broker, received));
                return;
            }
            Optional<String> agent = Topics.ripAgentOf(m.topic());
            if (agent.isPresent()) {
                sink.accept(mapper.rip(agent.get(), broker, received));
                return;
            }
            bad(m, broker, REASON_UNKNOWN_TOPIC, "topic is neither ping/<target> nor rip/agent/<host>");
        } catch (PayloadException e) {
            bad(m, broker, e.reason().name().toLowerCase(Locale.ROOT), e.getMessage());
        } catch (RuntimeException e) {
            // A codec or mapper bug must cost one message, not the link's dispatch thread.
            LOG.error("cannot index message on {} from {}", m.topic(), broker, e);
            bad(m, broker, REASON_INTERNAL, e.toString());
        }
    }

    private void bad(InboundMessage m, String broker, String reason, String detail) {
        metrics.badMessage(reason);
        LOG.warn("bad message on {} from {} ({}): {}", m.topic(), broker, reason, detail);
        if (LOG.isDebugEnabled()) {
            LOG.debug("bad message payload on {}: {}", m.topic(), m.payloadAsString());
        }
    }
}
