package net.swarming.common.mqtt;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * How an {@link MqttLink} connects. Build one with {@link #builder()}; the constructor checks every field and reports
 * all problems at once in one {@link IllegalArgumentException}.
 *
 * @param brokers where to connect, tried round-robin; non-empty, no duplicates
 * @param shuffle whether to shuffle the broker list once at start (the original agent does, to spread the bees)
 * @param clientId the MQTT client id; must be unique per running instance (see {@link MqttLink#defaultClientId})
 * @param cleanSession MQTT clean-session flag; false keeps the broker-side session (subscriptions, queued QoS ≥ 1
 *     messages) while disconnected, which only helps with a client id that is stable across restarts
 * @param keepAlive MQTT keep-alive, whole seconds, 0 (off) to 65535 s
 * @param maxInflight most publishes handed to Paho and not yet completed (QoS 1 and 2: until the broker acknowledges
 *     them; QoS 0: until written); further publishes wait in order in the link (1 to {@value #MAX_MAX_INFLIGHT}; Paho's
 *     own default of 10 would refuse bursts with "Too many publishes in progress")
 * @param connectTimeout how long one connect attempt may take, whole seconds, at least 1 s
 * @param backoffInitial upper bound of the jittered delay after the first failed cycle through the brokers
 * @param backoffMax upper bound of every delay between attempts
 * @param will the last will, or null for none
 * @param subscriptions re-established on every successful connect; may be empty
 * @param manualAcks when true, QoS 1 messages are acknowledged to the broker only by {@link MqttLink#ack}
 * @param security user name, password and CA file; {@link MqttSecurity#NONE} for anonymous with the JVM's trust store
 */
public record MqttLinkConfig(
        List<BrokerAddress> brokers,
        boolean shuffle,
        String clientId,
        boolean cleanSession,
        Duration keepAlive,
        int maxInflight,
        Duration connectTimeout,
        Duration backoffInitial,
        Duration backoffMax,
        Will will,
        List<Subscription> subscriptions,
        boolean manualAcks,
        MqttSecurity security) {

    public static final boolean DEFAULT_SHUFFLE = true;
    /**
     * True because the default client id is new on every start: a persistent session under it could never be resumed
     * and would only pile up on the broker. Set false together with a stable client id.
     */
    public static final boolean DEFAULT_CLEAN_SESSION = true;
    public static final Duration DEFAULT_KEEP_ALIVE = Duration.ofSeconds(60);
    public static final int DEFAULT_MAX_INFLIGHT = 1000;
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration DEFAULT_BACKOFF_INITIAL = Duration.ofMillis(200);
    public static final Duration DEFAULT_BACKOFF_MAX = Duration.ofSeconds(30);
    public static final boolean DEFAULT_MANUAL_ACKS = false;
    /** Packet identifiers are 16-bit: leave room for subscribes and acknowledgements. */
    public static final int MAX_MAX_INFLIGHT = 60_000;
    public static final int MAX_CLIENT_ID_BYTES = 65_535;
    static final Duration MAX_BACKOFF = Duration.ofDays(1);
    static final Duration MAX_CONNECT_TIMEOUT = Duration.ofHours(1);
    static final Duration MAX_KEEP_ALIVE = Duration.ofSeconds(65_535);

    public MqttLinkConfig {
        List<String> problems = new ArrayList<>();
        brokers = copyWithoutNulls(brokers, "brokers", problems);
        if (brokers.isEmpty()) {
            problems.add("brokers: empty; give at least one broker, such as localhost:1883");
        } else if (new HashSet<>(brokers).size() != brokers.size()) {
            problems.add("brokers: " + brokers + " lists a broker twice; list each broker once");
        }
        if (clientId == null || clientId.isBlank()) {
            problems.add("clientId: " + (clientId == null ? "missing" : "blank")
                    + "; use MqttLink.defaultClientId(role) or a unique id");
        } else if (clientId.getBytes(StandardCharsets.UTF_8).length > MAX_CLIENT_ID_BYTES) {
            problems.add("clientId: longer than " + MAX_CLIENT_ID_BYTES + " bytes in UTF-8");
        } else if (clientId.chars().anyMatch(Character::isISOControl)) {
            problems.add("clientId: '" + clientId + "' contains control characters");
        }
        checkSeconds("keepAlive", keepAlive, Duration.ZERO, MAX_KEEP_ALIVE, problems);
        if (maxInflight < 1 || maxInflight > MAX_MAX_INFLIGHT) {
            problems.add("maxInflight: " + maxInflight + " is out of range 1-" + MAX_MAX_INFLIGHT
                    + " (default " + DEFAULT_MAX_INFLIGHT + ")");
        }
        checkSeconds("connectTimeout", connectTimeout, Duration.ofSeconds(1), MAX_CONNECT_TIMEOUT, problems);
        boolean initialOk = checkRange("backoffInitial", backoffInitial, Duration.ofMillis(1), MAX_BACKOFF, problems);
        boolean maxOk = checkRange("backoffMax", backoffMax, Duration.ofMillis(1), MAX_BACKOFF, problems);
        if (initialOk && maxOk && backoffMax.compareTo(backoffInitial) < 0) {
            problems.add("backoffMax: " + backoffMax + " is shorter than backoffInitial " + backoffInitial
                    + "; make it at least as long");
        }
        if (security == null) {
            problems.add("security: missing; use MqttSecurity.NONE for anonymous");
        }
        subscriptions = copyWithoutNulls(subscriptions, "subscriptions", problems);
        Set<String> filters = new HashSet<>();
        for (Subscription s : subscriptions) {
            if (!filters.add(s.filter())) {
                problems.add("subscriptions: filter '" + s.filter() + "' is listed twice; list it once");
            }
            if (manualAcks && s.qos() > 1) {
                problems.add("subscriptions: '" + s.filter() + "' has qos 2, but manualAcks needs qos 0 or 1 "
                        + "(Paho 1.2.5 manual acknowledgements are broken for QoS 2)");
            }
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("invalid MQTT link configuration: " + String.join("; ", problems));
        }
    }

    /** @return a builder holding the defaults */
    public static Builder builder() {
        return new Builder();
    }

    /** @return a builder holding this configuration's values */
    public Builder toBuilder() {
        return new Builder()
                .brokers(brokers)
                .shuffle(shuffle)
                .clientId(clientId)
                .cleanSession(cleanSession)
                .keepAlive(keepAlive)
                .maxInflight(maxInflight)
                .connectTimeout(connectTimeout)
                .backoffInitial(backoffInitial)
                .backoffMax(backoffMax)
                .will(will)
                .subscriptions(subscriptions)
                .manualAcks(manualAcks)
                .security(security);
    }

    private static <T> List<T> copyWithoutNulls(Collection<T> in, String key, List<String> problems) {
        if (in == null) {
            problems.add(key + ": missing");
            return List.of();
        }
        List<T> out = new ArrayList<>(in.size());
        for (T t : in) {
            if (t == null) {
                problems.add(key + ": contains null");
            } else {
                out.add(t);
            }
        }
        return List.copyOf(out);
    }

    private static boolean checkRange(String key, Duration d, Duration min, Duration max, List<String> problems) {
        if (d == null) {
            problems.add(key + ": missing");
            return false;
        }
        if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
            problems.add(key + ": " + d + " is out of range " + min + " to " + max);
            return false;
        }
        return true;
    }

    private static void checkSeconds(String key, Duration d, Duration min, Duration max, List<String> problems) {
        if (checkRange(key, d, min, max, problems) && d.getNano() != 0) {
            problems.add(key + ": " + d + " is not a whole number of seconds (MQTT counts it in seconds)");
        }
    }

    /** Collects values for a {@link MqttLinkConfig}; starts with the defaults. Not thread-safe. */
    public static final class Builder {

        private final List<BrokerAddress> brokers = new ArrayList<>();
        private boolean shuffle = DEFAULT_SHUFFLE;
        private String clientId;
        private boolean cleanSession = DEFAULT_CLEAN_SESSION;
        private Duration keepAlive = DEFAULT_KEEP_ALIVE;
        private int maxInflight = DEFAULT_MAX_INFLIGHT;
        private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
        private Duration backoffInitial = DEFAULT_BACKOFF_INITIAL;
        private Duration backoffMax = DEFAULT_BACKOFF_MAX;
        private Will will;
        private final List<Subscription> subscriptions = new ArrayList<>();
        private boolean manualAcks = DEFAULT_MANUAL_ACKS;
        private MqttSecurity security = MqttSecurity.NONE;

        private Builder() {
        }

        /** Replaces the broker list. */
        public Builder brokers(Collection<BrokerAddress> list) {
            brokers.clear();
            brokers.addAll(Objects.requireNonNull(list, "brokers"));
            return this;
        }

        /** Adds one broker. */
        public Builder broker(BrokerAddress broker) {
            brokers.add(broker);
            return this;
        }

        /** Adds one broker given in any form {@link BrokerAddress#parse} accepts. */
        public Builder broker(String address) {
            return broker(BrokerAddress.parse(address));
        }

        public Builder shuffle(boolean value) {
            shuffle = value;
            return this;
        }

        /** Sets the client id; when never set, {@link #build()} uses {@code MqttLink.defaultClientId("swarm")}. */
        public Builder clientId(String value) {
            clientId = value;
            return this;
        }

        public Builder cleanSession(boolean value) {
            cleanSession = value;
            return this;
        }

        public Builder keepAlive(Duration value) {
            keepAlive = value;
            return this;
        }

        public Builder maxInflight(int value) {
            maxInflight = value;
            return this;
        }

        public Builder connectTimeout(Duration value) {
            connectTimeout = value;
            return this;
        }

        public Builder backoffInitial(Duration value) {
            backoffInitial = value;
            return this;
        }

        public Builder backoffMax(Duration value) {
            backoffMax = value;
            return this;
        }

        /** Sets both backoff bounds. */
        public Builder backoff(Duration initial, Duration max) {
            return backoffInitial(initial).backoffMax(max);
        }

        /** Sets the last will, or none with null. */
        public Builder will(Will value) {
            will = value;
            return this;
        }

        public Builder will(String topic, byte[] payload, int qos, boolean retained) {
            return will(new Will(topic, payload, qos, retained));
        }

        /** Replaces the subscription list. */
        public Builder subscriptions(Collection<Subscription> list) {
            subscriptions.clear();
            subscriptions.addAll(Objects.requireNonNull(list, "subscriptions"));
            return this;
        }

        /** Adds one subscription. */
        public Builder subscribe(String filter, int qos) {
            subscriptions.add(new Subscription(filter, qos));
            return this;
        }

        public Builder manualAcks(boolean value) {
            manualAcks = value;
            return this;
        }

        public Builder security(MqttSecurity value) {
            security = value;
            return this;
        }

        /** @throws IllegalArgumentException listing every problem */
        public MqttLinkConfig build() {
            return new MqttLinkConfig(brokers, shuffle, clientId != null ? clientId : MqttLink.defaultClientId("swarm"),
                    cleanSession, keepAlive, maxInflight, connectTimeout, backoffInitial, backoffMax, will,
                    subscriptions, manualAcks, security);
        }
    }
}
