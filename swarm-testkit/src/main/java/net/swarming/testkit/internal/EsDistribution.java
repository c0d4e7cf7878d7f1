package net.swarming.testkit.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Enumeration;
import java.util.List;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.ZipFile;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Elasticsearch distribution zip ({@code org.elasticsearch.distribution.integ-test-zip:elasticsearch}): where it
 * is, and unpacking it once into {@code <base>/elasticsearch-<version>/} (re-used by later runs).
 */
public final class EsDistribution {

  /** System property with the zip's path (set by the parent pom for Surefire/Failsafe). */
  public static final String ZIP_PROPERTY = "swarm.es.zip";
  /** System property with the version used for the ~/.m2 fallback and the Docker image tag. */
  public static final String VERSION_PROPERTY = "swarm.es.version";
  /** The version of the distribution the parent pom manages. */
  public static final String DEFAULT_VERSION = "8.19.21";

  private static final Logger LOG = LoggerFactory.getLogger(EsDistribution.class);
  private static final String MARKER = ".swarm-unpacked";
  private static final Set<PosixFilePermission> DIR_PERMS = PosixFilePermissions.fromString("rwxr-xr-x");
  private static final Set<PosixFilePermission> FILE_PERMS = PosixFilePermissions.fromString("rw-r--r--");
  private static final Set<PosixFilePermission> EXEC_PERMS = PosixFilePermissions.fromString("rwxr-xr-x");
  private static final Object JVM_LOCK = new Object();

  private EsDistribution() {}

  /** The version to use: system property {@value #VERSION_PROPERTY}, default {@value #DEFAULT_VERSION}. */
  public static String configuredVersion() {
    String v = System.getProperty(VERSION_PROPERTY);
    return v == null || v.isBlank() || v.startsWith("${") ? DEFAULT_VERSION : v.trim();
  }

  /**
   * The zip: system property {@value #ZIP_PROPERTY} when set (and not an unexpanded {@code ${...}}), else the copy
   * in the local Maven repository.
   */
  public static Path locateZip() {
    String fromProperty = System.getProperty(ZIP_PROPERTY);
    if (fromProperty != null && !fromProperty.isBlank() && !fromProperty.startsWith("${")) {
      Path zip = Path.of(fromProperty.trim());
      if (Files.isRegularFile(zip)) {
        return zip;
      }
      LOG.warn("{}={} does not exist; looking in the local Maven repository", ZIP_PROPERTY, fromProperty);
    }
    String version = configuredVersion();
    Path zip = Path.of(System.getProperty("user.home"), ".m2", "repository", "org", "elasticsearch", "distribution",
        "integ-test-zip", "elasticsearch", version, "elasticsearch-" + version + ".zip");
    if (!Files.isRegularFile(zip)) {
      throw new IllegalStateException("the Elasticsearch distribution zip was not found: system property "
          + ZIP_PROPERTY + " is " + (fromProperty == null ? "unset" : "'" + fromProperty + "'") + " and " + zip
          + " does not exist. Run the tests through Maven from a module that depends on "
          + "org.elasticsearch.distribution.integ-test-zip:elasticsearch:zip (or run: mvn dependency:get "
          + "-Dartifact=org.elasticsearch.distribution.integ-test-zip:elasticsearch:" + version + ":zip), "
          + "or set SWARM_TEST_ES_URL to use a running node.");
    }
    return zip;
  }

  /** The top-level directory name inside the zip, e.g. {@code elasticsearch-8.19.21}. */
  public static String topLevelDir(Path zip) {
    try (ZipFile file = new ZipFile(zip.toFile())) {
      Enumeration<? extends ZipEntry> entries = file.entries();
      while (entries.hasMoreElements()) {
        String name = entries.nextElement().getName();
        int slash = name.indexOf('/');
        if (slash > 0) {
          return name.substring(0, slash);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("could not read " + zip, e);
    }
    throw new IllegalStateException(zip + " has no top-level directory; is it an Elasticsearch distribution?");
  }

  /**
   * Returns {@code <base>/elasticsearch-<version>}, unpacking the zip there first unless a complete unpack exists.
   * Safe against concurrent unpacks from this and other JVMs.
   */
  public static Path install(Path zip, Path base) {
    String top = topLevelDir(zip);
    Path target = base.resolve(top);
    if (Files.isRegularFile(target.resolve(MARKER))) {
      return target;
    }
    synchronized (JVM_LOCK) {
      try {
        Files.createDirectories(base);
        Path lockFile = base.resolve("." + top + ".lock");
        try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
          FileLock lock = channel.lock();
          try {
            return installLocked(zip, top, target, base);
          } finally {
            lock.release();
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException("could not unpack " + zip + " into " + base, e);
      }
    }
  }

  private static Path installLocked(Path zip, String top, Path target, Path base) throws IOException {
    if (Files.isRegularFile(target.resolve(MARKER))) {
      return target;
    }
    if (Files.exists(target)) {
      LOG.info("removing incomplete unpack {}", target);
      FileTrees.deleteRecursively(target);
    }
    long t0 = System.nanoTime();
    Path staging = Files.createTempDirectory(base, ".unpack-" + top + "-");
    try {
      unzip(zip, staging);
      Path unpacked = staging.resolve(top);
      UnprivilegedUser.get().chownRecursively(unpacked);
      Files.writeString(unpacked.resolve(MARKER), zip.toAbsolutePath() + "\n");
      Files.move(unpacked, target, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      FileTrees.deleteRecursively(staging);
    }
    LOG.info("unpacked {} into {} in {} ms", zip.getFileName(), target, (System.nanoTime() - t0) / 1_000_000);
    return target;
  }

  private static void unzip(Path zip, Path into) throws IOException {
    Path root = into.toAbsolutePath().normalize();
    try (ZipFile file = new ZipFile(zip.toFile())) {
      Enumeration<? extends ZipEntry> entries = file.entries();
      while (entries.hasMoreElements()) {
        ZipEntry entry = entries.nextElement();
        Path out = root.resolve(entry.getName()).normalize();
        if (!out.startsWith(root)) {
          throw new IOException("zip entry outside the target directory: " + entry.getName());
        }
        if (entry.isDirectory()) {
          Files.createDirectories(out);
          Files.setPosixFilePermissions(out, DIR_PERMS);
          continue;
        }
        Files.createDirectories(out.getParent());
        try (InputStream in = file.getInputStream(entry)) {
          Files.copy(in, out, StandardCopyOption.REPLACE_EXISTING);
        }
        Files.setPosixFilePermissions(out, needsExecBit(entry.getName()) ? EXEC_PERMS : FILE_PERMS);
      }
    }
    // Directories created implicitly for files get the umask's permissions; make them all traversable.
    List<Path> dirs;
    try (Stream<Path> walk = Files.walk(root)) {
      dirs = walk.filter(Files::isDirectory).collect(Collectors.toList());
    }
    for (Path dir : dirs) {
      Files.setPosixFilePermissions(dir, DIR_PERMS);
    }
  }

  /** java.util.zip does not expose Unix modes: restore the executable bit where the distribution needs it. */
  static boolean needsExecBit(String entryName) {
    int slash = entryName.indexOf('/');
    String rel = slash >= 0 ? entryName.substring(slash + 1) : entryName;
    return rel.startsWith("bin/")
        || rel.startsWith("jdk/bin/")
        || rel.equals("jdk/lib/jspawnhelper")
        || rel.startsWith("jdk.app/Contents/Home/bin/")
        || rel.endsWith(".so")
        || rel.contains("/platform/") && rel.contains("/bin/");
  }
}
