package net.swarming.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

import net.swarming.testkit.internal.Executables;

/**
 * Throw-away PEM certificates made with the real {@code openssl} (package {@code openssl}, installed by
 * {@code bin/setup}) at test time: a CA, and server certificates it signs for {@code 127.0.0.1} and
 * {@code localhost} (subjectAltName), valid for a few days. EC P-256 keys, unencrypted PKCS#8: generating one takes
 * milliseconds, where RSA would take a noticeable part of a second on a loaded machine. No key ever goes into git.
 */
public final class TestCertificates {

  /** Days a certificate is valid. */
  public static final int VALIDITY_DAYS = 3;

  private static final String CONFIG = String.join("\n",
      "[req]",
      "distinguished_name = dn",
      "prompt = no",
      "[dn]",
      "CN = unused",
      "[v3_ca]",
      "basicConstraints = critical, CA:TRUE",
      "keyUsage = critical, keyCertSign, cRLSign",
      "subjectKeyIdentifier = hash",
      "[v3_server]",
      "basicConstraints = critical, CA:FALSE",
      "keyUsage = critical, digitalSignature, keyEncipherment",
      "extendedKeyUsage = serverAuth",
      "subjectAltName = IP:127.0.0.1, DNS:localhost",
      "subjectKeyIdentifier = hash",
      "authorityKeyIdentifier = keyid",
      "");

  private static final SecureRandom RANDOM = new SecureRandom();

  private TestCertificates() {}

  /** A certificate and its private key, both PEM files. */
  public record KeyPair(Path certificate, Path key) {}

  /** A certificate authority: its certificate is what clients trust (e.g. {@code --elasticsearch-ca}). */
  public record Authority(Path certificate, Path key) {

    /**
     * A server certificate for {@code 127.0.0.1} and {@code localhost} signed by this CA, written to
     * {@code dir/<name>.pem} and {@code dir/<name>.key}.
     */
    public KeyPair issueServerCertificate(Path dir, String name) {
      createDirectories(dir);
      Path config = writeConfig(dir);
      Path key = dir.resolve(name + ".key");
      Path csr = dir.resolve(name + ".csr");
      Path cert = dir.resolve(name + ".pem");
      openssl(dir, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
          "-keyout", key.toString(), "-out", csr.toString(), "-subj", "/CN=localhost", "-config", config.toString());
      openssl(dir, "x509", "-req", "-in", csr.toString(), "-CA", certificate.toString(), "-CAkey",
          this.key.toString(), "-set_serial", "0x" + serial(), "-days", Integer.toString(VALIDITY_DAYS),
          "-extfile", config.toString(), "-extensions", "v3_server", "-out", cert.toString());
      delete(csr);
      return new KeyPair(cert, key);
    }
  }

  /** A new CA named {@code commonName}, written to {@code dir/<fileName>.pem} and {@code dir/<fileName>.key}. */
  public static Authority newAuthority(Path dir, String fileName, String commonName) {
    createDirectories(dir);
    Path config = writeConfig(dir);
    Path key = dir.resolve(fileName + ".key");
    Path cert = dir.resolve(fileName + ".pem");
    openssl(dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", key.toString(), "-out", cert.toString(), "-days", Integer.toString(VALIDITY_DAYS),
        "-subj", "/CN=" + commonName, "-set_serial", "0x" + serial(), "-config", config.toString(),
        "-extensions", "v3_ca");
    return new Authority(cert, key);
  }

  private static Path writeConfig(Path dir) {
    Path config = dir.resolve("swarm-openssl.cnf");
    try {
      Files.writeString(config, CONFIG, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("could not write " + config, e);
    }
    return config;
  }

  private static String serial() {
    byte[] bytes = new byte[8];
    RANDOM.nextBytes(bytes);
    bytes[0] &= 0x7f;
    return HexFormat.of().formatHex(bytes);
  }

  private static void openssl(Path dir, String... args) {
    Path openssl = Executables.find("openssl", List.of(Path.of("/usr/bin/openssl"))).orElseThrow(() ->
        new IllegalStateException("'openssl' was not found (looked at /usr/bin/openssl and on the PATH); the test "
            + "certificates are made with it: apt-get install -y openssl (bin/setup does)"));
    List<String> command = new ArrayList<>();
    command.add(openssl.toString());
    command.addAll(List.of(args));
    try {
      Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
      p.getOutputStream().close();
      String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException("openssl did not finish within 60 s: " + command);
      }
      if (p.exitValue() != 0) {
        throw new IllegalStateException("openssl failed with exit code " + p.exitValue() + ": " + command + "\n"
            + output);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("could not run " + command, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running openssl", e);
    }
  }

  private static void createDirectories(Path dir) {
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("could not create " + dir, e);
    }
  }

  private static void delete(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      throw new UncheckedIOException("could not delete " + file, e);
    }
  }
}
