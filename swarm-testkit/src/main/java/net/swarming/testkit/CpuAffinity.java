package net.swarming.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Optional CPU pinning for benchmarks: on one small machine, giving Elasticsearch its own core(s) and everything else
 * the others models the production layout (Elasticsearch on its own hosts) without a second machine. Off unless a
 * system property names the CPUs (taskset's list syntax, such as {@code 1} or {@code 0-1}).
 */
public final class CpuAffinity {

  private static final String TASKSET = "/usr/bin/taskset";

  private CpuAffinity() {
  }

  /** {@code command} run under {@code taskset -c CPUS} when the system property {@code property} is set. */
  public static List<String> wrap(String property, List<String> command) {
    String cpus = System.getProperty(property, "").strip();
    if (cpus.isEmpty()) {
      return command;
    }
    requireTaskset(property);
    List<String> all = new ArrayList<>(List.of(TASKSET, "-c", cpus));
    all.addAll(command);
    return all;
  }

  /**
   * Pins every thread of this JVM (and, by inheritance, every thread it starts later) to the CPUs named by the
   * system property {@code property}, if set.
   *
   * @return the CPUs, or null when the property is not set
   */
  public static String pinThisJvm(String property) throws IOException, InterruptedException {
    String cpus = System.getProperty(property, "").strip();
    if (cpus.isEmpty()) {
      return null;
    }
    requireTaskset(property);
    Process p = new ProcessBuilder(TASKSET, "-a", "-p", "-c", cpus, Long.toString(ProcessHandle.current().pid()))
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException(property + "=" + cpus + ": taskset failed: " + out.strip());
    }
    return cpus;
  }

  private static void requireTaskset(String property) {
    if (!Files.isExecutable(Path.of(TASKSET))) {
      throw new IllegalStateException(property + " is set but " + TASKSET + " (util-linux) is missing");
    }
  }
}
