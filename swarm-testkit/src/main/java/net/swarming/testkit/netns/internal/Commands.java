package net.swarming.testkit.netns.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import net.swarming.testkit.internal.Processes;

/** Runs short system commands ({@code ip}, {@code nft}, {@code fping}) with a time limit and captured output. */
public final class Commands {

  private Commands() {}

  /** How a command ended. */
  public record Result(List<String> command, int exitCode, String stdout, String stderr) {

    /** This result, or an exception naming the command, its exit code and its error output. */
    public Result orThrow() {
      if (exitCode != 0) {
        throw new IllegalStateException("'" + String.join(" ", command) + "' exited with " + exitCode + ": "
            + stderr.strip());
      }
      return this;
    }
  }

  /** Runs {@code command}, killing it after {@code timeout}. */
  public static Result run(List<String> command, Duration timeout) {
    Path out = null;
    Path err = null;
    try {
      out = Files.createTempFile("swarm-netns-cmd-", ".out");
      err = Files.createTempFile("swarm-netns-cmd-", ".err");
      Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile())
          .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
      boolean ended;
      try {
        ended = p.waitFor(timeout.toNanos(), TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        Processes.killTree(p);
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while running " + command, e);
      }
      if (!ended) {
        Processes.killTree(p);
        throw new IllegalStateException("'" + String.join(" ", command) + "' did not end within " + timeout);
      }
      return new Result(List.copyOf(command), p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
          Files.readString(err, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("could not run " + command, e);
    } finally {
      deleteQuietly(out);
      deleteQuietly(err);
    }
  }

  private static void deleteQuietly(Path file) {
    if (file != null) {
      try {
        Files.deleteIfExists(file);
      } catch (IOException e) {
        // A temporary file; nothing depends on it.
      }
    }
  }
}
