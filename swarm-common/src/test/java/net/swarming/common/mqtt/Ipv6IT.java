package net.swarming.common.mqtt;

import static net.swarming.common.mqtt.LinkTesting.DELIVERY;
import static net.swarming.common.mqtt.LinkTesting.started;
import static net.swarming.common.mqtt.LinkTesting.uniqueTopic;
import static net.swarming.common.mqtt.LinkTesting.utf8;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import net.swarming.testkit.MosquittoBroker;
import net.swarming.testkit.MosquittoOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A bracketed IPv6 address goes through Paho's URI handling (the agents' backbone was IPv6). */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class Ipv6IT {

    @Test
    void whenBrokerListensOnIpv6Loopback_thenLinkConnectsWithBracketedAddress() throws Exception {
        InetAddress loopback6 = Inet6Address.getByName("::1");
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, loopback6)) {
            port = s.getLocalPort();
        }
        try (MosquittoBroker broker = MosquittoBroker.launch(
                MosquittoOptions.defaults().withExtraConfig("listener " + port + " ::1"))) {
            assertEquals(true, broker.isRunning());
            BrokerAddress v6 = BrokerAddress.parse("[::1]:" + port);
            String topic = uniqueTopic("v6");
            Inbox inbox = new Inbox();
            MqttLinkConfig config = MqttLinkConfig.builder().broker(v6).shuffle(false)
                    .clientId(MqttLink.defaultClientId("v6")).connectTimeout(Duration.ofSeconds(3))
                    .subscribe(topic, 1).build();
            try (MqttLink link = started(config, inbox)) {
                assertEquals(Optional.of(v6), link.currentBroker());
                link.publish(topic, utf8("over ipv6"), 1, false).get(10, TimeUnit.SECONDS);
                assertEquals(v6, inbox.awaitPayload(topic, "over ipv6", DELIVERY).broker());
            }
        }
    }
}
