package net.swarming.testkit.internal;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** Finds the mosquitto programs; never lets a test skip silently when they are missing. */
public final class Executables {

  /** What to run on Debian/Ubuntu when the mosquitto programs are missing. */
  public static final String MOSQUITTO_INSTALL_HINT = "install them with: apt-get install -y mosquitto mosquitto-clients";

  private Executables() {}

  /** The mosquitto broker binary: /usr/sbin/mosquitto, else {@code mosquitto} on the PATH. */
  public static Path mosquitto() {
    return require("mosquitto", List.of(Path.of("/usr/sbin/mosquitto"), Path.of("/usr/local/sbin/mosquitto")));
  }

  /** The mosquitto_pub client (package mosquitto-clients). */
  public static Path mosquittoPub() {
    return require("mosquitto_pub", List.of(Path.of("/usr/bin/mosquitto_pub")));
  }

  /** The mosquitto_sub client (package mosquitto-clients). */
  public static Path mosquittoSub() {
    return require("mosquitto_sub", List.of(Path.of("/usr/bin/mosquitto_sub")));
  }

  /** The mosquitto_passwd tool (package mosquitto). */
  public static Path mosquittoPasswd() {
    return require("mosquitto_passwd", List.of(Path.of("/usr/bin/mosquitto_passwd")));
  }

  private static Path require(String name, List<Path> wellKnown) {
    return find(name, wellKnown).orElseThrow(() -> new IllegalStateException(
        "'" + name + "' was not found (looked at " + wellKnown + " and on the PATH); the Swarming tests need the real "
            + "mosquitto programs and never skip without them: " + MOSQUITTO_INSTALL_HINT));
  }

  /** The first executable among {@code wellKnown}, else {@code name} on the PATH. */
  public static Optional<Path> find(String name, List<Path> wellKnown) {
    for (Path candidate : wellKnown) {
      if (Files.isExecutable(candidate)) {
        return Optional.of(candidate);
      }
    }
    String path = System.getenv("PATH");
    if (path == null) {
      return Optional.empty();
    }
    for (String dir : path.split(File.pathSeparator)) {
      if (dir.isEmpty()) {
        continue;
      }
      Path candidate = Path.of(dir, name);
      if (Files.isExecutable(candidate) && !Files.isDirectory(candidate)) {
        return Optional.of(candidate);
      }
    }
    return Optional.empty();
  }
}
