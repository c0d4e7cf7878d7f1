package net.swarming.broker.internal.metrics;

import io.moquette.broker.security.IAuthorizatorPolicy;
import io.moquette.broker.subscriptions.Topic;
import io.moquette.interception.AbstractInterceptHandler;
import io.moquette.interception.InterceptHandler;
import io.moquette.interception.messages.InterceptConnectMessage;
import io.moquette.interception.messages.InterceptConnectionLostMessage;
import io.moquette.interception.messages.InterceptDisconnectMessage;
import io.moquette.interception.messages.InterceptPublishMessage;
import io.moquette.interception.messages.InterceptSubscribeMessage;
import io.moquette.interception.messages.InterceptUnsubscribeMessage;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntSupplier;
import net.swarming.broker.internal.moquette.StoredState;

/**
 * The broker's Prometheus metrics, named after the mosquitto {@code $SYS} topics they correspond to.
 *
 * <ul>
 *   <li>{@code swarm_broker_up}: 1 while the broker accepts connections.</li>
 *   <li>{@code swarm_broker_clients_connected}: {@code $SYS/broker/clients/connected}, read from Moquette's session
 *       registry at scrape time (exact even when a client id takes over another's connection).</li>
 *   <li>messages, PUBLISH messages and bytes received and sent ({@code $SYS/broker/messages/received} …):
 *       {@link TrafficMetrics}, counted on each connection.</li>
 *   <li>{@code swarm_broker_subscriptions_count}: {@code $SYS/broker/subscriptions/count} (mosquitto-exporter
 *       {@code broker_subscriptions_count}).</li>
 *   <li>{@code swarm_broker_retained_messages_count}: {@code $SYS/broker/retained messages/count}
 *       ({@code broker_retained_messages_count}).</li>
 *   <li>{@code swarm_broker_auth_failures_total}, {@code swarm_broker_publish_messages_refused_total},
 *       {@code swarm_broker_subscriptions_refused_total}: refusals, which mosquitto's {@code $SYS} tree does not count.</li>
 * </ul>
 *
 * <p>Moquette 0.17 exposes neither count, so both are kept here from its interceptor events, starting from what its
 * store holds at start ({@link StoredState}). Subscriptions: added by each accepted SUBSCRIBE filter, removed by
 * UNSUBSCRIBE and, for a clean session, when its client disconnects, loses its connection or reconnects. Retained
 * messages, as Moquette 0.17 keeps them: a retained QoS 1 or 2 publish with a payload sets its topic, one with an empty
 * payload clears it, and a retained QoS 0 publish clears it too (Moquette does not store QoS 0 retained messages).
 * Moquette 0.17 leaves the subscriptions of an <em>expired</em> persistent session in place, and so does this count.
 *
 * <p>Traffic (messages and bytes, received and sent) is counted on each connection by {@link #traffic()}'s handlers:
 * Moquette 0.17's interceptor sees neither what it sends nor the publishes it refuses.
 */
public final class BrokerMetrics {

    private final PrometheusRegistry registry;
    private final Gauge up;
    private final TrafficMetrics traffic;
    private final Counter authenticationFailures;
    private final Counter publishesRefused;
    private final Counter subscriptionsRefused;
    private final Counter publishesDropped;
    private final InterceptHandler interceptor = new EventCounter();
    /** Topic filters by client id; written only by Moquette's single interceptor thread, read at scrape time. */
    private final Map<String, Set<String>> subscriptions = new ConcurrentHashMap<>();
    /**
     * Client ids of persistent sessions (clean session false). Any other client is clean: that includes those that
     * sent an empty client id, which Moquette replaces by one of its own that its connect event does not show.
     */
    private final Set<String> persistentSessions = ConcurrentHashMap.newKeySet();
    private final Set<String> retainedTopics = ConcurrentHashMap.newKeySet();

