package net.swarming.common.mqtt;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The link without a broker: nothing listens on the port it is given. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MqttLinkTest {

    /** A loopback port that nothing listens on (bound once by the kernel's choice, then released). */
    private static int closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static MqttLinkConfig config(String broker) {
        return MqttLinkConfig.builder().broker(broker).clientId(MqttLink.defaultClientId("unit"))
                .connectTimeout(Duration.ofSeconds(2)).backoff(Duration.ofMillis(10), Duration.ofMillis(100))
                .subscribe("watch", 1).build();
    }

    private static List<String> threadsOf(String clientId) {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
                .filter(n -> n.contains(clientId)).toList();
    }

    @Test
    void whenNeverStarted_thenPublishFailsFast_andCloseWorks() throws Exception {
        MqttLink link = new MqttLink(config("127.0.0.1:" + closedPort()), m -> { }, Clock.systemUTC());
        assertEquals(LinkState.DISCONNECTED, link.state());
        CompletableFuture<Void> f = link.publish("ping/x", new byte[0], 1, false);
        assertInstanceOf(NotConnectedException.class, assertThrows(ExecutionException.class, f::get).getCause());
        assertFalse(((NotConnectedException) f.handle((v, e) -> e).get()).possiblyDelivered());
        assertEquals(Optional.empty(), link.currentBroker());
        link.close();
        assertEquals(LinkState.CLOSED, link.state());
        assertThrows(IllegalStateException.class, link::start);
    }

    @Test
    void whenNothingListens_thenLinkKeepsTrying_andPublishFailsFast_andCloseStopsEveryThread() throws Exception {
        MqttLinkConfig c = config("127.0.0.1:" + closedPort());
        MqttLink link = new MqttLink(c, m -> { }, Clock.systemUTC());
        List<LinkState> states = new CopyOnWriteArrayList<>();
        link.addStateListener(states::add);
        link.start();
        link.start(); // no-op
        await().atMost(Duration.ofSeconds(20)).until(() -> link.connectFailureCount() >= 3);
        assertFalse(link.awaitConnected(Duration.ofMillis(50)));
        assertEquals(0, link.connectCount());
        long t0 = System.nanoTime();
        CompletableFuture<Void> f = link.publish("ping/x", new byte[0], 1, false);
        assertTrue(f.isCompletedExceptionally());
        assertTrue(System.nanoTime() - t0 < TimeUnit.MILLISECONDS.toNanos(100));
        assertTrue(threadsOf(c.clientId()).contains("swarm-mqtt-" + c.clientId()));

        link.close();
        link.close();
        assertEquals(LinkState.CLOSED, link.state());
        assertEquals(LinkState.CLOSED, states.get(states.size() - 1));
        assertTrue(states.containsAll(List.of(LinkState.CONNECTING, LinkState.DISCONNECTED)));
        long failures = link.connectFailureCount();
        await().atMost(Duration.ofSeconds(10)).until(() -> threadsOf(c.clientId()).isEmpty());
        Thread.sleep(300);
        assertEquals(failures, link.connectFailureCount(), "no attempts after close");
    }

    @Test
    void whenTlsBrokerUnreachable_thenFailuresCountedAndLoopGoesOn() throws Exception {
        try (MqttLink link = new MqttLink(config("ssl://127.0.0.1:" + closedPort()), m -> { }, Clock.systemUTC())) {
            link.start();
            await().atMost(Duration.ofSeconds(20)).until(() -> link.connectFailureCount() >= 2);
        }
    }

    @Test
    void whenClosedFromSeveralThreads_thenAllReturnAndStateIsClosed() throws Exception {
        MqttLink link = new MqttLink(config("127.0.0.1:" + closedPort()), m -> { }, Clock.systemUTC());
        link.start();
        Thread[] threads = new Thread[4];
        for (int i = 0; i < threads.length; i++) {
            threads[i] = new Thread(link::close);
            threads[i].start();
        }
        for (Thread t : threads) {
            t.join(20_000);
            assertFalse(t.isAlive());
        }
        assertEquals(LinkState.CLOSED, link.state());
    }
}
