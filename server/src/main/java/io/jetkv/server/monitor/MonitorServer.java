package io.jetkv.server.monitor;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.timeout.ReadTimeoutHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The monitoring HTTP port ({@code -m}/{@code http_port}): nats-server's {@code /varz}, {@code /healthz},
 * {@code /jsz} and friends. It runs on its own one-thread event loop group, never on the client loops, so
 * a slow scrape cannot delay a client; the endpoints read only a {@link ServerView}.
 *
 * <p>Threading: {@link #start} and {@link #close} on the server's start/stop thread; requests on the
 * {@code nats-http} loop.
 */
public final class MonitorServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MonitorServer.class);
    /** Requests carry only a query string; bodies are ignored and capped small. */
    private static final int MAX_REQUEST_BYTES = 64 * 1024;
    private static final ObjectWriter INDENTED = new ObjectMapper().writer(new DefaultPrettyPrinter(
                    Separators.createDefaultInstance()
                            .withObjectFieldValueSpacing(Separators.Spacing.AFTER)
                            .withObjectEmptySeparator("")
                            .withArrayEmptySeparator(""))
            .withObjectIndenter(new DefaultIndenter("  ", "\n"))
            .withArrayIndenter(new DefaultIndenter("  ", "\n")));
    private static final ObjectWriter COMPACT = new ObjectMapper().writer();
    private static final List<String> PATHS =
            List.of("varz", "connz", "routez", "gatewayz", "leafz", "subsz", "accountz", "accstatz", "jsz", "healthz");

    private final EventLoopGroup group;
    private final String basePath;
    private final String host;
    private Channel listener;
    private int port;
    /** Set once bound; a request accepted in between gets a 503. */
    private volatile Endpoints endpoints;
    private volatile Console console;
    /** https_port's TLS (the client port's certificate), read per connection; null for plain HTTP. */
    private volatile io.jetkv.server.tls.ServerTls https;
    /** {@code /metrics}, made on first use; the monitoring loop only. */
    private Metrics metrics;

    private MonitorServer(EventLoopGroup group, String basePath, String host) {
        this.group = group;
        this.basePath = basePath;
        this.host = host;
    }

    /**
     * Binds the monitoring port: {@code host} (null means the client host), {@code port} -1 for a random
     * one. Returns once bound.
     */
    public static MonitorServer start(ServerView server) throws InterruptedException {
        String host = server.config().httpHost() != null ? server.config().httpHost() : server.config().host();
        int wanted = server.config().httpPort() == -1 ? 0 : server.config().httpPort();
        String basePath = server.config().httpBasePath();
        EventLoopGroup group =
                new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("nats-http"), NioIoHandler.newFactory());
        MonitorServer self = new MonitorServer(group, basePath, host);
        // https_port: the client port's certificate, without allow_non_tls or handshake_first (plain HTTPS)
        self.https = server.config().httpsMonitor()
                ? io.jetkv.server.tls.ServerTls.create(server.config().tls().withAllowNonTls(false)) : null;
        try {
            ServerBootstrap b = new ServerBootstrap()
                    .group(group)
                    .channel(NioServerSocketChannel.class)
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            io.jetkv.server.tls.ServerTls connectionTls = self.https;
                            if (connectionTls != null) {
                                connectionTls.install(ch.pipeline());
                            }
                            ch.pipeline()
                                    // an idle or trickling scraper is dropped rather than kept forever
                                    .addLast(new ReadTimeoutHandler(30, TimeUnit.SECONDS))
                                    .addLast(new HttpServerCodec())
                                    .addLast(new HttpObjectAggregator(MAX_REQUEST_BYTES))
                                    .addLast(self.new Handler());
                        }
                    });
            self.listener = b.bind(host, wanted).sync().channel();
            self.port = ((InetSocketAddress) self.listener.localAddress()).getPort();
            self.endpoints = new Endpoints(server, host);
            self.console = new Console(server);
            LOG.info("Starting {} monitor on {}:{}", self.https != null ? "https" : "http", host, self.port);
            return self;
        } catch (Exception e) {
            // Netty's sync() rethrows the bind's checked exception (address in use) undeclared
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            if (e instanceof InterruptedException ie) {
                throw ie;
            }
            throw new IllegalStateException("Can't start monitoring: " + e.getMessage(), e);
        }
    }

    /** The bound monitoring port. */
    /**
     * A config reload's certificates for HTTPS (the reload thread): connections from now on use them. Ignored
     * on a plain HTTP port, which a reload cannot turn into HTTPS.
     */
    public void reloadTls(io.jetkv.server.tls.ServerTls newTls) {
        if (https != null) {
            https = newTls;
        }
    }

    public int port() {
        return port;
    }

    public String host() {
        return host;
    }

    @Override
    public void close() {
        listener.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        if (console != null) {
            console.close();
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    /** A reply before it is written: status, content type, body. */
    record Reply(HttpResponseStatus status, String contentType, byte[] body, String location) {
        static Reply text(HttpResponseStatus status, String text) {
            return new Reply(status, "text/plain; charset=utf-8", text.getBytes(StandardCharsets.UTF_8), null);
        }
    }

    /** A bad query parameter: 400 with the reference's text. */
    static final class BadParameter extends Exception {
        BadParameter(String message) {
            super(message, null, false, false);
        }
    }

    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            boolean keepAlive = HttpUtil.isKeepAlive(req);
            CompletableFuture<Reply> reply;
            if (!req.decoderResult().isSuccess()) {
                reply = CompletableFuture.completedFuture(Reply.text(HttpResponseStatus.BAD_REQUEST, "400 Bad Request"));
            } else {
                String uri = req.uri();
                QueryStringDecoder q = new QueryStringDecoder(uri);
                Console console = MonitorServer.this.console;
                if (console != null && Console.isWatch(strip(q.path()))) {
                    console.watch(ctx, strip(q.path()));
                    return;
                }
                String method = req.method().name();
                try {
                    reply = console != null && Console.isWrite(method, strip(q.path()))
                            ? console.write(method, strip(q.path()), req.headers().get(HttpHeaderNames.AUTHORIZATION),
                                    io.netty.buffer.ByteBufUtil.getBytes(req.content()))
                            : strip(q.path()).equals("/metrics")
                            ? metrics(req.headers().get(HttpHeaderNames.ACCEPT))
                            : route(q);
                } catch (RuntimeException e) {
                    reply = CompletableFuture.failedFuture(e);
                }
                reply = reply.orTimeout(10, TimeUnit.SECONDS).exceptionally(t -> {
                    LOG.warn("Monitoring request {} failed", uri, t);
                    return Reply.text(HttpResponseStatus.INTERNAL_SERVER_ERROR, "500 Internal Server Error");
                });
            }
            // /connz completes on the client loops; the reply is written back on this channel's own loop
            // the console page sends this header: a 401 to it carries no challenge, which would make the
            // browser hold the request for a login dialog; the page has its own user and password fields
            boolean challenge = !req.headers().contains("X-JetKV-Console");
            reply.thenAcceptAsync(r -> writeFull(ctx, r, keepAlive, challenge), ctx.executor());
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            LOG.debug("Monitoring connection error: {}", cause.toString());
            ctx.close();
        }
    }

    /** The monitoring loop: writes a whole reply, closing the connection after it unless kept alive. */
    static void writeFull(ChannelHandlerContext ctx, Reply reply, boolean keepAlive) {
        writeFull(ctx, reply, keepAlive, true);
    }

    /** As above; {@code challenge}: a 401 carries {@code WWW-Authenticate: Basic}. */
    static void writeFull(ChannelHandlerContext ctx, Reply reply, boolean keepAlive, boolean challenge) {
        FullHttpResponse resp = new DefaultFullHttpResponse(
                HttpVersion.HTTP_1_1, reply.status(), Unpooled.wrappedBuffer(reply.body()));
        resp.headers().set(HttpHeaderNames.CONTENT_TYPE, reply.contentType());
        resp.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, reply.body().length);
        if (reply.location() != null) {
            resp.headers().set(HttpHeaderNames.LOCATION, reply.location());
        }
        if (challenge && reply.status().equals(HttpResponseStatus.UNAUTHORIZED)) {
            // the browser asks for the user and password itself (console writes)
            resp.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Basic realm=\"jetkv console\"");
        }
        HttpUtil.setKeepAlive(resp, keepAlive);
        var written = ctx.writeAndFlush(resp);
        if (!keepAlive) {
            written.addListener(ChannelFutureListener.CLOSE);
        }
    }

    CompletableFuture<Reply> route(QueryStringDecoder q) {
        Map<String, List<String>> params = q.parameters();
        String path = strip(q.path());
        if (endpoints != null && (path.equals("/") || path.equals("/subscriptionsz")
                || (path.length() > 1 && PATHS.contains(path.substring(1))))) {
            endpoints.counted(path);
        }
        if (path.equals("/connz")) {
            return connz(params);
        }
        Console console = this.console;
        if (console != null && Console.handles(path)) {
            return console.route(path, params);
        }
        if (path.equals("/subsz") || path.equals("/subscriptionsz")) {
            return subsz(params);
        }
        if (path.equals("/accstatz") && endpoints != null) {
            boolean unused;
            try {
                unused = bool(params, "unused");
            } catch (BadParameter e) {
                return CompletableFuture.completedFuture(Reply.text(HttpResponseStatus.BAD_REQUEST, e.getMessage()));
            }
            // the open connections' counters come from their own loops, as for /connz
            ServerView server = endpoints.server();
            return server.connectionSnapshots().thenApplyAsync(open -> json(params,
                    Accountz.statz(server, Instant.now(), List.of(), unused, open), HttpResponseStatus.OK, true),
                    group);
        }
        if (path.equals("/jsz") && endpoints != null) {
            try {
                if (bool(params, "consumers")) {
                    boolean config = bool(params, "config");
                    bool(params, "streams");
                    bool(params, "accounts");
                    bool(params, "leader-only");
                    integer(params, "offset");
                    integer(params, "limit");
                    return endpoints.jszWithConsumers(Instant.now(), config)
                            .thenApplyAsync(o -> json(params, o, HttpResponseStatus.OK, true), group);
                }
            } catch (BadParameter e) {
                return CompletableFuture.completedFuture(Reply.text(HttpResponseStatus.BAD_REQUEST, e.getMessage()));
            }
        }
        return CompletableFuture.completedFuture(routeNow(q));
    }

    /** The path without the base path, or null when outside it. */
    private String strip(String path) {
        if (basePath.isEmpty()) {
            return path;
        }
        return path.startsWith(basePath + "/") ? path.substring(basePath.length()) : "";
    }

    private CompletableFuture<Reply> connz(Map<String, List<String>> params) {
        Endpoints endpoints = this.endpoints;
        if (endpoints == null) {
            return CompletableFuture.completedFuture(
                    Reply.text(HttpResponseStatus.SERVICE_UNAVAILABLE, "monitoring is starting"));
        }
        Connz.Options options;
        try {
            String sort = orEmpty(first(params, "sort"));
            String stateText = orEmpty(first(params, "state"));
            Connz.State state = Connz.State.parse(stateText);
            Connz.checkSort(sort, stateText);
            String subs = orEmpty(first(params, "subs"));
            boolean detail = subs.equals("detail");
            String acc = first(params, "acc");
            options = new Connz.Options(sort, bool(params, "auth"), detail || bool(params, "subs"), detail,
                    integer(params, "offset"), integer(params, "limit"), integer(params, "cid"), state,
                    acc == null || acc.isEmpty() ? null : acc);
        } catch (BadParameter e) {
            return CompletableFuture.completedFuture(Reply.text(HttpResponseStatus.BAD_REQUEST, e.getMessage()));
        }
        if (options.account() != null && !Accountz.exists(endpoints.server(), options.account())) {
            return CompletableFuture.completedFuture(
                    json(params, Connz.unknownAccount(Instant.now(), options), HttpResponseStatus.OK, true));
        }
        // snapshots complete on the client loops; rendering goes back to the monitoring loop
        return Connz.gather(endpoints.server(), options.state()).thenApplyAsync(all ->
                json(params, Connz.render(endpoints.server().serverId(), Instant.now(), all, options),
                        HttpResponseStatus.OK, true), group);
    }

    private CompletableFuture<Reply> subsz(Map<String, List<String>> params) {
        Endpoints endpoints = this.endpoints;
        if (endpoints == null) {
            return CompletableFuture.completedFuture(
                    Reply.text(HttpResponseStatus.SERVICE_UNAVAILABLE, "monitoring is starting"));
        }
        Subsz.Options options;
        try {
            String test = orEmpty(first(params, "test"));
            Subsz.checkTest(test);
            String acc = first(params, "acc");
            options = new Subsz.Options(bool(params, "subs"), integer(params, "offset"), integer(params, "limit"),
                    test, acc == null || acc.isEmpty() ? null : acc);
        } catch (BadParameter e) {
            return CompletableFuture.completedFuture(Reply.text(HttpResponseStatus.BAD_REQUEST, e.getMessage()));
        }
        ServerView server = endpoints.server();
        if (!options.subs()) {
            return CompletableFuture.completedFuture(
                    json(params, Subsz.stats(options.account() == null ? server.subscriptions()
                            : server.subscriptions(options.account())), HttpResponseStatus.OK, true));
        }
        return server.connectionSnapshots().thenApplyAsync(all -> json(params,
                Subsz.render(server.serverId(), Instant.now(), options.account() == null ? server.subscriptions()
                        : server.subscriptions(options.account()), all, options),
                HttpResponseStatus.OK, true), group);
    }

    /** {@code /metrics}; its registry is built on the first scrape, on this loop. */
    private CompletableFuture<Reply> metrics(String accept) {
        Endpoints endpoints = this.endpoints;
        if (endpoints == null) {
            return CompletableFuture.completedFuture(
                    Reply.text(HttpResponseStatus.SERVICE_UNAVAILABLE, "monitoring is starting"));
        }
        if (metrics == null) {
            metrics = new Metrics(endpoints.server());
        }
        return metrics.scrape(accept, group);
    }

    private static String orEmpty(String s) {
        return s == null ? "" : s;
    }

    Reply routeNow(QueryStringDecoder q) {
        String path = q.path();
        // "//varz": the Helm chart hands the exporter "http://host:8222/" and it appends "/varz"
        if (path.startsWith("//")) {
            String clean = "/" + path.replaceFirst("^/+", "");
            String query = q.rawQuery();
            return new Reply(HttpResponseStatus.MOVED_PERMANENTLY, "text/html; charset=utf-8",
                    new byte[0], clean + (query.isEmpty() ? "" : "?" + query));
        }
        if (!basePath.isEmpty()) {
            if (path.equals(basePath) || path.equals(basePath + "/")) {
                return index(q.parameters());
            }
            if (!path.startsWith(basePath + "/")) {
                return notFound();
            }
            path = path.substring(basePath.length());
        } else if (path.equals("/")) {
            return index(q.parameters());
        }
        Map<String, List<String>> params = q.parameters();
        Instant now = Instant.now();
        Endpoints endpoints = this.endpoints;
        if (endpoints == null) {
            return Reply.text(HttpResponseStatus.SERVICE_UNAVAILABLE, "monitoring is starting");
        }
        try {
            return switch (path) {
                case "/varz" -> json(params, endpoints.varz(now), HttpResponseStatus.OK, true);
                case "/healthz" -> {
                    // js-enabled-only and js-server-only are parsed for their 400s; on a single server all
                    // three checks are the plain one
                    bool(params, "js-enabled-only");
                    bool(params, "js-server-only");
                    bool(params, "js-enabled");
                    Endpoints.Health h = endpoints.healthz();
                    yield json(params, h.body(), HttpResponseStatus.valueOf(h.status()), false);
                }
                case "/jsz" -> {
                    boolean consumers = bool(params, "consumers");
                    boolean streams = bool(params, "streams") || consumers;
                    boolean accounts = bool(params, "accounts") || streams;
                    boolean config = bool(params, "config");
                    integer(params, "offset");
                    integer(params, "limit");
                    bool(params, "leader-only");
                    yield json(params, endpoints.jsz(now, accounts, streams, config), HttpResponseStatus.OK, true);
                }
                case "/routez" -> json(params, endpoints.routez(now), HttpResponseStatus.OK, true);
                case "/gatewayz" -> json(params, endpoints.gatewayz(now), HttpResponseStatus.OK, true);
                case "/leafz" -> json(params, endpoints.leafz(now), HttpResponseStatus.OK, true);
                case "/accountz" ->
                        json(params, endpoints.accountz(now, first(params, "acc")), HttpResponseStatus.OK, true);
                default -> notFound();
            };
        } catch (BadParameter e) {
            return Reply.text(HttpResponseStatus.BAD_REQUEST, e.getMessage());
        }
    }

    private static Reply notFound() {
        return Reply.text(HttpResponseStatus.NOT_FOUND, "404 page not found\n");
    }

    /** JSON, indented as the reference does (except /healthz), or JSONP when {@code callback} is given. */
    private static Reply json(Map<String, List<String>> params, JsonNode body, HttpResponseStatus status,
            boolean indented) {
        String text;
        try {
            text = (indented ? INDENTED : COMPACT).writeValueAsString(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        String callback = first(params, "callback");
        if (callback != null && !callback.isEmpty()) {
            return new Reply(status, "application/javascript",
                    (callback + "(" + text + ")").getBytes(StandardCharsets.UTF_8), null);
        }
        return new Reply(status, "application/json", text.getBytes(StandardCharsets.UTF_8), null);
    }

    private Reply index(Map<String, List<String>> params) {
        StringBuilder b = new StringBuilder();
        b.append("<html lang=\"en\">\n<head><title>JetKV monitoring</title></head>\n<body>\n");
        b.append("<h1>JetKV</h1>\n<p>NATS server version ").append(io.jetkv.config.Version.NATS_VERSION)
                .append("</p>\n<ul>\n");
        for (String p : PATHS) {
            b.append("<li><a href=\"./").append(p).append("\">").append(p).append("</a></li>\n");
        }
        b.append("</ul>\n</body>\n</html>\n");
        return new Reply(HttpResponseStatus.OK, "text/html; charset=utf-8",
                b.toString().getBytes(StandardCharsets.UTF_8), null);
    }

    private static String first(Map<String, List<String>> params, String name) {
        List<String> v = params.get(name);
        return v == null || v.isEmpty() ? null : v.get(0);
    }

    /** A boolean as Go's strconv.ParseBool reads it; absent or empty is false. */
    static boolean bool(Map<String, List<String>> params, String name) throws BadParameter {
        String v = first(params, name);
        if (v == null || v.isEmpty()) {
            return false;
        }
        return switch (v) {
            case "1", "t", "T", "TRUE", "true", "True" -> true;
            case "0", "f", "F", "FALSE", "false", "False" -> false;
            default -> throw new BadParameter("Error decoding boolean for '" + name
                    + "': strconv.ParseBool: parsing \"" + v + "\": invalid syntax");
        };
    }

    /** An integer as Go's strconv.Atoi reads it; absent or empty is 0. */
    static int integer(Map<String, List<String>> params, String name) throws BadParameter {
        String v = first(params, name);
        if (v == null || v.isEmpty()) {
            return 0;
        }
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new BadParameter("Error decoding int for '" + name + "': strconv.Atoi: parsing \"" + v
                    + "\": invalid syntax");
        }
    }
}