    /**
     * @param registry         this broker's own registry
     * @param connectedClients number of connected clients, called at each scrape; must be cheap and must not block
     */
    public BrokerMetrics(PrometheusRegistry registry, IntSupplier connectedClients) {
        this.registry = registry;
        GaugeWithCallback.builder()
                .name("swarm_broker_subscriptions_count")
                .help("Subscriptions (client id and topic filter) held by the broker, of connected clients and of "
                        + "disconnected persistent sessions (mosquitto $SYS/broker/subscriptions/count)")
                .callback(cb -> cb.call(subscriptionCount()))
                .register(registry);
        GaugeWithCallback.builder()
                .name("swarm_broker_retained_messages_count")
                .help("Topics holding a retained message (mosquitto $SYS/broker/retained messages/count)")
                .callback(cb -> cb.call(retainedTopics.size()))
                .register(registry);
        this.up = Gauge.builder()
                .name("swarm_broker_up")
                .help("1 while the broker accepts MQTT connections, 0 once it is closed")
                .register(registry);
        GaugeWithCallback.builder()
                .name("swarm_broker_clients_connected")
                .help("MQTT clients connected now (mosquitto $SYS/broker/clients/connected)")
                .callback(cb -> cb.call(connectedClients.getAsInt()))
                .register(registry);
        this.traffic = new TrafficMetrics(registry);
        this.authenticationFailures = Counter.builder()
                .name("swarm_broker_auth_failures_total")
                .help("Connections refused because the user name or password was wrong (clients without a user name "
                        + "refused by allow-anonymous=false are not counted: Moquette 0.17 does not report them)")
                .withoutExemplars()
                .register(registry);
        this.publishesRefused = Counter.builder()
                .name("swarm_broker_publish_messages_refused_total")
                .help("PUBLISH packets dropped because the client may not write the topic (ACL or role policy)")
                .withoutExemplars()
                .register(registry);
        this.subscriptionsRefused = Counter.builder()
                .name("swarm_broker_subscriptions_refused_total")
                .help("Topic filters refused in SUBSCRIBE packets because the client may not read them")
                .withoutExemplars()
                .register(registry);
        this.publishesDropped = droppedCounter(registry);
    }

    /**
     * Wraps Moquette's authorization policy so that every refused publish and subscription is counted. The counts are
     * of decisions: Moquette asks once per PUBLISH packet and once per topic filter of a SUBSCRIBE.
     */
    public IAuthorizatorPolicy counting(IAuthorizatorPolicy policy) {
        return new IAuthorizatorPolicy() {
            @Override
            public boolean canWrite(Topic topic, String user, String client) {
                boolean ok = policy.canWrite(topic, user, client);
                if (!ok) {
                    publishesRefused.inc();
                }
                return ok;
            }

            @Override
            public boolean canRead(Topic topic, String user, String client) {
                boolean ok = policy.canRead(topic, user, client);
                if (!ok) {
                    subscriptionsRefused.inc();
                }
                return ok;
            }
        };
    }

    /** Counts a refused login; cheap, never blocks. */
    public void authenticationFailed() {
        authenticationFailures.inc();
    }

    /** Refused logins counted so far. */
    public long authenticationFailures() {
        return (long) authenticationFailures.get();
    }

    /**
     * Registers {@code swarm_broker_publish_messages_dropped_total}, shared by both limits as mosquitto's
     * {@code $SYS/broker/publish/messages/dropped} is: QoS 0 publishes over max-queued-bytes and QoS 1/2 over
     * max-queued-messages.
     */
    public static Counter droppedCounter(PrometheusRegistry registry) {
        return Counter.builder()
                .name("swarm_broker_publish_messages_dropped_total")
                .help("PUBLISH messages not sent to a subscriber: QoS 0 because more than max-queued-bytes were "
                        + "already waiting for its connection, QoS 1/2 because max-queued-messages were already "
                        + "queued for its session (mosquitto $SYS/broker/publish/messages/dropped)")
                .withoutExemplars()
                .register(registry);
    }

    /** {@code swarm_broker_publish_messages_dropped_total}, for the limits that drop messages. */
    public Counter publishesDropped() {
        return publishesDropped;
    }

