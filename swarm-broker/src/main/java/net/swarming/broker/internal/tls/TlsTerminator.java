package net.swarming.broker.internal.tls;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import net.swarming.broker.internal.net.ListenAddress;
import net.swarming.common.cli.StartupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The TLS listener: accepts TLS connections and relays the decrypted MQTT bytes to the broker's plain listener.
 *
 * <p>Moquette binds all its listeners to one address, so its own TLS port cannot be public while the plain one stays on
 * localhost. Terminating TLS here lets each listener have its own address. Reads are paced by writes (a connection is
 * read again only once the previous chunk is written to the other side), so a slow peer cannot fill memory.
 */
public final class TlsTerminator implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(TlsTerminator.class);
    private static final int CONNECT_TIMEOUT_MILLIS = 5_000;

    private final EventLoopGroup group;
    private final Channel server;
    private final int port;

    private TlsTerminator(EventLoopGroup group, Channel server, int port) {
        this.group = group;
        this.server = server;
        this.port = port;
    }

    /**
     * Listens on {@code host:port} ({@code port} concrete, not 0) and relays to {@code backend}.
     *
     * @throws StartupException when the address cannot be bound; nothing is left running
     */
    public static TlsTerminator start(String host, int port, SslContext tls, InetSocketAddress backend) {
        EventLoopGroup group = new NioEventLoopGroup(2, new DefaultThreadFactory("swarm-broker-tls", true));
        try {
            Channel server = new ServerBootstrap()
                    .group(group)
                    .channel(NioServerSocketChannel.class)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childOption(ChannelOption.AUTO_READ, false)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast("tls", tls.newHandler(ch.alloc()));
                            ch.pipeline().addLast("relay", new FrontendHandler(backend));
                        }
                    })
                    .bind(host, port).syncUninterruptibly().channel();
            int bound = ((InetSocketAddress) server.localAddress()).getPort();
            return new TlsTerminator(group, server, bound);
        } catch (Exception e) { // Netty rethrows a bind failure's checked BindException undeclared
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            if (e instanceof BindException) {
                throw ListenAddress.bindFailure(host, port, e);
            }
            throw new StartupException("TLS listener failed to start on " + host + ":" + port + ": " + e, e);
        }
    }

    /** The bound TLS port. */
    public int port() {
        return port;
    }

    /** Stops listening, closes every relayed connection and stops the threads. */
    @Override
    public void close() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private static void closeOnFlush(Channel ch) {
        if (ch.isActive()) {
            ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }
    }

    /** The client side: opens the broker connection once the client connects, then relays. */
    private static final class FrontendHandler extends ChannelInboundHandlerAdapter {
        private final InetSocketAddress backend;
        private volatile Channel outbound;

        FrontendHandler(InetSocketAddress backend) {
            this.backend = backend;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            Channel inbound = ctx.channel();
            new Bootstrap().group(inbound.eventLoop())
                    .channel(NioSocketChannel.class)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .option(ChannelOption.AUTO_READ, false)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, CONNECT_TIMEOUT_MILLIS)
                    .handler(new BackendHandler(inbound))
                    .connect(backend)
                    .addListener((ChannelFutureListener) f -> {
                        if (f.isSuccess()) {
                            outbound = f.channel();
                            inbound.read();
                        } else {
                            LOG.warn("TLS client {} dropped: broker at {} unreachable: {}", inbound.remoteAddress(),
                                    backend, f.cause().toString());
                            inbound.close();
                        }
                    });
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            Channel out = outbound;
            out.writeAndFlush(msg).addListener((ChannelFutureListener) f -> {
                if (f.isSuccess()) {
                    ctx.channel().read();
                } else {
                    f.channel().close();
                }
            });
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            Channel out = outbound;
            if (out != null) {
                closeOnFlush(out);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // A failed handshake (wrong CA, plain MQTT on the TLS port) is the client's problem: log briefly.
            LOG.info("TLS connection from {} closed: {}", ctx.channel().remoteAddress(), cause.toString());
            closeOnFlush(ctx.channel());
        }
    }

    /** The broker side: relays the broker's bytes back to the client. */
    private static final class BackendHandler extends ChannelInboundHandlerAdapter {
        private final Channel inbound;

        BackendHandler(Channel inbound) {
            this.inbound = inbound;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            ctx.read();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            inbound.writeAndFlush(msg).addListener((ChannelFutureListener) f -> {
                if (f.isSuccess()) {
                    ctx.channel().read();
                } else {
                    f.channel().close();
                }
            });
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            closeOnFlush(inbound);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            LOG.debug("broker side of a TLS connection failed: {}", cause.toString());
            closeOnFlush(ctx.channel());
        }
    }
}
