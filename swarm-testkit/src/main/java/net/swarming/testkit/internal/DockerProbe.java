package net.swarming.testkit.internal;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.testcontainers.DockerClientFactory;

/** Asks Testcontainers whether a Docker engine is reachable, without hanging or throwing when there is none. */
public final class DockerProbe {

  private static final Duration TIMEOUT = Duration.ofSeconds(20);

  private DockerProbe() {}

  /** The outcome and why. */
  public record Result(boolean available, String reason) {}

  /** Checks once; cheap (no Testcontainers at all) when there is no sign of a Docker engine. */
  public static Result probe() {
    List<String> hints = hints();
    if (hints.isEmpty()) {
      return new Result(false, "no DOCKER_HOST, no ~/.testcontainers.properties and no Docker socket");
    }
    CompletableFuture<Boolean> answer = new CompletableFuture<>();
    Thread worker = new Thread(() -> {
      try {
        answer.complete(DockerClientFactory.instance().isDockerAvailable());
      } catch (Throwable t) {
        answer.completeExceptionally(t);
      }
    }, "swarm-testkit-docker-probe");
    worker.setDaemon(true);
    worker.start();
    try {
      boolean available = answer.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      return new Result(available, (available ? "Testcontainers found a Docker engine" : "Testcontainers found no "
          + "Docker engine") + " (hints: " + hints + ")");
    } catch (TimeoutException e) {
      worker.interrupt();
      return new Result(false, "Testcontainers did not answer within " + TIMEOUT + " (hints: " + hints + ")");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Result(false, "interrupted while probing for Docker");
    } catch (Exception e) {
      return new Result(false, "probing for Docker failed: " + e.getCause());
    }
  }

  private static List<String> hints() {
    List<String> hints = new ArrayList<>();
    String dockerHost = System.getenv("DOCKER_HOST");
    if (dockerHost != null && !dockerHost.isBlank()) {
      hints.add("DOCKER_HOST=" + dockerHost);
    }
    String home = System.getProperty("user.home");
    Path tcProps = Path.of(home, ".testcontainers.properties");
    if (Files.isRegularFile(tcProps)) {
      hints.add(tcProps.toString());
    }
    List<Path> sockets = new ArrayList<>(List.of(
        Path.of("/var/run/docker.sock"),
        Path.of(home, ".docker", "run", "docker.sock"),
        Path.of(home, ".docker", "desktop", "docker.sock"),
        Path.of(home, ".rd", "docker.sock"),
        Path.of(home, ".colima", "default", "docker.sock")));
    String runtimeDir = System.getenv("XDG_RUNTIME_DIR");
    if (runtimeDir != null && !runtimeDir.isBlank()) {
      sockets.add(Path.of(runtimeDir, "docker.sock"));
      sockets.add(Path.of(runtimeDir, "podman", "podman.sock"));
    }
    for (Path socket : sockets) {
      if (Files.exists(socket)) {
        hints.add(socket.toString());
      }
    }
    return hints;
  }
}
