package net.swarming.common.metrics;

import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import net.swarming.common.cli.StartupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Serves {@code /metrics} in the Prometheus text format for one daemon's registry. */
public final class MetricsServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(MetricsServer.class);

    private final HTTPServer server;

    private MetricsServer(HTTPServer server) {
        this.server = server;
    }

    /**
     * Starts serving {@code registry} (JVM metrics included) on {@code host:port}; port 0 picks a free port.
     *
     * @throws StartupException when the port cannot be bound
     */
    public static MetricsServer start(String host, int port, PrometheusRegistry registry) {
        JvmMetrics.builder().register(registry);
        try {
            HTTPServer server = HTTPServer.builder()
                    .inetAddress(new InetSocketAddress(host, port).getAddress())
                    .port(port)
                    .registry(registry)
                    .buildAndStart();
            LOG.info("metrics on http://{}:{}/metrics", host, server.getPort());
            return new MetricsServer(server);
        } catch (IOException e) {
            throw new StartupException("cannot serve metrics on " + host + ":" + port + ": " + e.getMessage(), e);
        }
    }

    /** The bound port. */
    public int port() {
        return server.getPort();
    }

    @Override
    public void close() {
        server.close();
    }
}
