package net.swarming.indexer.internal.intake.netty;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.mqtt.MqttConnAckMessage;
import io.netty.handler.codec.mqtt.MqttConnectReturnCode;
import io.netty.handler.codec.mqtt.MqttDecoder;
import io.netty.handler.codec.mqtt.MqttEncoder;
import io.netty.handler.codec.mqtt.MqttFixedHeader;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.codec.mqtt.MqttMessageBuilders;
import io.netty.handler.codec.mqtt.MqttMessageIdVariableHeader;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.codec.mqtt.MqttPublishMessage;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.netty.handler.codec.mqtt.MqttSubAckMessage;
import io.netty.handler.codec.mqtt.MqttVersion;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import net.swarming.common.mqtt.BrokerAddress;
import net.swarming.common.mqtt.InboundMessage;
import net.swarming.common.mqtt.LinkState;
import net.swarming.common.mqtt.MessageHandler;
import net.swarming.common.mqtt.MqttLink;
import net.swarming.common.mqtt.MqttLinkConfig;
import net.swarming.common.mqtt.MqttSecurity;
import net.swarming.common.mqtt.Subscription;
import net.swarming.common.mqtt.internal.FailoverBackoff;
import net.swarming.common.mqtt.internal.LinkStateCell;
import net.swarming.common.mqtt.internal.NamedThreadFactory;
import net.swarming.indexer.internal.intake.IntakeLink;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The indexer's intake on Netty's MQTT codec: subscribe only, manual acknowledgements, one broker at a time with the
 * same failover, backoff and thread names as {@link MqttLink} (whose class comment describes the policy), at about half
 * Paho 1.2.5's CPU per message (docs/performance.md, "Indexer").
 *
 * <p><b>Threads.</b> The connect loop and every state change run on {@code swarm-mqtt-<clientId>}; socket I/O, the
 * MQTT codec, keep-alive and acknowledgement writes on the shared event loop given to the constructor (never blocked);
 * the handler on {@code swarm-mqtt-dispatch-<clientId>}, one message at a time in arrival order. The messages of one
 * socket read go over to the dispatch thread as one task, and the acknowledgements the spool writer gives after one
 * fsync go out as one buffer with one flush: both hand-overs are per batch, not per message.
 *
 * <p><b>A connection</b> is up (CONNECTED) once the broker accepted the CONNECT (clean session as configured, user
 * name and password from {@link MqttSecurity}, TLS for {@code ssl://} brokers) and answered the SUBSCRIBE for every
 * configured filter; a refused filter (0x80) is logged as an error and the link still counts as connected, as
 * {@link MqttLink} does. TCP connect, TLS handshake, CONNACK and SUBACK must all arrive within the configured connect
 * timeout. A PINGREQ goes out after a keep-alive period without writes; a connection that then reads nothing for
 * another keep-alive period is dead and is dropped.
 *
 * <p><b>Acknowledgements</b> are manual and only ever sent on the connection a message arrived on: an ack for a
 * message of an earlier connection is dropped, and the broker (persistent session) sends the message again.
 *
 * <p><b>Size.</b> The decoder accepts every message MQTT 3.1.1 can carry (remaining length up to 268,435,455 bytes),
 * as Paho does: the handler decides what is too large (the indexer's oversized dead letters). A lower limit would turn
 * an oversized QoS 1 message into a poison one: Netty's decoder then discards the rest of the connection, and the
 * broker would send that message again after every reconnect.
 */
public final class NettyIntakeLink implements IntakeLink {

    private static final Logger log = LoggerFactory.getLogger(NettyIntakeLink.class);

    /** The largest remaining length of an MQTT 3.1.1 packet (four length bytes). */
    public static final int MAX_PACKET_BYTES = 268_435_455;
    static final Duration EXECUTOR_DRAIN_TIMEOUT = Duration.ofSeconds(2);
    static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(10);
    private static final int SUBSCRIBE_PACKET_ID = 1;
    private static final int SUBSCRIPTION_REFUSED = 0x80;

    private final MqttLinkConfig config;
    private final MessageHandler handler;
    private final Clock clock;
    private final EventLoopGroup group;
    private final SslContext tls;
    private final List<BrokerAddress> order;
    private final FailoverBackoff backoff;

    private final NamedThreadFactory schedulerThreads;
    private final NamedThreadFactory dispatchThreads;
    private final ScheduledThreadPoolExecutor scheduler;
    private final ThreadPoolExecutor dispatcher;

    private final AtomicBoolean started = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final CountDownLatch closedLatch = new CountDownLatch(1);
    private final AtomicLong connectCount = new AtomicLong();
    private final AtomicLong connectFailureCount = new AtomicLong();
    private final AtomicLong connectionLostCount = new AtomicLong();
    private final AtomicLong acksSent = new AtomicLong();
    private final AtomicLong acksDropped = new AtomicLong();
    private final LinkStateCell state;
    /** The connection being attempted or up; written on the scheduler thread only. */
    private volatile Connection current;

    // Confined to the scheduler thread.
    private int brokerIndex;
    private long attemptsSinceConnected;
    private long connectionSeq;
    private ScheduledFuture<?> nextAttempt;

    /**
     * @param config brokers, client id, clean session, keep-alive, connect timeout, backoff, subscriptions and
     *     security; {@code manualAcks} must be true (the intake acknowledges only what is durable) and no will
     * @param group the event loop(s) the connection runs on; shared, not shut down by this link
     * @throws IllegalArgumentException for a configuration this link does not serve, or an unreadable CA file
     */
    public NettyIntakeLink(MqttLinkConfig config, MessageHandler handler, Clock clock, EventLoopGroup group) {
        this.config = Objects.requireNonNull(config, "config");
        this.handler = Objects.requireNonNull(handler, "handler");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.group = Objects.requireNonNull(group, "group");
        this.state = new LinkStateCell("MQTT intake link " + config.clientId());
        if (!config.manualAcks() || config.will() != null) {
            throw new IllegalArgumentException("the Netty intake link needs manualAcks and no will, got " + config);
        }
        this.tls = config.brokers().stream().anyMatch(BrokerAddress::isTls)
                ? TlsContexts.client(config.security().caFile()) : null;
        this.order = new ArrayList<>(config.brokers());
        this.backoff = new FailoverBackoff(order.size(), config.backoffInitial(), config.backoffMax(),
                MqttLink.STABLE_CONNECTION, () -> ThreadLocalRandom.current().nextDouble());
        String id = config.clientId();
        schedulerThreads = new NamedThreadFactory("swarm-mqtt-" + id);
        dispatchThreads = new NamedThreadFactory("swarm-mqtt-dispatch-" + id);
        scheduler = new ScheduledThreadPoolExecutor(1, schedulerThreads);
        scheduler.setRemoveOnCancelPolicy(true);
        scheduler.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        // Unbounded on purpose: what it holds is unacknowledged, and the broker's in-flight window bounds it.
        dispatcher = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(),
                dispatchThreads);
    }

    @Override
    public void start() {
        if (closed.get()) {
            throw new IllegalStateException("MQTT intake link " + config.clientId() + " is closed");
        }
        if (!started.compareAndSet(false, true)) {
            return;
        }
        if (config.shuffle()) {
            Collections.shuffle(order, ThreadLocalRandom.current());
        }
        log.info("MQTT intake link {} starting (Netty): brokers {}", config.clientId(), order);
        onScheduler("attempt", this::attempt);
    }

    @Override
    public void ack(InboundMessage m) {
        if (m.qos() == 0) {
            return;
        }
        Connection c = current;
        if (c == null || c.id != m.connectionId()) {
            acksDropped.incrementAndGet();
            log.debug("ack of message {} on {} ignored: its connection {} is gone", m.messageId(), m.topic(),
                    m.connectionId());
            return;
        }
        c.ack(m.messageId(), m.qos());
    }

    @Override
    public LinkState state() {
        return state.get();
    }

    @Override
    public boolean awaitConnected(Duration timeout) throws InterruptedException {
        return state.awaitConnected(timeout);
    }

    /** @return successful connections (CONNACK and SUBACK received) so far */
    public long connectCount() {
        return connectCount.get();
    }

    /** @return failed connect attempts so far (refused, timed out, unreachable) */
    public long connectFailureCount() {
        return connectFailureCount.get();
    }

    /** @return established connections lost so far (not counting {@link #close()}) */
    public long connectionLostCount() {
        return connectionLostCount.get();
    }

    /** @return acknowledgements written to a broker so far */
    public long acksSent() {
        return acksSent.get();
    }

    /** @return acknowledgements not sent because their message came on an earlier connection */
    public long acksDropped() {
        return acksDropped.get();
    }

    /** For tests: closes the current connection abruptly, as a broken network would. */
    void dropConnection() {
        Connection c = current;
        if (c != null) {
            c.fail(new IllegalStateException("connection dropped by the test"));
        }
    }

    /**
     * Stops reconnecting, sends DISCONNECT and closes the connection, then stops the link's threads (messages already
     * received are still delivered for up to two seconds). Idempotent.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            awaitClosedQuietly();
            return;
        }
        try {
            scheduler.submit(this::shutdownOnScheduler).get(CLOSE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            shutdownOnScheduler();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            log.warn("MQTT intake link {}: closing did not finish cleanly: {}", config.clientId(), e.toString());
        }
        scheduler.shutdown();
        dispatcher.shutdown();
        try {
            if (!dispatchThreads.isCurrentThread()
                    && !dispatcher.awaitTermination(EXECUTOR_DRAIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                int dropped = dispatcher.shutdownNow().size();
                log.warn("MQTT intake link {}: {} received batches not delivered at close", config.clientId(),
                        dropped);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        closedLatch.countDown();
        log.info("MQTT intake link {} closed: {} connects, {} connect failures, {} connections lost",
                config.clientId(), connectCount.get(), connectFailureCount.get(), connectionLostCount.get());
    }

    // ---- the connect loop, on the scheduler thread ------------------------------------------------------------------

    private void attempt() {
        nextAttempt = null;
        if (closed.get()) {
            return;
        }
        BrokerAddress broker = order.get(brokerIndex);
        attemptsSinceConnected++;
        Connection c = new Connection(++connectionSeq, broker, attemptsSinceConnected);
        current = c;
        setState(LinkState.CONNECTING);
        log.debug("connecting to {} as {} (attempt {})", broker, config.clientId(), c.attemptNo);
        c.watchdog = scheduler.schedule(guarded("connect watchdog", () -> watchdogFired(c)),
                config.connectTimeout().toMillis(), TimeUnit.MILLISECONDS);
        InetSocketAddress address;
        try {
            // Resolved here, not on the event loop, which must never wait for DNS.
            address = new InetSocketAddress(InetAddress.getByName(broker.host()), broker.port());
        } catch (Exception e) {
            connectFailed(c, e);
            return;
        }
        Bootstrap bootstrap = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE,
                        config.connectTimeout().toMillis()))
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        c.channel = ch; // before any event of the channel can ask to close it
                        ChannelPipeline p = ch.pipeline();
                        if (broker.isTls()) {
                            SslHandler ssl = TlsContexts.handler(tls, ch.alloc(), broker);
                            ssl.handshakeFuture().addListener(f -> {
                                if (!f.isSuccess()) {
                                    // The root cause's message says it all (PKIX path, host name); no chain.
                                    c.fail(new IllegalStateException("TLS handshake with " + broker + " failed: "
                                            + rootMessage(f.cause())));
                                }
                            });
                            p.addLast("tls", ssl);
                        }
                        long keepAlive = config.keepAlive().toMillis();
                        if (keepAlive > 0) {
                            p.addLast("idle", new IdleStateHandler(0, keepAlive, 0, TimeUnit.MILLISECONDS));
                        }
                        p.addLast("decoder", new MqttDecoder(MAX_PACKET_BYTES));
                        p.addLast("encoder", MqttEncoder.INSTANCE);
                        p.addLast("intake", new IntakeHandler(c));
                    }
                });
        ChannelFuture f = bootstrap.connect(address);
        c.channel = f.channel();
        f.addListener((ChannelFutureListener) done -> {
            if (!done.isSuccess()) {
                onScheduler("connect failed", () -> connectFailed(c, done.cause()));
            }
        });
    }

    private void subscribed(Connection c, List<Integer> granted) {
        if (c != current || closed.get()) {
            return;
        }
        List<Subscription> subs = config.subscriptions();
        for (int i = 0; i < subs.size(); i++) {
            if (granted != null && i < granted.size() && granted.get(i) == SUBSCRIPTION_REFUSED) {
                log.error("broker {} refused the subscription to {}", c.broker, subs.get(i).filter());
            }
        }
        up(c);
    }

    private void up(Connection c) {
        c.cancelWatchdog();
        c.connectedAt = clock.instant();
        connectCount.incrementAndGet();
        log.info("connected to {} (attempt {}{})", c.broker, c.attemptNo,
                c.sessionPresent ? ", session resumed" : "");
        attemptsSinceConnected = 0;
        setState(LinkState.CONNECTED);
    }

    private void connectFailed(Connection c, Throwable e) {
        if (c != current || closed.get()) {
            c.closeChannel();
            return;
        }
        current = null;
        c.cancelWatchdog();
        connectFailureCount.incrementAndGet();
        c.closeChannel();
        brokerIndex = (brokerIndex + 1) % order.size();
        Duration delay = backoff.afterFailedAttempt();
        log.warn("connect to {} failed (attempt {}): {}; next: {} in {} ms", c.broker, c.attemptNo,
                LinkStateCell.describe(c.failure != null ? c.failure : e), order.get(brokerIndex),
                delay.toMillis());
        setState(LinkState.DISCONNECTED);
        scheduleAttempt(delay);
    }

    private void connectionLost(Connection c, Throwable cause) {
        if (c != current || closed.get()) {
            return;
        }
        if (c.connectedAt == null) { // lost before SUBACK: a failed attempt
            connectFailed(c, cause);
            return;
        }
        current = null;
        connectionLostCount.incrementAndGet();
        Duration upFor = Duration.between(c.connectedAt, clock.instant());
        c.closeChannel();
        brokerIndex = (brokerIndex + 1) % order.size();
        Duration delay = backoff.afterLoss(upFor.isNegative() ? Duration.ZERO : upFor);
        log.warn("connection to {} lost after {} s: {}; next: {} in {} ms", c.broker, upFor.toSeconds(),
                LinkStateCell.describe(cause), order.get(brokerIndex), delay.toMillis());
        setState(LinkState.DISCONNECTED);
        scheduleAttempt(delay);
    }

    private void watchdogFired(Connection c) {
        if (c != current || closed.get() || c.connectedAt != null) {
            return;
        }
        connectFailed(c, new TimeoutException("no " + c.waitingFor() + " within " + config.connectTimeout()));
    }

    private void scheduleAttempt(Duration delay) {
        if (closed.get()) {
            return;
        }
        nextAttempt = scheduler.schedule(guarded("attempt", this::attempt), delay.toNanos(), TimeUnit.NANOSECONDS);
    }

    private void shutdownOnScheduler() {
        if (nextAttempt != null) {
            nextAttempt.cancel(false);
            nextAttempt = null;
        }
        Connection c = current;
        current = null;
        if (c != null) {
            c.cancelWatchdog();
            c.disconnect();
        }
        setState(LinkState.CLOSED);
    }

    private void setState(LinkState next) {
        state.set(next);
    }

    private void onScheduler(String what, Runnable task) {
        try {
            scheduler.execute(guarded(what, task));
        } catch (RejectedExecutionException e) {
            log.debug("MQTT intake link {} closed, {} ignored", config.clientId(), what);
        }
    }

    /** Logs anything a scheduler task throws and makes sure the connect loop goes on. */
    private Runnable guarded(String what, Runnable task) {
        return () -> {
            try {
                task.run();
            } catch (Throwable t) {
                log.error("MQTT intake link {}: {} failed", config.clientId(), what, t);
                try {
                    if (!closed.get() && current == null && (nextAttempt == null || nextAttempt.isDone())) {
                        setState(LinkState.DISCONNECTED);
                        scheduleAttempt(config.backoffInitial());
                    }
                } catch (Throwable t2) {
                    log.error("MQTT intake link {}: cannot schedule the next attempt", config.clientId(), t2);
                }
            }
        };
    }

    private void deliver(List<InboundMessage> batch) {
        for (InboundMessage m : batch) {
            try {
                handler.onMessage(m);
            } catch (Throwable t) {
                log.error("message handler failed on {} from {}", m.topic(), m.broker(), t);
            }
        }
    }

    private void awaitClosedQuietly() {
        if (schedulerThreads.isCurrentThread() || dispatchThreads.isCurrentThread()) {
            return;
        }
        try {
            closedLatch.await(CLOSE_TIMEOUT.toMillis() + 2 * EXECUTOR_DRAIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage() != null ? root.getMessage() : root.toString();
    }

    /** One connect attempt and, once it succeeds, the connection. */
    private final class Connection {
        final long id;
        final BrokerAddress broker;
        final long attemptNo;
        final PendingAcks acks = new PendingAcks();
        final Runnable writeAcks = this::writeAcks;
        volatile Channel channel;
        volatile Instant connectedAt;
        volatile boolean connAckReceived;
        volatile boolean sessionPresent;
        /** The first reason the connection failed, as seen on the event loop (a refusal, a TLS error…). */
        volatile Throwable failure;
        ScheduledFuture<?> watchdog;

        Connection(long id, BrokerAddress broker, long attemptNo) {
            this.id = id;
            this.broker = broker;
            this.attemptNo = attemptNo;
        }

        String waitingFor() {
            Channel ch = channel;
            if (ch == null || !ch.isActive()) {
                return "TCP connection";
            }
            return connAckReceived ? "SUBACK" : "CONNACK";
        }

        void fail(Throwable cause) {
            if (failure == null) {
                failure = cause;
            }
            closeChannel();
        }

        void cancelWatchdog() {
            if (watchdog != null) {
                watchdog.cancel(false);
                watchdog = null;
            }
        }

        void ack(int packetId, int qos) {
            Channel ch = channel;
            if (ch != null && acks.add(packetId, qos)) {
                try {
                    ch.eventLoop().execute(writeAcks);
                } catch (RejectedExecutionException e) {
                    log.debug("ack of message {} not sent: the event loop is shut down", packetId);
                }
            }
        }

        /** On the event loop: every pending acknowledgement in one write and one flush. */
        private void writeAcks() {
            Channel ch = channel;
            ByteBuf buf = acks.drain(ch.alloc());
            if (buf == null) {
                return;
            }
            if (!ch.isActive()) {
                buf.release();
                return;
            }
            acksSent.addAndGet(buf.readableBytes() / PendingAcks.FRAME_BYTES);
            ch.writeAndFlush(buf, ch.voidPromise());
        }

        void closeChannel() {
            Channel ch = channel;
            if (ch != null) {
                ch.close();
            }
        }

        /** A clean DISCONNECT, then close: waits briefly so that acknowledgements already queued go out first. */
        void disconnect() {
            Channel ch = channel;
            if (ch == null) {
                return;
            }
            if (ch.isActive()) {
                try {
                    ch.eventLoop().submit(this::writeAcks).await(1, TimeUnit.SECONDS);
                    ch.writeAndFlush(MqttMessage.DISCONNECT).await(1, TimeUnit.SECONDS);
                    log.info("disconnected from {}", broker);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            ch.close().awaitUninterruptibly(1, TimeUnit.SECONDS);
        }
    }

    /** The MQTT side of one connection, on its event loop: never blocks, hands messages over per read batch. */
    private final class IntakeHandler extends ChannelInboundHandlerAdapter {
        private final Connection c;
        private List<InboundMessage> batch = new ArrayList<>();
        /** When the last socket read ended ({@link System#nanoTime()}): a PINGREQ must be answered after it. */
        private long lastReadNanos = System.nanoTime();
        private ScheduledFuture<?> pingCheck;

        IntakeHandler(Connection c) {
            this.c = c;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            MqttMessageBuilders.ConnectBuilder connect = MqttMessageBuilders.connect()
                    .protocolVersion(MqttVersion.MQTT_3_1_1) // Moquette 0.17 speaks 3.1.1 only
                    .clientId(config.clientId())
                    .cleanSession(config.cleanSession())
                    .keepAlive((int) config.keepAlive().getSeconds());
            MqttSecurity security = config.security();
            if (security.username() != null) {
                connect.hasUser(true).username(security.username());
                if (security.password() != null) {
                    connect.hasPassword(true).password(security.password().getBytes(StandardCharsets.UTF_8));
                }
            }
            ctx.writeAndFlush(connect.build()).addListener(ChannelFutureListener.FIRE_EXCEPTION_ON_FAILURE);
            ctx.fireChannelActive();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof MqttMessage m)) {
                ReferenceCountUtil.release(msg);
                return;
            }
            try {
                if (m.decoderResult().isFailure()) {
                    c.fail(new IllegalStateException("malformed MQTT packet from " + c.broker + ": "
                            + rootMessage(m.decoderResult().cause())));
                    return;
                }
                MqttFixedHeader h = m.fixedHeader();
                switch (h.messageType()) {
                    case PUBLISH -> publish(ctx, (MqttPublishMessage) m);
                    case CONNACK -> connAck(ctx, (MqttConnAckMessage) m);
                    case SUBACK -> {
                        List<Integer> granted = ((MqttSubAckMessage) m).payload().grantedQoSLevels();
                        onScheduler("subscribed", () -> subscribed(c, granted));
                    }
                    case PUBREL -> {
                        int id = ((MqttMessageIdVariableHeader) m.variableHeader()).messageId();
                        ctx.writeAndFlush(new MqttMessage(new MqttFixedHeader(MqttMessageType.PUBCOMP, false,
                                MqttQoS.AT_MOST_ONCE, false, 2), MqttMessageIdVariableHeader.from(id)),
                                ctx.voidPromise());
                    }
                    case PINGRESP -> { }
                    default -> log.debug("{} from {} ignored", h.messageType(), c.broker);
                }
            } finally {
                ReferenceCountUtil.release(m);
            }
        }

        private void publish(ChannelHandlerContext ctx, MqttPublishMessage m) {
            MqttFixedHeader h = m.fixedHeader();
            int qos = h.qosLevel().value();
            if (qos > 1) {
                // Subscriptions ask for QoS 1; a broker that sends 2 anyway gets PUBREC on ack and PUBCOMP on PUBREL.
                log.debug("QoS {} message on {} from {} although QoS 1 was granted", qos,
                        m.variableHeader().topicName(), c.broker);
            }
            byte[] payload = ByteBufUtil.getBytes(m.payload());
            batch.add(new InboundMessage(m.variableHeader().topicName(), payload, qos, h.isRetain(), h.isDup(),
                    c.broker, qos == 0 ? 0 : m.variableHeader().packetId(), c.id));
        }

        private void connAck(ChannelHandlerContext ctx, MqttConnAckMessage m) {
            MqttConnectReturnCode code = m.variableHeader().connectReturnCode();
            if (code != MqttConnectReturnCode.CONNECTION_ACCEPTED) {
                c.fail(new IllegalStateException("broker refused the connection: " + refusal(code)));
                return;
            }
            c.connAckReceived = true;
            c.sessionPresent = m.variableHeader().isSessionPresent();
            List<Subscription> subs = config.subscriptions();
            if (subs.isEmpty()) {
                onScheduler("connected", () -> up(c));
                return;
            }
            MqttMessageBuilders.SubscribeBuilder subscribe = MqttMessageBuilders.subscribe()
                    .messageId(SUBSCRIBE_PACKET_ID);
            for (Subscription s : subs) {
                subscribe.addSubscription(MqttQoS.valueOf(s.qos()), s.filter());
            }
            ctx.writeAndFlush(subscribe.build()).addListener(ChannelFutureListener.FIRE_EXCEPTION_ON_FAILURE);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            lastReadNanos = System.nanoTime();
            handOver();
            ctx.fireChannelReadComplete();
        }

        private void handOver() {
            if (batch.isEmpty()) {
                return;
            }
            List<InboundMessage> full = batch;
            batch = new ArrayList<>(Math.max(16, full.size()));
            try {
                dispatcher.execute(() -> deliver(full));
            } catch (RejectedExecutionException e) {
                log.debug("{} messages from {} dropped: link closed (not acknowledged, the broker keeps them)",
                        full.size(), c.broker);
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof IdleStateEvent e && e.state() == IdleState.WRITER_IDLE) {
                if (!c.connAckReceived) {
                    return; // until CONNACK the connect timeout is the only limit
                }
                ctx.writeAndFlush(MqttMessage.PINGREQ, ctx.voidPromise());
                if (pingCheck == null || pingCheck.isDone()) {
                    long sentAt = System.nanoTime();
                    pingCheck = ctx.executor().schedule(() -> {
                        if (lastReadNanos - sentAt < 0 && ctx.channel().isActive()) {
                            c.fail(new TimeoutException("nothing read within " + config.keepAlive()
                                    + " of a PINGREQ: the connection is dead"));
                        }
                    }, config.keepAlive().toMillis(), TimeUnit.MILLISECONDS);
                }
                return;
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            c.fail(cause);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            // Received before the close: delivered like the rest (their acks are dropped, the broker resends them).
            handOver();
            if (pingCheck != null) {
                pingCheck.cancel(false);
            }
            Throwable cause = c.failure != null ? c.failure
                    : new IllegalStateException("connection closed by " + c.broker);
            onScheduler("connection lost", () -> connectionLost(c, cause));
            ctx.fireChannelInactive();
        }
    }

    private static String refusal(MqttConnectReturnCode code) {
        return switch (code) {
            case CONNECTION_REFUSED_BAD_USER_NAME_OR_PASSWORD ->
                "bad user name or password (CONNACK 4); check the MQTT user name and password";
            case CONNECTION_REFUSED_NOT_AUTHORIZED -> "not authorized (CONNACK 5); check the MQTT user name, password "
                    + "and the broker's ACL";
            case CONNECTION_REFUSED_IDENTIFIER_REJECTED -> "client id rejected (CONNACK 2)";
            case CONNECTION_REFUSED_SERVER_UNAVAILABLE -> "server unavailable (CONNACK 3)";
            case CONNECTION_REFUSED_UNACCEPTABLE_PROTOCOL_VERSION -> "MQTT 3.1.1 not accepted (CONNACK 1)";
            default -> code.toString();
        };
    }
}
