package net.swarming.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import net.swarming.testkit.internal.EsDistribution;
import net.swarming.testkit.internal.EsHttp;
import net.swarming.testkit.internal.FileTrees;
import net.swarming.testkit.internal.FreePorts;
import net.swarming.testkit.internal.Processes;
import net.swarming.testkit.internal.SecurityIndexPlugin;
import net.swarming.testkit.internal.ShutdownHooks;
import net.swarming.testkit.internal.UnprivilegedUser;
import net.swarming.testkit.internal.Watchdog;

/**
 * A real Elasticsearch node run from the distribution zip
 * ({@code org.elasticsearch.distribution.integ-test-zip:elasticsearch}) as a child process: single node, loopback
 * only, security off, disk watermarks off, on the JVM that runs this code ({@code ES_JAVA_HOME = java.home}).
 *
 * <p>The zip is unpacked once into {@code <installBase>/elasticsearch-<version>/} and re-used. The node has its own
 * directory ({@code config/ data/ logs/ tmp/ console.log}), so the unpack is never written to. Elasticsearch refuses
 * to run as root: when this JVM is root the node runs as {@code nobody} (via setpriv or runuser) and its directories
 * are given to that user; if {@code nobody} cannot reach them (e.g. a checkout under /root), everything moves to
 * {@code /tmp/swarm-es-<hash>/} and the log says why.
 *
 * <p>{@link Builder#secured(boolean) Secured}, the node has security on instead: https only, with a CA and an HTTP
 * certificate made for it by openssl ({@link TestCertificates}), a file-realm superuser with a random password
 * (created by the distribution's own {@code elasticsearch-users} tool), and API keys (for which the kit adds a tiny
 * plugin: {@link SecurityIndexPlugin}). {@link #secured()} gives its CA file, credentials and API keys.
 *
 * <p>Usable without JUnit (the local-swarm launcher uses it); close it to stop the node. A JVM shutdown hook stops
 * it too, so no node outlives its JVM.
 */
public final class LocalElasticsearch implements ElasticsearchNode, AutoCloseable {

  /** Default heap for the node (-Xms and -Xmx). */
  public static final String DEFAULT_HEAP = "512m";
  /** Default bound on waiting for a yellow cluster. */
  public static final Duration DEFAULT_START_TIMEOUT = Duration.ofSeconds(120);
  /** SIGTERM grace period before SIGKILL. */
  public static final Duration STOP_GRACE = Duration.ofSeconds(30);

  private static final Logger LOG = LoggerFactory.getLogger(LocalElasticsearch.class);
  private static final Pattern HEAP = Pattern.compile("\\d+[kKmMgG]?");
  private static final int LOG_TAIL_LINES = 40;
  private static final String CLUSTER_NAME = "swarm-test";
  /** The secured node's file-realm superuser. */
  private static final String SECURED_USER = "swarm-test";
  private static final Duration USER_TOOL_TIMEOUT = Duration.ofSeconds(120);
  private static final Pattern API_KEY_ID = Pattern.compile("\"id\"\\s*:\\s*\"([^\"]+)\"");
  private static final Pattern API_KEY_ENCODED = Pattern.compile("\"encoded\"\\s*:\\s*\"([^\"]+)\"");

  private final Path installDir;
  private final Path nodeDir;
  private final String heap;
  private final Duration startTimeout;
  private final boolean deleteNodeDirOnClose;
  private final int httpPort;
  private final int transportPort;
  private final boolean secured;
  private final String password;
  private final SecuredElasticsearchNode securedView;
  /** Replaced once the secured node's CA exists. */
  private volatile EsHttp http;
  /** The {@code elasticsearch-users} run of a secured node's first start, awaited once the node is launched. */
  private Process userTool;
  private final ShutdownHooks.Registration hook;
  private Process process;
  /** System property: CPUs to pin the node to (taskset syntax), for benchmarks; unset means no pinning. */
  public static final String CPUS_PROPERTY = "swarm.test.elasticsearch.cpus";
  private boolean closed;

