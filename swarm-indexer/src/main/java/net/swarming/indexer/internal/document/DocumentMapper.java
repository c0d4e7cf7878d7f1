package net.swarming.indexer.internal.document;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
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

    /** Always three fraction digits in UTC, so documents compare byte for byte in tests. */
    private static final DateTimeFormatter TIMESTAMP =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String pingsStream;
    private final String agentsStream;
    private final String deadLetterStream;
    private final int maxDeadLetterPayload;

    /** Most bytes of a bad message's payload kept in its dead-letter document. */
    public static final int DEFAULT_DEAD_LETTER_PAYLOAD = 4096;

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
        ObjectNode doc = JSON.createObjectNode();
        doc.put("@timestamp", format(received));
        ObjectNode event = doc.putObject("event");
        event.put("ingested", format(received));
        event.put("reason", reason);
        ObjectNode error = doc.putObject("error");
        error.put("type", reason);
        error.put("message", detail == null ? "" : detail.length() > 1000 ? detail.substring(0, 1000) : detail);
        ObjectNode swarm = doc.putObject("swarm");
        swarm.put("broker", broker);
        swarm.put("topic", topic);
        int kept = Math.min(payload.length, maxDeadLetterPayload);
        swarm.put("payload", new String(payload, 0, kept, java.nio.charset.StandardCharsets.UTF_8));
        swarm.put("payload_bytes", payload.length);
        swarm.put("payload_truncated", kept < payload.length);
        return new IndexDocument(deadLetterStream, null, bytes(doc));
    }

    /**
     * The presence document for an agent's birth message: the agent connected. Auto id.
     */
    public IndexDocument birth(String agent, String broker, Instant received) {
        ObjectNode doc = JSON.createObjectNode();
        doc.put("@timestamp", format(received));
        ObjectNode event = doc.putObject("event");
        event.put("ingested", format(received));
        event.put("action", "birth");
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
        ObjectNode doc = JSON.createObjectNode();
        Instant roundStart = result.roundStart();
        doc.put("@timestamp", format(roundStart != null ? roundStart : received));

        ObjectNode event = doc.putObject("event");
        event.put("ingested", format(received));
        event.put("outcome", result.status() == ResultStatus.OK ? "success" : "failure");

        ObjectNode observer = doc.putObject("observer");
        observer.put("name", result.agent());
        if (result.agentId() != null) {
            observer.put("id", result.agentId());
        }

        ObjectNode destination = doc.putObject("destination");
        String target = result.target();
        destination.put("address", target);
        Optional<String> targetIp = IpLiterals.ipLiteral(target);
        if (targetIp.isEmpty()) {
            destination.put("domain", target);
        }
        Optional<String> resolved = IpLiterals.ipLiteral(result.resolvedIp());
        if (resolved.isPresent()) {
            destination.put("ip", resolved.get());
        } else if (targetIp.isPresent()) {
            destination.put("ip", targetIp.get());
        }

        if (result.error() != null && !result.error().isEmpty()) {
            doc.putObject("error").put("message", result.error());
        }

        ObjectNode swarm = doc.putObject("swarm");
        String probe = probeName(result);
        if (probe != null) {
            swarm.put("probe", probe);
        }
        putFinite(swarm, "loss_pct", result.loss());
        RttStats rtt = result.rtt();
        if (rtt != null) {
            ObjectNode r = swarm.putObject("rtt");
            putFinite(r, "min", rtt.min());
            putFinite(r, "avg", rtt.avg());
            putFinite(r, "median", rtt.median());
            putFinite(r, "p95", rtt.p95());
            putFinite(r, "max", rtt.max());
            putFinite(r, "stddev", rtt.stddev());
        }
        List<Double> rtts = result.rtts();
        if (rtts != null) {
            ArrayNode values = JSON.createArrayNode();
            for (Double v : rtts) {
                // Lost packets are null on the wire; swarm.sent - swarm.received tells how many there were.
                if (v != null && Double.isFinite(v)) {
                    values.add(v);
                }
            }
            if (!values.isEmpty()) {
                swarm.set("rtts", values);
            }
        }
        putInt(swarm, "sent", result.sent());
        putInt(swarm, "received", result.received());
        putInt(swarm, "duplicates", result.duplicates());
        swarm.put("format", result.version());
        swarm.put("broker", broker);

        String id = roundStart == null ? null
                : DocumentIds.pingId(result.agent(), target, roundStart, probe == null ? "" : probe);
        return new IndexDocument(pingsStream, id, bytes(doc));
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
        return TIMESTAMP.format(instant.truncatedTo(ChronoUnit.MILLIS));
    }

    /** JSON has no NaN or infinity: such a value would break the whole bulk request, so it is left out. */
    private static void putFinite(ObjectNode node, String field, Double value) {
        if (value != null && Double.isFinite(value)) {
            node.put(field, value.doubleValue());
        }
    }

    private static void putInt(ObjectNode node, String field, Integer value) {
        if (value != null) {
            node.put(field, value.intValue());
        }
    }

    private static byte[] bytes(ObjectNode doc) {
        try {
            return JSON.writeValueAsBytes(doc);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a tree of strings and numbers always serialises", e);
        }
    }
}
