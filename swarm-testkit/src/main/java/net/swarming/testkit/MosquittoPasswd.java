package net.swarming.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import net.swarming.testkit.internal.Executables;
import net.swarming.testkit.internal.Processes;

/**
 * Password files written by the real {@code mosquitto_passwd} (package {@code mosquitto}), as mosquitto's
 * {@code password_file} and swarm-broker's {@code --password-file} read them.
 */
public final class MosquittoPasswd {

  private MosquittoPasswd() {}

  /** Creates (or replaces) {@code file} holding {@code user} with {@code password}. */
  public static void create(Path file, String user, String password) {
    run(List.of("-c", "-b", file.toString(), user, password));
  }

  /** Adds {@code user} to an existing {@code file} (or changes its password). */
  public static void add(Path file, String user, String password) {
    run(List.of("-b", file.toString(), user, password));
  }

  private static void run(List<String> args) {
    List<String> command = new ArrayList<>();
    command.add(Executables.mosquittoPasswd().toString());
    command.addAll(args);
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      p.getOutputStream().close();
      String output = new String(p.getInputStream().readNBytes(64 * 1024), StandardCharsets.UTF_8).trim();
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        Processes.killTree(p);
        throw new IllegalStateException("mosquitto_passwd did not finish within 30 s");
      }
      if (p.exitValue() != 0) {
        // The command holds a password: name only the file.
        throw new IllegalStateException("mosquitto_passwd failed with exit code " + p.exitValue() + " on "
            + args.get(args.size() - 3) + ": " + output);
      }
    } catch (IOException e) {
      throw new IllegalStateException("could not run mosquitto_passwd: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running mosquitto_passwd", e);
    }
  }

}
