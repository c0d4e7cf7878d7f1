package net.swarming.broker;

import java.nio.file.Path;

/**
 * The TLS listener of a {@link SwarmBroker}: an address and either a PEM certificate chain and key or a PKCS#12 store.
 * Checked by {@link BrokerConfig}, which reports its problems together with every other one.
 *
 * @param host           address the TLS listener binds
 * @param port           TLS port; 0 picks a free port (see {@link SwarmBroker#tlsPort()})
 * @param certFile       PEM certificate chain, server certificate first; with {@code keyFile}
 * @param keyFile        unencrypted PKCS#8 PEM private key ({@code BEGIN PRIVATE KEY})
 * @param pkcs12File     PKCS#12 store with one key entry, instead of the PEM pair
 * @param pkcs12Password the store's password; empty for none
 */
public record TlsListener(String host, int port, Path certFile, Path keyFile, Path pkcs12File, String pkcs12Password) {

    /** mosquitto's and IANA's secure MQTT port. */
    public static final int DEFAULT_PORT = 8883;

    /** A PEM listener. */
    public static TlsListener pem(String host, int port, Path certFile, Path keyFile) {
        return new TlsListener(host, port, certFile, keyFile, null, null);
    }

    /** A PKCS#12 listener. */
    public static TlsListener pkcs12(String host, int port, Path store, String password) {
        return new TlsListener(host, port, null, null, store, password == null ? "" : password);
    }

    @Override
    public String toString() {
        // Never print the store password.
        return "TlsListener[" + host + ":" + port + ", " + (pkcs12File != null ? "pkcs12 " + pkcs12File
                : "cert " + certFile + ", key " + keyFile) + "]";
    }
}
