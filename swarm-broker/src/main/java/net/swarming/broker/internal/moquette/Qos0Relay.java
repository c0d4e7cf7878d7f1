package net.swarming.broker.internal.moquette;

import io.moquette.broker.NettyUtils;
import io.moquette.broker.Server;
import io.moquette.broker.security.IAuthorizatorPolicy;
import io.moquette.broker.subscriptions.Subscription;
import io.moquette.broker.subscriptions.Topic;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.mqtt.MqttPublishMessage;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers non-retained QoS 0 publishes on the publisher's own Netty thread, with Moquette's own subscription tree,
 * session registry and send method, instead of Moquette 0.17's route through its session loops.
 *
 * <p>Why: Moquette hands every publish to the publisher's session loop, then to each subscriber's session loop, then
 * to the subscriber's Netty thread, and notifies its interceptors on a thread pool — four thread hand-overs and the
 * futures joining them, for a message that needs no session state at all (QoS 0 is neither stored, queued nor
 * acknowledged; Moquette itself only sends it to subscribers that are connected). Measured in docs/performance.md.
 *
 * <p>What stays as Moquette does it: the same authorization call ({@code canWrite} of the same policy, with the user
 * name and client id Moquette keeps on the channel; a refused publish is dropped and counted by the policy wrapper),
 * the same match ({@code matchQosSharpening}), the same per-subscriber send ({@code MQTTConnection.sendPublishQos0}:
 * RETAIN=0, written only while the channel is writable — our outbound limit decides that) and only to sessions that are
 * connected. Left to Moquette unchanged: retained publishes (they change the retained store), QoS 1 and 2, anything
 * from a connection not (or no longer) bound to its session, invalid topics and failed decodes. The one difference:
 * Moquette's interceptors are not told of these publishes; swarm-broker's only interceptor looks at retained ones.
 *
 * <p>Order: QoS 0 messages of one publisher reach each subscriber in the order they were read (one Netty thread);
 * relative to the same publisher's QoS 1 messages they may overtake, which MQTT 3.1.1 (4.6) allows: ordering is per
 * topic and QoS.
 */
public final class Qos0Relay extends ChannelInboundHandlerAdapter {

    /** Name of the handler in each connection's pipeline. */
    public static final String NAME = "swarm-qos0-relay";

    private static final Logger LOG = LoggerFactory.getLogger(Qos0Relay.class);
    /** Moquette's {@code NewNettyMQTTHandler} keeps the connection of a channel under this attribute. */
    private static final AttributeKey<Object> CONNECTION = AttributeKey.valueOf("connection");

    private final Routes routes;
    private final IAuthorizatorPolicy policy;

    private Qos0Relay(Routes routes, IAuthorizatorPolicy policy) {
        this.routes = routes;
        this.policy = policy;
    }