  private LocalElasticsearch(Builder b, Path installDir, Path nodeDir) {
    this.installDir = installDir;
    this.nodeDir = nodeDir;
    this.heap = b.heap;
    this.startTimeout = b.startTimeout;
    this.deleteNodeDirOnClose = b.deleteNodeDirOnClose;
    this.httpPort = b.httpPort == 0 ? FreePorts.pick() : b.httpPort;
    int transport = FreePorts.pick();
    while (transport == httpPort) {
      transport = FreePorts.pick();
    }
    this.transportPort = transport;
    this.secured = b.secured;
    this.password = b.secured ? randomPassword() : null;
    this.securedView = b.secured ? new SecuredView() : null;
    this.http = new EsHttp((secured ? "https" : "http") + "://" + FreePorts.LOOPBACK + ":" + httpPort);
    this.hook = b.stopAtJvmExit ? ShutdownHooks.register("elasticsearch " + nodeDir, this::killQuietly) : null;
  }

  /**
   * Unpacks {@code zip} under {@code workDir} (re-using an earlier unpack), and starts a node whose data lives in
   * {@code workDir/node} (kept after close, so a later start with the same workDir sees the same data).
   *
   * @param port HTTP port, 0 for a free one
   * @param heap heap size such as "512m" (null for {@value #DEFAULT_HEAP})
   */
  public static LocalElasticsearch start(Path zip, Path workDir, int port, String heap) {
    return builder()
        .zip(zip)
        .installBase(workDir)
        .nodeDir(workDir.resolve("node"))
        .httpPort(port)
        .heap(heap == null ? DEFAULT_HEAP : heap)
        .start();
  }

  /** A builder for all options. */
  public static Builder builder() {
    return new Builder();
  }

  /** Options for a local node; {@link #start()} validates them all and reports every problem at once. */
  public static final class Builder {
    private Path zip;
    private Path installBase;
    private Path nodeDir;
    private int httpPort;
    private String heap = DEFAULT_HEAP;
    private Duration startTimeout = DEFAULT_START_TIMEOUT;
    private boolean deleteNodeDirOnClose;
    private boolean stopAtJvmExit = true;
    private boolean secured;

    private Builder() {}

    /**
     * Whether the node runs with security on (default false): https with a certificate made for it, a file-realm
     * superuser, API keys. See {@link LocalElasticsearch#secured()}.
     */
    public Builder secured(boolean secured) {
      this.secured = secured;
      return this;
    }

    /** The distribution zip (required). */
    public Builder zip(Path zip) {
      this.zip = zip;
      return this;
    }

    /** Where {@code elasticsearch-<version>/} is unpacked (default: the node directory's parent). */
    public Builder installBase(Path installBase) {
      this.installBase = installBase;
      return this;
    }

    /** The node's own directory: config, data, logs, tmp (required). */
    public Builder nodeDir(Path nodeDir) {
      this.nodeDir = nodeDir;
      return this;
    }

    /** HTTP port; 0 (default) picks a free one. */
    public Builder httpPort(int httpPort) {
      this.httpPort = httpPort;
      return this;
    }

    /** Heap size such as "512m" or "1g" (default {@value LocalElasticsearch#DEFAULT_HEAP}). */
    public Builder heap(String heap) {
      this.heap = heap;
      return this;
    }

    /** How long to wait for a yellow cluster (default 120 s). */
    public Builder startTimeout(Duration startTimeout) {
      this.startTimeout = startTimeout;
      return this;
    }

    /** Whether {@link LocalElasticsearch#close()} deletes the node directory (default false). */
    public Builder deleteNodeDirOnClose(boolean delete) {
      this.deleteNodeDirOnClose = delete;
      return this;
    }

