package net.swarming.testkit.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import com.sun.security.auth.module.UnixSystem;

/**
 * Runs programs that refuse to run as root (Elasticsearch) as the {@code nobody} user when this JVM is root.
 * Uses {@code setpriv} (util-linux), else {@code runuser}.
 */
public final class UnprivilegedUser {

  /** The user that root-started programs are switched to. */
  public static final String USER = "nobody";

  private static volatile UnprivilegedUser instance;

  private final boolean root;
  private final String uid;
  private final String gid;
  private final List<String> prefix;

  private UnprivilegedUser(boolean root, String uid, String gid, List<String> prefix) {
    this.root = root;
    this.uid = uid;
    this.gid = gid;
    this.prefix = prefix;
  }

  /** The process-wide instance (looked up once). */
  public static UnprivilegedUser get() {
    UnprivilegedUser local = instance;
    if (local == null) {
      synchronized (UnprivilegedUser.class) {
        local = instance;
        if (local == null) {
          local = detect();
          instance = local;
        }
      }
    }
    return local;
  }

  private static UnprivilegedUser detect() {
    boolean root = isRootUser();
    if (!root) {
      return new UnprivilegedUser(false, null, null, List.of());
    }
    String uid = run(List.of("id", "-u", USER)).orElse("65534");
    String gid = run(List.of("id", "-g", USER)).orElse("65534");
    List<String> prefix;
    var setpriv = Executables.find("setpriv", List.of(Path.of("/usr/bin/setpriv"), Path.of("/bin/setpriv")));
    if (setpriv.isPresent()) {
      prefix = List.of(setpriv.get().toString(), "--reuid=" + uid, "--regid=" + gid, "--clear-groups", "--");
    } else {
      var runuser = Executables.find("runuser", List.of(Path.of("/usr/sbin/runuser"), Path.of("/sbin/runuser")));
      if (runuser.isEmpty()) {
        throw new IllegalStateException("running as root, but neither setpriv nor runuser is available to start "
            + "Elasticsearch as '" + USER + "' (it refuses to run as root): apt-get install -y util-linux");
      }
      prefix = List.of(runuser.get().toString(), "-u", USER, "--");
    }
    return new UnprivilegedUser(true, uid, gid, prefix);
  }

  private static boolean isRootUser() {
    try {
      return new UnixSystem().getUid() == 0;
    } catch (RuntimeException | LinkageError e) {
      return "root".equals(System.getProperty("user.name"));
    }
  }

  /** True when this JVM runs as root, so children must be switched to {@link #USER}. */
  public boolean active() {
    return root;
  }

  /** The command prefix that switches to {@link #USER} (empty when not root). */
  public List<String> commandPrefix() {
    return prefix;
  }

  /** Wraps {@code command} with {@link #commandPrefix()}. */
  public List<String> wrap(List<String> command) {
    List<String> all = new ArrayList<>(prefix);
    all.addAll(command);
    return all;
  }

  /** Gives {@code path} (recursively) to the unprivileged user; no-op when not root. */
  public void chownRecursively(Path path) {
    if (!root) {
      return;
    }
    List<String> command = List.of("chown", "-R", uid + ":" + gid, path.toString());
    if (run(command).isEmpty()) {
      throw new IllegalStateException("could not run " + String.join(" ", command));
    }
  }

  /**
   * True when the unprivileged user can reach and enter {@code dir} (every parent traversable). Always true when
   * not root.
   */
  public boolean canEnter(Path dir) {
    if (!root) {
      return true;
    }
    return run(wrap(List.of("test", "-x", dir.toAbsolutePath().toString()))).isPresent();
  }

  /** Runs a short command; its trimmed stdout when it exits 0 within 30 s, else empty. */
  private static Optional<String> run(List<String> command) {
    try {
      Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
      process.getOutputStream().close();
      byte[] out = process.getInputStream().readAllBytes();
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        return Optional.empty();
      }
      return process.exitValue() == 0
          ? Optional.of(new String(out, StandardCharsets.UTF_8).trim())
          : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    }
  }
}
