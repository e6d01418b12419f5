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
 * @param httpPort        monitoring port ({@code -m}); 0 when off, -1 for a random port
 * @param httpHost        monitoring listen host ({@code http: host:port}); null means the client {@code host}
 * @param httpBasePath    prefix of every monitoring path ({@code http_base_path}); empty for none
 * @param cluster         routes to other servers; {@link ClusterConfig#DISABLED} when this server runs alone
 * @param tls             TLS for client connections; {@link TlsConfig#NONE} when clients connect in plaintext
 * @param httpsMonitor    the monitoring port serves HTTPS with {@link #tls()}'s certificate ({@code https_port})
 * @param websocket       the WebSocket client listener; {@link WebSocketConfig#DISABLED} when off
 * @param ops             pid and ports files, lame duck mode; {@link OpsConfig#DEFAULT} by default
 * @param monitor         closed connections kept for {@code /connz}, console writes; {@link MonitorConfig#DEFAULT}
 * @param serverTags      {@code server_tags}: this server's tags, matched against a stream's {@code placement.tags}
 *                        (lower case, as nats-server keeps them); empty for none
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
        int httpPort,
        String httpHost,
        String httpBasePath,
        ClusterConfig cluster,
        TlsConfig tls,
        boolean httpsMonitor,
        WebSocketConfig websocket,
        OpsConfig ops,
        MonitorConfig monitor,
        java.util.List<String> serverTags) {

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
        Objects.requireNonNull(cluster, "cluster");
        Objects.requireNonNull(ops, "ops");
        Objects.requireNonNull(monitor, "monitor");
        Objects.requireNonNull(websocket, "websocket");
        Objects.requireNonNull(tls, "tls");
        Objects.requireNonNull(httpBasePath, "httpBasePath");
        serverTags = java.util.List.copyOf(serverTags);
        if (httpPort < -1 || httpPort > 65535) {
            throw new IllegalArgumentException("http_port out of range: " + httpPort);
        }
        if (httpsMonitor && !tls.enabled()) {
            throw new IllegalArgumentException("https_port needs a tls { } block with the server certificate");
        }
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
                0,
                null,
                "",
                ClusterConfig.DISABLED,
                TlsConfig.NONE,
                false,
                WebSocketConfig.DISABLED,
                OpsConfig.DEFAULT,
                MonitorConfig.DEFAULT,
                java.util.List.of());
    }

    public ServerConfig withPort(int newPort) {
        return toBuilder().port(newPort).build();
    }

    /** The monitoring port: 0 off, -1 random (tests: -1). */
    public ServerConfig withHttpPort(int newHttpPort) {
        return toBuilder().httpPort(newHttpPort).build();
    }

    public ServerConfig withHost(String newHost) {
        return toBuilder().host(newHost).build();
    }

    public ServerConfig withAuth(AuthConfig newAuth) {
        return toBuilder().auth(newAuth).build();
    }

    public ServerConfig withJetStream(JetStreamConfig newJetStream) {
        return toBuilder().jetstream(newJetStream).build();
    }

    public ServerConfig withMaxPayload(int newMaxPayload) {
        return toBuilder().maxPayload(newMaxPayload).build();
    }

    public ServerConfig withPing(Duration newInterval, int newMax) {
        return toBuilder().pingInterval(newInterval).pingMax(newMax).build();
    }

    public ServerConfig withServerName(String newServerName) {
        return toBuilder().serverName(newServerName).build();
    }

    public ServerConfig withCluster(ClusterConfig newCluster) {
        return toBuilder().cluster(newCluster).build();
    }

    public ServerConfig withTls(TlsConfig newTls) {
        return toBuilder().tls(newTls).build();
    }

    public ServerConfig withLog(LogConfig newLog) {
        return toBuilder().log(newLog).build();
    }

    public ServerConfig withWebSocket(WebSocketConfig newWebSocket) {
        return toBuilder().websocket(newWebSocket).build();
    }

    public ServerConfig withOps(OpsConfig newOps) {
        return toBuilder().ops(newOps).build();
    }

    public ServerConfig withMonitor(MonitorConfig newMonitor) {
        return toBuilder().monitor(newMonitor).build();
    }

    /** A builder holding this configuration's values, to change several at once. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /** A builder starting from {@link #defaults()}. */
    public static Builder builder() {
        return new Builder(defaults());
    }

    /**
     * Mutable twin of {@link ServerConfig}, used while layering defaults, the config file and flags. Not
     * thread-safe; {@link #build()} runs the record's checks.
     */
    public static final class Builder {
        private String host;
        private int port;
        private String serverName;
        private int maxPayload;
        private int maxControlLine;
        private int maxConnections;
        private long maxPending;
        private Duration pingInterval;
        private int pingMax;
        private Duration writeDeadline;
        private AuthConfig auth;
        private JetStreamConfig jetstream;
        private LogConfig log;
        private int httpPort;
        private String httpHost;
        private String httpBasePath;
        private ClusterConfig cluster;
        private OpsConfig ops;
        private WebSocketConfig websocket;
        private TlsConfig tls;
        private boolean httpsMonitor;
        private MonitorConfig monitor;
        private java.util.List<String> serverTags;

        private Builder(ServerConfig c) {
            host = c.host;
            port = c.port;
            serverName = c.serverName;
            maxPayload = c.maxPayload;
            maxControlLine = c.maxControlLine;
            maxConnections = c.maxConnections;
            maxPending = c.maxPending;
            pingInterval = c.pingInterval;
            pingMax = c.pingMax;
            writeDeadline = c.writeDeadline;
            auth = c.auth;
            jetstream = c.jetstream;
            log = c.log;
            httpPort = c.httpPort;
            httpHost = c.httpHost;
            httpBasePath = c.httpBasePath;
            cluster = c.cluster;
            ops = c.ops;
            websocket = c.websocket;
            tls = c.tls;
            httpsMonitor = c.httpsMonitor;
            monitor = c.monitor;
            serverTags = c.serverTags;
        }

        public Builder host(String v) { host = v; return this; }
        public Builder port(int v) { port = v; return this; }
        public Builder serverName(String v) { serverName = v; return this; }
        public Builder maxPayload(int v) { maxPayload = v; return this; }
        public Builder maxControlLine(int v) { maxControlLine = v; return this; }
        public Builder maxConnections(int v) { maxConnections = v; return this; }
        public Builder maxPending(long v) { maxPending = v; return this; }
        public Builder pingInterval(Duration v) { pingInterval = v; return this; }
        public Builder pingMax(int v) { pingMax = v; return this; }
        public Builder writeDeadline(Duration v) { writeDeadline = v; return this; }
        public Builder auth(AuthConfig v) { auth = v; return this; }
        public Builder jetstream(JetStreamConfig v) { jetstream = v; return this; }
        public Builder log(LogConfig v) { log = v; return this; }
        public Builder httpPort(int v) { httpPort = v; return this; }
        public Builder httpHost(String v) { httpHost = v; return this; }
        public Builder httpBasePath(String v) { httpBasePath = v; return this; }
        public Builder cluster(ClusterConfig v) { cluster = v; return this; }
        public Builder ops(OpsConfig v) { ops = v; return this; }
        public Builder websocket(WebSocketConfig v) { websocket = v; return this; }
        public Builder tls(TlsConfig v) { tls = v; return this; }
        public Builder httpsMonitor(boolean v) { httpsMonitor = v; return this; }
        public Builder monitor(MonitorConfig v) { monitor = v; return this; }
        public Builder serverTags(java.util.List<String> v) { serverTags = v; return this; }

        public AuthConfig auth() { return auth; }
        public JetStreamConfig jetstream() { return jetstream; }
        public LogConfig log() { return log; }
        public ClusterConfig cluster() { return cluster; }
        public OpsConfig ops() { return ops; }
        public WebSocketConfig websocket() { return websocket; }
        public TlsConfig tls() { return tls; }
        public MonitorConfig monitor() { return monitor; }

        /** @throws IllegalArgumentException when the values break a {@link ServerConfig} invariant */
        public ServerConfig build() {
            return new ServerConfig(host, port, serverName, maxPayload, maxControlLine, maxConnections, maxPending,
                    pingInterval, pingMax, writeDeadline, auth, jetstream, log, httpPort, httpHost, httpBasePath, cluster, tls, httpsMonitor, websocket, ops, monitor,
                    serverTags);
        }
    }
}
