package io.jetkv.server.websocket;

import io.jetkv.config.WebSocketConfig;
import io.jetkv.server.tls.ServerTls;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.extensions.WebSocketExtensionFilter;
import io.netty.handler.codec.http.websocketx.extensions.WebSocketExtensionFilterProvider;
import io.netty.handler.codec.http.websocketx.extensions.WebSocketExtensionData;
import io.netty.handler.codec.http.websocketx.extensions.WebSocketServerExtensionHandler;
import io.netty.handler.codec.http.websocketx.extensions.WebSocketServerExtensionHandshaker;
import io.netty.handler.codec.http.websocketx.extensions.compression.PerMessageDeflateServerExtensionHandshaker;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The WebSocket client listener ({@code websocket { }}): accepts HTTP upgrades on the server's own event
 * loops and turns each upgraded connection into an ordinary client connection whose bytes travel in
 * WebSocket frames, as nats-server's websocket port does for nats.js {@code wsconnect} and {@code ws://}
 * clients. With its own {@code tls { }} block it serves {@code wss://}: TLS first, then the HTTP upgrade inside
 * it. Started by the server once it is ready; closed before the client loops stop.
 */
public final class WebSocketListener implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WebSocketListener.class);
    /** An upgrade request is headers only; anything larger is not a client of ours. */
    private static final int MAX_REQUEST_BYTES = 16 * 1024;
    /** nats-server leaves outgoing data of 64 bytes or less uncompressed: deflating it gains nothing. */
    private static final int COMPRESS_THRESHOLD = 64;

    private final Channel listener;
    private final int port;

    private WebSocketListener(Channel listener) {
        this.listener = listener;
        this.port = ((InetSocketAddress) listener.localAddress()).getPort();
    }

    /**
     * Binds the listener. {@code attach} is called on a connection's event loop once its upgrade is done:
     * it adds the client protocol's handlers to the end of the pipeline (the frames come off before them).
     *
     * @param maxPayload the server's largest message, to size the largest frame accepted
     * @param tls        asked once per accepted connection: the listener's TLS as of now (a config reload
     *                   swaps in new certificates for new connections), or null for plain {@code ws://}
     */
    public static WebSocketListener start(WebSocketConfig config, String defaultHost, EventLoopGroup boss,
            EventLoopGroup workers, Class<? extends ServerChannel> channelType, int maxPayload,
            Supplier<ServerTls> tls, Consumer<Channel> attach) throws InterruptedException {
        String host = config.host() != null ? config.host() : defaultHost;
        ServerBootstrap b = new ServerBootstrap()
                .group(boss, workers)
                .channel(channelType)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ServerTls connectionTls = tls.get();
                        if (connectionTls != null) {
                            // wss: the HTTP upgrade and every frame after it travel inside TLS
                            connectionTls.install(ch.pipeline());
                        }
                        ch.pipeline().addLast("http", new HttpServerCodec());
                        ch.pipeline().addLast("aggregator", new HttpObjectAggregator(MAX_REQUEST_BYTES));
                        if (config.compression()) {
                            ch.pipeline().addLast("extensions", new WebSocketServerExtensionHandler(deflate()));
                        }
                        ch.pipeline().addLast("upgrade", new WebSocketUpgrade(config, maxPayload, connectionTls, attach));
                        // an upgrade that does not complete in time is dropped (nats-server: HTTP read timeout)
                        ch.eventLoop().schedule(() -> {
                            if (ch.pipeline().get(WebSocketUpgrade.class) != null) {
                                ch.close();
                            }
                        }, config.handshakeTimeout().toMillis(), TimeUnit.MILLISECONDS);
                    }
                });
        Channel ch;
        try {
            ch = b.bind(host, config.port()).sync().channel();
        } catch (Exception e) {
            // sync() rethrows the bind's checked exception (address in use) undeclared
            if (e instanceof InterruptedException ie) {
                throw ie;
            }
            throw new IllegalStateException("Unable to listen for websocket connections: " + e.getMessage(), e);
        }
        WebSocketListener self = new WebSocketListener(ch);
        LOG.info("Listening for websocket clients on {}://{}:{}", config.secure() ? "wss" : "ws", host, self.port);
        if (!config.secure()) {
            LOG.warn("Websocket not configured with TLS. DO NOT USE IN PRODUCTION!");
        }
        return self;
    }

    /**
     * permessage-deflate without context takeover either way, as nats-server answers every offer (no
     * compressor state kept per connection between messages); small frames go as they are.
     */
    private static WebSocketServerExtensionHandshaker deflate() {
        WebSocketExtensionFilter small = frame -> frame.content().readableBytes() <= COMPRESS_THRESHOLD;
        WebSocketExtensionFilterProvider filters = new WebSocketExtensionFilterProvider() {
            @Override
            public WebSocketExtensionFilter encoderFilter() {
                return small;
            }

            @Override
            public WebSocketExtensionFilter decoderFilter() {
                return WebSocketExtensionFilter.NEVER_SKIP;
            }
        };
        // level 1 (Go's BestSpeed), no server window choice, client window 15, no context takeover either way
        PerMessageDeflateServerExtensionHandshaker netty =
                new PerMessageDeflateServerExtensionHandshaker(1, false, 15, true, true, filters);
        // Netty drops the server's context only when the client asks; nats-server does it always (RFC 7692
        // lets a server add server_no_context_takeover to its answer), so the offer is read as if it asked
        return offer -> {
            if (!PERMESSAGE_DEFLATE.equals(offer.name())) {
                return null;
            }
            Map<String, String> params = new HashMap<>(offer.parameters());
            params.put(SERVER_NO_CONTEXT, null);
            params.put(CLIENT_NO_CONTEXT, null);
            return netty.handshakeExtension(new WebSocketExtensionData(offer.name(), params));
        };
    }

    private static final String PERMESSAGE_DEFLATE = "permessage-deflate";
    private static final String SERVER_NO_CONTEXT = "server_no_context_takeover";
    private static final String CLIENT_NO_CONTEXT = "client_no_context_takeover";

    /** The bound port. */
    public int port() {
        return port;
    }

    @Override
    public void close() {
        listener.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
    }
}
