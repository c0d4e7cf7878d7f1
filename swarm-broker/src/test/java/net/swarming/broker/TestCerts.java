package net.swarming.broker;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A throw-away CA and a server certificate for 127.0.0.1, 127.0.0.2 and localhost, made by the {@code openssl} command
 * into a test's temporary directory: PEM files and the same key and chain as a PKCS#12 store.
 */
public record TestCerts(Path caCert, Path serverCert, Path serverKey, Path pkcs12, String pkcs12Password) {

    /** Creates the files under {@code dir}. */
    public static TestCerts create(Path dir) throws IOException, InterruptedException {
        Path caKey = dir.resolve("ca.key");
        Path caCert = dir.resolve("ca.pem");
        Path key = dir.resolve("server.key");
        Path csr = dir.resolve("server.csr");
        Path cert = dir.resolve("server.pem");
        Path ext = Files.writeString(dir.resolve("server.ext"),
                "subjectAltName=IP:127.0.0.1,IP:127.0.0.2,DNS:localhost\n");
        Path p12 = dir.resolve("server.p12");
        String ec = "ec";
        openssl(dir, "req", "-x509", "-newkey", ec, "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", caKey.toString(), "-out", caCert.toString(), "-days", "2", "-subj", "/CN=swarm-test-ca");
        openssl(dir, "req", "-newkey", ec, "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", key.toString(), "-out", csr.toString(), "-subj", "/CN=localhost");
        openssl(dir, "x509", "-req", "-in", csr.toString(), "-CA", caCert.toString(), "-CAkey", caKey.toString(),
                "-CAcreateserial", "-out", cert.toString(), "-days", "2", "-extfile", ext.toString());
        openssl(dir, "pkcs12", "-export", "-in", cert.toString(), "-inkey", key.toString(), "-out", p12.toString(),
                "-passout", "pass:test-only");
        return new TestCerts(caCert, cert, key, p12, "test-only");
    }

    private static void openssl(Path dir, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("openssl"));
        cmd.addAll(List.of(args));
        Path log = dir.resolve("openssl.log");
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(cmd + " did not finish");
        }
        if (p.exitValue() != 0) {
            throw new AssertionError(cmd + " failed: " + Files.readString(log));
        }
    }
}
