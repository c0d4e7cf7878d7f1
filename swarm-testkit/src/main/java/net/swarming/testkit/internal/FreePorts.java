package net.swarming.testkit.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;

/** Loopback port helpers: tests never use fixed ports. */
public final class FreePorts {

  /** The loopback address every test server binds to. */
  public static final String LOOPBACK = "127.0.0.1";

  private FreePorts() {}

  /** A port that was free on 127.0.0.1 a moment ago (the OS chose it). */
  public static int pick() {
    try (ServerSocket socket = new ServerSocket()) {
      socket.setReuseAddress(false);
      socket.bind(new InetSocketAddress(InetAddress.getByName(LOOPBACK), 0));
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("could not find a free port on " + LOOPBACK, e);
    }
  }

  /** True when something accepts TCP connections on 127.0.0.1:port. */
  public static boolean accepts(int port, Duration connectTimeout) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(LOOPBACK, port), (int) connectTimeout.toMillis());
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
