package net.swarming.common.mqtt;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
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
import java.util.function.Consumer;
import java.util.function.DoubleSupplier;
import javax.net.ssl.SSLSocketFactory;
import net.swarming.common.mqtt.internal.FailoverBackoff;
import net.swarming.common.mqtt.internal.LinkStateCell;
import net.swarming.common.HostName;
import net.swarming.common.mqtt.internal.NamedThreadFactory;
import net.swarming.common.mqtt.internal.PublishWindow;
import net.swarming.common.mqtt.internal.Topics;
import net.swarming.common.tls.PemTrust;
import org.eclipse.paho.client.mqttv3.IMqttActionListener;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.IMqttToken;
import org.eclipse.paho.client.mqttv3.MqttAsyncClient;
import org.eclipse.paho.client.mqttv3.MqttCallbackExtended;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One logical MQTT connection that stays connected to one broker of a list at a time and fails over round-robin.
 *
 * <p><b>Connecting.</b> {@link #start()} returns at once; a loop on the link's scheduler thread
 * ({@code swarm-mqtt-<clientId>}) connects in the background. The broker list is shuffled once at start (if configured),
 * then tried in order. A failed connect or a lost connection moves to the next broker: immediately while a cycle through
 * the list is under way, after a full-jitter exponential delay (between {@code backoffInitial} and {@code backoffMax})
 * once a whole cycle failed; see {@link FailoverBackoff}. Each attempt uses a new Paho {@link MqttAsyncClient} (Paho
 * binds the URI at construction) with {@link MemoryPersistence} and Paho's automatic reconnect off: Paho never retries
 * a failed first connect, and its reconnect delay is shared by every client of the JVM.
 *
 * <p><b>Connected</b> means: CONNACK received and every configured subscription acknowledged (they are re-established on
 * every connect). Only then are publishes accepted.
 *
 * <p><b>Threads.</b> Paho's callbacks only hand work over and never block. Messages are delivered to the
 * {@link MessageHandler} on {@code swarm-mqtt-dispatch-<clientId>}, one at a time in arrival order, through an unbounded
 * queue: a message that will be acknowledged manually must never be dropped or refused here, and the broker's own
 * in-flight window (mosquitto 20, Moquette 10 unacknowledged QoS 1 messages) bounds that queue when manual acks are on.
 * Publish futures complete on {@code swarm-mqtt-publish-<clientId>}; state listeners run on the scheduler thread. None of
 * these callbacks may block for long: a state listener would hold up reconnection, a future's dependent stage the
 * completion of later publishes.
 *
 * <p><b>Publishing.</b> {@link #publish} never blocks. It fails fast with {@link NotConnectedException} unless connected;
 * otherwise at most {@code maxInflight} publishes are handed to Paho at once and later ones wait in order in the link
 * (up to {@value #MAX_QUEUED_PUBLISHES}). When the connection is lost, every publish not yet acknowledged fails with a
 * {@link NotConnectedException} (see {@link NotConnectedException#possiblyDelivered()}); nothing is resent on the next
 * broker: the caller keeps what it must not lose.
 *
 * <p><b>Security.</b> The {@link MqttSecurity} of the configuration gives the user name and password sent in CONNECT,
 * and for {@code ssl://} brokers the CA file whose certificates alone are trusted (else the JVM's trust store); the
 * broker's host name is always checked against its certificate. A broker that refuses the credentials (CONNACK 4, bad
 * user name or password, or 5, not authorized) is logged as a warning naming the options to fix
 * ({@code --mqtt-username}, {@code --mqtt-password}, {@code --mqtt-password-file}, the same in every daemon) and
 * counted in {@link #credentialsRefusedCount()}; the link keeps trying with its backoff, so fixing the broker's side
 * is enough.
 *
 * <p><b>Closing.</b> {@link #close()} disconnects cleanly: the broker then discards the last will. That is intended
 * (a clean shutdown is not a death); the will announces only connections that die, such as a killed process.
 */
public final class MqttLink implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(MqttLink.class);

    /** How long a clean disconnect waits for in-flight work before sending DISCONNECT. */
    public static final Duration DISCONNECT_QUIESCE = Duration.ofMillis(1500);
    /** A connection lost after being up this long resets the backoff; a shorter one counts as a failed attempt. */
    public static final Duration STABLE_CONNECTION = Duration.ofSeconds(5);
    /** Most publishes waiting for room in the in-flight window; more fail at once. */
    public static final int MAX_QUEUED_PUBLISHES = 100_000;
    /** Longest client id {@link #defaultClientId} produces. */
    public static final int DEFAULT_CLIENT_ID_MAX_LENGTH = 64;

    /**
     * Paho's own limit sits a little above the link's window: for QoS 0 Paho tells us a publish is done slightly before
     * it decrements its in-flight count, and would then refuse the next publish.
     */
    static final int PAHO_INFLIGHT_MARGIN = 8;
    /** Added to the connect timeout before the link gives up on a connect (or subscribe) Paho has not reported. */
    static final Duration WATCHDOG_GRACE = Duration.ofSeconds(5);
    static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(10);
    static final Duration EXECUTOR_DRAIN_TIMEOUT = Duration.ofSeconds(2);
    static final Duration PAHO_RETRY_DELAY = Duration.ofMillis(5);
    private static final int SUBSCRIPTION_REFUSED = 0x80;
    /** The option names of {@link MqttSecurity} in every daemon, for the refusal warning. */
    private static final String CREDENTIAL_OPTIONS = "--mqtt-username and --mqtt-password (or --mqtt-password-file)";

    private final MqttLinkConfig config;
    private final MessageHandler handler;
    private final Clock clock;
    private final List<BrokerAddress> order;
    private final FailoverBackoff backoff;
    /** Trusts only the configured CA; null: the JVM's default trust store. */
    private final SSLSocketFactory trustedCa;

    private final NamedThreadFactory schedulerThreads;
    private final NamedThreadFactory dispatchThreads;
    private final NamedThreadFactory publishThreads;
    private final ScheduledThreadPoolExecutor scheduler;
    private final ThreadPoolExecutor dispatcher;
    private final ThreadPoolExecutor completer;

    private final AtomicBoolean started = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final CountDownLatch closedLatch = new CountDownLatch(1);
    private final AtomicLong connectCount = new AtomicLong();
    private final AtomicLong connectFailureCount = new AtomicLong();
    private final AtomicLong connectionLostCount = new AtomicLong();
    private final AtomicLong credentialsRefusedCount = new AtomicLong();
    private final LinkStateCell state;
    /** The connection being attempted or up; written on the scheduler thread only. */
    private volatile Session current;

    // Confined to the scheduler thread.
    private int brokerIndex;
    private long attemptsSinceConnected;
    private long connectionSeq;
    private ScheduledFuture<?> nextAttempt;

    /**
     * @param config how to connect
     * @param handler receives every message of the subscriptions, on the dispatch thread
     * @param clock wall clock for timestamps and connection durations
     * @throws IllegalArgumentException when the configured CA file cannot be read or holds no certificate
     */
    public MqttLink(MqttLinkConfig config, MessageHandler handler, Clock clock) {
        this(config, handler, clock, () -> ThreadLocalRandom.current().nextDouble());
    }

    /** For tests: {@code unitRandom} (values in [0, 1)) drives the backoff jitter. */
    MqttLink(MqttLinkConfig config, MessageHandler handler, Clock clock, DoubleSupplier unitRandom) {
        this.config = Objects.requireNonNull(config, "config");
        this.handler = Objects.requireNonNull(handler, "handler");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.state = new LinkStateCell("MQTT link " + config.clientId());
        this.order = new ArrayList<>(config.brokers());
        this.backoff = new FailoverBackoff(order.size(), config.backoffInitial(), config.backoffMax(),
                STABLE_CONNECTION, Objects.requireNonNull(unitRandom, "unitRandom"));
        Path caFile = config.security().caFile();
        // Read once here so that a bad file fails the start rather than every connect attempt.
        this.trustedCa = caFile == null ? null : PemTrust.sslContext(caFile, "mqtt-ca").getSocketFactory();
        String id = config.clientId();
        schedulerThreads = new NamedThreadFactory("swarm-mqtt-" + id);
        dispatchThreads = new NamedThreadFactory("swarm-mqtt-dispatch-" + id);
        publishThreads = new NamedThreadFactory("swarm-mqtt-publish-" + id);
        scheduler = new ScheduledThreadPoolExecutor(1, schedulerThreads);
        scheduler.setRemoveOnCancelPolicy(true);
        scheduler.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        scheduler.setContinueExistingPeriodicTasksAfterShutdownPolicy(false);
        // Unbounded on purpose, see the class comment.
        dispatcher = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(),
                dispatchThreads);
        completer = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(),
                publishThreads);
    }

    /**
     * A client id unique per running instance: {@code <role>-<hostname>-<6 random base-36 characters>}, at most
     * {@value #DEFAULT_CLIENT_ID_MAX_LENGTH} characters (the host name is shortened first), characters outside
     * {@code [A-Za-z0-9._-]} replaced by '-'. Two instances sharing a client id would knock each other off the broker
     * forever; the random part prevents that even on one host.
     */
    public static String defaultClientId(String role) {
        String r = sanitize(role == null || role.isBlank() ? "swarm" : role.strip());
        String host = sanitize(HostName.local());
        String suffix = randomBase36(6);
        int room = DEFAULT_CLIENT_ID_MAX_LENGTH - suffix.length() - 2;
        if (r.length() > room - 1) {
            r = r.substring(0, room - 1);
        }
        int hostRoom = room - r.length();
        if (host.length() > hostRoom) {
            host = host.substring(0, hostRoom);
        }
        return r + "-" + host + "-" + suffix;
    }

    /**
     * Starts connecting in the background and returns at once. Calling it again does nothing.
     *
     * @throws IllegalStateException after {@link #close()}
     */
    public void start() {
        if (closed.get()) {
            throw new IllegalStateException("MQTT link " + config.clientId() + " is closed");
        }
        if (!started.compareAndSet(false, true)) {
            return;
        }
        if (config.shuffle()) {
            Collections.shuffle(order, ThreadLocalRandom.current());
        }
        log.info("MQTT link {} starting: brokers {}", config.clientId(), order);
        onScheduler("attempt", this::attempt);
    }

    /**
     * Waits until the link is connected (and subscribed).
     *
     * @return true when connected, false when the timeout passed or the link is closed
     */
    public boolean awaitConnected(Duration timeout) throws InterruptedException {
        return state.awaitConnected(timeout);
    }

    /**
     * Publishes one message on the current connection, without blocking.
     *
     * @return a future that completes when the broker acknowledged it (QoS 1: PUBACK, QoS 2: PUBCOMP) or when it was
     *     written (QoS 0), on the {@code swarm-mqtt-publish-<clientId>} thread; it fails with
     *     {@link NotConnectedException} at once when the link is not connected, or later when the connection is lost
     *     first, and with {@link MqttLinkException} for other failures
     * @throws IllegalArgumentException for a topic with wildcards or an invalid QoS
     */
    public CompletableFuture<Void> publish(String topic, byte[] payload, int qos, boolean retained) {
        String problem = Topics.publishTopicProblem(topic);
        if (problem != null) {
            throw new IllegalArgumentException("publish topic " + (topic == null ? "null" : "'" + topic + "'") + " "
                    + problem);
        }
        Objects.requireNonNull(payload, "payload");
        if (qos < 0 || qos > 2) {
            throw new IllegalArgumentException("publish qos " + qos + " must be 0, 1 or 2");
        }
        Session s = current;
        LinkState now = state.get();
        if (s == null || now != LinkState.CONNECTED) {
            return CompletableFuture.failedFuture(new NotConnectedException(
                    "MQTT link " + config.clientId() + " is " + now.name().toLowerCase()));
        }
        return s.window.submit(topic, payload, qos, retained);
    }

    /**
     * Acknowledges a message to the broker when manual acks are on (QoS 1: sends the PUBACK); does nothing otherwise,
     * for QoS 0, and for a message that arrived on an earlier connection (the broker redelivers those itself on a
     * persistent session). May be called from any thread, including the handler.
     */
    public void ack(InboundMessage m) {
        if (!config.manualAcks() || m.qos() == 0) {
            return;
        }
        Session s = current;
        if (s == null || s.id != m.connectionId()) {
            log.debug("ack of message {} on {} ignored: its connection {} is gone", m.messageId(), m.topic(),
                    m.connectionId());
            return;
        }
        try {
            s.client.messageArrivedComplete(m.messageId(), m.qos());
        } catch (MqttException | RuntimeException e) {
            log.debug("ack of message {} on {} to {} failed: {}", m.messageId(), m.topic(), s.broker, e.toString());
        }
    }

    /** @return the current state */
    public LinkState state() {
        return state.get();
    }

    /** @return the broker the link is connected to, if connected */
    public Optional<BrokerAddress> currentBroker() {
        Session s = current;
        return s != null && state.get() == LinkState.CONNECTED ? Optional.of(s.broker) : Optional.empty();
    }

    /** @return since when the current connection is up, if connected */
    public Optional<Instant> connectedSince() {
        Session s = current;
        Instant at = s == null ? null : s.connectedAt;
        return state.get() == LinkState.CONNECTED ? Optional.ofNullable(at) : Optional.empty();
    }

    /** @return successful connections (CONNACK and subscriptions acknowledged) so far */
    public long connectCount() {
        return connectCount.get();
    }

    /** @return failed connect attempts so far (refused, timed out, subscriptions refused) */
    public long connectFailureCount() {
        return connectFailureCount.get();
    }

    /** @return connect attempts the broker refused for the credentials (CONNACK 4 or 5) so far */
    public long credentialsRefusedCount() {
        return credentialsRefusedCount.get();
    }

    /** @return established connections lost so far (not counting {@link #close()}) */
    public long connectionLostCount() {
        return connectionLostCount.get();
    }

    /** @return publishes handed to Paho and not yet acknowledged on the current connection */
    public int inflightPublishes() {
        Session s = current;
        return s == null ? 0 : s.window.inflight();
    }

    /** @return publishes waiting for room in the in-flight window */
    public int queuedPublishes() {
        Session s = current;
        return s == null ? 0 : s.window.queued();
    }

    /** @return the client id in use */
    public String clientId() {
        return config.clientId();
    }

    /** @return the configuration */
    public MqttLinkConfig config() {
        return config;
    }

    /**
     * Adds a listener told about every state change, on the link's scheduler thread. It must not block: reconnection
     * waits for it. An exception it throws is logged.
     */
    public void addStateListener(Consumer<LinkState> l) {
        state.addListener(l);
    }

    /**
     * Stops reconnecting, fails publishes still queued in the link, disconnects cleanly (waiting up to
     * {@link #DISCONNECT_QUIESCE} for in-flight publishes), closes the Paho client and stops the link's threads (messages
     * already received are still delivered for up to two seconds). A clean disconnect makes the broker discard the
     * last will, on purpose: a clean shutdown is not a death. Idempotent; may be called from a handler or listener.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            awaitClosedQuietly();
            return;
        }
        if (schedulerThreads.isCurrentThread()) {
            shutdownOnScheduler();
        } else {
            try {
                Future<?> f = scheduler.submit(this::shutdownOnScheduler);
                f.get(CLOSE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException e) {
                shutdownOnScheduler();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                log.warn("MQTT link {}: interrupted while closing", config.clientId());
            } catch (ExecutionException | TimeoutException e) {
                log.warn("MQTT link {}: closing did not finish cleanly: {}", config.clientId(), e.toString());
            }
        }
        scheduler.shutdown();
        completer.shutdown();
        dispatcher.shutdown();
        awaitQuietly(completer, publishThreads);
        if (!awaitQuietly(dispatcher, dispatchThreads)) {
            int dropped = dispatcher.shutdownNow().size();
            log.warn("MQTT link {}: {} received messages not delivered at close", config.clientId(), dropped);
        }
        closedLatch.countDown();
        log.info("MQTT link {} closed: {} connects, {} connect failures, {} connections lost", config.clientId(),
                connectCount.get(), connectFailureCount.get(), connectionLostCount.get());
    }

    // ---- the connect loop, on the scheduler thread ------------------------------------------------------------------

    private void attempt() {
        nextAttempt = null;
        if (closed.get()) {
            return;
        }
        BrokerAddress broker = order.get(brokerIndex);
        attemptsSinceConnected++;
        long id = ++connectionSeq;
        MqttAsyncClient client;
        try {
            client = new MqttAsyncClient(broker.uri(), config.clientId(), new MemoryPersistence());
        } catch (MqttException | RuntimeException e) {
            connectFailureCount.incrementAndGet();
            afterFailure(broker, attemptsSinceConnected, e);
            return;
        }
        Session s = new Session(id, broker, client, attemptsSinceConnected);
        client.setCallback(s);
        client.setManualAcks(config.manualAcks());
        current = s;
        setState(LinkState.CONNECTING);
        log.debug("connecting to {} as {} (attempt {})", broker, config.clientId(), s.attemptNo);
        s.watchdog = scheduler.schedule(guarded("connect watchdog", () -> watchdogFired(s)),
                config.connectTimeout().plus(WATCHDOG_GRACE).toMillis(), TimeUnit.MILLISECONDS);
        try {
            s.connectToken = client.connect(connectOptions(broker), null, new IMqttActionListener() {
                @Override
                public void onSuccess(IMqttToken token) {
                    onScheduler("connected", () -> connected(s));
                }

                @Override
                public void onFailure(IMqttToken token, Throwable e) {
                    onScheduler("connect failed", () -> connectFailed(s, e));
                }
            });
        } catch (MqttException | RuntimeException e) {
            connectFailed(s, e);
        }
    }

    private MqttConnectOptions connectOptions(BrokerAddress broker) {
        MqttConnectOptions o = new MqttConnectOptions();
        o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1); // Moquette 0.17 speaks 3.1.1 only
        o.setCleanSession(config.cleanSession());
        o.setKeepAliveInterval((int) config.keepAlive().getSeconds());
        o.setConnectionTimeout((int) config.connectTimeout().getSeconds());
        o.setMaxInflight(config.maxInflight() + PAHO_INFLIGHT_MARGIN);
        o.setAutomaticReconnect(false); // we own reconnection
        Will will = config.will();
        if (will != null) {
            o.setWill(will.topic(), will.payload(), will.qos(), will.retained());
        }
        MqttSecurity security = config.security();
        if (security.username() != null) {
            o.setUserName(security.username());
            if (security.password() != null) {
                o.setPassword(security.password().toCharArray());
            }
        }
        if (broker.isTls()) {
            o.setSocketFactory(trustedCa != null ? trustedCa : SSLSocketFactory.getDefault());
            o.setHttpsHostnameVerificationEnabled(true); // Paho's default; stated since trusting a CA is not enough
        }
        return o;
    }

    private void connected(Session s) {
        if (s != current || closed.get()) {
            log.debug("connection {} to {} is stale, dropping it", s.id, s.broker);
            disconnectAndClose(s);
            return;
        }
        List<Subscription> subs = config.subscriptions();
        if (subs.isEmpty()) {
            up(s);
            return;
        }
        String[] filters = subs.stream().map(Subscription::filter).toArray(String[]::new);
        int[] qos = subs.stream().mapToInt(Subscription::qos).toArray();
        try {
            s.client.subscribe(filters, qos, null, new IMqttActionListener() {
                @Override
                public void onSuccess(IMqttToken token) {
                    int[] granted = token.getGrantedQos();
                    onScheduler("subscribed", () -> subscribed(s, granted));
                }

                @Override
                public void onFailure(IMqttToken token, Throwable e) {
                    onScheduler("subscribe failed", () -> connectFailed(s, e));
                }
            });
        } catch (MqttException | RuntimeException e) {
            connectFailed(s, e);
        }
    }

    private void subscribed(Session s, int[] granted) {
        if (s != current || closed.get()) {
            return;
        }
        List<Subscription> subs = config.subscriptions();
        for (int i = 0; i < subs.size(); i++) {
            if (granted != null && i < granted.length && granted[i] == SUBSCRIPTION_REFUSED) {
                log.error("broker {} refused the subscription to {}", s.broker, subs.get(i).filter());
            }
        }
        up(s);
    }

    private void up(Session s) {
        s.cancelWatchdog();
        s.connectedAt = clock.instant();
        s.window.open();
        connectCount.incrementAndGet();
        log.info("connected to {} (attempt {})", s.broker, s.attemptNo);
        attemptsSinceConnected = 0;
        setState(LinkState.CONNECTED);
    }

    private void connectFailed(Session s, Throwable e) {
        if (s != current || closed.get()) {
            disconnectAndClose(s);
            return;
        }
        current = null;
        s.cancelWatchdog();
        s.window.failAll("connect failed");
        connectFailureCount.incrementAndGet();
        disconnectAndClose(s);
        afterFailure(s.broker, s.attemptNo, e);
    }

    private void afterFailure(BrokerAddress broker, long attemptNo, Throwable e) {
        brokerIndex = (brokerIndex + 1) % order.size();
        Duration delay = backoff.afterFailedAttempt();
        String refusal = credentialsRefusal(e);
        if (refusal != null) {
            credentialsRefusedCount.incrementAndGet();
            log.warn("broker {} refused MQTT link {}: {}; next: {} in {} ms", broker, config.clientId(), refusal,
                    order.get(brokerIndex), delay.toMillis());
            setState(LinkState.DISCONNECTED);
            scheduleAttempt(delay);
            return;
        }
        log.warn("connect to {} failed (attempt {}): {}{}; next: {} in {} ms", broker, attemptNo, describe(e),
                broker.isTls() ? tlsHint(broker, e) : "", order.get(brokerIndex), delay.toMillis());
        setState(LinkState.DISCONNECTED);
        scheduleAttempt(delay);
    }

    private void connectionLost(Session s, Throwable cause) {
        if (s != current || closed.get()) {
            return;
        }
        if (s.connectedAt == null) { // lost while subscribing: a failed attempt
            connectFailed(s, cause);
            return;
        }
        current = null;
        connectionLostCount.incrementAndGet();
        Duration upFor = Duration.between(s.connectedAt, clock.instant());
        s.window.markLost();
        completer.execute(() -> s.window.failAll("connection lost"));
        disconnectAndClose(s);
        brokerIndex = (brokerIndex + 1) % order.size();
        Duration delay = backoff.afterLoss(upFor.isNegative() ? Duration.ZERO : upFor);
        log.warn("connection to {} lost after {} s: {}; next: {} in {} ms", s.broker, upFor.toSeconds(),
                describe(cause), order.get(brokerIndex), delay.toMillis());
        setState(LinkState.DISCONNECTED);
        scheduleAttempt(delay);
    }

    private void watchdogFired(Session s) {
        if (s != current || closed.get() || s.connectedAt != null) {
            return;
        }
        connectFailed(s, new TimeoutException("no answer within " + config.connectTimeout().plus(WATCHDOG_GRACE)));
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
        Session s = current;
        current = null;
        if (s != null) {
            s.cancelWatchdog();
            s.window.closeIntake("link closed");
            disconnectCleanly(s);
            completer.execute(() -> s.window.failAll("link closed"));
        }
        setState(LinkState.CLOSED);
    }

    /** A clean DISCONNECT after the quiesce period: the broker discards the will. */
    private void disconnectCleanly(Session s) {
        long quiesce = DISCONNECT_QUIESCE.toMillis();
        try {
            if (!s.client.isConnected() && s.connectToken != null && !s.connectToken.isComplete()) {
                // Let a connect in progress finish so that it can be closed rather than left behind.
                s.connectToken.waitForCompletion(quiesce);
            }
        } catch (MqttException e) {
            log.debug("connect to {} ended with {} while closing", s.broker, e.toString());
        }
        try {
            if (s.client.isConnected()) {
                s.client.disconnect(quiesce).waitForCompletion(quiesce + 1000);
                log.info("disconnected from {}", s.broker);
            }
        } catch (MqttException | RuntimeException e) {
            log.debug("clean disconnect from {} failed: {}", s.broker, e.toString());
        }
        closeClient(s);
    }

    /**
     * Drops a connection the link gives up on. Sends DISCONNECT if the TCP connection is still up: the process is
     * alive and moving on, so the will must not announce a death.
     */
    private void disconnectAndClose(Session s) {
        try {
            if (s.client.isConnected()) {
                s.client.disconnectForcibly(0, 1000, true);
            }
        } catch (MqttException | RuntimeException e) {
            log.debug("disconnect from {} failed: {}", s.broker, e.toString());
        }
        closeClient(s);
    }

    private static void closeClient(Session s) {
        try {
            s.client.close();
        } catch (MqttException | RuntimeException e) {
            try {
                s.client.close(true);
            } catch (MqttException | RuntimeException e2) {
                // A connect still in progress cannot be closed; Paho's own connect timeout ends it.
                log.debug("closing the client for {} failed: {}", s.broker, e2.toString());
            }
        }
    }

    private void setState(LinkState next) {
        state.set(next);
    }

    /** Runs a task on the scheduler; after close there is nothing left to do, so a rejection is ignored. */
    private void onScheduler(String what, Runnable task) {
        try {
            scheduler.execute(guarded(what, task));
        } catch (RejectedExecutionException e) {
            log.debug("MQTT link {} closed, {} ignored", config.clientId(), what);
        }
    }

    /** Logs anything a scheduler task throws and makes sure the connect loop goes on. */
    private Runnable guarded(String what, Runnable task) {
        return () -> {
            try {
                task.run();
            } catch (Throwable t) {
                log.error("MQTT link {}: {} failed", config.clientId(), what, t);
                keepLoopAlive();
            }
        };
    }

    private void keepLoopAlive() {
        try {
            if (!closed.get() && started.get() && current == null && (nextAttempt == null || nextAttempt.isDone())) {
                setState(LinkState.DISCONNECTED);
                scheduleAttempt(config.backoffInitial());
            }
        } catch (Throwable t) {
            log.error("MQTT link {}: cannot schedule the next connect attempt", config.clientId(), t);
        }
    }

    private void deliver(InboundMessage m) {
        try {
            handler.onMessage(m);
        } catch (Throwable t) {
            log.error("message handler failed on {} from {}", m.topic(), m.broker(), t);
        }
    }

    private void awaitClosedQuietly() {
        if (schedulerThreads.isCurrentThread() || dispatchThreads.isCurrentThread()
                || publishThreads.isCurrentThread()) {
            return;
        }
        try {
            closedLatch.await(CLOSE_TIMEOUT.toMillis() + 2 * EXECUTOR_DRAIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static boolean awaitQuietly(ExecutorService executor, NamedThreadFactory threads) {
        if (threads.isCurrentThread()) {
            return true;
        }
        try {
            return executor.awaitTermination(EXECUTOR_DRAIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** What to tell the operator when the broker refused the credentials; null for any other failure. */
    private String credentialsRefusal(Throwable e) {
        if (!(e instanceof MqttException m)) {
            return null;
        }
        MqttSecurity security = config.security();
        String who = security.username() == null ? "no user name" : "user name '" + security.username() + "'"
                + (security.password() == null ? " without a password" : "");
        String fix = security.username() == null
                ? "the broker admits no anonymous clients: set " + CREDENTIAL_OPTIONS
                : "check " + CREDENTIAL_OPTIONS + " against the broker's password file";
        return switch (m.getReasonCode()) {
            case MqttException.REASON_CODE_FAILED_AUTHENTICATION ->
                    "bad user name or password (CONNACK 4) for " + who + "; " + fix;
            case MqttException.REASON_CODE_NOT_AUTHORIZED ->
                    "not authorized (CONNACK 5) with " + who + "; " + fix;
            default -> null;
        };
    }

    /** What to fix when a TLS handshake failed on the broker's certificate; empty for other failures. */
    private String tlsHint(BrokerAddress broker, Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            String message = String.valueOf(t.getMessage());
            if (t instanceof java.security.cert.CertPathBuilderException
                    || message.contains("unable to find valid certification path")) {
                return config.security().caFile() != null
                        ? " (the broker's certificate is not signed by a CA in --mqtt-ca " + config.security().caFile()
                                + ")"
                        : " (the broker's certificate is not signed by a CA the JVM trusts; give its CA with --mqtt-ca)";
            }
            if (message.contains("No subject alternative") || message.contains("No name matching")) {
                return " (the broker's certificate does not name " + broker.host()
                        + "; connect with a host name or address it lists)";
            }
        }
        return "";
    }

    private static String describe(Throwable e) {
        return LinkStateCell.describe(e);
    }

    private static String sanitize(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.'
                    || c == '_' || c == '-';
            b.append(ok ? c : '-');
        }
        return b.length() == 0 ? "x" : b.toString();
    }

    private static String randomBase36(int length) {
        StringBuilder b = new StringBuilder(length);
        ThreadLocalRandom r = ThreadLocalRandom.current();
        for (int i = 0; i < length; i++) {
            b.append(Character.forDigit(r.nextInt(36), 36));
        }
        return b.toString();
    }

    /**
     * One connection attempt and, if it succeeds, the connection: its own Paho client and publish window. Implements
     * Paho's callback; every method only hands over to the link's executors.
     */
    private final class Session implements MqttCallbackExtended {
        final long id;
        final BrokerAddress broker;
        final MqttAsyncClient client;
        final long attemptNo;
        final PublishWindow window;
        volatile Instant connectedAt;
        volatile IMqttToken connectToken;
        ScheduledFuture<?> watchdog;

        Session(long id, BrokerAddress broker, MqttAsyncClient client, long attemptNo) {
            this.id = id;
            this.broker = broker;
            this.client = client;
            this.attemptNo = attemptNo;
            this.window = new PublishWindow(broker.toString(),
                    (topic, payload, qos, retained, listener) -> client.publish(topic, payload, qos, retained, null,
                            listener),
                    config.maxInflight(), MAX_QUEUED_PUBLISHES, completer,
                    retry -> scheduleRetry(retry));
        }

        void cancelWatchdog() {
            if (watchdog != null) {
                watchdog.cancel(false);
                watchdog = null;
            }
        }

        @Override
        public void connectionLost(Throwable cause) {
            window.markLost();
            onScheduler("connection lost", () -> MqttLink.this.connectionLost(this, cause));
        }

        @Override
        public void messageArrived(String topic, MqttMessage message) {
            try {
                InboundMessage m = new InboundMessage(topic, message.getPayload(), message.getQos(),
                        message.isRetained(), message.isDuplicate(), broker, message.getId(), id);
                dispatcher.execute(() -> deliver(m));
            } catch (RejectedExecutionException e) {
                log.debug("message on {} from {} dropped: link closed", topic, broker);
            } catch (Throwable t) {
                // Throwing here would make Paho drop the connection.
                log.error("cannot hand over a message on {} from {}", topic, broker, t);
            }
        }

        @Override
        public void deliveryComplete(IMqttDeliveryToken token) {
            // Each publish has its own listener (PublishWindow).
        }

        @Override
        public void connectComplete(boolean reconnect, String serverURI) {
            // The connect listener reports this; automatic reconnect is off.
        }
    }

    private void scheduleRetry(Runnable drain) {
        try {
            scheduler.schedule(() -> {
                try {
                    completer.execute(drain);
                } catch (RejectedExecutionException e) {
                    // closed
                }
            }, PAHO_RETRY_DELAY.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            // closed
        }
    }
}
