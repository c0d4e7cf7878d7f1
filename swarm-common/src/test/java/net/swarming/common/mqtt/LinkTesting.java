package net.swarming.common.mqtt;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import net.swarming.testkit.MqttBrokerHandle;

/** Shared bits of the link integration tests. */
final class LinkTesting {

    static final Duration CONNECT = Duration.ofSeconds(15);
    static final Duration DELIVERY = Duration.ofSeconds(10);

    private LinkTesting() {
    }

    /** A topic prefix no other test uses (retained messages outlive tests on a shared broker). */
    static String uniqueTopic(String name) {
        return "it/" + name + "/" + UUID.randomUUID().toString().substring(0, 8);
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Fast backoff so tests do not wait; no shuffle so the order is known. */
    static MqttLinkConfig.Builder config(String role, MqttBrokerHandle... brokers) {
        List<BrokerAddress> list = new ArrayList<>();
        for (MqttBrokerHandle b : brokers) {
            list.add(BrokerAddress.parse(b.hostPort()));
        }
        return MqttLinkConfig.builder()
                .brokers(list)
                .shuffle(false)
                .clientId(MqttLink.defaultClientId(role))
                .connectTimeout(Duration.ofSeconds(3))
                .keepAlive(Duration.ofSeconds(5))
                .backoff(Duration.ofMillis(50), Duration.ofMillis(500));
    }

    static MqttLink started(MqttLinkConfig config, MessageHandler handler) throws InterruptedException {
        MqttLink link = new MqttLink(config, handler, Clock.systemUTC());
        link.start();
        if (!link.awaitConnected(CONNECT)) {
            link.close();
            throw new AssertionError("link " + config.clientId() + " did not connect to " + config.brokers());
        }
        return link;
    }
}
