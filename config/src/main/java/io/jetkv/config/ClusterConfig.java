package io.jetkv.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * The {@code cluster { }} block and its flags ({@code --cluster}, {@code --routes}, ...): where this server
 * listens for routes from other servers, which servers it dials, and how routes authenticate.
 *
 * @param enabled        whether a route listener runs at all (nats-server: a cluster listen address was given)
 * @param name           cluster name; null means "generate one" (nats-server's dynamic name)
 * @param host           route listen address
 * @param port           route listen port; 0 binds an ephemeral one
 * @param advertise      {@code host:port} other servers should dial instead of the listen address, or null
 * @param routes         servers to dial, {@code nats-route://[user:pass@]host:port}; dialled for ever
 * @param user           route user required in an accepted route's CONNECT (and sent on gossiped routes), or null
 * @param password       its password, or null
 * @param authTimeout    how long an accepted route may take to send CONNECT
 * @param noAdvertise    leave other servers' client URLs out of client INFO
 * @param connectRetries extra attempts at a route learnt by gossip (0: one attempt)
 * @param tls            TLS on routes, both accepted and dialled ({@code cluster { tls { } }});
 *                       {@link TlsConfig#NONE} for plaintext routes
 */
public record ClusterConfig(
        boolean enabled,
        String name,
        String host,
        int port,
        String advertise,
        List<URI> routes,
        String user,
        String password,
        Duration authTimeout,
        boolean noAdvertise,
        int connectRetries,
        TlsConfig tls) {

    public static final Duration DEFAULT_AUTH_TIMEOUT = Duration.ofSeconds(2);
    public static final ClusterConfig DISABLED = new ClusterConfig(
            false, null, ServerConfig.DEFAULT_HOST, 0, null, List.of(), null, null, DEFAULT_AUTH_TIMEOUT, false, 0);

    /** Plaintext routes. */
    public ClusterConfig(boolean enabled, String name, String host, int port, String advertise, List<URI> routes,
            String user, String password, Duration authTimeout, boolean noAdvertise, int connectRetries) {
        this(enabled, name, host, port, advertise, routes, user, password, authTimeout, noAdvertise, connectRetries,
                TlsConfig.NONE);
    }

    public ClusterConfig {
        Objects.requireNonNull(tls, "tls");
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(authTimeout, "authTimeout");
        routes = List.copyOf(routes);
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("cluster port out of range: " + port);
        }
        if ((user == null) != (password == null)) {
            throw new IllegalArgumentException("cluster authorization: user and password must be set together");
        }
        if (connectRetries < 0) {
            throw new IllegalArgumentException("connect_retries must not be negative: " + connectRetries);
        }
    }

    /** True when accepted routes must present {@link #user()}/{@link #password()}. */
    public boolean authRequired() {
        return user != null;
    }

    public ClusterConfig withListen(String newHost, int newPort) {
        return new ClusterConfig(true, name, newHost, newPort, advertise, routes, user, password, authTimeout,
                noAdvertise, connectRetries, tls);
    }

    public ClusterConfig withName(String newName) {
        return new ClusterConfig(enabled, newName, host, port, advertise, routes, user, password, authTimeout,
                noAdvertise, connectRetries, tls);
    }

    public ClusterConfig withAdvertise(String newAdvertise) {
        return new ClusterConfig(enabled, name, host, port, newAdvertise, routes, user, password, authTimeout,
                noAdvertise, connectRetries, tls);
    }

    public ClusterConfig withRoutes(List<URI> newRoutes) {
        return new ClusterConfig(enabled, name, host, port, advertise, newRoutes, user, password, authTimeout,
                noAdvertise, connectRetries, tls);
    }

    public ClusterConfig withAuth(String newUser, String newPassword) {
        return new ClusterConfig(enabled, name, host, port, advertise, routes, newUser, newPassword, authTimeout,
                noAdvertise, connectRetries, tls);
    }

    public ClusterConfig withNoAdvertise(boolean v) {
        return new ClusterConfig(enabled, name, host, port, advertise, routes, user, password, authTimeout, v,
                connectRetries, tls);
    }

    public ClusterConfig withConnectRetries(int v) {
        return new ClusterConfig(enabled, name, host, port, advertise, routes, user, password, authTimeout,
                noAdvertise, v, tls);
    }

    public ClusterConfig withTls(TlsConfig newTls) {
        return new ClusterConfig(enabled, name, host, port, advertise, routes, user, password, authTimeout,
                noAdvertise, connectRetries, newTls);
    }

    /**
     * A route URL as nats-server accepts it: {@code nats-route://}, {@code nats://} or no scheme, then
     * {@code [user:pass@]host:port}.
     *
     * @throws IllegalArgumentException with the reason when it is not one
     */
    public static URI parseRouteUrl(String text) {
        return parseUrl(text, false);
    }

    /** As {@link #parseRouteUrl}, for the listen URL of {@code --cluster}: port -1 (any free port) reads as 0. */
    public static URI parseListenUrl(String text) {
        return parseUrl(text, true);
    }

    private static URI parseUrl(String text, boolean listen) {
        String s = text.strip();
        if (listen && s.endsWith(":-1")) {
            s = s.substring(0, s.length() - 2) + "0";
        }
        if (!s.contains("://")) {
            s = "nats-route://" + s;
        }
        URI uri;
        try {
            uri = new URI(s);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("not a URL: " + e.getReason());
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(java.util.Locale.ROOT);
        if (!scheme.equals("nats-route") && !scheme.equals("nats") && !scheme.equals("tls")) {
            throw new IllegalArgumentException("unsupported scheme \"" + uri.getScheme() + "\"");
        }
        if (uri.getHost() == null || uri.getPort() < (listen ? 0 : 1)) {
            throw new IllegalArgumentException("expected host:port");
        }
        return uri;
    }
}
