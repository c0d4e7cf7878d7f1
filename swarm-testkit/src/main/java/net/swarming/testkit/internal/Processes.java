package net.swarming.testkit.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Stops child processes together with everything they spawned. */
public final class Processes {

  private static final long POLL_MILLIS = 20;

  private Processes() {}

  /**
   * Sends SIGTERM to {@code process} and to all its descendants, waits up to {@code grace} for all of them, then
   * SIGKILLs what is left. Descendants are listed before signalling: once the root dies they are re-parented and
   * can no longer be found through it.
   *
   * @return true when everything ended within the grace period
   */
  public static boolean terminateTree(Process process, Duration grace) {
    List<ProcessHandle> descendants = process.toHandle().descendants().toList();
    process.destroy();
    descendants.forEach(ProcessHandle::destroy);
    long deadline = System.nanoTime() + grace.toNanos();
    boolean graceful = waitForRoot(process, deadline) && waitForDescendants(descendants, deadline);
    if (!graceful) {
      process.destroyForcibly();
      descendants.forEach(ProcessHandle::destroyForcibly);
      waitForRoot(process, System.nanoTime() + TimeUnit.SECONDS.toNanos(10));
      waitForDescendants(descendants, System.nanoTime() + TimeUnit.SECONDS.toNanos(10));
    }
    return graceful;
  }

  /** SIGKILL to the process and all its descendants; waits (briefly) until they are gone. */
  public static void killTree(Process process) {
    List<ProcessHandle> descendants = process.toHandle().descendants().toList();
    process.destroyForcibly();
    descendants.forEach(ProcessHandle::destroyForcibly);
    waitForRoot(process, System.nanoTime() + TimeUnit.SECONDS.toNanos(10));
    waitForDescendants(descendants, System.nanoTime() + TimeUnit.SECONDS.toNanos(10));
  }

  private static boolean waitForRoot(Process process, long deadlineNanos) {
    try {
      return process.waitFor(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return !process.isAlive();
    }
  }

  private static boolean waitForDescendants(List<ProcessHandle> handles, long deadlineNanos) {
    List<ProcessHandle> pending = new ArrayList<>(handles);
    while (true) {
      pending.removeIf(Processes::ended);
      if (pending.isEmpty()) {
        return true;
      }
      if (System.nanoTime() > deadlineNanos) {
        return false;
      }
      try {
        Thread.sleep(POLL_MILLIS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
  }

  /**
   * True when the process is gone or a zombie. A descendant re-parented to init stays a zombie until init reaps it,
   * which can take seconds in some containers; it is dead all the same.
   */
  static boolean ended(ProcessHandle handle) {
    if (!handle.isAlive()) {
      return true;
    }
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(handle.pid()), "stat"));
      int afterName = stat.lastIndexOf(')');
      return afterName > 0 && afterName + 2 < stat.length() && stat.charAt(afterName + 2) == 'Z';
    } catch (IOException e) {
      return !handle.isAlive();
    }
  }
}
