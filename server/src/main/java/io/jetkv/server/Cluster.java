package io.jetkv.server;

import io.jetkv.config.ClusterConfig;
import io.jetkv.config.ServerConfig;
import io.jetkv.protocol.codec.RouteOpDecoder;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This server's place in a cluster: the route listener, the routes we dial (configured ones for ever, ones
 * learnt by gossip {@code connect_retries}+1 times), the registry of routes by peer server id with duplicate
 * resolution, interest propagation ({@code RS+}/{@code RS-} per account, subject and queue group, reference-counted
 * over local subscriptions), gossip of new peers to the others, and the client URLs advertised in INFO.
 *
 * <p>Threading: called from route and client event loops and from Netty's connect callbacks. The monitor of
 * this object guards the route registry, the interest counts and the client URL counts; under it only
 * {@link Outbox} appends happen (a leaf lock, see LOCKS.md) and tasks are handed to event loops, so the wire
 * order of {@code RS+}/{@code RS-} on each route follows the order of the counts.
 */
final class Cluster {
    private static final Logger LOG = LoggerFactory.getLogger(Cluster.class);
    private static final long RECONNECT_MILLIS = 1000;
    /** Up to this much random delay before a route closed under us is dialled again. */
    private static final long REDIAL_JITTER_MILLIS = 100;
    private static final char[] ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".toCharArray();

    private final NatsServer server;
    private final ServerConfig config;
    private final ClusterConfig cc;
    /**
     * TLS on routes; null when they are plaintext. A reload may swap in new certificates (routes set up from
     * then on use them, open ones keep theirs), never turn TLS on or off.
     */
    private volatile io.jetkv.server.tls.ServerTls tls;
    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final AtomicLong nextRid = new AtomicLong();
    /** Every route channel, closed explicitly on shutdown. */
    private final io.netty.channel.group.ChannelGroup channels =
            new io.netty.channel.group.DefaultChannelGroup(io.netty.util.concurrent.GlobalEventExecutor.INSTANCE);
    private volatile String name;
    private volatile boolean dynamicName;
    private Channel listener;
    private volatile int routePort;
    private volatile boolean closed;
    /** Lame duck mode: our own client URLs are no longer advertised, to clients or routes. */
    private volatile boolean lameDuck;
    private List<String> ownClientUrls = List.of();
    /** This server's WebSocket URLs ({@code host:port}), gossiped as {@code ws_connect_urls}; set before start. */
    private volatile List<String> ownWsUrls = List.of();
    /** This node's Ratis address ({@code host:port}) once clustered JetStream runs; null before and without. */
    private volatile String raftEndpoint;
    /** Told about JetStream peers (name, Ratis address) as routes come and go; null without JetStream. */
    private volatile RaftPeers raftPeers;
    /** The {@code jetkv_meta} INFO field: our meta group's members (peer id to Ratis address); "" while none. */
    private volatile String raftMeta = "";

    /** Clustered JetStream's view of the routes: which servers run Ratis, and where. Route event loops. */
    interface RaftPeers {
        /** {@code meta}: the members of the peer's meta group as it announced them (empty while it has none). */
        void seen(String serverName, String raftEndpoint, Map<String, String> meta, List<String> tags);

        void gone(String serverName);
    }

    /**
     * The configured routes as far as they are resolved: {@code total} URLs, of which {@code self} led back to
     * this server, and the names of the servers behind the others whose routes are up.
     */
    record ConfiguredRoutes(int total, int self, Set<String> peers) {}

    // guarded by this
    private final Map<String, RouteConnection> routes = new HashMap<>();
    /** Local interest by "account subject" (plain) and "account subject queue" (member counts). */
    private final Map<String, Integer> plainInterest = new HashMap<>();
    private final Map<String, Integer> queueInterest = new HashMap<>();
    private final Map<String, Integer> clientUrlRefs = new LinkedHashMap<>();
    private final Map<String, Integer> wsUrlRefs = new LinkedHashMap<>();
    private final Set<String> selfUrls = new HashSet<>();
    private final Set<String> dialling = new HashSet<>();

