package net.swarming.testkit.netns.internal;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;

/** The few libc calls the TUN responder needs, bound with JNA direct mapping. */
final class Libc {

  static final int O_RDONLY = 0;
  static final int O_RDWR = 2;
  static final int O_CLOEXEC = 0x80000;
  static final int CLONE_NEWNET = 0x40000000;
  static final short POLLIN = 0x1;
  static final int EINTR = 4;
  static final int EAGAIN = 11;

  static {
    Native.register("c");
  }

  private Libc() {}

  static native int open(String path, int flags) throws LastErrorException;

  static native int close(int fd) throws LastErrorException;

  /** {@code ioctl} is variadic; a pointer third argument is passed the same way as in a fixed signature on x86-64/arm64. */
  static native int ioctl(int fd, NativeLong request, byte[] arg) throws LastErrorException;

  static native NativeLong read(int fd, byte[] buf, NativeLong count) throws LastErrorException;

  static native NativeLong write(int fd, byte[] buf, NativeLong count) throws LastErrorException;

  /** {@code fds} is an array of {@code struct pollfd} (int fd, short events, short revents), 8 bytes each. */
  static native int poll(byte[] fds, NativeLong nfds, int timeoutMillis) throws LastErrorException;

  static native int setns(int fd, int nstype) throws LastErrorException;

  static final int SCHED_FIFO = 1;

  /** The calling thread's kernel id (glibc 2.30+). */
  static native int gettid();

  /** {@code param} is a {@code struct sched_param}: one int, the priority. */
  static native int sched_setscheduler(int pid, int policy, int[] param) throws LastErrorException;
}
