package io.jetkv.server.websocket;

import io.jetkv.config.WebSocketConfig;
import io.jetkv.server.tls.ServerTls;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker13;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP upgrade of one WebSocket connection: checks the request as nats-server does (method, headers,
 * origin), answers a refusal with the reference's status, otherwise completes the handshake and hands the
 * connection to the client protocol. Event loop of the connection; removed from the pipeline once done.
 */
final class WebSocketUpgrade extends SimpleChannelInboundHandler<FullHttpRequest> {
    private static final Logger LOG = LoggerFactory.getLogger(WebSocketUpgrade.class);
    /** Browsers get frames of at most this size (nats-server: some browsers mishandle larger ones). */
    private static final int BROWSER_FRAME_SIZE = 4096;

    private final WebSocketConfig config;
    private final int maxPayload;
    /** The TLS this connection was accepted with (wss), or null. */
    private final ServerTls tls;
    private final Consumer<Channel> attach;

    WebSocketUpgrade(WebSocketConfig config, int maxPayload, ServerTls tls, Consumer<Channel> attach) {
        this.config = config;
        this.maxPayload = maxPayload;
        this.tls = tls;
        this.attach = attach;
    }

    /** {@code ip:port} of the client, as Go prints a remote address. */
    private static String peer(ChannelHandlerContext ctx) {
        return ctx.channel().remoteAddress() instanceof java.net.InetSocketAddress a
                ? a.getAddress().getHostAddress() + ":" + a.getPort() : String.valueOf(ctx.channel().remoteAddress());
    }

