package io.jetkv.config;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * The {@code websocket { }} block: a second client listener that speaks the NATS protocol inside WebSocket
 * frames, for browser clients (nats.js {@code wsconnect}) and clients that dial {@code ws://}.
 *
 * @param enabled          whether the listener runs (a {@code websocket} block with a port was given)
 * @param host             listen address; null means the client {@code host}
 * @param port             listen port; 0 binds an ephemeral one
 * @param noTls            {@code no_tls: true}: plain {@code ws://} (nats-server refuses a block without TLS or this)
 * @param tls              the listener's own {@code tls { }} block ({@code wss://}); {@link TlsConfig#NONE} for
 *                         plain {@code ws://}. When given it wins over {@code no_tls}, as in nats-server
 * @param compression      offer permessage-deflate to clients that ask for it
 * @param sameOrigin       refuse a browser whose {@code Origin} is not this listener's host
 * @param allowedOrigins   when not empty, the only {@code Origin}s accepted (scheme, host and port)
 * @param handshakeTimeout how long the HTTP upgrade may take
 * @param advertise        {@code host:port} clients should dial, or null
 * @param auth             the block's {@code no_auth_user} and {@code authorization { }}
 */
public record WebSocketConfig(
        boolean enabled,
        String host,
        int port,
        boolean noTls,
        boolean compression,
        boolean sameOrigin,
        List<String> allowedOrigins,
        Duration handshakeTimeout,
        String advertise,
        TlsConfig tls,
        WebSocketAuth auth) {

    public static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(2);
    public static final WebSocketConfig DISABLED =
            new WebSocketConfig(false, null, 0, false, false, false, List.of(), DEFAULT_HANDSHAKE_TIMEOUT, null,
                    TlsConfig.NONE);

    /** Without authentication settings of its own: WebSocket clients authenticate as the client port's. */
    public WebSocketConfig(boolean enabled, String host, int port, boolean noTls, boolean compression,
            boolean sameOrigin, List<String> allowedOrigins, Duration handshakeTimeout, String advertise,
            TlsConfig tls) {
        this(enabled, host, port, noTls, compression, sameOrigin, allowedOrigins, handshakeTimeout, advertise, tls,
                WebSocketAuth.NONE);
    }

    public WebSocketConfig {
        Objects.requireNonNull(handshakeTimeout, "handshakeTimeout");
        Objects.requireNonNull(tls, "tls");
        Objects.requireNonNull(auth, "auth");
        allowedOrigins = List.copyOf(allowedOrigins);
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("websocket port out of range: " + port);
        }
    }

    /** Whether clients dial {@code wss://}. */
    public boolean secure() {
        return tls.enabled();
    }

    /** This listener with {@code newTls} ({@link TlsConfig#NONE} for plain {@code ws://}). */
    public WebSocketConfig withTls(TlsConfig newTls) {
        return new WebSocketConfig(enabled, host, port, noTls, compression, sameOrigin, allowedOrigins,
                handshakeTimeout, advertise, newTls, auth);
    }

    /** This listener with {@code newAuth} as its authentication settings. */
    public WebSocketConfig withAuth(WebSocketAuth newAuth) {
        return new WebSocketConfig(enabled, host, port, noTls, compression, sameOrigin, allowedOrigins,
                handshakeTimeout, advertise, tls, newAuth);
    }
}