    Cluster(NatsServer server, EventLoopGroup boss, EventLoopGroup workers) {
        this.server = server;
        this.config = server.config();
        this.cc = config.cluster();
        this.tls = cc.tls().enabled() ? io.jetkv.server.tls.ServerTls.createForRoutes(cc.tls()) : null;
        this.boss = boss;
        this.workers = workers;
        if (cc.name() == null) {
            this.name = randomName();
            this.dynamicName = true;
        } else {
            this.name = cc.name();
        }
    }

    /** Binds the route port and starts dialling the configured routes; the client port is already bound. */
    void start(int clientPort) throws InterruptedException {
        ownClientUrls = clientUrls(config.host(), clientPort);
        refreshClientInfo(false);
        ServerBootstrap b = new ServerBootstrap()
                .group(boss, workers)
                .channel(Epoll.isAvailable() ? EpollServerSocketChannel.class : NioServerSocketChannel.class)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.RCVBUF_ALLOCATOR, readSizes())
                .childHandler(initializer(null, false, null));
        listener = b.bind(cc.host(), cc.port()).sync().channel();
        routePort = ((InetSocketAddress) listener.localAddress()).getPort();
        LOG.info("Cluster name is {}", name);
        LOG.info("Listening for route connections on {}", RouteConnection.hostPort(cc.host(), routePort));
        for (URI url : cc.routes()) {
            dial(url, true, 0);
        }
    }

    int routePort() {
        return routePort;
    }

    /**
     * Clustered JetStream is up: our route INFO carries its Ratis address from now on ({@code jetkv_raft}, a
     * field nats-server ignores), sent again to every route, and {@code peers} hears of every JetStream server
     * routed to, those already connected first.
     */
    void startRaftPeering(String endpoint, RaftPeers peers) {
        List<RouteConnection> current;
        synchronized (this) {
            raftEndpoint = endpoint;
            raftPeers = peers;
            current = new ArrayList<>(routes.values());
        }
        byte[] info = routeInfoLine();
        for (RouteConnection rc : current) {
            if (rc.remoteRaft != null) {
                peers.seen(rc.remoteName, rc.remoteRaft, rc.remoteMeta, rc.remoteTags);
            }
            rc.send(info);
        }
    }

    /** A route's peer announced its Ratis address (first INFO, or a later one). */
    void raftPeerSeen(RouteConnection rc) {
        RaftPeers p = raftPeers;
        if (p != null && rc.remoteRaft != null) {
            p.seen(rc.remoteName, rc.remoteRaft, rc.remoteMeta, rc.remoteTags);
        }
    }

    /**
     * Our meta group's members changed ({@code members}: peer id to Ratis address, empty for none): the route
     * INFO carries them from now on ({@code jetkv_meta}), and is sent again to every route, so that a server
     * without a meta group learns whether it should join one rather than start its own.
     */
    void advertiseRaftMeta(Map<String, String> members) {
        StringBuilder sb = new StringBuilder();
        if (!members.isEmpty()) {
            sb.append(",\"jetkv_meta\":{");
            boolean first = true;
            for (Map.Entry<String, String> e : new java.util.TreeMap<>(members).entrySet()) {
                if (!first) {
                    sb.append(',');
                }
                first = false;
                ServerInfo.field(sb, e.getKey()).append(':');
                ServerInfo.field(sb, e.getValue());
            }
            sb.append('}');
        }
        List<RouteConnection> current;
        synchronized (this) {
            if (sb.toString().equals(raftMeta)) {
                return;
            }
            raftMeta = sb.toString();
            current = new ArrayList<>(routes.values());
        }
        byte[] info = routeInfoLine();
        for (RouteConnection rc : current) {
            rc.send(info);
        }
    }

    /** Any thread: how far the configured routes are resolved (see {@link ConfiguredRoutes}). */
    synchronized ConfiguredRoutes configuredRoutes() {
        Set<String> keys = new HashSet<>();
        int self = 0;
        for (URI u : cc.routes()) {
            if (keys.add(key(u)) && selfUrls.contains(key(u))) {
                self++;
            }
        }
        Set<String> peers = new HashSet<>();
        for (RouteConnection rc : routes.values()) {
            if (rc.url != null && keys.contains(key(rc.url)) && rc.remoteName != null) {
                peers.add(rc.remoteName);
            }
        }
        return new ConfiguredRoutes(keys.size(), self, peers);
    }

    String serverId() {
        return server.serverId();
    }

    String name() {
        return name;
    }

    /** Read on every stalled write, so a reload of {@code write_deadline} applies to routes too. */
    java.time.Duration writeDeadline() {
        return server.config().writeDeadline();
    }

    long maxPending() {
        return config.maxPending();
    }

    /** The server's traffic counters: messages sent on routes count as sent, as in nats-server's varz. */
    io.jetkv.server.monitor.ServerStats stats() {
        return server.stats();
    }

    long pingIntervalMillis() {
        return config.pingInterval().toMillis();
    }

    int pingMax() {
        return config.pingMax();
    }

    boolean authRequired() {
        return cc.authRequired();
    }

    long authTimeoutMillis() {
        return cc.authTimeout().toMillis();
    }

    boolean checkCredentials(String user, String pass) {
        return cc.user().equals(user) && cc.password().equals(pass);
    }

    /** Monitoring thread: a copy of each registered route, by route id. */
    synchronized java.util.List<io.jetkv.server.monitor.RouteInfo> routeInfos() {
        java.util.List<io.jetkv.server.monitor.RouteInfo> out = new java.util.ArrayList<>();
        for (RouteConnection r : routes.values()) {
            out.add(r.info());
        }
        out.sort(java.util.Comparator.comparingLong(io.jetkv.server.monitor.RouteInfo::rid));
        return out;
    }

    /** How many routes are registered (one per peer server). */
    synchronized int routeCount() {
        return routes.size();
    }

    // ---- handshake lines ----

    byte[] connectLine(URI url) {
        String user = cc.user();
        String pass = cc.password();
        if (url.getUserInfo() != null) {
            int colon = url.getUserInfo().indexOf(':');
            user = colon < 0 ? url.getUserInfo() : url.getUserInfo().substring(0, colon);
            pass = colon < 0 ? "" : url.getUserInfo().substring(colon + 1);
        }
        StringBuilder sb = new StringBuilder(256).append("CONNECT {\"echo\":true,\"verbose\":false,\"pedantic\":false,");
        if (user != null) {
            sb.append("\"user\":");
            ServerInfo.field(sb, user).append(",\"pass\":");
            ServerInfo.field(sb, pass).append(',');
        }
        sb.append("\"tls_required\":").append(tls != null).append(",\"headers\":true,\"name\":");
        ServerInfo.field(sb, serverId()).append(",\"cluster\":");
        ServerInfo.field(sb, name);
        if (dynamicName) {
            sb.append(",\"cluster_dynamic\":true");
        }
        return sb.append("}\r\n").toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Our route INFO, sent first on every route (proto 2, our own client URLs only). */
    byte[] routeInfoLine() {
        String host = cc.host();
        int port = routePort;
        String ip = null;
        if (cc.advertise() != null) {
            int colon = cc.advertise().lastIndexOf(':');
            host = cc.advertise().substring(0, colon);
            port = Integer.parseInt(cc.advertise().substring(colon + 1));
            ip = "nats-route://" + cc.advertise() + "/";
        }
        String serverName = config.serverName() == null ? serverId() : config.serverName();
        return infoJson(serverId(), serverName, host, port, ip, ownClientUrls, ownWsUrls, dynamicName, " ");
    }

    /** The WebSocket listener is up, before the routes (its URLs go in our route INFO). */
    void setOwnWebSocketUrls(List<String> urls) {
        ownWsUrls = List.copyOf(urls);
    }

    private byte[] infoJson(String id, String serverName, String host, int port, String ip, List<String> clientUrls,
            List<String> wsUrls, boolean dynamic, String beforeCrlf) {
        StringBuilder sb = new StringBuilder(384).append("INFO {\"server_id\":");
        ServerInfo.field(sb, id).append(",\"server_name\":");
        ServerInfo.field(sb, serverName == null ? id : serverName).append(",\"version\":");
        ServerInfo.field(sb, ServerInfo.VERSION).append(",\"proto\":2,\"go\":");
        ServerInfo.field(sb, "java" + Runtime.version().feature()).append(",\"host\":");
        ServerInfo.field(sb, host).append(",\"port\":").append(port).append(",\"headers\":true,");
        if (cc.authRequired()) {
            sb.append("\"auth_required\":true,");
        }
        if (tls != null) {
            sb.append("\"tls_required\":true,\"tls_verify\":true,");
        }
        sb.append("\"max_payload\":").append(config.maxPayload());
        if (ip != null) {
            sb.append(",\"ip\":");
            ServerInfo.field(sb, ip);
        }
        sb.append(",\"cluster\":");
        ServerInfo.field(sb, name);
        if (dynamic) {
            sb.append(",\"cluster_dynamic\":true");
        }
        String raft = raftEndpoint;
        if (raft != null && id.equals(serverId())) {
            sb.append(",\"jetstream\":true,\"jetkv_raft\":");
            ServerInfo.field(sb, raft);
            sb.append(raftMeta);
            if (!config.serverTags().isEmpty()) {
                // stream placement by tags: nats-server sends them in statsz, JetKV with the Ratis address
                sb.append(",\"jetkv_tags\":[");
                for (int i = 0; i < config.serverTags().size(); i++) {
                    if (i > 0) {
                        sb.append(',');
                    }
                    ServerInfo.field(sb, config.serverTags().get(i));
                }
                sb.append(']');
            }
        }
        if (!clientUrls.isEmpty()) {
            sb.append(",\"connect_urls\":[");
            for (int i = 0; i < clientUrls.size(); i++) {
                if (i > 0) {
                    sb.append(',');
                }
                ServerInfo.field(sb, clientUrls.get(i));
            }
            sb.append(']');
        }
        if (!wsUrls.isEmpty()) {
            sb.append(",\"ws_connect_urls\":[");
            for (int i = 0; i < wsUrls.size(); i++) {
                if (i > 0) {
                    sb.append(',');
                }
                ServerInfo.field(sb, wsUrls.get(i));
            }
            sb.append(']');
        }
        return sb.append('}').append(beforeCrlf).append("\r\n").toString().getBytes(StandardCharsets.UTF_8);
    }

    // ---- registry ----

    /**
     * Registers a route whose peer INFO arrived; false when another route to the same server stays (the caller
     * closes this one). Between two routes to one server, the one dialled by the server with the smaller id
     * stays, so both ends keep the same connection when they dialled each other at once.
     */
    synchronized boolean register(RouteConnection rc) {
        if (closed) {
            return false;
        }
        String id = rc.remoteId;
        dialling.remove(id);
        RouteConnection existing = routes.get(id);
        if (existing != null) {
            String preferred = serverId().compareTo(id) < 0 ? serverId() : id;
            boolean newPreferred = (rc.solicited ? serverId() : id).equals(preferred);
            boolean oldPreferred = (existing.solicited ? serverId() : id).equals(preferred);
            if (!newPreferred || oldPreferred) {
                inheritUrl(existing, rc);
                return false;
            }
            inheritUrl(rc, existing);
            existing.duplicate = true;
            existing.closeFromAnyThread();
            unrefClientUrls(existing.remoteClientUrls);
            unref(wsUrlRefs, existing.remoteWsUrls);
        }
        routes.put(id, rc);
        // all current interest first, then whatever changes later (appended under this same lock)
        for (String accountSubject : plainInterest.keySet()) {
            rc.outbox().appendRaw(rsPlus(accountSubject, null, 0));
        }
        for (Map.Entry<String, Integer> e : queueInterest.entrySet()) {
            if (e.getValue() > 0) {
                // "account subject queue": neither an account name nor a subject holds a space
                int sp = e.getKey().lastIndexOf(' ');
                rc.outbox().appendRaw(rsPlus(e.getKey().substring(0, sp), e.getKey().substring(sp + 1), e.getValue()));
            }
        }
        // tell the other servers about the new one: they dial it (gossip, full mesh)
        byte[] gossip = infoJson(id, rc.remoteName, rc.remoteHost, rc.remoteRoutePort, rc.remoteRouteUrl,
                rc.remoteClientUrls, rc.remoteWsUrls, false, "");
        for (RouteConnection other : routes.values()) {
            if (other != rc) {
                other.send(gossip);
            }
        }
        refClientUrls(rc.remoteClientUrls);
        ref(wsUrlRefs, rc.remoteWsUrls);
        refreshClientInfo(true);
        return true;
    }

    /** A dropped duplicate we dialled leaves its URL to the route that stays, to be re-dialled after its loss. */
    private static void inheritUrl(RouteConnection keep, RouteConnection drop) {
        if (drop.url != null && keep.url == null) {
            keep.url = drop.url;
            keep.explicit = drop.explicit;
        } else if (drop.explicit && keep.url != null) {
            keep.explicit = true;
        }
    }

    /** A route closed (registered or not): forget it, update clients, re-dial if it was ours to dial. */
    void closed(RouteConnection rc, boolean registered) {
        boolean redial;
        synchronized (this) {
            if (rc.gossipId != null) {
                dialling.remove(rc.gossipId); // a later gossip about that server may try again
            }
            if (rc.remoteId != null && routes.get(rc.remoteId) == rc) {
                routes.remove(rc.remoteId);
                unrefClientUrls(rc.remoteClientUrls);
                unref(wsUrlRefs, rc.remoteWsUrls);
                // not while shutting down: our clients would learn a pool without the servers they must fail
                // over to (jnats and nats.go drop discovered URLs an INFO no longer lists)
                if (!closed) {
                    refreshClientInfo(true);
                }
                LOG.info("{} - rid:{} - Route connection to {} closed", rc.peer(), rc.rid(), rc.remoteName);
                RaftPeers p = raftPeers;
                if (p != null) {
                    p.gone(rc.remoteName);
                }
            }
            redial = !closed && !rc.duplicate && rc.url != null && !selfUrls.contains(key(rc.url))
                    && (rc.remoteId == null || !routes.containsKey(rc.remoteId));
        }
        if (redial) {
            URI url = rc.url;
            boolean explicit = rc.explicit;
            // A random part in the delay, as nats-server has: when two servers dialled each other at once and
            // each kept the connection the other dropped, both are gone, and two redials at the same moment
            // would meet the same way again.
            long jitter = ThreadLocalRandom.current().nextLong(REDIAL_JITTER_MILLIS);
            if (explicit) {
                workers.next().schedule(() -> dial(url, true, 0), RECONNECT_MILLIS + jitter, TimeUnit.MILLISECONDS);
            } else if (registered) {
                // a gossiped route that was up: connect_retries+1 more attempts, as nats-server does
                workers.next().schedule(() -> dial(url, false, cc.connectRetries()), jitter, TimeUnit.MILLISECONDS);
            }
        }
    }

    synchronized void routeToSelf(URI url) {
        if (url != null) {
            selfUrls.add(key(url));
        }
    }

    /** Gossip INFO from {@code from} about server {@code id}: dial it unless known or configured. */
    void gossip(String id, String urlText, RouteConnection from) {
        if (urlText == null) {
            return;
        }
        URI url;
        try {
            url = ClusterConfig.parseRouteUrl(urlText.endsWith("/") ? urlText.substring(0, urlText.length() - 1)
                    : urlText);
        } catch (IllegalArgumentException e) {
            LOG.debug("{} - rid:{} - ignoring gossip with bad URL {}", from.peer(), from.rid(), urlText);
            return;
        }
        synchronized (this) {
            if (closed || id.equals(serverId()) || routes.containsKey(id) || dialling.contains(id)
                    || selfUrls.contains(key(url))) {
                return;
            }
            for (URI configured : cc.routes()) {
                if (key(configured).equals(key(url))) {
                    return; // dialled anyway, for ever
                }
            }
            dialling.add(id);
        }
        LOG.debug("Implicit route to {} at {} learnt from {}", id, urlText, from.remoteName);
        dial(url, false, cc.connectRetries(), id);
    }

    private void dial(URI url, boolean explicit, int retriesLeft) {
        dial(url, explicit, retriesLeft, null);
    }

    private void dial(URI url, boolean explicit, int retriesLeft, String forId) {
        if (closed) {
            return;
        }
        new Bootstrap()
                .group(workers)
                .channel(Epoll.isAvailable() ? EpollSocketChannel.class : NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 2000)
                .option(ChannelOption.RCVBUF_ALLOCATOR, readSizes())
                .handler(initializer(url, explicit, forId))
                .connect(url.getHost(), url.getPort())
                .addListener(f -> {
                    if (f.isSuccess()) {
                        return;
                    }
                    LOG.debug("Error trying to connect to route {}: {}", url, f.cause() == null ? "?" : f.cause());
                    if (closed) {
                        return;
                    }
                    if (explicit || retriesLeft > 0) {
                        workers.next().schedule(() -> dial(url, explicit, explicit ? 0 : retriesLeft - 1, forId),
                                RECONNECT_MILLIS, TimeUnit.MILLISECONDS);
                    } else if (forId != null) {
                        synchronized (this) {
                            dialling.remove(forId);
                        }
                    }
                });
    }

    /** Large reads for a busy route, as for a streaming publisher: fewer read calls and flushes per message. */
    private static io.netty.channel.RecvByteBufAllocator readSizes() {
        return new io.netty.channel.AdaptiveRecvByteBufAllocator(64, 2048, 256 * 1024);
    }

    /** The routes' TLS now, or null when they are plaintext. */
    io.jetkv.server.tls.ServerTls tls() {
        return tls;
    }

    /**
     * A config reload's new route certificates (the reload thread): routes accepted or dialled from now on use
     * them. {@link ConfigReload} refuses a reload that would turn route TLS on or off.
     */
    void reloadTls(io.jetkv.server.tls.ServerTls newTls) {
        if ((newTls == null) != (tls == null)) {
            throw new IllegalStateException("route TLS cannot be turned on or off by a reload");
        }
        tls = newTls;
    }

    private ChannelInitializer<SocketChannel> initializer(URI url, boolean explicit, String gossipId) {
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(SocketChannel ch) {
                RouteConnection rc = new RouteConnection(Cluster.this, server::knownRouter, nextRid.incrementAndGet(),
                        url, explicit);
                rc.gossipId = gossipId;
                if (closed) {
                    ch.close();
                    return;
                }
                channels.add(ch);
                io.jetkv.server.tls.ServerTls routeTls = tls;
                if (routeTls != null) {
                    // routes start TLS at once, before CONNECT and INFO (nats-server's createRoute)
                    if (url == null) {
                        routeTls.install(ch.pipeline());
                    } else {
                        routeTls.installDialled(ch.pipeline(), url.getHost(), url.getPort());
                    }
                }
                // RMSG lines carry queue names; payloads are bounded by what one route may have pending
                int maxLine = Math.max(config.maxControlLine(), 64 * 1024);
                int maxMsg = (int) Math.min(Integer.MAX_VALUE - 1024, Math.max(config.maxPending(), config.maxPayload()));
                ch.pipeline().addLast("decoder", new RouteOpDecoder(maxLine, maxMsg, rc)).addLast("route", rc);
            }
        };
    }

    // ---- interest ----

    /**
     * The interest listener of {@code account}'s subject index: its local subscriptions become
     * {@code RS+ <account> ...}/{@code RS- <account> ...} on every route, counted per account, subject and queue
     * group as nats-server counts them.
     */
    SubjectIndex.InterestListener listenerFor(String account) {
        return new SubjectIndex.InterestListener() {
            @Override
            public void added(Sub sub) {
                Cluster.this.added(account, sub);
            }

            @Override
            public void removed(Sub sub) {
                Cluster.this.removed(account, sub);
            }
        };
    }

    private synchronized void added(String account, Sub sub) {
        if (sub.queue == null) {
            String key = account + " " + sub.subject;
            int n = plainInterest.merge(key, 1, Integer::sum);
            if (n == 1) {
                broadcast(rsPlus(key, null, 0));
            }
        } else {
            String key = account + " " + sub.subject;
            String qkey = key + " " + sub.queue;
            int n = queueInterest.merge(qkey, 1, Integer::sum);
            if (n == 0) {
                queueInterest.remove(qkey);
            } else if (n > 0) {
                broadcast(rsPlus(key, sub.queue, n));
            }
        }
    }

    private synchronized void removed(String account, Sub sub) {
        String key = account + " " + sub.subject;
        if (sub.queue == null) {
            int n = plainInterest.merge(key, -1, Integer::sum);
            if (n == 0) {
                plainInterest.remove(key);
                broadcast(rsMinus(key, null));
            }
        } else {
            String qkey = key + " " + sub.queue;
            int n = queueInterest.merge(qkey, -1, Integer::sum);
            if (n > 0) {
                broadcast(rsPlus(key, sub.queue, n)); // the group's new weight
            } else if (n == 0) {
                queueInterest.remove(qkey);
                broadcast(rsMinus(key, sub.queue));
            }
        }
    }

    private void broadcast(byte[] line) {
        for (RouteConnection rc : routes.values()) {
            rc.send(line);
        }
    }

    /** {@code accountSubject}: the account and the subject, separated by one space (the wire's own order). */
    private static byte[] rsPlus(String accountSubject, String queue, int weight) {
        String s = queue == null ? "RS+ " + accountSubject + "\r\n"
                : "RS+ " + accountSubject + " " + queue + " " + weight + "\r\n";
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] rsMinus(String accountSubject, String queue) {
        String s = queue == null ? "RS- " + accountSubject + "\r\n" : "RS- " + accountSubject + " " + queue + "\r\n";
        return s.getBytes(StandardCharsets.UTF_8);
    }

    // ---- cluster name ----

    /** Whether a peer's cluster name fits ours; a generated name of ours gives way to a configured one. */
    synchronized boolean acceptClusterName(String theirs, boolean theirsDynamic) {
        if (theirs == null || theirs.equals(name)) {
            return true;
        }
        if (dynamicName && !theirsDynamic) {
            LOG.info("Cluster name updated to {}", theirs);
            name = theirs;
            dynamicName = false;
            refreshClientInfo(true);
            return true;
        }
        if (dynamicName && theirs.compareTo(name) < 0) {
            name = theirs; // both generated: settle on the smaller, as both ends will
            refreshClientInfo(true);
            return true;
        }
        return theirsDynamic;
    }

    // ---- client URLs ----

    synchronized void clientUrlsChanged(RouteConnection rc, List<String> urls, List<String> wsUrls) {
        if (routes.get(rc.remoteId) == rc) {
            unrefClientUrls(rc.remoteClientUrls);
            refClientUrls(urls);
            unref(wsUrlRefs, rc.remoteWsUrls);
            ref(wsUrlRefs, wsUrls);
        }
        rc.remoteClientUrls = urls;
        rc.remoteWsUrls = wsUrls;
        refreshClientInfo(true);
    }

    private static void ref(Map<String, Integer> refs, List<String> urls) {
        for (String u : urls) {
            refs.merge(u, 1, Integer::sum);
        }
    }

    private static void unref(Map<String, Integer> refs, List<String> urls) {
        for (String u : urls) {
            refs.computeIfPresent(u, (k, n) -> n <= 1 ? null : n - 1);
        }
    }

    private void refClientUrls(List<String> urls) {
        for (String u : urls) {
            clientUrlRefs.merge(u, 1, Integer::sum);
        }
    }

    private void unrefClientUrls(List<String> urls) {
        for (String u : urls) {
            clientUrlRefs.computeIfPresent(u, (k, n) -> n <= 1 ? null : n - 1);
        }
    }

    /** Rebuilds client INFO (cluster name, connect_urls: ours first) and, when asked, pushes it to clients. */
    private void refreshClientInfo(boolean push) {
        List<String> urls = new ArrayList<>();
        if (!cc.noAdvertise()) {
            if (!lameDuck) {
                urls.addAll(ownClientUrls);
            }
            for (String u : clientUrlRefs.keySet()) {
                if (!urls.contains(u)) {
                    urls.add(u);
                }
            }
        }
        List<String> wsUrls = new ArrayList<>();
        if (!cc.noAdvertise()) {
            if (!lameDuck) {
                wsUrls.addAll(ownWsUrls);
            }
            for (String u : wsUrlRefs.keySet()) {
                if (!wsUrls.contains(u)) {
                    wsUrls.add(u);
                }
            }
        }
        List<String> before = server.info().connectUrls();
        String nameBefore = server.info().clusterName();
        server.info().setCluster(name, urls, wsUrls);
        if (push && !cc.noAdvertise() && (!urls.equals(before) || !name.equals(nameBefore))) {
            server.forEachClient(ClientConnection::sendAsyncInfo);
        }
    }

    /** This server's client URLs, {@code host:port}: each non-loopback address when listening on all of them. */
    static List<String> clientUrls(String host, int port) {
        List<String> out = new ArrayList<>();
        try {
            InetAddress addr = InetAddress.getByName(host);
            if (!addr.isAnyLocalAddress()) {
                return List.of(RouteConnection.hostPort(host, port));
            }
            for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                if (!ni.isUp()) {
                    continue;
                }
                for (InetAddress a : Collections.list(ni.getInetAddresses())) {
                    if (a.isLoopbackAddress() || a.isLinkLocalAddress() || !(a instanceof Inet4Address)) {
                        continue;
                    }
                    out.add(RouteConnection.hostPort(a.getHostAddress(), port));
                }
            }
        } catch (java.io.IOException e) {
            LOG.debug("cannot list interfaces: {}", e.toString());
        }
        if (out.isEmpty()) {
            out.add(RouteConnection.hostPort("127.0.0.1", port));
        }
        return out;
    }

    // ---- shutdown ----

    /**
     * Lame duck mode starts: each route gets our INFO with {@code "ldm":true} (the peers stop advertising our
     * client URLs to their clients), and our clients' next INFO lists only the other servers. Any thread.
     */
    synchronized void enterLameDuck() {
        lameDuck = true;
        String line = new String(routeInfoLine(), StandardCharsets.UTF_8);
        // INFO {...} \r\n: "ldm" goes in before the closing brace
        int close = line.lastIndexOf('}');
        byte[] ldm = (line.substring(0, close) + ",\"ldm\":true" + line.substring(close))
                .getBytes(StandardCharsets.UTF_8);
        for (RouteConnection rc : routes.values()) {
            rc.send(ldm);
        }
        refreshClientInfo(false);
    }

    void close() {
        synchronized (this) {
            closed = true;
        }
        if (listener != null) {
            listener.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
        channels.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
    }

    private static String key(URI url) {
        return url.getHost().toLowerCase(java.util.Locale.ROOT) + ":" + url.getPort();
    }

    private static String randomName() {
        SecureRandom r = new SecureRandom();
        StringBuilder sb = new StringBuilder(22);
        for (int i = 0; i < 22; i++) {
            sb.append(ALNUM[r.nextInt(ALNUM.length)]);
        }
        return sb.toString();
    }
}
