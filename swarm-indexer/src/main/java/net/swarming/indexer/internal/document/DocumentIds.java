package net.swarming.indexer.internal.document;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.Base64;

/**
 * Deterministic {@code _id}s for results that carry their round start: a redelivered MQTT message (QoS 1 is "at least
 * once") or a retried bulk request then collides with the first copy and comes back as a 409 instead of a second
 * document.
 *
 * <p>The id starts with the round start in milliseconds as 11 hex digits, so ids sort by time: Elasticsearch looks up
 * time-ordered ids faster than random ones (see platform notes). The rest is 16 bytes of SHA-256 over agent, target,
 * exact round start and probe, in URL-safe Base64: 11 + 1 + 22 = 34 characters.
 */
public final class DocumentIds {

    private static final Base64.Encoder BASE64 = Base64.getUrlEncoder().withoutPadding();
    /** One per thread: looking the algorithm up costs more than hashing a key. */
    private static final ThreadLocal<MessageDigest> SHA_256 = ThreadLocal.withInitial(DocumentIds::sha256);
    private static final int TIME_DIGITS = 11;

    private DocumentIds() {}

    /**
     * @param probe the probe's wire name, or the empty string when unknown
     */
    public static String pingId(String agent, String target, Instant roundStart, String probe) {
        return id(roundStart, agent, target, Timestamps.isoInstant(roundStart), probe);
    }

    /**
     * The id of an agent's birth: one per agent start, so the retained birth a broker hands out again on every
     * reconnect comes back as a duplicate instead of a second birth.
     */
    public static String birthId(String agent, String agentId, Instant started) {
        return id(started, "birth", agent, agentId, Timestamps.isoInstant(started));
    }

    private static String id(Instant time, String... parts) {
        MessageDigest sha = SHA_256.get();
        // NUL separators: no field can absorb its neighbour ("a"+"bc" differs from "ab"+"c").
        String key = String.join("\0", parts);
        byte[] digest = sha.digest(key.getBytes(StandardCharsets.UTF_8));
        byte[] head = new byte[16];
        System.arraycopy(digest, 0, head, 0, head.length);
        // The millisecond as at least 11 lower-case hex digits (String.format("%011x"), without its cost).
        String hex = Long.toHexString(Math.max(0L, time.toEpochMilli()));
        StringBuilder sb = new StringBuilder(TIME_DIGITS + 1 + 22);
        for (int i = hex.length(); i < TIME_DIGITS; i++) {
            sb.append('0');
        }
        return sb.append(hex).append('-').append(BASE64.encodeToString(head)).toString();
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }
}
