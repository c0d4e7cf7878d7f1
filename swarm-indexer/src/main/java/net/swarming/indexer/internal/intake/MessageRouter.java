package net.swarming.indexer.internal.intake;

import java.time.Clock;
import java.time.Instant;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import net.swarming.common.mqtt.InboundMessage;
import net.swarming.common.mqtt.MessageHandler;
import net.swarming.common.wire.BirthCodec;
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
 * Turns every message of every broker into a document: a result, a presence event, or a dead letter for what cannot be
 * indexed (with the reason, topic, broker and the start of the payload). Runs on the links' dispatch threads and only
 * decodes, maps and hands over: it never waits for Elasticsearch. Nothing a publisher sends can make it throw.
 */
public final class MessageRouter implements MessageHandler {

    private static final Logger LOG = LoggerFactory.getLogger(MessageRouter.class);

    /** Values of the {@code reason} label of {@code swarm_indexer_bad_messages_total} besides the codec's own. */
    public static final String REASON_UNKNOWN_TOPIC = "unknown_topic";
    public static final String REASON_OVERSIZED = "oversized";
    public static final String REASON_INTERNAL = "internal_error";

    /** Receives each message's document (never null) together with the message, to acknowledge once it is safe. */
    @FunctionalInterface
    public interface Delivery {
        /** Must be quick and must not block for long. */
        void accept(IndexDocument doc, InboundMessage m);
    }

    private final DocumentMapper mapper;
    private final Delivery sink;
    private final IndexerMetrics metrics;
    private final Clock clock;
    private final int maxMessageBytes;

    /**
     * @param maxMessageBytes larger payloads go to the dead letters as {@value #REASON_OVERSIZED} without decoding
     */
    public MessageRouter(DocumentMapper mapper, Delivery sink, IndexerMetrics metrics, Clock clock,
                         int maxMessageBytes) {
        this.mapper = Objects.requireNonNull(mapper, "mapper");
        this.sink = Objects.requireNonNull(sink, "sink");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.maxMessageBytes = maxMessageBytes;
    }

    @Override
    public void onMessage(InboundMessage m) {
        String broker = m.broker().toString();
        metrics.message(broker);
        Instant received = clock.instant();
        IndexDocument doc;
        try {
            doc = route(m, broker, received);
        } catch (PayloadException e) {
            doc = bad(m, broker, e.reason().name().toLowerCase(Locale.ROOT), e.getMessage(), received);
        } catch (RuntimeException e) {
            // A codec or mapper bug must cost one message, not the link's dispatch thread.
            LOG.error("cannot index message on {} from {}", m.topic(), broker, e);
            doc = bad(m, broker, REASON_INTERNAL, e.toString(), received);
        }
        sink.accept(doc, m);
    }

    private IndexDocument route(InboundMessage m, String broker, Instant received) throws PayloadException {
        if (m.payload().length > maxMessageBytes) {
            return bad(m, broker, REASON_OVERSIZED, m.payload().length + " bytes is more than the limit of "
                    + maxMessageBytes, received);
        }
        Optional<String> target = Topics.pingTarget(m.topic());
        if (target.isPresent()) {
            PingResult result = PingCodec.decode(target.get(), m.payload());
            return mapper.ping(result, broker, received);
        }
        Optional<String> agent = Topics.ripAgentOf(m.topic());
        if (agent.isPresent()) {
            return mapper.rip(agent.get(), broker, received);
        }
        Optional<String> born = Topics.birthAgentOf(m.topic());
        if (born.isPresent()) {
            // An empty message clears the retained birth: the agent stopped cleanly.
            return m.payload().length == 0 ? mapper.stop(born.get(), broker, received)
                    : mapper.birth(born.get(), BirthCodec.decode(m.payload()), broker, received);
        }
        return bad(m, broker, REASON_UNKNOWN_TOPIC, "topic is neither ping/<target>, rip/agent/<host> nor "
                + "birth/agent/<host>", received);
    }

    private IndexDocument bad(InboundMessage m, String broker, String reason, String detail, Instant received) {
        metrics.badMessage(reason);
        LOG.warn("bad message on {} from {} ({}): {}; sent to the dead letters", m.topic(), broker, reason, detail);
        if (LOG.isDebugEnabled()) {
            LOG.debug("bad message payload on {}: {}", m.topic(), m.payloadAsString());
        }
        return mapper.deadLetter(m.topic(), m.payload(), broker, reason, detail, received);
    }
}
