package net.swarming.indexer.internal.document;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import net.swarming.common.wire.BirthMessage;
import net.swarming.common.wire.PingCodec;
import net.swarming.common.wire.PingResult;
import net.swarming.common.wire.ProbeType;
import net.swarming.common.wire.ResultStatus;
import net.swarming.common.wire.RttStats;

/**
 * Turns decoded MQTT messages into ECS-aligned Elasticsearch documents; the field list is in {@code docs/data-model.md}.
 * Stateless and thread-safe.
 */
public final class DocumentMapper {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String pingsStream;
    private final String agentsStream;
    private final String deadLetterStream;
    private final int maxDeadLetterPayload;

    /** Most bytes of a bad message's payload kept in its dead-letter document. */
    public static final int DEFAULT_DEAD_LETTER_PAYLOAD = 4096;
    /** {@code event.reason} of a document Elasticsearch refused for good (also a {@code bad_messages} label). */
    public static final String REASON_REJECTED = "rejected";

    public DocumentMapper(String pingsStream, String agentsStream) {
        this(pingsStream, agentsStream, "swarm-deadletter-default", DEFAULT_DEAD_LETTER_PAYLOAD);
    }

    public DocumentMapper(String pingsStream, String agentsStream, String deadLetterStream, int maxDeadLetterPayload) {
        this.pingsStream = Objects.requireNonNull(pingsStream, "pingsStream");
        this.agentsStream = Objects.requireNonNull(agentsStream, "agentsStream");
        this.deadLetterStream = Objects.requireNonNull(deadLetterStream, "deadLetterStream");
        this.maxDeadLetterPayload = maxDeadLetterPayload;
    }

    /**
     * The dead-letter document for a message that could not be indexed: why, where it came from, and the start of its
     * payload (at most {@code maxDeadLetterPayload} bytes, decoded as UTF-8 with replacement characters). Auto id.
     */
    public IndexDocument deadLetter(String topic, byte[] payload, String broker, String reason, String detail,
                                    Instant received) {
        return deadLetter(topic, payload, broker, reason, reason, detail, received);
    }

    /**
     * The dead-letter document for a document Elasticsearch refused for good: {@code event.reason} is
     * {@value #REASON_REJECTED}, {@code error.type} Elasticsearch's error type, {@code error.message} its status,
     * the data stream and its reason, and {@code swarm.payload} the start of the refused document's source. It has no
     * topic or broker: what was refused is our document, not the message.
     */
    public IndexDocument rejected(IndexDocument refused, int status, String errorType, String reason, Instant now) {
        String detail = "Elasticsearch answered " + status + " " + errorType + " for " + refused.index()
                + (refused.id() == null ? "" : " (id " + refused.id() + ")") + ": " + reason;
        return deadLetter(null, refused.source(), null, REASON_REJECTED, errorType, detail, now);
    }

    private IndexDocument deadLetter(String topic, byte[] payload, String broker, String reason, String errorType,
                                     String detail, Instant received) {
        ObjectNode doc = JSON.createObjectNode();
        doc.put("@timestamp", format(received));
        ObjectNode event = doc.putObject("event");
        event.put("ingested", format(received));
        event.put("reason", reason);
        ObjectNode error = doc.putObject("error");
        error.put("type", errorType);
        error.put("message", detail == null ? "" : detail.length() > 1000 ? detail.substring(0, 1000) : detail);
        ObjectNode swarm = doc.putObject("swarm");
        if (broker != null) {
            swarm.put("broker", broker);
        }
        if (topic != null) {
            swarm.put("topic", topic);
        }
        int kept = Math.min(payload.length, maxDeadLetterPayload);
        swarm.put("payload", new String(payload, 0, kept, java.nio.charset.StandardCharsets.UTF_8));
        swarm.put("payload_bytes", payload.length);
        swarm.put("payload_truncated", kept < payload.length);
        return new IndexDocument(deadLetterStream, null, bytes(doc));
    }

    /**
     * The presence document for an agent's birth message: the agent connected. {@code @timestamp} is the agent's own
     * start time and the id is derived from it, so a retained birth delivered again is a duplicate, not a new birth.
     *
     * @param agent the agent name from the topic
     */
    public IndexDocument birth(String agent, BirthMessage birth, String broker, Instant received) {
        ObjectNode doc = JSON.createObjectNode();
        doc.put("@timestamp", format(birth.started()));
        ObjectNode event = doc.putObject("event");
        event.put("ingested", format(received));
        event.put("action", "birth");
        ObjectNode observer = doc.putObject("observer");
        observer.put("name", agent);
        observer.put("id", birth.agentId());
        observer.put("version", birth.version());
        if (birth.location() != null) {
            observer.putObject("geo").put("name", birth.location());
        }
        ObjectNode swarm = doc.putObject("swarm");
        swarm.put("broker", broker);
        ArrayNode probes = swarm.putArray("probes");
        birth.probes().forEach(p -> probes.add(p.wireName()));
        return new IndexDocument(agentsStream, DocumentIds.birthId(agent, birth.agentId(), birth.started()),
                bytes(doc));
    }

    /**
     * The presence document for an agent that stopped cleanly: it clears its retained birth with an empty message
     * (a clean stop sends no will). Auto id.
     */
    public IndexDocument stop(String agent, String broker, Instant received) {
        ObjectNode doc = JSON.createObjectNode();
        doc.put("@timestamp", format(received));
        ObjectNode event = doc.putObject("event");
        event.put("ingested", format(received));
        event.put("action", "stop");
        doc.putObject("observer").put("name", agent);
        doc.putObject("swarm").put("broker", broker);
        return new IndexDocument(agentsStream, null, bytes(doc));
    }

