package net.swarming.testkit.netns.internal;

import com.sun.jna.LastErrorException;
import com.sun.jna.NativeLong;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A TUN device (layer 3, no packet information header) created inside a network namespace and held open by this
 * process.
 *
 * <p>The device is created by a short-lived thread that enters the namespace with {@code setns(CLONE_NEWNET)} (allowed
 * for one thread of a multi-threaded process), opens {@code /dev/net/tun} and attaches with {@code TUNSETIFF}; the file
 * descriptor stays bound to the namespace's device after the thread ends, so the rest of the JVM never leaves the root
 * namespace. Closing the descriptor removes the (non-persistent) device.
 */
public final class TunDevice implements AutoCloseable {

  /** {@code _IOW('T', 202, int)}. */
  private static final long TUNSETIFF = 0x400454caL;
  private static final short IFF_TUN = 0x0001;
  private static final short IFF_NO_PI = 0x1000;
  private static final int IFNAMSIZ = 16;
  private static final int IFREQ_SIZE = 40;

  private final String name;
  private final int fd;
  private final AtomicBoolean closed = new AtomicBoolean();

  private TunDevice(String name, int fd) {
    this.name = name;
    this.fd = fd;
  }

  /**
   * Creates TUN device {@code name} inside the namespace that {@code namespaceFile} (e.g. {@code /run/netns/x}) pins.
   */
  public static TunDevice openInNamespace(String namespaceFile, String name) throws IOException {
    byte[] nameBytes = name.getBytes(StandardCharsets.US_ASCII);
    if (nameBytes.length == 0 || nameBytes.length >= IFNAMSIZ) {
      throw new IllegalArgumentException("interface name must be 1-15 ASCII characters, got '" + name + "'");
    }
    AtomicReference<Object> result = new AtomicReference<>();
    Thread opener = new Thread(() -> result.set(openOnThisThread(namespaceFile, nameBytes)), "swarm-netns-tun-open");
    opener.start();
    try {
      opener.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while opening the TUN device", e);
    }
    Object r = result.get();
    if (r instanceof Integer tunFd) {
      return new TunDevice(name, tunFd);
    }
    throw new IOException("could not create TUN device " + name + " in " + namespaceFile + ": " + r);
  }

  /** Runs on a throwaway thread, which ends inside the namespace. Returns the fd or an error message. */
  private static Object openOnThisThread(String namespaceFile, byte[] nameBytes) {
    int nsFd;
    try {
      nsFd = Libc.open(namespaceFile, Libc.O_RDONLY | Libc.O_CLOEXEC);
    } catch (LastErrorException e) {
      return "open(" + namespaceFile + ") failed: errno " + e.getErrorCode();
    }
    try {
      Libc.setns(nsFd, Libc.CLONE_NEWNET);
    } catch (LastErrorException e) {
      return "setns(CLONE_NEWNET) failed: errno " + e.getErrorCode() + " (needs CAP_SYS_ADMIN: run the tests as root)";
    } finally {
      closeQuietly(nsFd);
    }
    int tunFd;
    try {
      tunFd = Libc.open("/dev/net/tun", Libc.O_RDWR | Libc.O_CLOEXEC);
    } catch (LastErrorException e) {
      return "open(/dev/net/tun) failed: errno " + e.getErrorCode();
    }
    byte[] ifreq = new byte[IFREQ_SIZE];
    System.arraycopy(nameBytes, 0, ifreq, 0, nameBytes.length);
    ByteBuffer.wrap(ifreq).order(ByteOrder.nativeOrder()).putShort(IFNAMSIZ, (short) (IFF_TUN | IFF_NO_PI));
    try {
      Libc.ioctl(tunFd, new NativeLong(TUNSETIFF), ifreq);
    } catch (LastErrorException e) {
      closeQuietly(tunFd);
      return "ioctl(TUNSETIFF) failed: errno " + e.getErrorCode();
    }
    return tunFd;
  }

  private static void closeQuietly(int fd) {
    try {
      Libc.close(fd);
    } catch (LastErrorException e) {
      // Nothing useful to do: the descriptor is gone either way.
    }
  }

  /** The interface name inside the namespace. */
  public String name() {
    return name;
  }

  /**
   * Waits up to {@code timeoutMillis} for a packet and reads it into {@code buf}.
   *
   * @return the packet length, or 0 when none arrived in time
   */
  public int read(byte[] buf, int timeoutMillis) throws IOException {
    byte[] pollfd = new byte[8];
    ByteBuffer.wrap(pollfd).order(ByteOrder.nativeOrder()).putInt(0, fd).putShort(4, Libc.POLLIN);
    try {
      if (Libc.poll(pollfd, new NativeLong(1), timeoutMillis) <= 0) {
        return 0;
      }
      return Libc.read(fd, buf, new NativeLong(buf.length)).intValue();
    } catch (LastErrorException e) {
      if (e.getErrorCode() == Libc.EINTR || e.getErrorCode() == Libc.EAGAIN) {
        return 0;
      }
      throw new IOException("reading " + name + " failed: errno " + e.getErrorCode(), e);
    }
  }

  /** Writes one IP packet into the namespace's stack. */
  public void write(byte[] packet, int length) throws IOException {
    try {
      long n = Libc.write(fd, packet, new NativeLong(length)).longValue();
      if (n != length) {
        throw new IOException("short write to " + name + ": " + n + " of " + length + " bytes");
      }
    } catch (LastErrorException e) {
      throw new IOException("writing to " + name + " failed: errno " + e.getErrorCode(), e);
    }
  }

  /** Closes the descriptor, which removes the device; idempotent. Call only once no thread reads or writes. */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      closeQuietly(fd);
    }
  }
}