    /**
     * The channel hook for a started {@code server}; {@code policy} must be the very policy Moquette was started with.
     *
     * @throws IllegalStateException if this is not Moquette 0.17
     */
    public static Consumer<ChannelPipeline> hook(Server server, MatchCache matches, IAuthorizatorPolicy policy) {
        Objects.requireNonNull(policy, "policy");
        Routes routes = Routes.of(server, matches);
        return pipeline -> pipeline.addBefore(ChannelHooks.HANDLER, NAME, new Qos0Relay(routes, policy));
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof MqttPublishMessage publish && publish.fixedHeader().qosLevel() == MqttQoS.AT_MOST_ONCE
                && !publish.fixedHeader().isRetain() && publish.decoderResult().isSuccess()) {
            String clientId = NettyUtils.clientID(ctx.channel());
            Object connection = ctx.channel().attr(CONNECTION).get();
            Topic topic = new Topic(publish.variableHeader().topicName());
            // Not bound (yet, or any more) or an invalid topic: Moquette decides, as it always did.
            if (clientId != null && connection != null && routes.subscriptions.isValid(topic)
                    && routes.isBound(clientId, connection)) {
                try {
                    String user = NettyUtils.userName(ctx.channel());
                    if (policy.canWrite(topic, user, clientId)) {
                        routes.deliver(topic, publish.payload());
                    } else {
                        LOG.debug("refused QoS 0 publish of client {} (user {}) on {}: dropped", clientId, user,
                                topic);
                    }
                } finally {
                    ReferenceCountUtil.release(publish);
                }
                return;
            }
        }
        ctx.fireChannelRead(msg);
    }

    /** Moquette 0.17's subscription tree, session registry and send method, reached once at start. */
    static final class Routes {

        private final MatchCache subscriptions;
        private final Object registry;
        private final MethodHandle retrieve;
        private final MethodHandle connected;
        private final MethodHandle connectionOf;
        private final MethodHandle sendQos0;

        private Routes(MatchCache subscriptions, Object registry, MethodHandle retrieve,
                       MethodHandle connected, MethodHandle connectionOf, MethodHandle sendQos0) {
            this.subscriptions = subscriptions;
            this.registry = registry;
            this.retrieve = retrieve;
            this.connected = connected;
            this.connectionOf = connectionOf;
            this.sendQos0 = sendQos0;
        }

        static Routes of(Server server, MatchCache directory) {
            Object registry = ChannelHooks.read(server, "sessions");
            try {
                Class<?> sessionType = Class.forName("io.moquette.broker.Session");
                Class<?> connectionType = Class.forName("io.moquette.broker.MQTTConnection");
                MethodHandles.Lookup session = MethodHandles.privateLookupIn(sessionType, MethodHandles.lookup());
                MethodHandles.Lookup connection =
                        MethodHandles.privateLookupIn(connectionType, MethodHandles.lookup());
                MethodHandles.Lookup registryLookup =
                        MethodHandles.privateLookupIn(registry.getClass(), MethodHandles.lookup());
                MethodHandle retrieve = registryLookup.findVirtual(registry.getClass(), "retrieve",
                        MethodType.methodType(sessionType, String.class));
                MethodHandle connected = session.findVirtual(sessionType, "connected",
                        MethodType.methodType(boolean.class));
                MethodHandle connectionOf = session.findGetter(sessionType, "mqttConnection", connectionType);
                MethodHandle sendQos0 = connection.findVirtual(connectionType, "sendPublishQos0",
                        MethodType.methodType(void.class, Topic.class, MqttQoS.class, ByteBuf.class, boolean.class));
                return new Routes(directory, registry,
                        retrieve.asType(MethodType.methodType(Object.class, Object.class, String.class)),
                        connected.asType(MethodType.methodType(boolean.class, Object.class)),
                        connectionOf.asType(MethodType.methodType(Object.class, Object.class)),
                        sendQos0.asType(MethodType.methodType(void.class, Object.class, Topic.class, MqttQoS.class,
                                ByteBuf.class, boolean.class)));
            } catch (ReflectiveOperationException | RuntimeException e) {
                throw new IllegalStateException("Moquette " + Server.MOQUETTE_VERSION + " lacks the session methods "
                        + "swarm-broker's QoS 0 relay calls: it needs Moquette 0.17", e);
            }
        }

        /** Whether {@code connection} is the one Moquette's session of {@code clientId} is bound to (not taken over). */
        boolean isBound(String clientId, Object connection) {
            try {
                Object session = (Object) retrieve.invokeExact(registry, clientId);
                return session != null && (Object) connectionOf.invokeExact(session) == connection;
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable e) {
                throw new IllegalStateException(e); // none of these handles throws checked exceptions
            }
        }

        /** Sends to every connected session whose subscription matches, as Moquette's post office would. */
        void deliver(Topic topic, ByteBuf payload) {
            List<Subscription> matches = subscriptions.matchQosSharpening(topic);
            for (Subscription sub : matches) {
                try {
                    Object session = (Object) retrieve.invokeExact(registry, sub.getClientId());
                    if (session == null || !(boolean) connected.invokeExact(session)) {
                        continue; // Moquette sends QoS 0 only to connected sessions too
                    }
                    Object target = (Object) connectionOf.invokeExact(session);
                    if (target != null) {
                        // Each subscriber gets its own view of the bytes (Moquette retains a duplicate per send).
                        sendQos0.invokeExact(target, topic, MqttQoS.AT_MOST_ONCE, payload.duplicate(), false);
                    }
                } catch (Error e) {
                    throw e;
                } catch (Throwable e) {
                    // One subscriber's failure must not keep the message from the others.
                    LOG.warn("QoS 0 delivery on {} to {} failed: {}", topic, sub.getClientId(), e.toString());
                }
            }
        }
    }
}
