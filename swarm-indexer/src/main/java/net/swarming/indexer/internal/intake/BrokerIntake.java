package net.swarming.indexer.internal.intake;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import net.swarming.common.mqtt.BrokerAddress;
import net.swarming.common.mqtt.InboundMessage;
import net.swarming.common.mqtt.LinkState;
import net.swarming.common.mqtt.MessageHandler;
import net.swarming.common.mqtt.MqttLinkConfig;
import net.swarming.common.mqtt.MqttSecurity;
import net.swarming.common.mqtt.Subscription;
import net.swarming.common.wire.Topics;
import net.swarming.indexer.IndexerConfig;
import net.swarming.indexer.internal.intake.netty.NettyIntakeLink;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One MQTT link per broker, like the original indexer: every broker relays only what its own agents publish, so an
 * indexer must listen to all of them. With a persistent session (clean session false, stable client id) each broker
 * queues QoS 1 results while the indexer is away. Acknowledgements are manual: a message is acknowledged only once its
 * document is durable in the spool.
 *
 * <p>The links run on Netty's MQTT codec ({@link NettyIntakeLink}, the default) or on the project's Paho link
 * ({@code --mqtt-intake PAHO}); both keep the guarantees above. The Netty links share one event loop group,
 * {@value #IO_THREAD}, owned here.
 */
public final class BrokerIntake implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(BrokerIntake.class);

    /** QoS 1: the original asked for 2, but agents publish at 1 and Paho's manual acks only work with 1. */
    public static final int QOS = 1;
    /** Name prefix of the Netty intake's I/O threads. */
    public static final String IO_THREAD = "swarm-indexer-mqtt-io";

    private final Map<String, IntakeLink> links = new LinkedHashMap<>();
    private final EventLoopGroup group;
    private boolean closed;

    /**
     * @param security user name, password and CA file for every broker
     * @param kind which MQTT client runs the links
     * @param keepAlive MQTT keep-alive of every link (a dead connection is noticed within about twice this)
     * @throws IllegalArgumentException when the CA file cannot be used
     */
    public BrokerIntake(List<BrokerAddress> brokers, String clientId, boolean persistentSession,
                        MqttSecurity security, IndexerConfig.MqttIntake kind, Duration keepAlive,
                        MessageHandler handler, Clock clock) {
        this.group = kind == IndexerConfig.MqttIntake.NETTY
                ? new NioEventLoopGroup(Math.min(brokers.size(), Runtime.getRuntime().availableProcessors()),
                        new DefaultThreadFactory(IO_THREAD, true))
                : null;
        try {
            for (BrokerAddress broker : brokers) {
                MqttLinkConfig config = MqttLinkConfig.builder()
                        .broker(broker)
                        .shuffle(false)
                        .clientId(clientId)
                        .cleanSession(!persistentSession)
                        .keepAlive(keepAlive)
                        .subscriptions(List.of(new Subscription(Topics.PING_FILTER, QOS),
                                new Subscription(Topics.RIP_FILTER, QOS), new Subscription(Topics.BIRTH_FILTER, QOS)))
                        .manualAcks(true)
                        .security(security)
                        .build();
                links.put(broker.toString(), group != null ? new NettyIntakeLink(config, handler, clock, group)
                        : new PahoIntakeLink(config, handler, clock));
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Starts every link; each connects (and reconnects) in the background, so a broker that is down delays nothing. */
    public synchronized void start() {
        for (Map.Entry<String, IntakeLink> e : links.entrySet()) {
            e.getValue().start();
            LOG.info("listening to broker {} for {}, {} and {} ({} intake)", e.getKey(), Topics.PING_FILTER,
                    Topics.RIP_FILTER, Topics.BIRTH_FILTER, group != null ? "Netty" : "Paho");
        }
    }

    /**
     * Acknowledges a message to the broker it came from, on the connection it came on (a message of an earlier
     * connection is not acknowledged: the broker sends it again). Any thread.
     */
    public void ack(InboundMessage m) {
        IntakeLink link = links.get(m.broker().toString());
        if (link != null) {
            link.ack(m);
        }
    }

    /** The broker labels, as used in metrics and documents. */
    public List<String> brokers() {
        return new ArrayList<>(links.keySet());
    }

    /** Whether the link to {@code broker} (a label from {@link #brokers()}) is connected and subscribed. */
    public boolean isConnected(String broker) {
        IntakeLink link = links.get(broker);
        return link != null && link.state() == LinkState.CONNECTED;
    }

    /** Whether every link is connected and subscribed. */
    public boolean allConnected() {
        return links.values().stream().allMatch(l -> l.state() == LinkState.CONNECTED);
    }

    /** Stops intake: closes every link, then the I/O threads; idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (Map.Entry<String, IntakeLink> e : links.entrySet()) {
            try {
                e.getValue().close();
            } catch (RuntimeException ex) {
                LOG.warn("closing the link to {} failed: {}", e.getKey(), ex.toString());
            }
        }
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
    }
}
