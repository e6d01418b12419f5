package io.jetkv.server;

import io.jetkv.config.ServerConfig;
import io.jetkv.server.monitor.MonitorServer;
import io.jetkv.server.monitor.ServerStats;
import io.jetkv.protocol.codec.ClientOpDecoder;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running JetKV server: the Netty bootstrap, the subscription index and router, and JetStream when
 * enabled. Embeddable: {@link #start} returns once the listener is bound, and {@link #port()} tells the
 * bound port (pass port 0 for an ephemeral one in tests).
 *
 * <p>Threading: start and close on any one thread; everything else runs on Netty's event loops.
 */
public final class NatsServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NatsServer.class);

    private final ServerConfig config;
    private final String serverId;
    private final Router router;
    private final Authenticator authenticator;
    private final ServerInfo info;
    private final AtomicLong nextCid = new AtomicLong();
    private final AtomicInteger connections = new AtomicInteger();
    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final JetStreamHost jetstream;
    private Channel listener;
    private int port;
    private final ServerStats stats = new ServerStats();
    private final java.time.Instant started = java.time.Instant.now();
    private volatile boolean accepting;
    // open client connections by cid, for /connz (which asks each one for a snapshot on its own loop)
    private final java.util.concurrent.ConcurrentHashMap<Long, ClientConnection> clients =
            new java.util.concurrent.ConcurrentHashMap<>();
    private MonitorServer monitor;

    private NatsServer(ServerConfig config, JetStreamHost jetstream, Router router) {
        this.config = config;
        this.serverId = ServerInfo.newServerId();
        this.authenticator = new Authenticator(config.auth());
        this.jetstream = jetstream;
        this.router = router;
        boolean epoll = Epoll.isAvailable();
        IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        this.boss = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("nats-accept"), io);
        this.workers = new MultiThreadIoEventLoopGroup(
                Runtime.getRuntime().availableProcessors(), new DefaultThreadFactory("nats-io"), io);
        this.info = new ServerInfo(config, serverId);
    }

    /** Starts a server and returns once it accepts connections. */
    public static NatsServer start(ServerConfig config) throws InterruptedException {
        LOG.info("Starting jetkv-server");
        LOG.info("  Version:  {}", ServerInfo.VERSION);
        Router router = new Router(new SubjectIndex());
        JetStreamHost jetstream = new JetStreamHost(config.jetstream(), router);
        // Start-up time matters (test harnesses start a server per test): JetStream opens RocksDB on another
        // thread while Netty loads here; clients are accepted only once both are ready.
        CompletableFuture<Void> jsReady = config.jetstream().enabled()
                ? CompletableFuture.runAsync(jetstream::start, r -> new Thread(r, "js-start").start())
                : CompletableFuture.completedFuture(null);
        NatsServer server;
        try {
            server = new NatsServer(config, jetstream, router);
        } catch (RuntimeException e) {
            jsReady.handle((v, t) -> null).join();
            jetstream.close();
            throw e;
        }
        try {
            // as the reference: the monitoring port opens first and /healthz says 503 until clients are accepted
            server.startMonitor();
            jsReady.join();
            server.bind();
            warmUp();
        } catch (CompletionException e) {
            server.close();
            throw e.getCause() instanceof RuntimeException re ? re : e;
        } catch (RuntimeException | InterruptedException e) {
            server.close();
            throw e;
        }
        return server;
    }

    /**
     * Loads what the first client's CONNECT needs (JSON parsing above all) off the event loops, so that a
     * cold server answers its first client quickly; clients give up on a handshake after about 2 s.
     */
    private static void warmUp() {
        Thread t = new Thread(() -> {
            try {
                ConnectOptions.parse("{\"verbose\":false,\"pedantic\":false,\"headers\":true,\"name\":\"warm\"}",
                        ConnectOptions.DEFAULTS);
            } catch (java.io.IOException ignored) {
                // only loading classes
            }
        }, "warm-up");
        t.setDaemon(true);
        t.start();
    }

    private void bind() throws InterruptedException {
        LOG.info("  ID:       {}", serverId);
        Class<? extends ServerChannel> channelType =
                Epoll.isAvailable() ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        ServerBootstrap b = new ServerBootstrap()
                .group(boss, workers)
                .channel(channelType)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                // a streaming publisher fills large reads: fewer read calls and read-complete flushes per message
                .childOption(ChannelOption.RCVBUF_ALLOCATOR, new AdaptiveRecvByteBufAllocator(64, 2048, 256 * 1024))
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        // the decoder calls the connection directly; it stays in the pipeline for channel events
                        ClientConnection client = new ClientConnection(NatsServer.this, nextCid.incrementAndGet());
                        ch.pipeline()
                                .addLast("decoder",
                                        new ClientOpDecoder(config.maxControlLine(), config.maxPayload(), client))
                                .addLast("client", client);
                    }
                });
        listener = b.bind(config.host(), config.port()).sync().channel();
        port = ((InetSocketAddress) listener.localAddress()).getPort();
        info.setPort(port);
        accepting = true;
        LOG.info("Listening for client connections on {}:{}", config.host(), port);
        LOG.info("Server is ready");
    }

    private void startMonitor() throws InterruptedException {
        if (config.httpPort() != 0) {
            monitor = MonitorServer.start(new MonitorView(this));
        }
    }

    /** The bound monitoring port, or 0 when monitoring is off. */
    public int monitorPort() {
        return monitor == null ? 0 : monitor.port();
    }

    ServerStats stats() {
        return stats;
    }

    java.time.Instant started() {
        return started;
    }

    boolean accepting() {
        return accepting;
    }

    java.util.Collection<ClientConnection> clients() {
        return clients.values();
    }

    int connectionCount() {
        return connections.get();
    }

    JetStreamHost jetstream() {
        return jetstream;
    }

    /** The bound client port. */
    public int port() {
        return port;
    }

    /** {@code nats://127.0.0.1:<port>}, for clients on this machine. */
    public String clientUrl() {
        return "nats://127.0.0.1:" + port;
    }

    public String serverId() {
        return serverId;
    }

    ServerConfig config() {
        return config;
    }

    Router router() {
        return router;
    }

    Authenticator authenticator() {
        return authenticator;
    }

    byte[] infoLine(long cid, String clientIp) {
        return info.line(cid, clientIp);
    }

    /** Counts a new connection; false when over {@code max_connections}. */
    boolean admit(ClientConnection c) {
        stats.connectionAccepted();
        clients.put(c.cid(), c);
        if (connections.incrementAndGet() > config.maxConnections()) {
            return false;
        }
        return true;
    }

    void release(ClientConnection c) {
        clients.remove(c.cid());
        connections.decrementAndGet();
    }

    /** Stops accepting, stops JetStream, closes clients and the event loops; each step time-boxed. */
    @Override
    public void close() {
        LOG.info("Initiating Shutdown...");
        accepting = false;
        if (monitor != null) {
            monitor.close();
        }
        if (listener != null) {
            listener.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
        // JetStream first: its writers drain and send their last acks while the event loops still run
        jetstream.close();
        workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        boss.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        LOG.info("Server Exiting..");
    }
}
