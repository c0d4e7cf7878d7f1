package net.swarming.common.tls;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Client-side TLS that trusts exactly the CA certificates of one PEM file instead of the JVM's trust store: for
 * servers whose certificates a private CA signed (a swarm-broker's TLS listener, a secured Elasticsearch node).
 * Host name checks stay with the caller (Paho and the HTTP clients do them).
 */
public final class PemTrust {

    private PemTrust() {}

    /**
     * @param caFile PEM file with one or more CA certificates
     * @param option the option that named the file, for messages (such as {@code mqtt-ca})
     * @throws IllegalArgumentException naming the option and the file when it cannot be read or holds no certificate
     */
    public static SSLContext sslContext(Path caFile, String option) {
        try (InputStream in = Files.newInputStream(caFile)) {
            KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
            trust.load(null, null);
            int i = 0;
            for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                trust.setCertificateEntry("ca-" + i++, c);
            }
            if (i == 0) {
                throw new IllegalArgumentException(option + ": no certificate in " + caFile
                        + "; give the PEM file of the CA (-----BEGIN CERTIFICATE-----)");
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException(option + ": cannot read CA certificates from " + caFile + ": " + e, e);
        }
    }
}
