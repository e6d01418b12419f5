package io.jetkv.server;

import io.jetkv.config.Permissions;
import io.jetkv.config.ServerConfig;
import io.jetkv.protocol.Subject;
import io.jetkv.protocol.codec.ClientOp;
import io.jetkv.protocol.codec.ClientOpDecoder;
import io.jetkv.protocol.codec.ClientOpHandler;
import io.jetkv.protocol.codec.ProtocolError;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.handler.ssl.NotSslRecordException;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import io.jetkv.server.tls.ServerTls;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLSession;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection: its CONNECT options, subscriptions, permissions and keep-alive, and the handling
 * of each decoded {@link ClientOp}, which {@link io.jetkv.protocol.codec.ClientOpDecoder} hands it directly.
 *
 * <p>Threading: all fields are confined to the channel's event loop, except {@link #outbox()} (any thread
 * may append) and the read-only flags {@link #echo()}/{@link #headers()} that publishers on other loops
 * read (volatile).
 */
final class ClientConnection extends ChannelInboundHandlerAdapter implements ClientOpHandler {
    private static final Logger LOG = LoggerFactory.getLogger(ClientConnection.class);
    private static final byte[] PONG = "PONG\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] PING = "PING\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] OK = "+OK\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] NO_RESPONDERS_BLOCK = "NATS/1.0 503\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    // nats-server pings a client this soon after its CONNECT to measure the round trip (firstClientPingInterval)
    private static final long FIRST_PING_MILLIS = 2000;
    // and measures it again when the last measurement is older than this (DEFAULT_RTT_MEASUREMENT_INTERVAL)
    private static final long RTT_MEASUREMENT_NANOS = TimeUnit.HOURS.toNanos(1);

    private final NatsServer server;
    /** The subject space of this client's account; $G's until CONNECT names another. Event loop only. */
    private Router router;
    private String account = io.jetkv.config.AccountConfig.GLOBAL;
    private final long cid;
    private final HashMap<String, Sub> subs = new HashMap<>();
    private final Router.TouchedOutboxes touched = new Router.TouchedOutboxes();

    private Channel channel;
    private ClientOpDecoder decoder;
    private Outbox outbox;
    private String peer = "?";
    private String clientIp = "";
    /** The nonce this connection's INFO carried for nkey users to sign; null without nkey users. */
    private String nonce;
    /** The client port's TLS, installed after the plaintext INFO; null without TLS or for other listeners. */
    private ServerTls tls;
    /** Came in on the WebSocket listener, whose {@code tls { }} (and so {@code verify_and_map}) is its own. */
    private boolean websocket;
    /** Sent {@code "protocol":1}: gets INFO again when the cluster's topology changes. */
    private volatile boolean asyncInfo;
    /** The {@link ServerInfo#version} of the last INFO sent, read before building it. */
    private volatile int infoVersion;
    /** Answered the first PING after CONNECT (when a topology change the client missed is sent, as nats-server). */
    private boolean firstPongSent;
    private boolean authenticated;
    private ConnectOptions options = ConnectOptions.DEFAULTS;
    private boolean verbose = true;
    private boolean pedantic = true;
    private volatile boolean echo = true;
    private volatile boolean headers;
    private boolean noResponders;
    private PermissionCheck permissions = new PermissionCheck(Permissions.ALL);
    private boolean unrestricted = true;
    /** A user of the system account: its {@code $SYS.REQ.SERVER} requests are answered. */
    private boolean system;
    /** Who the client authenticated as, as nats-server names it ({@code $SYS.REQ.USER.INFO}); event loop only. */
    private String authUser = "";
    private boolean closing;
    /** Why the connection closes, in nats-server's words; the first cause wins, null means the client left. */
    private String closeReason;
    /** A CONNECT was accepted: the close is reported as a disconnect event too. */
    private boolean connected;
    private int pingsOut;
    private long lastActivityNanos;
    // when the last PING that measured the round trip went out; 0 until the first
    private long rttPingNanos;
    private ScheduledFuture<?> pingTimer;
    private ScheduledFuture<?> authTimer;
    /** Not read until the server is ready ({@link NatsServer#bind}); the auth timeout starts when reading does. */
    private boolean held;
    // the decoder hands over the same String while a publisher repeats a subject: encode it once
    private String lastPubSubject;
    private byte[] lastPubSubjectBytes;
    // for /connz; event loop only, read through snapshot()
    private final java.time.Instant started = java.time.Instant.now();
    private final long startedNanos = System.nanoTime();
    private long inMsgs;
    private long inBytes;
    private long rttNanos;
    private boolean rttPending;

    ClientConnection(NatsServer server, long cid) {
        this.server = server;
        this.router = server.router();
        this.cid = cid;
    }

    Outbox outbox() {
        return outbox;
    }

    boolean echo() {
        return echo;
    }

    boolean headers() {
        return headers;
    }

    long cid() {
        return cid;
    }

    /** The last measured round trip to this client in nanoseconds, 0 before the first; its event loop only. */
    long rttNanos() {
        return rttNanos;
    }

    /** Who this client is, as a shared service import's {@code Nats-Request-Info} tells it; its event loop only. */
    record Requester(java.time.Instant start, String host, long id, String user, String name, String lang,
            String version, long rttNanos, String server, String cluster, String clientType) {}

    Requester requester() {
        String serverName = server.config().serverName() == null ? server.serverId() : server.config().serverName();
        return new Requester(started, clientIp, cid, authUser, options.name(), options.lang(), options.version(),
                rttNanos, serverName, server.info().clusterName(), websocket ? "websocket" : "nats");
    }


    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        outbox = new Outbox(channel, server.config().maxPending(), () -> server.config().writeDeadline(),
                this::slowConsumer, server.stats());
        InetSocketAddress remote = (InetSocketAddress) channel.remoteAddress();
        String ip = remote == null ? "" : remote.getAddress().getHostAddress();
        peer = remote == null ? "?" : ip + ":" + remote.getPort();
        clientIp = ip;
        LOG.debug("{} - cid:{} - Client connection created", peer, cid);
        // with nkey users every client gets a nonce, as from nats-server, whatever it authenticates with
        nonce = auth().wantsNonce() ? Ed25519.nonce() : null;
        infoVersion = server.info().version();
        outbox.appendRaw(server.infoLine(cid, ip, nonce, websocket));
        if (tls != null && !tls.config().handshakeFirst()) {
            // the INFO goes out in plaintext, then the client starts TLS (nats-server's order)
            outbox.flush();
            tls.install(ctx.pipeline());
            if (held) {
                // a held channel is not read, but the handshake must go on within its timeout: one read starts
                // it, and the TLS stage reads on by itself until the handshake is done
                ctx.read();
            }
        }
        if (!server.admit(this)) {
            sendErr(ProtocolError.MAX_CONNECTIONS);
            return;
        }
        EventLoop loop = channel.eventLoop();
        lastActivityNanos = System.nanoTime();
        // until CONNECT, the plain interval (CONNECT brings the first ping forward); HPUB needs CONNECT's headers
        schedulePing(server.config().pingInterval().toMillis());
        decoder = ctx.pipeline().get(ClientOpDecoder.class);
        if (decoder != null) {
            decoder.headersEnabled(false);
        }
        if (auth().required()) {
            if (decoder != null) {
                decoder.requireConnect(true);
            }
            if (!held) {
                startAuthTimer();
            }
        } else {
            authenticated = true;
        }
        outbox.flush();
    }

    /**
     * Before {@link #channelActive}: this connection came in on the client port, which serves {@code tls}
     * (upgraded after INFO unless {@code handshake_first} put it in the pipeline already). Connections from
     * other listeners (WebSocket) bring their own TLS and never call this.
     */
    void clientPortTls(ServerTls clientPortTls) {
        this.tls = clientPortTls;
    }

    /** Event loop, before {@link #channelActive}: this connection is a WebSocket listener's. */
    ClientConnection viaWebSocket() {
        websocket = true;
        return this;
    }

    /** Whether this connection's listener maps client certificates to users ({@code verify_and_map}). */
    private boolean verifyAndMap() {
        ServerConfig c = server.config();
        return websocket ? c.websocket().tls().verifyAndMap() : c.tls().verifyAndMap();
    }

    /** Event loop, before {@link #channelActive}: the server is not ready, the channel is not read yet. */
    void held() {
        held = true;
    }

    /**
     * Any thread, once the server is ready: the channel is read from now on, and a client that must
     * authenticate gets its whole auth timeout from here, since it could not be heard before.
     */
    void endHold(Channel ch) {
        // queued behind the channel's registration (which set it up and sent INFO), so channelActive has run
        ch.eventLoop().execute(() -> {
            held = false;
            if (closing || !ch.isActive()) {
                return;
            }
            if (auth().required() && !authenticated && authTimer == null && channel != null) {
                startAuthTimer();
            }
            ch.config().setAutoRead(true);
        });
    }

    private void startAuthTimer() {
        authTimer = channel.eventLoop().schedule(this::authTimeout, auth().timeout().toMillis(),
                TimeUnit.MILLISECONDS);
    }

    /** What this client authenticates against: its listener's (the WebSocket block may override the top level). */
    private Authenticator auth() {
        return server.authenticator(websocket);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        LOG.debug("{} - cid:{} - Client connection closed", peer, cid);
        cancelTimers();
        if (channel != null) {
            // the last look at it, for /connz?state=closed and the disconnect event, before its subscriptions go
            server.clientClosed(info(java.time.Instant.now(), closeReason == null ? "Client Closed" : closeReason),
                    connected);
        }
        for (Sub sub : subs.values()) {
            sub.closed = true;
            router.index().remove(sub);
        }
        subs.clear();
        if (outbox != null) {
            outbox.discard();
        }
        server.release(this);
    }

    @Override
    public void op(ClientOp op) {
        if (closing) {
            return;
        }
        handle(op);
    }

    @Override
    public void pub(String subject, String reply, int headerSize, ByteBuf data) {
        if (closing) {
            return;
        }
        if (LOG.isTraceEnabled()) {
            LOG.trace("{} - cid:{} - <<- [{}]", peer, cid, (headerSize > 0 ? "HPUB " : "PUB ") + subject
                    + (reply == null ? "" : " " + reply) + (headerSize > 0 ? " " + headerSize : "") + " "
                    + data.readableBytes());
        }
        if (!authenticated) {
            sendErr(ProtocolError.AUTHORIZATION_VIOLATION);
            return;
        }
        processPub(subject, reply, headerSize, data);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        // once per read batch rather than per operation: only the keep-alive reads it, at ping-interval grain
        lastActivityNanos = System.nanoTime();
        server.stats().clientReadBatch();
        touched.add(outbox);
        touched.flushFrom(channel.eventLoop());
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        SslHandler tls = ctx.pipeline().get(SslHandler.class);
        if (tls != null && !tls.handshakeFuture().isDone() || cause instanceof NotSslRecordException
                || cause.getCause() instanceof NotSslRecordException) {
            // a plaintext client, a wrong certificate, no certificate: nats-server closes without an -ERR
            LOG.error("{} - cid:{} - TLS handshake error: {}", peer, cid, rootMessage(cause));
            closeReason("TLS Handshake Failure");
        } else {
            LOG.debug("{} - cid:{} - Client connection error: {}", peer, cid, cause.toString());
            closeReason("Read Error");
        }
        closing = true;
        ctx.close();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof SslHandshakeCompletionEvent done) {
            if (!done.isSuccess()) {
                closeReason("TLS Handshake Failure");
                if (done.cause() instanceof SslHandshakeTimeoutException) {
                    LOG.error("{} - cid:{} - TLS handshake timeout", peer, cid);
                }
                return;
            }
            SSLSession session = ctx.pipeline().get(SslHandler.class).engine().getSession();
            if (tls != null && !tls.pinnedOk(session)) {
                LOG.error("{} - cid:{} - TLS handshake error: client certificate not pinned", peer, cid);
                closeReason("TLS Handshake Failure");
                closing = true;
                ctx.close();
                return;
            }
            LOG.debug("{} - cid:{} - TLS handshake complete", peer, cid);
            LOG.debug("{} - cid:{} - TLS version {}, cipher suite {}", peer, cid, session.getProtocol(),
                    session.getCipherSuite());
        }
        ctx.fireUserEventTriggered(evt);
    }

    private static String rootMessage(Throwable t) {
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }

    /** The client's TLS certificate, or null (no TLS, or none sent). */
    private X509Certificate peerCertificate() {
        SslHandler tls = channel.pipeline().get(SslHandler.class);
        return tls == null ? null : ServerTls.peerCertificate(tls.engine().getSession());
    }

    private void handle(ClientOp op) {
        if (LOG.isTraceEnabled()) {
            trace(op);
        }
        if (op instanceof ClientOp.Violation v) {
            violation(v.error());
            return;
        }
        if (!authenticated && !(op instanceof ClientOp.Connect)) {
            sendErr(ProtocolError.AUTHORIZATION_VIOLATION);
            return;
        }
        if (op instanceof ClientOp.Sub sub) {
            processSub(sub);
        } else if (op instanceof ClientOp.Unsub unsub) {
            processUnsub(unsub);
        } else if (op == ClientOp.Ping.INSTANCE) {
            outbox.appendRaw(PONG);
            if (!firstPongSent) {
                // the topology may have changed between our INFO and the CONNECT that asked for async INFO
                // (no push reached this client then): send it now, after the PONG, as nats-server does
                firstPongSent = true;
                int v = server.info().version();
                if (asyncInfo && v != infoVersion) {
                    infoVersion = v;
                    outbox.appendRaw(server.infoLine(cid, clientIp, null, websocket));
                }
            }
        } else if (op == ClientOp.Pong.INSTANCE) {
            pingsOut = 0;
            if (rttPending) {
                rttPending = false;
                rttNanos = System.nanoTime() - rttPingNanos;
            }
        } else if (op instanceof ClientOp.Connect connect) {
            processConnect(connect.json());
        } else if (op instanceof ClientOp.ClientInfo info) {
            processInfo(info.json());
        }
    }

    /** Protocol trace ({@code -V}), shaped like nats-server's {@code <<- [OP args]} lines. */
    private void trace(ClientOp op) {
        String text;
        if (op instanceof ClientOp.Sub sub) {
            text = "SUB " + sub.subject() + (sub.queue() == null ? "" : " " + sub.queue()) + " " + sub.sid();
        } else if (op instanceof ClientOp.Unsub u) {
            text = "UNSUB " + u.sid() + (u.max() > 0 ? " " + u.max() : "");
        } else if (op instanceof ClientOp.Connect c) {
            text = "CONNECT " + c.json();
        } else if (op instanceof ClientOp.Violation v) {
            text = "ERROR " + v.error();
        } else if (op == ClientOp.Ping.INSTANCE) {
            text = "PING";
        } else if (op == ClientOp.Pong.INSTANCE) {
            text = "PONG";
        } else if (op instanceof ClientOp.ClientInfo i) {
            text = "INFO " + i.json();
        } else {
            text = String.valueOf(op);
        }
        LOG.trace("{} - cid:{} - <<- [{}]", peer, cid, text);
    }

    private void processConnect(String json) {
        // nats-server's first estimate of the round trip: from the connection's start to its CONNECT (until a PONG
        // measures it); /connz and a service import's Nats-Request-Info show it
        rttNanos = Math.max(1_000, System.nanoTime() - startedNanos);
        // as the reference, every CONNECT restarts the keep-alive with the short first interval
        if (pingTimer != null) {
            pingTimer.cancel(false);
        }
        long first = Math.min(FIRST_PING_MILLIS, server.config().pingInterval().toMillis());
        // plus up to 20% so that clients connected together are not pinged together
        schedulePing(first + ThreadLocalRandom.current().nextLong(first / 5 + 1));
        ConnectOptions opts;
        try {
            opts = ConnectOptions.parse(json, options);
        } catch (java.io.IOException e) {
            LOG.debug("{} - cid:{} - malformed CONNECT: {}", peer, cid, e.getMessage());
            violation(ProtocolError.MALFORMED);
            return;
        }
        options = opts;
        // credentials first: a client that fails them learns nothing else (the reference's order)
        Authenticator.Grant grant = auth().authenticate(opts, peerCertificate(), verifyAndMap(), nonce);
        if (grant == null) {
            LOG.error("{} - cid:{} - authentication error - {}", peer, cid, opts.nkey() != null
                    ? "Nkey \"" + opts.nkey() + "\"" : "User \"" + (opts.user() == null ? "" : opts.user()) + "\"");
            sendErr(ProtocolError.AUTHORIZATION_VIOLATION);
            return;
        }
        if (opts.protocol() < 0 || opts.protocol() > 1) {
            sendErr(ProtocolError.INVALID_CLIENT_PROTOCOL);
            return;
        }
        if (opts.noResponders() && !opts.headers()) {
            sendErr(ProtocolError.NO_RESPONDERS_REQUIRES_HEADERS);
            return;
        }
        if (authTimer != null) {
            authTimer.cancel(false);
            authTimer = null;
        }
        String before = account;
        if (!authenticated || subs.isEmpty()) {
            // the account is fixed once the client has subscriptions in it
            account = grant.account();
            router = server.routerFor(account);
        }
        if (connected && !before.equals(account)) {
            server.clientMovedAccount(before, account);
        }
        authenticated = true;
        authUser = grant.user();
        system = account.equals(server.config().ops().systemAccount());
        permissions = new PermissionCheck(grant.permissions());
        unrestricted = permissions.unrestricted();
        verbose = opts.verbose();
        pedantic = opts.pedantic();
        echo = opts.echo();
        headers = opts.headers();
        noResponders = opts.noResponders();
        if (decoder != null) {
            decoder.requireConnect(false);
            decoder.headersEnabled(headers);
        }
        asyncInfo = opts.protocol() >= 1;
        if (verbose) {
            outbox.appendRaw(OK);
        }
        if (!connected) {
            connected = true;
            server.clientConnected(info(null, null));
        }
    }

    /** A client's INFO is ignored, but JSON the reference cannot parse closes the connection. */
    private void processInfo(String json) {
        try {
            ConnectOptions.checkInfo(json);
        } catch (java.io.IOException e) {
            LOG.debug("{} - cid:{} - malformed INFO: {}", peer, cid, e.getMessage());
            violation(ProtocolError.MALFORMED);
        }
    }

    /** {@code data} is the decoder's unretained view: everything that keeps bytes copies them before return. */
    private void processPub(String subject, String reply, int headerSize, ByteBuf data) {
        if (pedantic && !Subject.isWellFormed(subject, false)) {
            sendErr(ProtocolError.INVALID_PUBLISH_SUBJECT);
        }
        if (!unrestricted && !permissions.canPublish(subject)) {
            sendPermissionErr("Permissions Violation for Publish to \"" + subject + "\"");
            return;
        }
        if (verbose) {
            outbox.appendRaw(OK);
        }
        int size = data.readableBytes();
        inMsgs++;
        inBytes += size;
        int delivered = subject.startsWith("$SYS.") ? publishSys(subject, reply, headerSize, data)
                : router.route(subject, reply, data, headerSize, this, touched);
        server.stats().published(size);
        if (delivered == 0 && noResponders && reply != null) {
            sendNoResponders(reply);
        }
    }

    /**
     * A publish to a {@code $SYS.} subject. The server's own {@code $SYS.REQ} subscriptions answer system users
     * only; every account has nats-server's imports from the system account ({@code $SYS.REQ.USER.INFO}, its own
     * CONNZ and STATZ through the {@code PING} subjects); other users' requests get no responders, and the
     * prefix imported requests' answers return on ({@link SysBridge}) takes them from servers only.
     */
    private int publishSys(String subject, String reply, int headerSize, ByteBuf data) {
        io.jetkv.server.monitor.SysRequests sys = server.sys();
        if (SysBridge.isBridged(subject)) {
            return 0;
        }
        if (sys != null) {
            if (subject.equals(io.jetkv.server.monitor.SysRequests.USER_INFO)) {
                return sys.userInfo(account, authUser, unrestricted ? null : permissions.permissions(), reply) ? 1 : 0;
            }
            if (!system) {
                String mapped = io.jetkv.server.monitor.SysRequests.importedBy(subject, account);
                if (mapped != null) {
                    byte[] all = io.netty.buffer.ByteBufUtil.getBytes(data);
                    byte[] hdr = headerSize > 0 ? java.util.Arrays.copyOf(all, headerSize) : null;
                    byte[] body = headerSize > 0 ? java.util.Arrays.copyOfRange(all, headerSize, all.length) : all;
                    return server.sysImport(account, mapped, reply, hdr, body);
                }
                if (io.jetkv.server.monitor.SysRequests.isServerRequest(subject)) {
                    return 0;
                }
            }
        }
        return router.route(subject, reply, data, headerSize, this, touched);
    }

    /** {@code subject} encoded, from a one-entry cache; the publisher's event loop only. */
    byte[] subjectBytes(String subject) {
        if (subject != lastPubSubject) {
            lastPubSubjectBytes = subject.getBytes(StandardCharsets.UTF_8);
            lastPubSubject = subject;
        }
        return lastPubSubjectBytes;
    }

    /**
     * HMSG 503 to this client's own plain subscription that the reply subject would reach; a queue
     * subscription gets none (the reference looks only at plain ones).
     */
    private void sendNoResponders(String reply) {
        for (Sub sub : router.index().match(reply).plain()) {
            if (sub.client == this) {
                outbox.appendMsg(noRespondersMsg(reply), sub.sidBytes, true);
                return;
            }
        }
    }

    private void processSub(ClientOp.Sub op) {
        // the reference checks only the subject: any queue group name is taken as it is
        if (!Subject.isWellFormed(op.subject(), true)) {
            sendErr(ProtocolError.INVALID_SUBJECT);
            return;
        }
        if (!unrestricted && !permissions.canSubscribe(op.subject())) {
            String text = "Permissions Violation for Subscription to \"" + op.subject() + "\"";
            if (op.queue() != null) {
                text += " using queue \"" + op.queue() + "\"";
            }
            sendPermissionErr(text);
            return;
        }
        // a repeated sid is ignored, as the reference does
        if (!subs.containsKey(op.sid())) {
            Sub sub = new Sub(op.subject(), op.queue(), op.sid(), this);
            subs.put(op.sid(), sub);
            router.index().insert(sub);
        }
        if (verbose) {
            outbox.appendRaw(OK);
        }
    }

    private void processUnsub(ClientOp.Unsub op) {
        Sub sub = subs.get(op.sid());
        if (sub != null) {
            if (op.max() > 0 && sub.delivered < op.max()) {
                sub.max = op.max();
                // a delivery may have raced past the new limit on another loop
                if (sub.delivered >= op.max()) {
                    removeSub(sub);
                }
            } else {
                removeSub(sub);
            }
        }
        if (verbose) {
            outbox.appendRaw(OK);
        }
    }

    /** Sends the current INFO again (cluster topology changed); any thread. */
    void sendAsyncInfo() {
        if (asyncInfo && outbox != null) {
            infoVersion = server.info().version();
            outbox.appendRaw(server.infoLine(cid, clientIp, null, websocket));
            outbox.flushFrom(null);
        }
    }

    /** Called by the router when a subscription reached its UNSUB max; may run on any thread. */
    void autoUnsubscribe(Sub sub) {
        sub.closed = true;
        router.index().remove(sub);
        EventLoop loop = channel.eventLoop();
        if (loop.inEventLoop()) {
            subs.remove(sub.sid, sub);
        } else {
            loop.execute(() -> subs.remove(sub.sid, sub));
        }
    }

    private void removeSub(Sub sub) {
        sub.closed = true;
        subs.remove(sub.sid);
        router.index().remove(sub);
    }

    private void schedulePing(long delayMillis) {
        pingTimer = channel.eventLoop().schedule(this::pingTick, delayMillis, TimeUnit.MILLISECONDS);
    }

    private void pingTick() {
        if (closing || !channel.isActive()) {
            return;
        }
        schedulePing(server.config().pingInterval().toMillis());
        long now = System.nanoTime();
        boolean needRtt = rttPingNanos == 0 || now - rttPingNanos > RTT_MEASUREMENT_NANOS;
        if (!needRtt && now - lastActivityNanos < server.config().pingInterval().toNanos()) {
            return; // the client was heard from recently: no need to probe it
        }
        if (pingsOut + 1 > server.config().pingMax()) {
            LOG.debug("{} - cid:{} - Stale Client Connection - Closing", peer, cid);
            sendErr(ProtocolError.STALE_CONNECTION);
            outbox.flush();
            return;
        }
        pingsOut++;
        rttPingNanos = now;
        rttPending = true;
        outbox.appendRaw(PING);
        outbox.flush();
    }

    private void authTimeout() {
        if (!authenticated && !closing) {
            LOG.error("{} - cid:{} - Authentication Timeout", peer, cid);
            sendErr(ProtocolError.AUTHENTICATION_TIMEOUT);
            outbox.flush();
        }
    }

    /**
     * After a config reload, any thread: checks this client's credentials and subscriptions against the new
     * authorization, as nats-server does. A user that no longer exists is closed without a word; credentials
     * that no longer pass get {@code -ERR 'Authorization Violation'}; subscriptions the new permissions refuse
     * are removed, each with a {@code Permissions Violation} error. New limits apply to what is read next.
     */
    void reloaded() {
        onLoop(() -> {
            if (closing || channel == null || !channel.isActive()) {
                return;
            }
            if (decoder != null) {
                decoder.limits(server.config().maxControlLine(), server.config().maxPayload());
            }
            if (!authenticated) {
                return; // CONNECT has not come yet: it meets the new authorization
            }
            Authenticator auth = auth();
            if (options.user() != null && !auth.hasUser(options.user())) {
                LOG.debug("{} - cid:{} - user {} removed by a config reload", peer, cid, options.user());
                closeAfterFlush();
                return;
            }
            Authenticator.Grant grant = auth.authenticate(options, peerCertificate(), verifyAndMap(), nonce);
            if (grant == null || !grant.account().equals(account)) {
                // refused now, or moved to another account: its subscriptions live in the old one's subject space
                LOG.error("{} - cid:{} - authentication error after a config reload", peer, cid);
                sendErr(ProtocolError.AUTHORIZATION_VIOLATION);
                return;
            }
            permissions = new PermissionCheck(grant.permissions());
            unrestricted = permissions.unrestricted();
            authUser = grant.user();
            system = account.equals(server.config().ops().systemAccount());
            if (!unrestricted) {
                for (Sub sub : java.util.List.copyOf(subs.values())) {
                    if (!permissions.canSubscribe(sub.subject)) {
                        removeSub(sub);
                        outbox.appendRaw(("-ERR 'Permissions Violation for Subscription to \"" + sub.subject
                                + "\" (sid \"" + sub.sid + "\")'\r\n").getBytes(StandardCharsets.UTF_8));
                        LOG.info("Removed sub \"{}\" (sid \"{}\") for User \"{}\" - not authorized", sub.subject,
                                sub.sid, options.user() == null ? "N/A" : options.user());
                    }
                }
            }
            outbox.flush();
        });
    }

    /** Closes this client as a server shutting down does: what is queued goes out, then EOF, no {@code -ERR}. */
    void closeForShutdown() {
        onLoop(() -> {
            closeReason("Server Shutdown");
            closeAfterFlush();
        });
    }

    /** {@code -ERR 'maximum connections exceeded'} and close: a reload lowered {@code max_connections}. */
    void closeOverLimit() {
        onLoop(() -> {
            if (!closing) {
                sendErr(ProtocolError.MAX_CONNECTIONS);
                outbox.flush();
            }
        });
    }

    private void onLoop(Runnable task) {
        Channel ch = channel;
        if (ch == null) {
            return;
        }
        try {
            ch.eventLoop().execute(task);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // the server is shutting down; the connection goes with its loop
        }
    }

    /** This connection as /connz shows it, built on its own event loop (its state is confined there). */
    java.util.concurrent.CompletableFuture<io.jetkv.server.monitor.ConnectionInfo> snapshot() {
        java.util.concurrent.CompletableFuture<io.jetkv.server.monitor.ConnectionInfo> f =
                new java.util.concurrent.CompletableFuture<>();
        Channel ch = channel;
        if (ch == null) {
            f.complete(null);
            return f;
        }
        Runnable take = () -> {
            try {
                f.complete(info(null, null));
            } catch (RuntimeException e) {
                f.completeExceptionally(e);
            }
        };
        try {
            ch.eventLoop().execute(take);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            f.complete(null); // the loop is shutting down with the server
        }
        return f;
    }

    /** This connection as /connz shows it; its event loop only. {@code stop} null while open. */
    private io.jetkv.server.monitor.ConnectionInfo info(java.time.Instant stop, String reason) {
        InetSocketAddress remote = (InetSocketAddress) channel.remoteAddress();
        long[] out = outbox == null ? new long[3] : outbox.counters();
        java.util.List<io.jetkv.server.monitor.ConnectionInfo.SubInfo> list = new java.util.ArrayList<>();
        for (Sub sub : subs.values()) {
            list.add(new io.jetkv.server.monitor.ConnectionInfo.SubInfo(
                    sub.subject, sub.queue, sub.sid, sub.delivered, sub.max));
        }
        return new io.jetkv.server.monitor.ConnectionInfo(cid,
                remote == null ? clientIp : remote.getAddress().getHostAddress(),
                remote == null ? 0 : remote.getPort(), started,
                started.plusNanos(Math.max(0, lastActivityNanos - startedNanos)), rttNanos,
                stop == null ? out[2] : 0, inMsgs, out[0], inBytes, out[1], options.name(), options.lang(),
                options.version(), options.user(), list, account, stop, reason, websocket ? "websocket" : "nats");
    }

    /** Records the first cause of a close; later ones (the EOF that follows an -ERR) do not replace it. */
    private void closeReason(String reason) {
        if (closeReason == null) {
            closeReason = reason;
        }
    }

    /** The reason nats-server gives a connection it closes after this error. */
    private static String closeReasonOf(ProtocolError error) {
        return switch (error) {
            case AUTHORIZATION_VIOLATION -> "Authentication Failure";
            case AUTHENTICATION_TIMEOUT -> "Authentication Timeout";
            case MAX_PAYLOAD -> "Maximum Message Payload Exceeded";
            case MAX_CONTROL_LINE -> "Maximum Control Line Exceeded";
            case STALE_CONNECTION -> "Stale Connection";
            case NO_RESPONDERS_REQUIRES_HEADERS -> "No Responders Requires Headers";
            case INVALID_CLIENT_PROTOCOL -> "Bad Client Protocol Version";
            case MAX_CONNECTIONS -> "Maximum Connections Exceeded";
            case UNKNOWN_OPERATION -> "Parse Error";
            default -> "Protocol Violation";
        };
    }

    private void slowConsumer(String exceeded) {
        server.stats().slowConsumer();
        LOG.warn("{} - cid:{} - Slow Consumer Detected: {}", peer, cid, exceeded);
        channel.eventLoop().execute(() -> {
            closeReason(exceeded.startsWith("WriteDeadline") ? "Slow Consumer (Write Deadline)"
                    : "Slow Consumer (Pending Bytes)");
            closing = true;
            channel.close();
        });
    }

    private void violation(ProtocolError error) {
        if (error.text() != null) {
            sendErr(error);
        } else {
            closeReason(closeReasonOf(error));
            closeAfterFlush();
        }
    }

    private void sendErr(ProtocolError error) {
        outbox.appendRaw(("-ERR '" + error.text() + "'\r\n").getBytes(StandardCharsets.UTF_8));
        if (error.closes()) {
            closeReason(closeReasonOf(error));
            closeAfterFlush();
        }
    }

    private void sendPermissionErr(String text) {
        LOG.error("{} - cid:{} - {}", peer, cid, text);
        outbox.appendRaw(("-ERR '" + text + "'\r\n").getBytes(StandardCharsets.UTF_8));
    }

    private void closeAfterFlush() {
        if (closing) {
            return;
        }
        closing = true;
        cancelTimers();
        // write what is queued (the -ERR), then close once it is out
        outbox.flush();
        channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }

    private void cancelTimers() {
        if (pingTimer != null) {
            pingTimer.cancel(false);
        }
        if (authTimer != null) {
            authTimer.cancel(false);
        }
    }

    /** The 503 status message: an empty payload after {@code NATS/1.0 503}. */
    private static OutMsg noRespondersMsg(String reply) {
        return new OutMsg(reply, null, Unpooled.wrappedBuffer(NO_RESPONDERS_BLOCK), NO_RESPONDERS_BLOCK.length);
    }
}
