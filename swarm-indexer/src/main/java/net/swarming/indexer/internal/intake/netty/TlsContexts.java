package net.swarming.indexer.internal.intake.netty;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import net.swarming.common.mqtt.BrokerAddress;

/** TLS for {@code ssl://} brokers: the JVM's trust store, or only the CA of a PEM file; host names always checked. */
final class TlsContexts {

    private TlsContexts() {
    }

    /**
     * @param caFile PEM certificates of the CA(s) to trust instead of the JVM's trust store, or null
     * @throws IllegalArgumentException naming the file when it cannot be read or holds no certificate
     */
    static SslContext client(Path caFile) {
        SslContextBuilder builder = SslContextBuilder.forClient().sslProvider(SslProvider.JDK);
        if (caFile != null) {
            if (!Files.isReadable(caFile)) {
                throw new IllegalArgumentException("MQTT CA file " + caFile + " cannot be read; give the PEM file of "
                        + "the CA that signed the brokers' certificates");
            }
        }
        try {
            if (caFile != null) {
                builder.trustManager(caFile.toFile());
            }
            return builder.build();
        } catch (SSLException | IllegalArgumentException e) {
            throw new IllegalArgumentException("MQTT CA file " + caFile + " holds no usable PEM certificate: "
                    + e.getMessage(), e);
        }
    }

    /** A handler for one connection that checks the broker's certificate against its host name (or IP literal). */
    static SslHandler handler(SslContext context, ByteBufAllocator alloc, BrokerAddress broker) {
        SSLEngine engine = context.newEngine(alloc, broker.host(), broker.port());
        SSLParameters params = engine.getSSLParameters();
        // What HTTPS clients check: without it any certificate the CA signed, for any host, would be accepted.
        params.setEndpointIdentificationAlgorithm("HTTPS");
        engine.setSSLParameters(params);
        return new SslHandler(engine);
    }
}
