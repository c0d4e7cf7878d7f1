package net.swarming.broker;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Runs the real {@code mosquitto_pub} and {@code mosquitto_sub} clients, as operators do, against a local broker. */
public final class Mosquitto {

    /** Exit code, standard output and standard error of one client run. */
    public record Result(int exitCode, byte[] stdout, String stderr) {
        public String out() {
            return new String(stdout, StandardCharsets.UTF_8);
        }
    }

    private static final long TIMEOUT_SECONDS = 30;

    private Mosquitto() {}

    /** {@code mosquitto_pub -h 127.0.0.1 -p port args…}. */
    public static Result pub(int port, String... args) {
        return run("mosquitto_pub", port, args);
    }

    /** {@code mosquitto_sub -h 127.0.0.1 -p port args…}. */
    public static Result sub(int port, String... args) {
        return run("mosquitto_sub", port, args);
    }

    private static Result run(String tool, int port, String... args) {
        return run(tool, "127.0.0.1", port, args);
    }

    /** {@code tool -h host -p port args…}, for TLS ({@code --cafile}) and other addresses. */
    public static Result run(String tool, String host, int port, String... args) {
        List<String> cmd = new ArrayList<>(List.of(tool, "-h", host, "-p", Integer.toString(port)));
        cmd.addAll(List.of(args));
        try {
            Path errFile = Files.createTempFile("mosquitto", ".err");
            try {
                Process p = new ProcessBuilder(cmd).redirectError(errFile.toFile()).start();
                p.getOutputStream().close();
                CompletableFuture<byte[]> out = CompletableFuture.supplyAsync(() -> readAll(p.getInputStream()));
                if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    throw new AssertionError(cmd + " did not finish within " + TIMEOUT_SECONDS + " s");
                }
                return new Result(p.exitValue(), out.join(), Files.readString(errFile));
            } finally {
                Files.deleteIfExists(errFile);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted running " + cmd, e);
        }
    }

    private static byte[] readAll(InputStream in) {
        try (in) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Sends {@code signal} (e.g. {@code STOP}, {@code CONT}) to a client process, as an operator's {@code kill} would. */
    public static void signal(Process p, String signal) {
        try {
            new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid())).start().waitFor(10, TimeUnit.SECONDS);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