    /**
     * Whether a JVM shutdown hook of its own stops the node (default true). An owner that stops the node in an
     * ordered shutdown of its own turns it off: JVM hooks run concurrently, so this one would stop the node while the
     * owner still flushes into it. The watchdog still stops the node if the JVM dies without running hooks.
     */
    public Builder stopAtJvmExit(boolean stop) {
      this.stopAtJvmExit = stop;
      return this;
    }

    /** Validates, unpacks if needed, starts the node and waits until it is yellow. */
    public LocalElasticsearch start() {
      validate();
      Path node = nodeDir.toAbsolutePath().normalize();
      Path base = (installBase == null ? node.getParent() : installBase).toAbsolutePath().normalize();
      UnprivilegedUser user = UnprivilegedUser.get();
      if (user.active()) {
        createDirectories(base);
        createDirectories(node.getParent());
        Path unreachable = !user.canEnter(base) ? base : !user.canEnter(node.getParent()) ? node.getParent() : null;
        if (unreachable != null) {
          Path fallback = Path.of(System.getProperty("java.io.tmpdir"), "swarm-es-" + shortHash(base.toString()));
          LOG.info("running as root: Elasticsearch must run as '{}', which cannot reach {} (a parent directory is not "
              + "traversable by it); unpacking and running under {} instead", UnprivilegedUser.USER, unreachable,
              fallback);
          base = fallback;
          node = fallback.resolve(node.getFileName());
        }
      }
      Path install = EsDistribution.install(zip, base);
      if (secured) {
        SecurityIndexPlugin.install(install);
      }
      LocalElasticsearch es = new LocalElasticsearch(this, install, node);
      try {
        es.prepareNodeDir();
        es.start();
        return es;
      } catch (RuntimeException e) {
        es.close();
        throw e;
      }
    }

    private void validate() {
      List<String> problems = new ArrayList<>();
      if (zip == null) {
        problems.add("zip: required (the elasticsearch integ-test-zip distribution)");
      } else if (!Files.isRegularFile(zip)) {
        problems.add("zip: " + zip + " does not exist");
      }
      if (nodeDir == null) {
        problems.add("nodeDir: required");
      }
      if (httpPort < 0 || httpPort > 65535) {
        problems.add("httpPort: " + httpPort + " is not a port (0 picks a free one)");
      }
      if (heap == null || !HEAP.matcher(heap).matches()) {
        problems.add("heap: '" + heap + "' is not a JVM size such as 512m or 1g");
      }
      if (startTimeout == null || startTimeout.isNegative() || startTimeout.isZero()) {
        problems.add("startTimeout: " + startTimeout + " must be positive");
      }
      if (!problems.isEmpty()) {
        throw new IllegalArgumentException("invalid LocalElasticsearch options: " + String.join("; ", problems));
      }
    }
  }

