package net.swarming.testkit.internal;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Wraps a child command in a small {@code /bin/sh} script that stops the child when this JVM disappears without
 * running its shutdown hooks (SIGKILL, a crashed or timed-out test fork). Without it, a broker or Elasticsearch node
 * would be re-parented to init and keep running (and holding ports and memory) after the test JVM is gone.
 *
 * <p>The script forwards SIGTERM to the child and exits with the child's status; it polls the JVM once a second.
 * It runs in a session of its own (setsid), so a Ctrl-C in the terminal reaches only this JVM, which then stops the
 * child in order (the local swarm flushes the indexer before it stops Elasticsearch).
 */
public final class Watchdog {

  private static final String SCRIPT = String.join("\n",
      "watched=$1; shift",
      "\"$@\" &",
      "child=$!",
      "(",
      "  while kill -0 \"$watched\" 2>/dev/null; do sleep 1; done",
      "  kill -TERM \"$child\" 2>/dev/null",
      "  sleep 30",
      "  kill -KILL \"$child\" 2>/dev/null",
      ") &",
      "watcher=$!",
      "trap 'kill -TERM \"$child\" 2>/dev/null' TERM INT HUP",
      "while :; do",
      "  wait \"$child\"; status=$?",
      // wait returns early when a trapped signal arrives; the child is gone once kill -0 fails.
      "  kill -0 \"$child\" 2>/dev/null || break",
      "done",
      "kill \"$watcher\" 2>/dev/null",
      "exit $status");

  private static final String SETSID = "/usr/bin/setsid";

  private Watchdog() {}

  /** {@code command}, run under the watchdog of this JVM. */
  public static List<String> wrap(List<String> command) {
    List<String> all = new ArrayList<>();
    if (Files.isExecutable(Path.of(SETSID))) {
      all.add(SETSID);
    }
    all.addAll(List.of("/bin/sh", "-c", SCRIPT, "swarm-watchdog",
        Long.toString(ProcessHandle.current().pid())));
    all.addAll(command);
    return all;
  }
}
