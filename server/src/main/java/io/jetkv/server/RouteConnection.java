package io.jetkv.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jetkv.protocol.codec.ProtocolError;
import io.jetkv.protocol.codec.RouteOp;
import io.jetkv.protocol.codec.RouteOpHandler;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One route: a connection to another server of the cluster, dialled by us ({@link #url} set) or accepted on
 * the cluster port. Handles the handshake (CONNECT with route credentials, INFO both ways), keeps the peer's
 * interest ({@code RS+}/{@code RS-}) as remote entries in the {@link SubjectIndex}, delivers its
 * {@code RMSG}/{@code HMSG} to local subscribers only (one hop), and answers its INFO gossip.
 *
 * <p>Threading: fields are confined to the channel's event loop, except the peer's identity and URLs
 * (volatile, read by {@link Cluster} under its lock) and the {@link #outbox()}, which any thread may append to.
 */
final class RouteConnection extends ChannelInboundHandlerAdapter implements RouteOpHandler {
    private static final Logger LOG = LoggerFactory.getLogger(RouteConnection.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final byte[] PING = "PING\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] PONG = "PONG\r\n".getBytes(StandardCharsets.US_ASCII);
    private final Cluster cluster;
    /** The subject space of an account this server knows, or null for an unknown one (its traffic is ignored). */
    private final java.util.function.Function<String, Router> routers;
    private final long rid;
    private final Router.TouchedOutboxes touched = new Router.TouchedOutboxes();
    /** The peer's interest, by "account subject" or "account subject queue", with the account's router. */
    private final HashMap<String, RemoteSub> remoteSubs = new HashMap<>();
    // RMSG of one account usually follow each other: its router, looked up once
    private String lastAccount;
    private Router lastRouter;

    private record RemoteSub(Router router, Sub sub) {}
    /** {@link #remoteSubs}' size, for the monitoring thread. */
    private volatile int remoteSubCount;

    /** Where we dialled, null for an accepted route; re-dialled after loss (inherited from a dropped duplicate). */
    volatile URI url;
    /** A configured route: re-dialled for ever. */
    volatile boolean explicit;
    final boolean solicited;
    /** For a route dialled because of gossip: the server id the gossip named. */
    volatile String gossipId;

    private Channel channel;
    private Outbox outbox;
    private String peer = "?";
    private boolean connectReceived;
    private boolean registered;
    private boolean closing;
    private int pingsOut;
    private ScheduledFuture<?> pingTimer;
    private ScheduledFuture<?> authTimer;
    // the decoder hands over the same String while the peer repeats a subject: encode it once
    private String lastSubject;
    private byte[] lastSubjectBytes;

    // the peer, once its INFO arrived
    volatile String remoteId;
    volatile String remoteName;
    /** The peer's Ratis address from its INFO ({@code jetkv_raft}), null until it runs clustered JetStream. */
    volatile String remoteRaft;
    /** The peer's JetStream meta group members from its INFO ({@code jetkv_meta}: peer id to Ratis address). */
    volatile Map<String, String> remoteMeta = Map.of();
    /** The peer's {@code server_tags} from its INFO ({@code jetkv_tags}), for stream placement. */
    volatile List<String> remoteTags = List.of();
    /** How other servers reach the peer's route port, {@code nats-route://h:p/}. */
    volatile String remoteRouteUrl;
    volatile int remoteRoutePort;
    volatile String remoteHost;
    /** The peer's own client URLs ({@code connect_urls} of its route INFO). */
    volatile List<String> remoteClientUrls = List.of();
    /** The peer's WebSocket URLs ({@code ws_connect_urls} of its route INFO). */
    volatile List<String> remoteWsUrls = List.of();
    /** Closed because another route to the same server won: no re-dial, no unregistering. */
    volatile boolean duplicate;

    RouteConnection(Cluster cluster, java.util.function.Function<String, Router> routers, long rid, URI url,
            boolean explicit) {
        this.cluster = cluster;
        this.routers = routers;
        this.rid = rid;
        this.url = url;
        this.explicit = explicit;
        this.solicited = url != null;
    }

    Outbox outbox() {
        return outbox;
    }

    /** Any thread: what {@code /routez} shows of this route (the fields read are volatile or final). */
    io.jetkv.server.monitor.RouteInfo info() {
        return new io.jetkv.server.monitor.RouteInfo(rid, remoteId, remoteName, solicited, explicit, remoteHost,
                remoteRoutePort, remoteSubCount);
    }

    long rid() {
        return rid;
    }

    String peer() {
        return peer;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        // routes are bounded by max_pending only: a route's write deadline is not implemented
        outbox = new Outbox(channel, cluster.maxPending(), cluster::writeDeadline, this::slowRoute, cluster.stats());
        InetSocketAddress remote = (InetSocketAddress) channel.remoteAddress();
        peer = remote == null ? "?" : remote.getAddress().getHostAddress() + ":" + remote.getPort();
        LOG.debug("{} - rid:{} - Route connection created", peer, rid);
        if (solicited) {
            // the dialling side speaks first, CONNECT and INFO in one write, as nats-server does
            outbox.appendRaw(cluster.connectLine(url));
        } else if (cluster.authRequired()) {
            authTimer = channel.eventLoop().schedule(this::authTimeout, cluster.authTimeoutMillis(),
                    TimeUnit.MILLISECONDS);
        }
        outbox.appendRaw(cluster.routeInfoLine());
        long interval = cluster.pingIntervalMillis();
        pingTimer = channel.eventLoop().scheduleAtFixedRate(this::pingTick, interval, interval, TimeUnit.MILLISECONDS);
        outbox.flush();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        LOG.debug("{} - rid:{} - Route connection closed", peer, rid);
        closing = true;
        cancelTimers();
        // the peer's interest leaves with the route
        for (RemoteSub r : remoteSubs.values()) {
            r.sub().closed = true;
            r.router().index().remove(r.sub());
        }
        remoteSubs.clear();
        remoteSubCount = 0;
        if (outbox != null) {
            outbox.discard();
        }
        cluster.closed(this, registered);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        touched.add(outbox);
        touched.flushFrom(channel.eventLoop());
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debug("{} - rid:{} - Route connection error: {}", peer, rid, cause.toString());
        ctx.close();
    }

    @Override
    public void op(RouteOp op) {
        if (closing) {
            return;
        }
        if (LOG.isTraceEnabled()) {
            LOG.trace("{} - rid:{} - <<- [{}]", peer, rid, op);
        }
        if (op instanceof RouteOp.Sub s) {
            if (registered) {
                remoteSub(s);
            }
        } else if (op instanceof RouteOp.Unsub u) {
            if (registered) {
                remoteUnsub(u);
            }
        } else if (op == RouteOp.Ping.INSTANCE) {
            outbox.appendRaw(PONG);
        } else if (op == RouteOp.Pong.INSTANCE) {
            pingsOut = 0;
        } else if (op instanceof RouteOp.Info info) {
            processInfo(info.json());
        } else if (op instanceof RouteOp.Connect connect) {
            processConnect(connect.json());
        } else if (op instanceof RouteOp.Err err) {
            LOG.error("{} - rid:{} - Route Error '{}'", peer, rid, err.text());
            close();
        } else if (op instanceof RouteOp.Violation v) {
            LOG.error("{} - rid:{} - Route protocol error: {}", peer, rid, v.error());
            sendErr(v.error().text() == null ? ProtocolError.UNKNOWN_OPERATION.text() : v.error().text());
        }
    }

    @Override
    public void msg(String account, String subject, String reply, List<String> queues, int headerSize,
            ByteBuf data) {
        if (LOG.isTraceEnabled()) {
            LOG.trace("{} - rid:{} - <<- [{} {} {} {}{} {}]", peer, rid, headerSize > 0 ? "HMSG" : "RMSG", account,
                    subject, reply == null ? "" : reply + " ", queues, data.readableBytes());
        }
        if (closing || !registered) {
            return;
        }
        Router router = router(account);
        if (router == null) {
            return;
        }
        if (subject != lastSubject) {
            lastSubjectBytes = subject.getBytes(StandardCharsets.UTF_8);
            lastSubject = subject;
        }
        router.routeFromRoute(subject, lastSubjectBytes, reply, queues, data, headerSize, touched);
    }

    private void processConnect(String json) {
        if (solicited) {
            return; // only the dialling side sends CONNECT
        }
        JsonNode n = parse(json);
        if (n == null) {
            sendErr(ProtocolError.UNKNOWN_OPERATION.text());
            return;
        }
        if (cluster.authRequired() && !cluster.checkCredentials(text(n, "user"), text(n, "pass"))) {
            LOG.error("{} - rid:{} - authentication error", peer, rid);
            sendErr(ProtocolError.AUTHORIZATION_VIOLATION.text());
            return;
        }
        if (authTimer != null) {
            authTimer.cancel(false);
            authTimer = null;
        }
        String clusterName = text(n, "cluster");
        if (!cluster.acceptClusterName(clusterName, n.path("cluster_dynamic").asBoolean(false))) {
            LOG.error("{} - rid:{} - Cluster Name Conflict: {}", peer, rid, clusterName);
            close();
            return;
        }
        connectReceived = true;
    }

    private void processInfo(String json) {
        JsonNode n = parse(json);
        if (n == null) {
            sendErr(ProtocolError.UNKNOWN_OPERATION.text());
            return;
        }
        String id = text(n, "server_id");
        if (id == null) {
            return;
        }
        if (registered) {
            if (id.equals(remoteId)) {
                // the peer's own INFO again: its client URLs may have changed; a peer in lame duck mode is
                // leaving, so its clients' URLs are no longer offered to ours
                List<String> urls = n.path("ldm").asBoolean(false) ? List.of() : strings(n.path("connect_urls"));
                List<String> wsUrls = n.path("ldm").asBoolean(false) ? List.of() : strings(n.path("ws_connect_urls"));
                if (n.path("ldm").asBoolean(false)) {
                    LOG.info("{} - rid:{} - Route {} entered lame duck mode", peer, rid, remoteName);
                }
                if (!urls.equals(remoteClientUrls) || !wsUrls.equals(remoteWsUrls)) {
                    cluster.clientUrlsChanged(this, urls, wsUrls);
                }
                String raft = text(n, "jetkv_raft");
                Map<String, String> meta = stringMap(n.path("jetkv_meta"));
                List<String> tags = strings(n.path("jetkv_tags"));
                if (raft != null && (!raft.equals(remoteRaft) || !meta.equals(remoteMeta) || !tags.equals(remoteTags))) {
                    remoteRaft = raft;
                    remoteMeta = meta;
                    remoteTags = tags;
                    cluster.raftPeerSeen(this);
                }
            } else {
                cluster.gossip(id, gossipUrl(n), this);
            }
            return;
        }
        if (!solicited && cluster.authRequired() && !connectReceived) {
            sendErr(ProtocolError.AUTHORIZATION_VIOLATION.text());
            return;
        }
        if (id.equals(cluster.serverId())) {
            LOG.debug("{} - rid:{} - Detected route to self, ignoring {}", peer, rid, url);
            cluster.routeToSelf(url);
            close();
            return;
        }
        if (solicited) {
            String clusterName = text(n, "cluster");
            if (!cluster.acceptClusterName(clusterName, n.path("cluster_dynamic").asBoolean(false))) {
                LOG.error("{} - rid:{} - Cluster Name Conflict: {}", peer, rid, clusterName);
                close();
                return;
            }
        }
        remoteId = id;
        remoteName = text(n, "server_name");
        remoteClientUrls = strings(n.path("connect_urls"));
        remoteWsUrls = strings(n.path("ws_connect_urls"));
        remoteRoutePort = n.path("port").asInt(0);
        String ip = text(n, "ip");
        InetSocketAddress addr = (InetSocketAddress) channel.remoteAddress();
        remoteHost = addr == null ? text(n, "host") : addr.getAddress().getHostAddress();
        // no advertise: other servers reach the peer at the address it connected from and its INFO port
        remoteRouteUrl = ip != null ? ip : "nats-route://" + hostPort(remoteHost, remoteRoutePort) + "/";
        if (!cluster.register(this)) {
            LOG.debug("{} - rid:{} - Detected duplicate remote route {}", peer, rid, id);
            duplicate = true;
            close();
            return;
        }
        registered = true;
        LOG.info("{} - rid:{} - Route connection created to {} ({})", peer, rid, remoteName, id);
        remoteRaft = text(n, "jetkv_raft");
        remoteMeta = stringMap(n.path("jetkv_meta"));
        remoteTags = strings(n.path("jetkv_tags"));
        cluster.raftPeerSeen(this);
    }

    /** The URL to dial for the server a gossip INFO describes: its {@code ip}, else its host and port. */
    private static String gossipUrl(JsonNode n) {
        String ip = text(n, "ip");
        if (ip != null) {
            return ip;
        }
        String host = text(n, "host");
        int port = n.path("port").asInt(0);
        return host == null || port == 0 ? null : "nats-route://" + hostPort(host, port) + "/";
    }

    static String hostPort(String host, int port) {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }

    /** The router of {@code account} (the decoder hands over the same String while it repeats). */
    private Router router(String account) {
        if (account != lastAccount) {
            lastRouter = routers.apply(account);
            lastAccount = account;
        }
        return lastRouter;
    }

    private void remoteSub(RouteOp.Sub s) {
        String key = s.account() + " " + (s.queue() == null ? s.subject() : s.subject() + " " + s.queue());
        RemoteSub existing = remoteSubs.get(key);
        if (existing != null) {
            existing.sub().weight = s.weight(); // a queue group's new member count
            return;
        }
        Router router = routers.apply(s.account());
        if (router == null) {
            // as nats-server with accounts from its configuration: interest in an account it lacks is dropped
            LOG.debug("{} - rid:{} - ignoring RS+ for unknown account {}", peer, rid, s.account());
            return;
        }
        if (!SubjectIndex.validPattern(s.subject())) {
            LOG.debug("{} - rid:{} - ignoring RS+ for invalid subject {}", peer, rid, s.subject());
            return;
        }
        Sub sub = new Sub(s.subject(), s.queue(), s.weight(), this);
        remoteSubs.put(key, new RemoteSub(router, sub));
        remoteSubCount = remoteSubs.size();
        router.index().insert(sub);
    }

    private void remoteUnsub(RouteOp.Unsub u) {
        String key = u.account() + " " + (u.queue() == null ? u.subject() : u.subject() + " " + u.queue());
        RemoteSub r = remoteSubs.remove(key);
        remoteSubCount = remoteSubs.size();
        if (r != null) {
            r.sub().closed = true;
            r.router().index().remove(r.sub());
        }
    }

    /** Sends raw protocol bytes (interest, gossip) from any thread, flushed on the route's loop. */
    void send(byte[] bytes) {
        Outbox o = outbox;
        if (o != null) {
            o.appendRaw(bytes);
            o.flushFrom(null);
        }
    }

    /** Closes from any thread. */
    void closeFromAnyThread() {
        Channel ch = channel;
        if (ch != null) {
            ch.eventLoop().execute(this::close);
        }
    }

    private void pingTick() {
        if (closing || !channel.isActive()) {
            return;
        }
        if (pingsOut + 1 > cluster.pingMax()) {
            LOG.debug("{} - rid:{} - Stale Route Connection - Closing", peer, rid);
            sendErr(ProtocolError.STALE_CONNECTION.text());
            return;
        }
        pingsOut++;
        outbox.appendRaw(PING);
        outbox.flush();
    }

    private void authTimeout() {
        if (!connectReceived && !closing) {
            LOG.error("{} - rid:{} - Authentication Timeout", peer, rid);
            sendErr(ProtocolError.AUTHENTICATION_TIMEOUT.text());
        }
    }

    /**
     * The peer stopped reading: more than {@code max_pending} queued for it, or a write it has not taken within
     * {@code write_deadline}. Counted as a slow consumer, as nats-server counts routes, and closed at once (a
     * route that takes nothing has lost its peer; it is redialled, and interest is exchanged anew).
     */
    private void slowRoute(String exceeded) {
        cluster.stats().slowConsumer();
        LOG.warn("{} - rid:{} - Slow Consumer Detected on route: {}", peer, rid,
                exceeded.startsWith("WriteDeadline") ? exceeded : "pending bytes over " + cluster.maxPending());
        channel.eventLoop().execute(() -> {
            // nothing more can be written to a peer that does not read: close at once
            closing = true;
            cancelTimers();
            channel.close();
        });
    }

    private void sendErr(String text) {
        outbox.appendRaw(("-ERR '" + text + "'\r\n").getBytes(StandardCharsets.UTF_8));
        close();
    }

    /** Writes what is queued, then closes. Event loop only. */
    private void close() {
        if (closing) {
            return;
        }
        closing = true;
        cancelTimers();
        outbox.flush();
        channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        // a peer that stopped reading never lets that write complete
        channel.eventLoop().schedule(() -> {
            channel.close();
        }, 2, TimeUnit.SECONDS);
    }

    private void cancelTimers() {
        if (pingTimer != null) {
            pingTimer.cancel(false);
        }
        if (authTimer != null) {
            authTimer.cancel(false);
        }
    }

    private JsonNode parse(String json) {
        try {
            JsonNode n = JSON.readTree(json);
            return n != null && n.isObject() ? n : null;
        } catch (java.io.IOException e) {
            LOG.debug("{} - rid:{} - malformed route JSON: {}", peer, rid, e.getMessage());
            return null;
        }
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    private static Map<String, String> stringMap(JsonNode object) {
        if (!object.isObject()) {
            return Map.of();
        }
        Map<String, String> out = new java.util.TreeMap<>();
        object.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().asText()));
        return out;
    }

    private static List<String> strings(JsonNode array) {
        if (!array.isArray()) {
            return List.of();
        }
        List<String> out = new ArrayList<>(array.size());
        for (JsonNode v : array) {
            out.add(v.asText());
        }
        return List.copyOf(out);
    }
}
