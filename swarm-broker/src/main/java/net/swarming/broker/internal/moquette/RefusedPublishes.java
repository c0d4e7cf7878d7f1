package net.swarming.broker.internal.moquette;

import io.moquette.broker.NettyUtils;
import io.moquette.broker.security.IAuthorizatorPolicy;
import io.moquette.broker.subscriptions.Topic;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.mqtt.MqttFixedHeader;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.codec.mqtt.MqttMessageIdVariableHeader;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.codec.mqtt.MqttPublishMessage;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.netty.util.ReferenceCountUtil;
import java.util.HashSet;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Acknowledges QoS 1 and 2 publishes that the authorization policy refuses, as mosquitto does, instead of Moquette
 * 0.17's silence (its {@code PostOffice} drops them without PUBACK or PUBREC, which stalls the client's in-flight
 * window until it reconnects).
 *
 * <p>One instance per connection, between Moquette's decoder and its MQTT handler. For a PUBLISH at QoS 1 or 2 from a
 * connected client on a valid topic it asks the same policy Moquette asks, with the same user name and client id
 * (Moquette's channel attributes). When the policy refuses, the message is released and never reaches Moquette; the
 * client gets PUBACK (QoS 1) or PUBREC (QoS 2), and for QoS 2 the PUBREL that follows is answered with PUBCOMP here
 * too. Everything else (QoS 0, allowed publishes, invalid topics, publishes before the session is bound) goes on to
 * Moquette unchanged, which decides as before; a refusal is counted by the policy wrapper once, since Moquette never
 * sees that message.
 *
 * <p>The acknowledgement of a refused publish is written at once, so it may overtake the acknowledgements of the same
 * client's earlier, allowed publishes that Moquette is still processing on its session thread; clients match
 * acknowledgements by packet id.
 */
public final class RefusedPublishes extends ChannelInboundHandlerAdapter {

    /** Name of the handler in each connection's pipeline. */
    public static final String NAME = "swarm-refused-publishes";

    private static final Logger LOG = LoggerFactory.getLogger(RefusedPublishes.class);

    private final IAuthorizatorPolicy policy;
    private final MatchCache matches;
    /** Packet ids of refused QoS 2 publishes answered with PUBREC and waiting for PUBREL; event-loop confined. */
    private final Set<Integer> awaitingRelease = new HashSet<>();

    private RefusedPublishes(IAuthorizatorPolicy policy, MatchCache matches) {
        this.policy = policy;
        this.matches = matches;
    }

    /**
     * The channel hook; {@code policy} must be the very policy Moquette was started with (so that refusals are counted
     * by the same wrapper); {@code matches} (may be null) spares parsing topic names it already knows to be valid.
     */
    public static Consumer<ChannelPipeline> hook(IAuthorizatorPolicy policy, MatchCache matches) {
        Objects.requireNonNull(policy, "policy");
        return pipeline -> pipeline.addBefore(ChannelHooks.HANDLER, NAME, new RefusedPublishes(policy, matches));
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof MqttPublishMessage publish && publish.fixedHeader().qosLevel() != MqttQoS.AT_MOST_ONCE
                && refused(ctx, publish)) {
            int packetId = publish.variableHeader().packetId();
            MqttQoS qos = publish.fixedHeader().qosLevel();
            ReferenceCountUtil.release(publish);
            if (qos == MqttQoS.AT_LEAST_ONCE) {
                acknowledge(ctx, MqttMessageType.PUBACK, packetId);
            } else {
                awaitingRelease.add(packetId);
                acknowledge(ctx, MqttMessageType.PUBREC, packetId);
            }
            return;
        }
        if (msg instanceof MqttMessage m && m.fixedHeader().messageType() == MqttMessageType.PUBREL
                && m.variableHeader() instanceof MqttMessageIdVariableHeader id
                && awaitingRelease.remove(id.messageId())) {
            ReferenceCountUtil.release(m);
            acknowledge(ctx, MqttMessageType.PUBCOMP, id.messageId());
            return;
        }
        ctx.fireChannelRead(msg);
    }

    private boolean refused(ChannelHandlerContext ctx, MqttPublishMessage publish) {
        String clientId = NettyUtils.clientID(ctx.channel());
        if (clientId == null) {
            return false; // not bound to a session yet: Moquette's own handling applies
        }
        Topic topic = new Topic(publish.variableHeader().topicName());
        if (!(matches == null ? topic.isValid() : matches.isValid(topic))) {
            return false; // Moquette drops the connection
        }
        String user = NettyUtils.userName(ctx.channel());
        if (policy.canWrite(topic, user, clientId)) {
            return false;
        }
        LOG.debug("refused QoS {} publish of client {} (user {}) on {}: acknowledged and dropped",
                publish.fixedHeader().qosLevel().value(), clientId, user, topic);
        return true;
    }

    /** Written from the tail, like Moquette's own messages, so every outbound hook (metrics…) sees it. */
    private static void acknowledge(ChannelHandlerContext ctx, MqttMessageType type, int packetId) {
        ctx.channel().writeAndFlush(new MqttMessage(new MqttFixedHeader(type, false, MqttQoS.AT_MOST_ONCE, false, 0),
                MqttMessageIdVariableHeader.from(packetId)));
    }
}
