package net.swarming.broker.internal.net;

import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.UnknownHostException;
import java.util.Locale;
import net.swarming.common.cli.StartupException;

/**
 * Checks a listen address before Moquette sees it.
 *
 * <p>Moquette 0.17 leaves threads behind when its start fails, and names a bind failure only as "Cannot bind to port":
 * probing the port ourselves first turns the common cases (port in use, unknown host, address not on this machine) into
 * a clear {@link StartupException} before any Moquette thread exists, and resolves port 0 to a concrete port that can be
 * logged and handed to clients.
 */
public final class ListenAddress {

    private ListenAddress() {}

    /**
     * Returns the port to give Moquette: {@code port} itself after checking that it can be bound on {@code host}, or for
     * port 0 a port the kernel just handed out.
     *
     * @throws StartupException naming host and port when the host is unknown, the port is in use or the address cannot
     *                          be bound
     */
    public static int reserve(String host, int port) {
        InetAddress address = resolve(host);
        try (ServerSocket probe = new ServerSocket()) {
            // Netty binds with SO_REUSEADDR too: a port only held by TIME_WAIT connections counts as free.
            probe.setReuseAddress(true);
            probe.bind(new InetSocketAddress(address, port));
            return probe.getLocalPort();
        } catch (IOException e) {
            throw bindFailure(host, port, e);
        }
    }

    /** Translates a failed bind into an operator's message. */
    public static StartupException bindFailure(String host, int port, Throwable e) {
        String detail = String.valueOf(e.getMessage());
        if (e instanceof BindException && detail.toLowerCase(Locale.ROOT).contains("in use")) {
            return new StartupException("port " + port + " on " + host + " is in use", e);
        }
        return new StartupException("cannot listen on " + host + ":" + port + ": " + detail, e);
    }

    private static InetAddress resolve(String host) {
        try {
            return InetAddress.getByName(host);
        } catch (UnknownHostException e) {
            throw new StartupException("cannot resolve host '" + host + "': " + e.getMessage(), e);
        }
    }
}