  private void prepareNodeDir() {
    Path config = nodeDir.resolve("config");
    try {
      Files.createDirectories(nodeDir);
      for (String sub : List.of("data", "logs", "tmp")) {
        Files.createDirectories(nodeDir.resolve(sub));
      }
      if (!Files.isDirectory(config)) {
        copyTree(installDir.resolve("config"), config);
      }
      List<String> yml = new ArrayList<>(List.of(
          "# Generated by the Swarming test kit.",
          "cluster.name: " + CLUSTER_NAME,
          "node.name: swarm-test-node",
          "discovery.type: single-node",
          "network.host: " + FreePorts.LOOPBACK,
          "http.port: " + httpPort,
          "transport.port: " + transportPort));
      yml.addAll(secured ? securitySettings(config) : List.of("xpack.security.enabled: false"));
      yml.addAll(List.of(
          "xpack.ml.enabled: false",
          "path.data: " + nodeDir.resolve("data"),
          "path.logs: " + nodeDir.resolve("logs"),
          // A nearly full dev disk must not turn indices read-only.
          "cluster.routing.allocation.disk.threshold_enabled: false",
          "action.destructive_requires_name: false"));
      Files.write(config.resolve("elasticsearch.yml"), yml, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("could not prepare the node directory " + nodeDir, e);
    }
    UnprivilegedUser.get().chownRecursively(nodeDir);
    if (secured) {
      userTool = startUserTool();
    }
  }

  /**
   * Makes the CA (in {@code nodeDir/ca}, out of Elasticsearch's sight) and the HTTP certificate (in
   * {@code config/certs}), and returns the security settings. Transport TLS stays off: a single node bound to
   * loopback only warns about it (the bootstrap checks are enforced only on a non-loopback address).
   */
  private List<String> securitySettings(Path config) throws IOException {
    Path caDir = nodeDir.resolve("ca");
    TestCertificates.Authority ca = TestCertificates.newAuthority(caDir, "ca", "swarm-test-ca-" + httpPort);
    ca.issueServerCertificate(config.resolve("certs"), "http");
    http = new EsHttp(url(), EsHttp.trusting(ca.certificate()), EsHttp.basic(SECURED_USER, password));
    // Empty, as in the distribution (the tool insists that they exist); a user left by an earlier start of this node
    // directory is created again with this start's password.
    Files.write(config.resolve("users"), new byte[0]);
    Files.write(config.resolve("users_roles"), new byte[0]);
    return List.of(
        "xpack.security.enabled: true",
        "xpack.security.http.ssl.enabled: true",
        "xpack.security.http.ssl.certificate: certs/http.pem",
        "xpack.security.http.ssl.key: certs/http.key",
        "xpack.security.transport.ssl.enabled: false",
        "xpack.security.authc.api_key.enabled: true",
        // The user file is written while the node starts (in parallel, to save seconds): notice it soon.
        "resource.reload.interval.high: 1s");
  }

  /** Starts {@code elasticsearch-users useradd} (as the unprivileged user): it writes config/users with a bcrypt hash. */
  private Process startUserTool() {
    Path tool = installDir.resolve("bin/elasticsearch-users");
    if (!Files.isExecutable(tool)) {
      throw new IllegalStateException("the secured Elasticsearch node needs " + tool + " to create its user, and the "
          + "distribution has none");
    }
    List<String> command = Watchdog.wrap(UnprivilegedUser.get().wrap(List.of(tool.toString(), "useradd",
        SECURED_USER, "-p", password, "-r", "superuser")));
    ProcessBuilder builder = new ProcessBuilder(command)
        .directory(installDir.toFile())
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(nodeDir.resolve("users-tool.log").toFile()));
    esEnvironment(builder.environment(), "-Xms4m -Xmx64m");
    try {
      Process p = builder.start();
      p.getOutputStream().close();
      return p;
    } catch (IOException e) {
      throw new IllegalStateException("could not run " + tool + ": " + e.getMessage(), e);
    }
  }

