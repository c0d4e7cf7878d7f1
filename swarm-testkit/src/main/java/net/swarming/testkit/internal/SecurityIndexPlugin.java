package net.swarming.testkit.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import javax.tools.JavaCompiler;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Installs a tiny Elasticsearch plugin into an unpacked integ-test-zip so that its security module can create the
 * {@code .security} index, where API keys live. That index's settings define an "email" analyzer made of the
 * {@code uax_url_email} tokenizer and the {@code pattern_capture} and {@code unique} filters, which Elasticsearch
 * ships in its analysis-common module; the integ-test-zip has no such module, and without it every API key request
 * fails with "Unknown filter type [pattern_capture] for [email]". The plugin registers those three names over the
 * Lucene classes the distribution already has in {@code lib/}.
 *
 * <p>The plugin's source is a resource of the test kit, compiled here against the distribution's own jars with the
 * JDK's compiler (once per unpack, about 2–4 s), so it always matches the Elasticsearch version that loads it.
 */
public final class SecurityIndexPlugin {

  /** The plugin's directory name under {@code plugins/}. */
  public static final String NAME = "swarm-security-analysis";

  private static final Logger LOG = LoggerFactory.getLogger(SecurityIndexPlugin.class);
  private static final String SOURCE_RESOURCE = "SecurityIndexAnalysisPlugin.java.txt";
  private static final String CLASS_NAME = "net.swarming.testkit.es.SecurityIndexAnalysisPlugin";
  private static final Object JVM_LOCK = new Object();

  private SecurityIndexPlugin() {}

  /** Installs the plugin into {@code installDir/plugins/} unless it is there already. */
  public static void install(Path installDir) {
    Path target = installDir.resolve("plugins").resolve(NAME);
    if (Files.isRegularFile(target.resolve("plugin-descriptor.properties"))) {
      return;
    }
    synchronized (JVM_LOCK) {
      Path lockFile = installDir.resolve(".swarm-plugin.lock");
      try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
        FileLock lock = channel.lock();
        try {
          if (!Files.isRegularFile(target.resolve("plugin-descriptor.properties"))) {
            build(installDir, target);
          }
        } finally {
          lock.release();
        }
      } catch (IOException e) {
        throw new UncheckedIOException("could not install the " + NAME + " plugin into " + installDir, e);
      }
    }
  }

  private static void build(Path installDir, Path target) throws IOException {
    long t0 = System.nanoTime();
    JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
    if (compiler == null) {
      throw new IllegalStateException("the secured Elasticsearch node needs a Java compiler to build its " + NAME
          + " plugin, but this JVM (" + System.getProperty("java.home") + ") is a JRE; run the tests on a JDK "
          + "(apt-get install -y openjdk-17-jdk-headless)");
    }
    String version = installDir.getFileName().toString().replaceFirst("^elasticsearch-", "");
    Path staging = Files.createTempDirectory(installDir, ".swarm-plugin-");
    try {
      Path src = staging.resolve("src/SecurityIndexAnalysisPlugin.java");
      Path classes = staging.resolve("classes");
      Path plugin = staging.resolve(NAME);
      Files.createDirectories(src.getParent());
      Files.createDirectories(classes);
      Files.createDirectories(plugin);
      try (InputStream in = SecurityIndexPlugin.class.getResourceAsStream(SOURCE_RESOURCE)) {
        if (in == null) {
          throw new IllegalStateException("resource " + SOURCE_RESOURCE + " is missing from the test kit");
        }
        Files.copy(in, src);
      }
      String classpath;
      try (Stream<Path> jars = Files.list(installDir.resolve("lib"))) {
        classpath = jars.filter(p -> p.toString().endsWith(".jar")).map(Path::toString)
            .collect(Collectors.joining(java.io.File.pathSeparator));
      }
      StringWriter messages = new StringWriter();
      boolean ok;
      try (StandardJavaFileManager files = compiler.getStandardFileManager(null, null, StandardCharsets.UTF_8)) {
        ok = compiler.getTask(messages, files, null,
            List.of("-d", classes.toString(), "-cp", classpath, "--release", "17", "-proc:none", "-Xlint:none"),
            null, files.getJavaFileObjects(src.toFile())).call();
      }
      if (!ok) {
        throw new IllegalStateException("could not compile the " + NAME + " plugin against " + installDir
            + "/lib:\n" + messages);
      }
      writeJar(classes, plugin.resolve(NAME + ".jar"));
      Files.writeString(plugin.resolve("plugin-descriptor.properties"), String.join("\n",
          "description=Analysis components the .security index needs (written by the Swarming test kit)",
          "version=" + version,
          "name=" + NAME,
          "classname=" + CLASS_NAME,
          "java.version=17",
          "elasticsearch.version=" + version,
          ""), StandardCharsets.UTF_8);
      Files.createDirectories(target.getParent());
      UnprivilegedUser.get().chownRecursively(plugin);
      // Elasticsearch reads every directory under plugins/: only a complete plugin may appear there.
      Files.move(plugin, target, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      FileTrees.deleteRecursively(staging);
    }
    LOG.info("installed the {} plugin (the .security index's analysis components) into {} in {} ms", NAME, target,
        (System.nanoTime() - t0) / 1_000_000);
  }

  private static void writeJar(Path classes, Path jar) throws IOException {
    List<Path> files;
    try (Stream<Path> walk = Files.walk(classes)) {
      files = walk.filter(Files::isRegularFile).sorted().collect(Collectors.toList());
    }
    try (OutputStream out = Files.newOutputStream(jar); JarOutputStream jarOut = new JarOutputStream(out)) {
      for (Path file : files) {
        jarOut.putNextEntry(new JarEntry(classes.relativize(file).toString().replace('\\', '/')));
        Files.copy(file, jarOut);
        jarOut.closeEntry();
      }
    }
  }
}
