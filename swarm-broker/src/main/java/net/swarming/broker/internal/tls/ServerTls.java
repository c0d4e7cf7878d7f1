package net.swarming.broker.internal.tls;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.Collections;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLException;

/** Builds the TLS listener's server context from PEM files or a PKCS#12 store. */
public final class ServerTls {

    private ServerTls() {}

    /**
     * From a PEM certificate chain (server certificate first) and an unencrypted PKCS#8 PEM private key
     * ({@code -----BEGIN PRIVATE KEY-----}, as {@code openssl genpkey} writes).
     *
     * @throws IllegalArgumentException naming the files and what is wrong
     */
    public static SslContext fromPem(Path certFile, Path keyFile) {
        try {
            return SslContextBuilder.forServer(certFile.toFile(), keyFile.toFile()).build();
        } catch (SSLException | IllegalArgumentException e) {
            String hint = "";
            try {
                if (Files.readString(keyFile).contains("BEGIN RSA PRIVATE KEY")) {
                    hint = " (the key is PKCS#1: convert it with 'openssl pkcs8 -topk8 -nocrypt -in " + keyFile
                            + "')";
                }
            } catch (IOException | RuntimeException ignored) {
                // the hint is optional; the cause below says what failed
            }
            throw new IllegalArgumentException("tls-cert " + certFile + " / tls-key " + keyFile
                    + " cannot be used: " + rootMessage(e) + hint, e);
        }
    }

    /**
     * From a PKCS#12 store holding one private key entry and its chain.
     *
     * @throws IllegalArgumentException naming the file and what is wrong (bad password, no key entry…)
     */
    public static SslContext fromPkcs12(Path file, char[] password) {
        try (InputStream in = Files.newInputStream(file)) {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(in, password);
            boolean hasKey = false;
            for (String alias : Collections.list(store.aliases())) {
                hasKey |= store.isKeyEntry(alias);
            }
            if (!hasKey) {
                throw new IllegalArgumentException("tls-pkcs12 " + file + " holds no private key entry");
            }
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(store, password);
            return SslContextBuilder.forServer(kmf).build();
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("tls-pkcs12 " + file + " cannot be used: " + rootMessage(e)
                    + " (check tls-pkcs12-password)", e);
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t == e ? String.valueOf(e.getMessage()) : e.getMessage() + ": " + t.getMessage();
    }
}