    /** wss: a client certificate outside {@code pinned_certs} is dropped once the handshake shows it. */
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof SslHandshakeCompletionEvent done && done.isSuccess() && tls != null
                && !tls.pinnedOk(ctx.pipeline().get(SslHandler.class).engine().getSession())) {
            LOG.error("websocket: http: TLS handshake error from {}: client certificate not pinned", peer(ctx));
            ctx.close();
            return;
        }
        super.userEventTriggered(ctx, evt);
    }

    /**
     * Before the upgrade completes: a failed TLS handshake (no certificate, one from another CA, a plaintext
     * client on a wss port) or a broken connection. Logged as Go's HTTP server under nats-server logs it, then
     * dropped without an answer.
     */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        SslHandler ssl = ctx.pipeline().get(SslHandler.class);
        if (ssl != null && !ssl.handshakeFuture().isDone()
                || cause instanceof io.netty.handler.codec.DecoderException
                        && cause.getCause() instanceof javax.net.ssl.SSLException) {
            Throwable root = cause;
            while (root.getCause() != null) {
                root = root.getCause();
            }
            LOG.error("websocket: http: TLS handshake error from {}: {}", peer(ctx),
                    root.getMessage() == null ? root.toString() : root.getMessage());
        } else {
            LOG.debug("websocket: {} - connection error before the upgrade: {}", ctx.channel().remoteAddress(),
                    cause.toString());
        }
        ctx.close();
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
        Channel ch = ctx.channel();
        HttpHeaders h = req.headers();
        if (!req.decoderResult().isSuccess()) {
            refuse(ctx, HttpResponseStatus.BAD_REQUEST, "malformed request");
            return;
        }
        if (!HttpMethod.GET.equals(req.method())) {
            refuse(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED, "request method must be GET");
            return;
        }
        if (!h.contains(HttpHeaderNames.HOST)) {
            refuse(ctx, HttpResponseStatus.BAD_REQUEST, "'Host' missing in request");
            return;
        }
        if (!hasToken(h, "Upgrade", "websocket")) {
            refuse(ctx, HttpResponseStatus.BAD_REQUEST, "invalid value for header 'Upgrade'");
            return;
        }
        if (!hasToken(h, "Connection", "Upgrade")) {
            refuse(ctx, HttpResponseStatus.BAD_REQUEST, "invalid value for header 'Connection'");
            return;
        }
        if (h.get(HttpHeaderNames.SEC_WEBSOCKET_KEY, "").isEmpty()) {
            refuse(ctx, HttpResponseStatus.BAD_REQUEST, "key missing");
            return;
        }
        if (!"13".equals(h.get(HttpHeaderNames.SEC_WEBSOCKET_VERSION))) {
            refuse(ctx, HttpResponseStatus.BAD_REQUEST, "invalid version");
            return;
        }
        String originError = checkOrigin(h);
        if (originError != null) {
            refuse(ctx, HttpResponseStatus.FORBIDDEN, "origin not allowed: " + originError);
            return;
        }
        String path = new io.netty.handler.codec.http.QueryStringDecoder(req.uri()).rawPath();
        if (path.endsWith("/leafnode") || path.endsWith("/mqtt")) {
            // nats-server serves leaf nodes and MQTT on these paths; neither runs here
            LOG.error("{} - websocket handshake error: no {} listener", ch.remoteAddress(), path);
            ch.close();
            return;
        }
        boolean browser = h.get(HttpHeaderNames.USER_AGENT, "").startsWith("Mozilla/");
        WebSocketDecoderConfig frames = WebSocketDecoderConfig.newBuilder()
                .expectMaskedFrames(true)
                .allowExtensions(config.compression())
                .allowMaskMismatch(false)
                // a frame may carry several messages; far past the largest one is not a client of ours
                .maxFramePayloadLength((int) Math.min(Integer.MAX_VALUE, Math.max(8L << 20, 4L * maxPayload)))
                .closeOnProtocolViolation(true)
                .build();
        WebSocketServerHandshaker13 handshaker = new WebSocketServerHandshaker13(
                (tls != null ? "wss://" : "ws://") + h.get("Host") + path, null,
                frames);
        // nothing is read until the client protocol is in place behind the frame decoder
        ch.config().setAutoRead(false);
        handshaker.handshake(ch, req).addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
                ch.close();
                return;
            }
            ChannelPipeline p = ch.pipeline();
            p.remove(this);
            p.addLast("wsframes", new WebSocketFrames(browser ? BROWSER_FRAME_SIZE : 0));
            // reads resume after this task at the earliest, when the client protocol is in place (attach may
            // turn them off again to hold the connection until the server is ready)
            ch.config().setAutoRead(true);
            attach.accept(ch);
            // the client protocol starts here (its INFO goes out now, in the first frame)
            p.context("wsframes").fireChannelActive();
        });
    }

    /** nats-server's origin rules: no Origin header passes; same_origin compares with Host; then the list. */
    private String checkOrigin(HttpHeaders h) {
        if (!config.sameOrigin() && config.allowedOrigins().isEmpty()) {
            return null;
        }
        String origin = h.get("Origin", h.get("Sec-WebSocket-Origin", ""));
        if (origin.isEmpty()) {
            return null;
        }
        URI o;
        try {
            o = new URI(origin);
        } catch (URISyntaxException e) {
            return e.getMessage();
        }
        if (o.getHost() == null) {
            return "invalid origin";
        }
        String oHost = o.getHost().toLowerCase(Locale.ROOT);
        int oPort = portOf(o);
        if (config.sameOrigin()) {
            String host = h.get(HttpHeaderNames.HOST);
            String hHost = host;
            // a Host without a port means the scheme's default: 443 on a wss listener
            int hPort = config.secure() ? 443 : 80;
            int colon = host.lastIndexOf(':');
            if (colon > 0 && host.indexOf(']') < colon) {
                hHost = host.substring(0, colon);
                try {
                    hPort = Integer.parseInt(host.substring(colon + 1));
                } catch (NumberFormatException e) {
                    return "invalid host";
                }
            }
            if (hHost.startsWith("[") && hHost.endsWith("]")) {
                hHost = hHost.substring(1, hHost.length() - 1);
            }
            if (!oHost.equals(hHost.toLowerCase(Locale.ROOT)) || oPort != hPort) {
                return "not same origin";
            }
        }
        if (!config.allowedOrigins().isEmpty()) {
            boolean allowed = false;
            for (String a : config.allowedOrigins()) {
                URI u = URI.create(a);
                if (u.getHost() != null && u.getHost().equalsIgnoreCase(oHost)
                        && u.getScheme().equalsIgnoreCase(o.getScheme()) && portOf(u) == oPort) {
                    allowed = true;
                    break;
                }
            }
            if (!allowed) {
                return "not in the allowed list";
            }
        }
        return null;
    }

    private static int portOf(URI u) {
        if (u.getPort() != -1) {
            return u.getPort();
        }
        return "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
    }

    private static boolean hasToken(HttpHeaders h, String name, String token) {
        for (String value : h.getAll(name)) {
            for (String t : value.split(",")) {
                if (t.strip().equalsIgnoreCase(token)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** As nats-server (Go's http.Error): the status text as the body, and the version the server speaks. */
    private static void refuse(ChannelHandlerContext ctx, HttpResponseStatus status, String reason) {
        LOG.error("{} - websocket handshake error: {}", ctx.channel().remoteAddress(), reason);
        byte[] body = (status.reasonPhrase() + "\n").getBytes(StandardCharsets.US_ASCII);
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(body));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
        r.headers().set("X-Content-Type-Options", "nosniff");
        r.headers().set("Sec-Websocket-Version", "13");
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
        ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
    }

}
