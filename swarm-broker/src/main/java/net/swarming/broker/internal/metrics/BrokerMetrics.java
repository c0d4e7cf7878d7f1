package net.swarming.broker.internal.metrics;

import io.moquette.broker.security.IAuthorizatorPolicy;
import io.moquette.broker.subscriptions.Topic;
import io.moquette.interception.AbstractInterceptHandler;
import io.moquette.interception.InterceptHandler;
import io.moquette.interception.messages.InterceptPublishMessage;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.function.IntSupplier;

/**
 * The broker's Prometheus metrics, named after the mosquitto {@code $SYS} topics they correspond to.
 *
 * <ul>
 *   <li>{@code swarm_broker_up}: 1 while the broker accepts connections.</li>
 *   <li>{@code swarm_broker_clients_connected}: {@code $SYS/broker/clients/connected}, read from Moquette's session
 *       registry at scrape time (exact even when a client id takes over another's connection).</li>
 *   <li>{@code swarm_broker_messages_received_total}: PUBLISH packets received from clients,
 *       {@code $SYS/broker/publish/messages/received}.</li>
 *
 *   <li>{@code swarm_broker_publish_bytes_received_total}: {@code $SYS/broker/publish/bytes/received}.</li>
 *   <li>{@code swarm_broker_auth_failures_total}, {@code swarm_broker_publish_messages_refused_total},
 *       {@code swarm_broker_subscriptions_refused_total}: refusals, which mosquitto's {@code $SYS} tree does not count.</li>
 * </ul>
 *
 * <p>Moquette 0.17 has no hook for the messages it sends (its acknowledgement notification is a TODO), so there is no
 * counter of deliveries yet.
 */
public final class BrokerMetrics {

    private final PrometheusRegistry registry;
    private final Gauge up;
    private final Counter messagesReceived;
    private final Counter authenticationFailures;
    private final Counter publishBytesReceived;
    private final Counter publishesRefused;
    private final Counter subscriptionsRefused;
    private final InterceptHandler interceptor = new PublishCounter();

    /**
     * @param registry         this broker's own registry
     * @param connectedClients number of connected clients, called at each scrape; must be cheap and must not block
     */
    public BrokerMetrics(PrometheusRegistry registry, IntSupplier connectedClients) {
        this.registry = registry;
        this.up = Gauge.builder()
                .name("swarm_broker_up")
                .help("1 while the broker accepts MQTT connections, 0 once it is closed")
                .register(registry);
        GaugeWithCallback.builder()
                .name("swarm_broker_clients_connected")
                .help("MQTT clients connected now (mosquitto $SYS/broker/clients/connected)")
                .callback(cb -> cb.call(connectedClients.getAsInt()))
                .register(registry);
        this.messagesReceived = Counter.builder()
                .name("swarm_broker_messages_received_total")
                .help("PUBLISH packets received from clients (mosquitto $SYS/broker/publish/messages/received)")
                .withoutExemplars()
                .register(registry);
        this.authenticationFailures = Counter.builder()
                .name("swarm_broker_auth_failures_total")
                .help("Connections refused because the user name or password was wrong (clients without a user name "
                        + "refused by allow-anonymous=false are not counted: Moquette 0.17 does not report them)")
                .withoutExemplars()
                .register(registry);
        this.publishBytesReceived = Counter.builder()
                .name("swarm_broker_publish_bytes_received_total")
                .help("Payload bytes of PUBLISH packets received (mosquitto $SYS/broker/publish/bytes/received)")
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

    /** PUBLISH packets counted so far. */
    public long messagesReceived() {
        return (long) messagesReceived.get();
    }

    /**
     * Runs on Moquette's interceptor thread, once per PUBLISH: counts and releases, nothing else. Subscribing to PUBLISH
     * only keeps connect and subscribe events off that thread.
     */
    private final class PublishCounter extends AbstractInterceptHandler {

        @Override
        public String getID() {
            return "swarm-broker-metrics";
        }

        @Override
        public Class<?>[] getInterceptedMessageTypes() {
            return new Class<?>[] {InterceptPublishMessage.class};
        }

        @Override
        public void onPublish(InterceptPublishMessage msg) {
            try {
                messagesReceived.inc();
                publishBytesReceived.inc(msg.getPayload().readableBytes());
            } finally {
                // Moquette hands every handler its own retained duplicate of the payload.
                msg.getPayload().release();
            }
        }

        @Override
        public void onSessionLoopError(Throwable error) {
            // Only PUBLISH is subscribed; Moquette logs session loop errors itself.
        }
    }
}