    /** The registry the metrics live in, for the {@code /metrics} endpoint. */
    public PrometheusRegistry registry() {
        return registry;
    }

    /** The Moquette handler that feeds the counters; give it to {@code Server.startServer}. */
    public InterceptHandler interceptor() {
        return interceptor;
    }

    /** Marks the broker as accepting connections or not. */
    public void up(boolean isUp) {
        up.set(isUp ? 1 : 0);
    }

    /**
     * Starts the subscription and retained counts from what Moquette will reload from its store; call before Moquette
     * starts.
     */
    public void seed(StoredState stored) {
        retainedTopics.addAll(stored.retainedTopics());
        stored.subscriptions().forEach((client, filters) -> {
            Set<String> set = ConcurrentHashMap.newKeySet();
            set.addAll(filters);
            subscriptions.put(client, set);
            // Moquette keeps stored subscriptions until their client id connects again with a clean session.
            persistentSessions.add(client);
        });
    }

    /** Subscriptions held now, as {@code swarm_broker_subscriptions_count} reports them. */
    public int subscriptionCount() {
        int n = 0;
        for (Set<String> filters : subscriptions.values()) {
            n += filters.size();
        }
        return n;
    }

    /** Topics holding a retained message now. */
    public int retainedCount() {
        return retainedTopics.size();
    }

    /** The per-connection traffic counters; their channel hook goes to {@code ChannelHooks.install}. */
    public TrafficMetrics traffic() {
        return traffic;
    }

    /**
     * Runs on Moquette's interceptor thread (one thread, so events arrive in the order Moquette raised them): counts and
     * returns, nothing else.
     */
    private final class EventCounter extends AbstractInterceptHandler {

        @Override
        public String getID() {
            return "swarm-broker-metrics";
        }

        @Override
        public Class<?>[] getInterceptedMessageTypes() {
            return new Class<?>[] {InterceptPublishMessage.class, InterceptConnectMessage.class,
                InterceptDisconnectMessage.class, InterceptConnectionLostMessage.class,
                InterceptSubscribeMessage.class, InterceptUnsubscribeMessage.class};
        }

        @Override
        public void onPublish(InterceptPublishMessage msg) {
            try {
                if (msg.isRetainFlag()) {
                    if (msg.getPayload().isReadable() && msg.getQos() != MqttQoS.AT_MOST_ONCE) {
                        retainedTopics.add(msg.getTopicName());
                    } else {
                        retainedTopics.remove(msg.getTopicName());
                    }
                }
            } finally {
                // Moquette hands every handler its own retained duplicate of the payload.
                msg.getPayload().release();
            }
        }

        @Override
        public void onConnect(InterceptConnectMessage msg) {
            if (msg.isCleanSession()) {
                // A clean session starts without subscriptions, whatever the client id held before.
                persistentSessions.remove(msg.getClientID());
                subscriptions.remove(msg.getClientID());
            } else {
                persistentSessions.add(msg.getClientID());
            }
        }

        @Override
        public void onDisconnect(InterceptDisconnectMessage msg) {
            ended(msg.getClientID());
        }

        @Override
        public void onConnectionLost(InterceptConnectionLostMessage msg) {
            ended(msg.getClientID());
        }

        private void ended(String clientId) {
            if (!persistentSessions.contains(clientId)) {
                subscriptions.remove(clientId);
            }
        }

        @Override
        public void onSubscribe(InterceptSubscribeMessage msg) {
            subscriptions.computeIfAbsent(msg.getClientID(), id -> ConcurrentHashMap.newKeySet())
                    .add(msg.getTopicFilter());
        }

        @Override
        public void onUnsubscribe(InterceptUnsubscribeMessage msg) {
            Set<String> filters = subscriptions.get(msg.getClientID());
            if (filters != null) {
                filters.remove(msg.getTopicFilter());
                if (filters.isEmpty()) {
                    subscriptions.remove(msg.getClientID(), filters);
                }
            }
        }

        @Override
        public void onSessionLoopError(Throwable error) {
            // Moquette logs session loop errors itself.
        }
    }
}