    /**
     * The document for one probe result.
     *
     * @param broker the broker the message came from, as {@code host:port}
     * @param received when this indexer received the message
     */
    public IndexDocument ping(PingResult result, String broker, Instant received) {
        // Streamed straight to bytes (the hot path: one per result): the same fields, order and number formatting a
        // tree would give, without building one per message.
        Instant roundStart = result.roundStart();
        String target = result.target();
        String probe = probeName(result);
        ByteArrayBuilder out = new ByteArrayBuilder(512);
        try (JsonGenerator g = JSON.getFactory().createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("@timestamp", format(roundStart != null ? roundStart : received));

            g.writeObjectFieldStart("event");
            g.writeStringField("ingested", format(received));
            g.writeStringField("outcome", result.status() == ResultStatus.OK ? "success" : "failure");
            g.writeEndObject();

            g.writeObjectFieldStart("observer");
            g.writeStringField("name", result.agent());
            if (result.agentId() != null) {
                g.writeStringField("id", result.agentId());
            }
            g.writeEndObject();

            g.writeObjectFieldStart("destination");
            g.writeStringField("address", target);
            Optional<String> targetIp = IpLiterals.ipLiteral(target);
            if (targetIp.isEmpty()) {
                g.writeStringField("domain", target);
            }
            Optional<String> resolved = IpLiterals.ipLiteral(result.resolvedIp());
            if (resolved.isPresent()) {
                g.writeStringField("ip", resolved.get());
            } else if (targetIp.isPresent()) {
                g.writeStringField("ip", targetIp.get());
            }
            g.writeEndObject();

            if (result.error() != null && !result.error().isEmpty()) {
                g.writeObjectFieldStart("error");
                g.writeStringField("message", result.error());
                g.writeEndObject();
            }

            g.writeObjectFieldStart("swarm");
            if (probe != null) {
                g.writeStringField("probe", probe);
            }
            writeFinite(g, "loss_pct", result.loss());
            RttStats rtt = result.rtt();
            if (rtt != null) {
                g.writeObjectFieldStart("rtt");
                writeFinite(g, "min", rtt.min());
                writeFinite(g, "avg", rtt.avg());
                writeFinite(g, "median", rtt.median());
                writeFinite(g, "p95", rtt.p95());
                writeFinite(g, "max", rtt.max());
                writeFinite(g, "stddev", rtt.stddev());
                g.writeEndObject();
            }
            List<Double> rtts = result.rtts();
            if (rtts != null) {
                boolean open = false;
                for (Double v : rtts) {
                    // Lost packets are null on the wire; swarm.sent - swarm.received tells how many there were.
                    if (v != null && Double.isFinite(v)) {
                        if (!open) {
                            g.writeArrayFieldStart("rtts");
                            open = true;
                        }
                        g.writeNumber(v.doubleValue());
                    }
                }
                if (open) {
                    g.writeEndArray();
                }
            }
            writeInt(g, "sent", result.sent());
            writeInt(g, "received", result.received());
            writeInt(g, "duplicates", result.duplicates());
            g.writeNumberField("format", result.version());
            g.writeStringField("broker", broker);
            g.writeEndObject();
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException("writing to memory cannot fail", e);
        }
        String id = roundStart == null ? null
                : DocumentIds.pingId(result.agent(), target, roundStart, probe == null ? "" : probe);
        return new IndexDocument(pingsStream, id, out.toByteArray());
    }

    /** JSON has no NaN or infinity: such a value would break the whole bulk request, so it is left out. */
    private static void writeFinite(JsonGenerator g, String field, Double value) throws IOException {
        if (value != null && Double.isFinite(value)) {
            g.writeNumberField(field, value.doubleValue());
        }
    }

    private static void writeInt(JsonGenerator g, String field, Integer value) throws IOException {
        if (value != null) {
            g.writeNumberField(field, value.intValue());
        }
    }

    /**
     * The presence document for an agent's will ({@code rip/agent/<host>}): the broker saw the agent vanish.
     * Auto id: every will is an event of its own.
     */
    public IndexDocument rip(String agent, String broker, Instant received) {
        ObjectNode doc = JSON.createObjectNode();
        doc.put("@timestamp", format(received));
        ObjectNode event = doc.putObject("event");
        event.put("ingested", format(received));
        event.put("action", "rip");
        doc.putObject("observer").put("name", agent);
        doc.putObject("swarm").put("broker", broker);
        return new IndexDocument(agentsStream, null, bytes(doc));
    }

    /**
     * The probe's wire name. The original format carries none, but the original agent only ever ran {@code ping}:
     * ICMP. A version 2 probe type this indexer does not know is left out.
     */
    private static String probeName(PingResult result) {
        if (result.probe() != null) {
            return result.probe().wireName();
        }
        return result.version() == PingCodec.ORIGINAL_VERSION ? ProbeType.ICMP.wireName() : null;
    }

    /** ISO-8601 UTC with milliseconds, the precision of the {@code date} type. */
    public static String format(Instant instant) {
        return Timestamps.isoMillis(instant);
    }


    private static byte[] bytes(ObjectNode doc) {
        try {
            return JSON.writeValueAsBytes(doc);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a tree of strings and numbers always serialises", e);
        }
    }
}
