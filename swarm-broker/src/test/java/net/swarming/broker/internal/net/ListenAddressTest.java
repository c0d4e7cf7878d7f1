package net.swarming.broker.internal.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import net.swarming.common.cli.StartupException;
import org.junit.jupiter.api.Test;

class ListenAddressTest {

    @Test
    void whenPortIsZero_thenAConcreteFreePortIsReturned() throws Exception {
        int port = ListenAddress.reserve("127.0.0.1", 0);
        assertTrue(port > 0 && port <= 65535, "port " + port);
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        }
    }

    @Test
    void whenPortIsFree_thenItIsReturnedUnchanged() {
        int port = ListenAddress.reserve("127.0.0.1", 0);
        assertEquals(port, ListenAddress.reserve("127.0.0.1", port));
    }

    @Test
    void whenPortIsTakenOnLoopback_thenWildcardBindIsRefusedAsInUse() throws Exception {
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            int port = taken.getLocalPort();

            StartupException e = assertThrows(StartupException.class, () -> ListenAddress.reserve("0.0.0.0", port));

            assertEquals("port " + port + " on 0.0.0.0 is in use", e.getMessage());
        }
    }
}
