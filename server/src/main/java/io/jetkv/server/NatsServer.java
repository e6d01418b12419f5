package io.jetkv.server;

import io.jetkv.config.ServerConfig;
import io.jetkv.server.monitor.MonitorServer;
import io.jetkv.server.websocket.WebSocketListener;
import io.jetkv.server.monitor.ServerStats;
import io.jetkv.server.tls.ServerTls;
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
import java.util.concurrent.RejectedExecutionException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running JetKV server: the Netty bootstrap, the subscription index and router, and JetStream when
 * enabled. Embeddable: {@link #start} returns once the listener is bound and JetStream is up, and
 * {@link #port()} tells the bound port (pass port 0 for an ephemeral one in tests).
 *
 * <p>Threading: start and close on any one thread; everything else runs on Netty's event loops.
 */
public final class NatsServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NatsServer.class);

    /** Replaced by a config reload ({@link #reload}); read anywhere. */
    private volatile ServerConfig config;
    private final String serverId;
    private final Router router;
    /**
     * Accounts other than $G, each its own subject space: the configured ones and the system account, made at
     * start (routes carry their traffic, each in its own account).
     */
    private final java.util.concurrent.ConcurrentHashMap<String, Router> accountRouters =
            new java.util.concurrent.ConcurrentHashMap<>();
    private volatile Authenticator authenticator;
    // WebSocket clients': the websocket block's user, token or no_auth_user over the top-level ones
    private volatile Authenticator websocketAuthenticator;
    /**
     * TLS for client connections; null when clients connect in plaintext. Read once per accepted connection;
     * a reload swaps it, so new connections get new certificates while open ones keep theirs.
     */
    private volatile ServerTls tls;
    /** The WebSocket listener's own TLS (wss), or null; swapped by a reload as {@link #tls}. */
    private volatile ServerTls websocketTls;
    private final ServerInfo info;
    private final AtomicLong nextCid = new AtomicLong();
    private final AtomicInteger connections = new AtomicInteger();
    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final JetStreamHost jetstream;
    private final CompletableFuture<Void> ready = new CompletableFuture<>();
    /** Connections accepted before {@link #ready}, not read yet; guarded by this. */
    private final List<Held> waiting = new ArrayList<>();
    /** Guarded by this. */
    private boolean isReady;
    /** Routes to other servers; null when this server runs alone. */
    private final Cluster cluster;
    /** Every client channel, closed explicitly on shutdown: a terminating event loop may leave them open. */
    private final io.netty.channel.group.ChannelGroup clientChannels =
            new io.netty.channel.group.DefaultChannelGroup(io.netty.util.concurrent.GlobalEventExecutor.INSTANCE);
    private Channel listener;
    private int port;
    private final ServerStats stats = new ServerStats();
    private final java.time.Instant started = java.time.Instant.now();
    private volatile boolean accepting;
    // open client connections by cid, for /connz (which asks each one for a snapshot on its own loop)
    private final java.util.concurrent.ConcurrentHashMap<Long, ClientConnection> clients =
            new java.util.concurrent.ConcurrentHashMap<>();
    private MonitorServer monitor;
    private WebSocketListener websocket;
    /** Answers the system account's {@code $SYS.REQ.SERVER} requests; null with {@code no_system_account}. */
    private final io.jetkv.server.monitor.SysRequests sys;
    /** $SYS.ACCOUNT.*.CONNECT/DISCONNECT and STATSZ events; null with {@code no_system_account}. */
    private final io.jetkv.server.monitor.SystemEvents events;
    /** Open clients per account and what closed ones sent and received, for the per-account requests. */
    private final io.jetkv.server.monitor.AccountCounters accountCounters =
            new io.jetkv.server.monitor.AccountCounters();
    /** The last closed client connections, for /connz?state=closed. */
    private final io.jetkv.server.monitor.ClosedConnections closedClients;
    /** The accounts' stream and service imports, fixed at start. */
    private final AccountImports imports;
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
    private final LameDuck lameDuck = new LameDuck(this);
    /** One reload at a time (SIGHUP handler threads); a leaf lock, apart from this object's monitor. */
    private final Object reloadLock = new Object();
    /** The ports file written at start, deleted at close; null when none. */
    private volatile java.nio.file.Path portsFile;

    private record Held(Channel channel, ClientConnection client) {}

    private NatsServer(ServerConfig config, JetStreamHost jetstream, Router router) {
        this.config = config;
        this.serverId = ServerInfo.newServerId();
        this.authenticator = new Authenticator(config.auth());
        this.websocketAuthenticator = new Authenticator(config.websocket().auth().effective(config.auth()));
        this.tls = config.tls().enabled() ? ServerTls.create(config.tls()) : null;
        this.websocketTls = websocketTls(config);
        this.jetstream = jetstream;
        this.router = router;
        boolean epoll = Epoll.isAvailable();
        IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        this.boss = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("nats-accept"), io);
        this.workers = new MultiThreadIoEventLoopGroup(
                Runtime.getRuntime().availableProcessors(), new DefaultThreadFactory("nats-io"), io);
        this.info = new ServerInfo(config, serverId);
        this.cluster = config.cluster().enabled() ? new Cluster(this, boss, workers) : null;
        this.closedClients = new io.jetkv.server.monitor.ClosedConnections(config.monitor().maxClosedClients());
        String sysAccount = config.ops().systemAccount();
        if (cluster != null) {
            router.index().setInterestListener(cluster.listenerFor(router.account()));
        }
        for (io.jetkv.config.AccountConfig a : config.auth().accounts()) {
            routerFor(a.name());
        }
        Router sysRouter = sysAccount == null ? null : routerFor(sysAccount);
        // requests, replies and events live in the system account's subject space, where its users are; an imported
        // request's answers go to the requester's account
        this.sys = sysAccount == null ? null
                : new io.jetkv.server.monitor.SysRequests(new MonitorView(this),
                        (account, subject, reply, headers, payload) ->
                                (account != null ? routerFor(account) : sysRouter).publish(subject, reply, headers,
                                        payload));
        this.events = sys == null ? null : new io.jetkv.server.monitor.SystemEvents(new MonitorView(this), sys);
        if (sys != null) {
            // internal subscriptions in the system account: their interest crosses the routes in that account
            // (RS+ SYS ...), as nats-server's does, so every node answers a PING sent to any of them
            for (String subject : sys.subjects()) {
                sysRouter.subscribe(subject, sys);
            }
            SysBridge.install(serverId, sysRouter, this::routerFor);
        }
        this.imports = AccountImports.install(config.auth().accounts(), this::routerFor);
    }

    /**
     * Starts a server and returns once it is ready: listening, and JetStream (when enabled) up. Clients may
     * connect before that (see {@link #bind}); a JetStream failure closes the server and is thrown here.
     */
    public static NatsServer start(ServerConfig config) throws InterruptedException {
        return start(config, null);
    }

    /** As {@link #start(ServerConfig)}, adopting the client socket {@link Main} bound first (when not null). */
    static NatsServer start(ServerConfig config, EarlyListener early) throws InterruptedException {
        NatsServer server = bind(config, early, () -> {});
        server.awaitReady();
        return server;
    }

    /**
     * Starts a server and returns as soon as it listens, with JetStream (when enabled) still starting on
     * another thread: harnesses start a server per test and give it a fraction of a second to accept. A
     * connection accepted before JetStream is ready gets its INFO at once, but the server reads nothing from
     * it until JetStream is ready, so its {@code $JS.API} requests and stream publishes are handled in order
     * against the restored streams (nats-server itself only listens once JetStream is up, so a client never
     * sees the difference, only a slower first reply). The wait is bounded by the socket buffers: a client
     * that writes more is held back by TCP.
     *
     * @param beforeJetStream runs on the JetStream start-up thread before storage opens (tests make it slow)
     */
    static NatsServer bind(ServerConfig config, Runnable beforeJetStream) throws InterruptedException {
        return bind(config, null, beforeJetStream);
    }

    private static NatsServer bind(ServerConfig config, EarlyListener early, Runnable beforeJetStream)
            throws InterruptedException {
        LOG.info("Starting jetkv-server");
        LOG.info("  Version:  {}", ServerInfo.VERSION);
        Router router = new Router(new SubjectIndex());
        JetStreamHost jetstream = new JetStreamHost(config, router);
        if (config.jetstream().enabled()) {
            jetstream.checkClusterSettings();
            jetstream.prepareStoreDir();
        }
        NatsServer server = new NatsServer(config, jetstream, router);
        if (config.jetstream().enabled()) {
            jetstream.setCluster(server.cluster);
            jetstream.setRouters(server::routerFor);
        } else {
            for (io.jetkv.config.AccountConfig a : config.auth().accounts()) {
                if (a.jetstream() != null) {
                    LOG.warn("account \"{}\" has jetstream, but JetStream is not enabled on this server", a.name());
                }
            }
        }
        try {
            // as the reference: the monitoring port opens first; /healthz says 503 until clients are accepted and
            // JetStream (when enabled) is up
            server.startMonitor();
            server.bindListener(early);
            server.startWebSocket();
            if (server.cluster != null) {
                // after the WebSocket listener: the route INFO carries its URLs (ws_connect_urls)
                server.cluster.start(server.port);
            }
            // once every listener is up, as nats-server writes it
            server.writeProcessFiles(config);
        } catch (RuntimeException | InterruptedException e) {
            server.close();
            throw e;
        }
        if (config.jetstream().enabled()) {
            Thread t = new Thread(() -> {
                try {
                    beforeJetStream.run();
                    jetstream.start();
                    server.markReady(null);
                } catch (Throwable e) {
                    server.markReady(e);
                }
            }, "js-start");
            t.setDaemon(true);
            t.start();
        } else {
            server.markReady(null);
        }
        warmUp();
        return server;
    }

    /**
     * Waits until JetStream (when enabled) is up. On a JetStream failure the server is closed and the failure
     * thrown.
     */
    public void awaitReady() throws InterruptedException {
        try {
            ready.get();
        } catch (java.util.concurrent.ExecutionException e) {
            close();
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(cause);
        }
    }

    /** Completes {@link #ready} and lets the connections held since the bind be read. */
    private void markReady(Throwable failure) {
        List<Held> held;
        synchronized (this) {
            isReady = true;
            held = new ArrayList<>(waiting);
            waiting.clear();
        }
        if (failure != null) {
            LOG.error("JetStream could not start: {}", failure.toString());
            ready.completeExceptionally(failure);
            return; // awaitReady closes the server and with it the held connections
        }
        for (Held h : held) {
            try {
                h.client().endHold(h.channel());
            } catch (RejectedExecutionException e) {
                // the server is closing: its loops, and the held connections with them, are going away
            }
        }
        LOG.info("Server is ready");
        if (events != null) {
            events.start();
        }
        ready.complete(null);
    }

    /**
     * Event loop of {@code ch}, when the connection is set up: until the server is ready the channel is not
     * read (its INFO still goes out) and {@code client} is told so; {@link ClientConnection#endHold} ends it.
     */
    private void holdUntilReady(Channel ch, ClientConnection client) {
        synchronized (this) {
            if (isReady) {
                return;
            }
            ch.config().setAutoRead(false);
            client.held();
            waiting.add(new Held(ch, client));
        }
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

    private void bindListener(EarlyListener early) throws InterruptedException {
        LOG.info("  ID:       {}", serverId);
        boolean epoll = Epoll.isAvailable();
        ServerBootstrap b = new ServerBootstrap().group(boss, workers);
        if (early != null) {
            b.channelFactory((io.netty.channel.ChannelFactory<ServerChannel>) () -> early.adopt(epoll));
        } else {
            b.channel(epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class);
        }
        b
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                // a streaming publisher fills large reads: fewer read calls and read-complete flushes per message
                .childOption(ChannelOption.RCVBUF_ALLOCATOR, new AdaptiveRecvByteBufAllocator(64, 2048, 256 * 1024))
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        // read once: the connection keeps this TLS even if a reload swaps the server's
                        ServerTls connectionTls = tls;
                        if (connectionTls != null && connectionTls.config().handshakeFirst()) {
                            // TLS before anything: the INFO the connection writes waits for the handshake
                            connectionTls.install(ch.pipeline());
                        }
                        ClientConnection client = attachClient(ch);
                        if (connectionTls != null) {
                            // only the client port's connections upgrade to its TLS (not WebSocket ones)
                            client.clientPortTls(connectionTls);
                        }
                    }
                });
        // an adopted socket listens already: registering it starts the accepts the kernel has queued
        listener = (early != null ? b.register() : b.bind(config.host(), config.port())).sync().channel();
        port = ((InetSocketAddress) listener.localAddress()).getPort();
        info.setPort(port);
        accepting = true;
        LOG.info("Listening for client connections on {}:{}", config.host(), port);
        ServerTls startTls = tls;
        if (startTls != null) {
            LOG.info("TLS required for client connections ({}{})", startTls.providerName(),
                    config.tls().allowNonTls() ? ", plaintext allowed" : "");
        }
    }

    /** The pid file at once, the ports file now that every listener is up; nats-server stops if it cannot. */
    private void writeProcessFiles(ServerConfig c) {
        try {
            if (c.ops().pidFile() != null) {
                ProcessFiles.writePid(c.ops().pidFile());
            }
            if (c.ops().portsFileDir() != null) {
                java.util.Map<String, List<String>> urls = new java.util.LinkedHashMap<>();
                urls.put("nats", prefixed("nats://", Cluster.clientUrls(c.host(), port)));
                if (monitor != null) {
                    urls.put("monitoring", prefixed("http://", Cluster.clientUrls(monitor.host(), monitor.port())));
                }
                if (cluster != null) {
                    urls.put("cluster", prefixed("nats://", Cluster.clientUrls(c.cluster().host(), cluster.routePort())));
                }
                if (websocket != null) {
                    String wsHost = c.websocket().host() != null ? c.websocket().host() : c.host();
                    urls.put("websocket", prefixed(c.websocket().secure() ? "wss://" : "ws://",
                            Cluster.clientUrls(wsHost, websocket.port())));
                }
                portsFile = ProcessFiles.writePorts(c.ops().portsFileDir(), urls);
            }
        } catch (java.io.IOException e) {
            throw new IllegalStateException("could not write pid or ports file: " + e.getMessage(), e);
        }
    }

    private static List<String> prefixed(String scheme, List<String> hostPorts) {
        List<String> out = new ArrayList<>(hostPorts.size());
        for (String hp : hostPorts) {
            out.add(scheme + hp);
        }
        return out;
    }

    /**
     * Event loop of {@code ch}: makes it a client connection (the client port's connections from the start,
     * WebSocket ones once upgraded). The decoder calls the connection directly; it stays in the pipeline for
     * channel events.
     */
    private ClientConnection attachClient(Channel ch) {
        ClientConnection client = new ClientConnection(this, nextCid.incrementAndGet());
        clientChannels.add(ch);
        holdUntilReady(ch, client);
        ch.pipeline()
                .addLast("decoder", new ClientOpDecoder(config.maxControlLine(), config.maxPayload(), client))
                .addLast("client", client);
        return client;
    }

    private void startWebSocket() throws InterruptedException {
        if (config.websocket().enabled()) {
            websocket = WebSocketListener.start(config.websocket(), config.host(), boss, workers,
                    Epoll.isAvailable() ? EpollServerSocketChannel.class : NioServerSocketChannel.class,
                    config.maxPayload(), () -> websocketTls, ch -> attachClient(ch).viaWebSocket());
            if (cluster != null && !config.cluster().noAdvertise()) {
                // host:port as nats-server gossips them; the client adds the scheme
                String advertise = config.websocket().advertise();
                cluster.setOwnWebSocketUrls(advertise != null ? List.of(advertise)
                        : Cluster.clientUrls(config.websocket().host() != null ? config.websocket().host()
                                : config.host(), websocket.port()));
            }
        }
    }

    /** The WebSocket listener's TLS from its own {@code tls { }} block; null for plain ws:// or no listener. */
    private static ServerTls websocketTls(ServerConfig c) {
        // allow_non_tls and handshake_first belong to the client port: a wss listener is always TLS first
        return c.websocket().enabled() && c.websocket().secure()
                ? ServerTls.create(c.websocket().tls().withAllowNonTls(false)) : null;
    }

    /** The bound WebSocket port, or 0 when there is no WebSocket listener. */
    public int websocketPort() {
        return websocket == null ? 0 : websocket.port();
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

    /** A client's CONNECT was accepted; its event loop. */
    void clientConnected(io.jetkv.server.monitor.ConnectionInfo info) {
        accountCounters.connected(info.account());
        if (events != null) {
            events.connected(info);
        }
    }

    /** A client connection closed, {@code info} its last snapshot; its event loop. */
    void clientClosed(io.jetkv.server.monitor.ConnectionInfo info, boolean hadConnected) {
        closedClients.add(info);
        if (hadConnected) {
            accountCounters.closed(info);
        }
        if (events != null && hadConnected) {
            events.disconnected(info);
        }
    }

    /** A later CONNECT moved a client from one account to another; its event loop. */
    void clientMovedAccount(String from, String to) {
        accountCounters.moved(from, to);
    }

    io.jetkv.server.monitor.AccountCounters accountCounters() {
        return accountCounters;
    }

    /**
     * A client of {@code account} used one of the requests every account imports from the system account;
     * {@code mapped} is the system account's subject it stands for ({@code $SYS.REQ.ACCOUNT.<account>.CONNZ}).
     * Published in the global account, where every server of the cluster answers it, with a reply that brings
     * the answers back into {@code account}. Returns how many took it (0: no responders).
     */
    int sysImport(String account, String mapped, String reply, byte[] headers, byte[] payload) {
        if (reply == null || !SysBridge.isToken(account)) {
            // nothing to answer to; or, as in nats-server, an account name with dots makes no valid subject
            return reply == null ? 1 : 0;
        }
        Router sysRouter = routerFor(config.ops().systemAccount());
        return sysRouter.send(mapped, mapped, SysBridge.importReply(serverId, account, reply), headers, payload);
    }

    java.util.List<io.jetkv.server.monitor.ConnectionInfo> closedConnections() {
        return closedClients.snapshot();
    }

    io.jetkv.server.monitor.SysRequests sys() {
        return sys;
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

    /** The cluster's routes, or null when this server runs alone. */
    Cluster cluster() {
        return cluster;
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

    /** The bound route port, or 0 when this server is not in a cluster. */
    public int routePort() {
        return cluster == null ? 0 : cluster.routePort();
    }

    /** Routes currently up (one per peer server); 0 when not in a cluster. */
    public int routeCount() {
        return cluster == null ? 0 : cluster.routeCount();
    }

    ServerInfo info() {
        return info;
    }

    void forEachClient(java.util.function.Consumer<ClientConnection> action) {
        clients.values().forEach(action);
    }

    ServerConfig config() {
        return config;
    }

    Router router() {
        return router;
    }

    /**
     * The router of {@code account}'s subject space: the global one for {@code $G} (with JetStream and the
     * cluster's routes), a router of its own for every other account, made on first use. Any thread.
     */
    Router routerFor(String account) {
        if (io.jetkv.config.AccountConfig.GLOBAL.equals(account)) {
            return router;
        }
        return accountRouters.computeIfAbsent(account, a -> {
            Router r = new Router(a, new SubjectIndex());
            if (cluster != null) {
                r.index().setInterestListener(cluster.listenerFor(a));
            }
            return r;
        });
    }

    /** Every account's router, the global one first. */
    List<Router> routers() {
        List<Router> out = new ArrayList<>();
        out.add(router);
        out.addAll(accountRouters.values());
        return out;
    }

    /** The router of an account this server has, or null: routes ignore other servers' unknown accounts. */
    Router knownRouter(String account) {
        return io.jetkv.config.AccountConfig.GLOBAL.equals(account) ? router : accountRouters.get(account);
    }

    Authenticator authenticator() {
        return authenticator;
    }

    /** What a client of {@code websocket} (true) or of the client port (false) authenticates against. */
    Authenticator authenticator(boolean websocket) {
        return websocket ? websocketAuthenticator : authenticator;
    }

    /** TLS for client connections, or null when off. */
    ServerTls tls() {
        return tls;
    }

    byte[] infoLine(long cid, String clientIp, String nonce, boolean websocket) {
        return info.line(cid, clientIp, nonce, websocket);
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

    /**
     * Applies a new configuration from a reload (SIGHUP, {@code --signal reload}), as nats-server does: refused
     * whole, the old configuration kept, when a setting that needs a restart changed; otherwise each change is
     * logged ({@code Reloaded: ...}), and clients are checked against the new authorization and limits.
     *
     * @throws ConfigReload.NotReloadable naming the first setting that needs a restart
     * @throws IllegalArgumentException    a certificate, key or CA file that cannot be used (nothing changed)
     */
    public void reload(ServerConfig newConfig) throws ConfigReload.NotReloadable {
        synchronized (reloadLock) {
            applyReload(newConfig);
        }
    }

    private void applyReload(ServerConfig newConfig) throws ConfigReload.NotReloadable {
        ServerConfig old = config;
        // every certificate is read again, also from unchanged paths (renewal tools rewrite files in place); one
        // that cannot be used fails the whole reload before anything changed, as nats-server's parse does
        ServerTls newTls = newConfig.tls().enabled() ? ServerTls.create(newConfig.tls()) : null;
        ServerTls newWebsocketTls = websocket == null ? null : websocketTls(newConfig);
        ServerTls newRouteTls = cluster == null || !newConfig.cluster().tls().enabled() ? null
                : ServerTls.createForRoutes(newConfig.cluster().tls());
        ServerTls newHttpsTls = monitor == null || !newConfig.httpsMonitor() || !newConfig.tls().enabled() ? null
                : ServerTls.create(newConfig.tls().withAllowNonTls(false));
        List<String> changes = ConfigReload.changes(old, newConfig, !ServerTls.sameFiles(tls, newTls),
                cluster != null && !ServerTls.sameFiles(cluster.tls(), newRouteTls));
        config = newConfig;
        // open connections keep the TLS they were set up with; only new ones see these
        tls = newTls;
        websocketTls = newWebsocketTls;
        if (cluster != null) {
            cluster.reloadTls(newRouteTls);
        }
        if (newHttpsTls != null) {
            monitor.reloadTls(newHttpsTls);
        }
        if (!old.auth().equals(newConfig.auth())) {
            authenticator = new Authenticator(newConfig.auth());
            websocketAuthenticator = new Authenticator(newConfig.websocket().auth().effective(newConfig.auth()));
        }
        info.setConfig(newConfig);
        ConfigReload.applyLog(old, newConfig);
        if (!old.serverTags().equals(newConfig.serverTags())) {
            if (cluster != null) {
                cluster.reloadTags(newConfig.serverTags());
            }
            jetstream.tagsChanged(newConfig.serverTags());
        }
        if (!java.util.Objects.equals(old.ops(), newConfig.ops())) {
            if (!java.util.Objects.equals(old.ops().portsFileDir(), newConfig.ops().portsFileDir())) {
                ProcessFiles.delete(portsFile);
                portsFile = null;
            }
            try {
                writeProcessFiles(newConfig);
            } catch (IllegalStateException e) {
                LOG.error("{}", e.getMessage());
            }
        }
        for (String change : changes) {
            LOG.info("Reloaded: {}", change);
        }
        for (ClientConnection c : clients.values()) {
            c.reloaded();
        }
        // a lower max_connections closes the newest connections over it, as the reference does
        int over = connections.get() - newConfig.maxConnections();
        if (over > 0) {
            List<ClientConnection> newest = new ArrayList<>(clients.values());
            newest.sort((a, b) -> Long.compare(b.cid(), a.cid()));
            LOG.info("Closing {} connections to fall within max_connections", over);
            for (int i = 0; i < over && i < newest.size(); i++) {
                newest.get(i).closeOverLimit();
            }
        }
        LOG.info("Reloaded server configuration");
    }

    /**
     * Enters lame duck mode (SIGUSR2, {@code --signal ldm}): stops accepting clients, tells clients and routes
     * ({@code "ldm":true}), waits {@code lame_duck_grace_period}, closes the clients one by one over the rest of
     * {@code lame_duck_duration}, then shuts down. Returns at once; the future completes once the server is
     * closed. A second call returns the same future.
     */
    public CompletableFuture<Void> lameDuckMode() {
        return lameDuck.start();
    }

    /** Whether lame duck mode has started. */
    public boolean inLameDuckMode() {
        return lameDuck.started();
    }

    /** Lame duck mode's first step, on its own thread: no new clients, everybody told. */
    void stopAcceptingForLameDuck() {
        LOG.info("Entering lame duck mode, stop accepting new clients");
        accepting = false;
        if (listener != null) {
            listener.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
        if (cluster != null) {
            cluster.enterLameDuck();
        }
        info.setLameDuck();
        forEachClient(ClientConnection::sendAsyncInfo);
    }

    /** Stops accepting, stops JetStream, closes clients and the event loops; each step time-boxed. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        LOG.info("Initiating Shutdown...");
        accepting = false;
        if (monitor != null) {
            monitor.close();
        }
        if (listener != null) {
            listener.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
        if (websocket != null) {
            websocket.close();
        }
        if (cluster != null) {
            cluster.close();
        }
        // JetStream first: its writers drain and send their last acks while the event loops still run
        jetstream.close();
        clientChannels.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        if (events != null) {
            events.close();
        }
        imports.close();
        if (sys != null) {
            sys.close();
        }
        workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        boss.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        ProcessFiles.delete(portsFile);
        LOG.info("Server Exiting..");
    }
}
