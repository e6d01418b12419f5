package io.jetkv.config;

import java.time.Duration;
import java.util.Objects;

/**
 * Everything the server needs to start, resolved from defaults, the config file and flags (in that
 * order of precedence, flags last). Immutable; built once on the main thread before the server starts.
 *
 * @param host            listen address ({@code -a}, {@code host}/{@code listen})
 * @param port            client port ({@code -p}); 0 binds an ephemeral port
 * @param serverName      {@code server_name}; null means "use the server id"
 * @param maxPayload      largest PUB payload / HPUB total, advertised in INFO
 * @param maxControlLine  longest control line accepted
 * @param maxConnections  client connections allowed at once
 * @param maxPending      bytes queued for one client before it is dropped as a slow consumer
 * @param pingInterval    server PING period
 * @param pingMax         unanswered PINGs before {@code -ERR 'Stale Connection'}
 * @param writeDeadline   how long one flush to a client may stall before the client is dropped
 * @param auth            authentication and permissions; {@link AuthConfig#NONE} when open
 * @param jetstream       JetStream settings; {@link JetStreamConfig#enabled()} false when off
 * @param log             log destination and verbosity
 * @param httpPort        monitoring port ({@code -m}); 0 when off (accepted, not served yet)
 */
public record ServerConfig(
        String host,
        int port,
        String serverName,
        int maxPayload,
        int maxControlLine,
        int maxConnections,
        long maxPending,
        Duration pingInterval,
        int pingMax,
        Duration writeDeadline,
        AuthConfig auth,
        JetStreamConfig jetstream,
        LogConfig log,
        int httpPort) {

    public static final String DEFAULT_HOST = "0.0.0.0";
    public static final int DEFAULT_PORT = 4222;
    public static final int DEFAULT_MAX_PAYLOAD = 1024 * 1024;
    public static final int DEFAULT_MAX_CONTROL_LINE = 4096;
    public static final int DEFAULT_MAX_CONNECTIONS = 64 * 1024;
    public static final long DEFAULT_MAX_PENDING = 64L * 1024 * 1024;
    public static final Duration DEFAULT_PING_INTERVAL = Duration.ofMinutes(2);
    public static final int DEFAULT_PING_MAX = 2;
    public static final Duration DEFAULT_WRITE_DEADLINE = Duration.ofSeconds(10);

    public ServerConfig {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(pingInterval, "pingInterval");
        Objects.requireNonNull(writeDeadline, "writeDeadline");
        Objects.requireNonNull(auth, "auth");
        Objects.requireNonNull(jetstream, "jetstream");
        Objects.requireNonNull(log, "log");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
        if (maxPayload <= 0 || maxPayload > maxPending) {
            throw new IllegalArgumentException("max_payload must be between 1 and max_pending: " + maxPayload);
        }
    }

    /** The configuration of a plain {@code nats-server} with no flags. */
    public static ServerConfig defaults() {
        return new ServerConfig(
                DEFAULT_HOST,
                DEFAULT_PORT,
                null,
                DEFAULT_MAX_PAYLOAD,
                DEFAULT_MAX_CONTROL_LINE,
                DEFAULT_MAX_CONNECTIONS,
                DEFAULT_MAX_PENDING,
                DEFAULT_PING_INTERVAL,
                DEFAULT_PING_MAX,
                DEFAULT_WRITE_DEADLINE,
                AuthConfig.NONE,
                JetStreamConfig.DISABLED,
                LogConfig.DEFAULT,
                0);
    }

    public ServerConfig withPort(int newPort) {
        return new ServerConfig(host, newPort, serverName, maxPayload, maxControlLine, maxConnections, maxPending,
                pingInterval, pingMax, writeDeadline, auth, jetstream, log, httpPort);
    }

    public ServerConfig withHost(String newHost) {
        return new ServerConfig(newHost, port, serverName, maxPayload, maxControlLine, maxConnections, maxPending,
                pingInterval, pingMax, writeDeadline, auth, jetstream, log, httpPort);
    }

    public ServerConfig withAuth(AuthConfig newAuth) {
        return new ServerConfig(host, port, serverName, maxPayload, maxControlLine, maxConnections, maxPending,
                pingInterval, pingMax, writeDeadline, newAuth, jetstream, log, httpPort);
    }

    public ServerConfig withJetStream(JetStreamConfig newJetStream) {
        return new ServerConfig(host, port, serverName, maxPayload, maxControlLine, maxConnections, maxPending,
                pingInterval, pingMax, writeDeadline, auth, newJetStream, log, httpPort);
    }

    public ServerConfig withMaxPayload(int newMaxPayload) {
        return new ServerConfig(host, port, serverName, newMaxPayload, maxControlLine, maxConnections, maxPending,
                pingInterval, pingMax, writeDeadline, auth, jetstream, log, httpPort);
    }

    public ServerConfig withPing(Duration newInterval, int newMax) {
        return new ServerConfig(host, port, serverName, maxPayload, maxControlLine, maxConnections, maxPending,
                newInterval, newMax, writeDeadline, auth, jetstream, log, httpPort);
    }
}
