package net.swarming.common.mqtt;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;

/**
 * Runs a link with a last will in a child JVM for {@link WillIT}: prints {@value #READY} once connected, then waits
 * until its standard input closes (the parent kills it first in the test). Arguments: broker, will topic, client id.
 */
public final class WillChildMain {

    static final String READY = "WILL-CHILD-CONNECTED";

    private WillChildMain() {
    }

    public static void main(String[] args) throws IOException, InterruptedException {
        PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true,
                StandardCharsets.UTF_8);
        MqttLinkConfig config = MqttLinkConfig.builder()
                .broker(args[0])
                .clientId(args[2])
                .keepAlive(Duration.ofSeconds(60))
                .will(args[1], new byte[0], 1, false)
                .build();
        try (MqttLink link = new MqttLink(config, m -> { }, Clock.systemUTC())) {
            link.start();
            if (!link.awaitConnected(Duration.ofSeconds(20))) {
                out.println("WILL-CHILD-FAILED");
                System.exit(2);
            }
            out.println(READY);
            InputStream in = System.in;
            while (in.read() >= 0) {
                // wait for EOF
            }
        }
    }
}