  private void awaitUserTool() {
    Process tool = userTool;
    if (tool == null) {
      return;
    }
    userTool = null;
    try {
      if (!tool.waitFor(USER_TOOL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        Processes.killTree(tool);
        throw new IllegalStateException("elasticsearch-users did not finish within " + USER_TOOL_TIMEOUT + "\n"
            + FileTrees.tail(nodeDir.resolve("users-tool.log"), LOG_TAIL_LINES));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      Processes.killTree(tool);
      throw new IllegalStateException("interrupted while creating the Elasticsearch user", e);
    }
    if (tool.exitValue() != 0) {
      throw new IllegalStateException("elasticsearch-users useradd " + SECURED_USER + " failed with exit code "
          + tool.exitValue() + ":\n" + FileTrees.tail(nodeDir.resolve("users-tool.log"), LOG_TAIL_LINES));
    }
  }

  private void esEnvironment(Map<String, String> env, String javaOpts) {
    for (String ignoredByEs : List.of("JAVA_HOME", "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JAVA_OPTS", "CLI_JAVA_OPTS")) {
      env.remove(ignoredByEs);
    }
    env.put("ES_JAVA_HOME", System.getProperty("java.home"));
    env.put("ES_JAVA_OPTS", javaOpts);
    env.put("ES_PATH_CONF", nodeDir.resolve("config").toString());
    env.put("ES_TMPDIR", nodeDir.resolve("tmp").toString());
  }

  private static String randomPassword() {
    byte[] bytes = new byte[18];
    new SecureRandom().nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  /**
   * This node's security: CA file, credentials, API keys.
   *
   * @throws IllegalStateException when the node was not built {@link Builder#secured(boolean) secured}
   */
  public SecuredElasticsearchNode secured() {
    if (securedView == null) {
      throw new IllegalStateException("this Elasticsearch node runs with security off; build it with secured(true)");
    }
    return securedView;
  }

  @Override
  public String url() {
    return (secured ? "https" : "http") + "://" + FreePorts.LOOPBACK + ":" + httpPort;
  }

  @Override
  public String mode() {
    return "local-distribution";
  }

  /** The HTTP port. */
  public int httpPort() {
    return httpPort;
  }

  /** The node directory (config, data, logs, tmp, console.log). */
  public Path nodeDir() {
    return nodeDir;
  }

  /** The unpacked distribution. */
  public Path installDir() {
    return installDir;
  }

  /** The node's main log file. */
  public Path logFile() {
    return nodeDir.resolve("logs").resolve(CLUSTER_NAME + ".log");
  }

  @Override
  public Response send(String method, String path, String body) {
    return http.send(method, path, body);
  }

  @Override
  public synchronized void start() {
    if (closed) {
      throw new IllegalStateException("this Elasticsearch node is closed");
    }
    if (isRunning()) {
      return;
    }
    long t0 = System.nanoTime();
    List<String> command =
        CpuAffinity.wrap(CPUS_PROPERTY,
            Watchdog.wrap(UnprivilegedUser.get().wrap(List.of(installDir.resolve("bin/elasticsearch").toString()))));
    ProcessBuilder builder = new ProcessBuilder(command)
        .directory(installDir.toFile())
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(nodeDir.resolve("console.log").toFile()));
    esEnvironment(builder.environment(), "-Xms" + heap + " -Xmx" + heap);
    try {
      process = builder.start();
      process.getOutputStream().close();
    } catch (IOException e) {
      throw new IllegalStateException("could not run " + command + ": " + e.getMessage(), e);
    }
    try {
      awaitUserTool();
    } catch (RuntimeException e) {
      Processes.killTree(process);
      process = null;
      throw e;
    }
    long deadline = System.nanoTime() + startTimeout.toNanos();
    while (!http.healthy()) {
      if (!process.isAlive()) {
        int code = process.exitValue();
        process = null;
        throw new IllegalStateException("Elasticsearch exited with code " + code + " before it was ready on " + url()
            + "\n" + diagnostics());
      }
      if (System.nanoTime() > deadline) {
        Processes.killTree(process);
        process = null;
        throw new IllegalStateException("Elasticsearch was not ready (yellow) on " + url() + " within " + startTimeout
            + "\n" + diagnostics());
      }
      sleep(250);
    }
    LOG.info("Elasticsearch ready on {} (pid {}, node dir {}, heap {}) after {} ms", url(), process.pid(), nodeDir,
        heap, Duration.ofNanos(System.nanoTime() - t0).toMillis());
  }

  @Override
  public synchronized void stop() {
    if (process == null) {
      return;
    }
    long t0 = System.nanoTime();
    if (process.isAlive() && !Processes.terminateTree(process, STOP_GRACE)) {
      LOG.warn("Elasticsearch on {} did not stop within {} and was killed", url(), STOP_GRACE);
    }
    process = null;
    LOG.info("Elasticsearch on {} stopped in {} ms", url(), Duration.ofNanos(System.nanoTime() - t0).toMillis());
  }

  @Override
  public synchronized boolean isRunning() {
    return process != null && process.isAlive();
  }

  /** Stops the node; deletes the node directory if so configured. Idempotent. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    stop();
    if (userTool != null) {
      Processes.killTree(userTool);
      userTool = null;
    }
    closed = true;
    if (hook != null) {
      hook.remove();
    }
    if (deleteNodeDirOnClose) {
      FileTrees.deleteRecursively(nodeDir);
    }
  }

  private void killQuietly() {
    Process p = process;
    if (p != null && p.isAlive()) {
      Processes.terminateTree(p, Duration.ofSeconds(10));
    }
  }

  private String diagnostics() {
    Path console = nodeDir.resolve("console.log");
    return "--- " + logFile() + " (tail) ---\n" + FileTrees.tail(logFile(), LOG_TAIL_LINES)
        + "\n--- " + console + " (tail) ---\n" + FileTrees.tail(console, LOG_TAIL_LINES);
  }

  /** The secured node's view: its requests go through the same (superuser, CA-trusting) client. */
  private final class SecuredView implements SecuredElasticsearchNode {

    @Override
    public Path caCertificate() {
      return nodeDir.resolve("ca").resolve("ca.pem");
    }

    @Override
    public String username() {
      return SECURED_USER;
    }

    @Override
    public String password() {
      return password;
    }

    @Override
    public ApiKey createApiKey(String name) {
      String body = post("/_security/api_key", "{\"name\":\"" + name.replace("\"", "") + "\"}");
      Matcher id = API_KEY_ID.matcher(body);
      Matcher encoded = API_KEY_ENCODED.matcher(body);
      if (!id.find() || !encoded.find()) {
        throw new IllegalStateException("no id/encoded in the answer to POST /_security/api_key: " + body);
      }
      return new ApiKey(id.group(1), name, encoded.group(1));
    }

    @Override
    public void invalidateApiKey(ApiKey key) {
      Response r = send("DELETE", "/_security/api_key", "{\"ids\":[\"" + key.id() + "\"]}");
      if (!r.isSuccess() || !r.body().contains(key.id())) {
        throw new IllegalStateException("could not invalidate " + key + ": " + r.status() + " " + r.body());
      }
    }

    @Override
    public ElasticsearchNode withAuthorization(String authorization) {
      EsHttp other = http.withAuthorization(authorization);
      LocalElasticsearch node = LocalElasticsearch.this;
      return new ElasticsearchNode() {
        @Override
        public String url() {
          return node.url();
        }

        @Override
        public String mode() {
          return node.mode();
        }

        @Override
        public Response send(String method, String path, String body) {
          return other.send(method, path, body);
        }

        @Override
        public void stop() {
          node.stop();
        }

        @Override
        public void start() {
          node.start();
        }

        @Override
        public boolean isRunning() {
          return node.isRunning();
        }
      };
    }

    @Override
    public String url() {
      return LocalElasticsearch.this.url();
    }

    @Override
    public String mode() {
      return LocalElasticsearch.this.mode() + "-secured";
    }

    @Override
    public Response send(String method, String path, String body) {
      return LocalElasticsearch.this.send(method, path, body);
    }

    @Override
    public void stop() {
      LocalElasticsearch.this.stop();
    }

    @Override
    public void start() {
      LocalElasticsearch.this.start();
    }

    @Override
    public boolean isRunning() {
      return LocalElasticsearch.this.isRunning();
    }

    @Override
    public String toString() {
      return "SecuredElasticsearchNode[" + url() + ", user " + SECURED_USER + ", CA " + caCertificate() + "]";
    }
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> walk = Files.walk(from)) {
      for (Path source : (Iterable<Path>) walk::iterator) {
        Path target = to.resolve(from.relativize(source).toString());
        if (Files.isDirectory(source)) {
          Files.createDirectories(target);
        } else {
          Files.copy(source, target, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
  }

  private static void createDirectories(Path dir) {
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("could not create " + dir, e);
    }
  }

  private static String shortHash(String text) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 6);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for Elasticsearch", e);
    }
  }

  @Override
  public String toString() {
    return "LocalElasticsearch[" + url() + ", " + nodeDir + "]";
  }
}
