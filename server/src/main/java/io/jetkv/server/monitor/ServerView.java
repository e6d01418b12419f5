package io.jetkv.server.monitor;

import io.jetkv.config.ServerConfig;
import io.jetkv.jetstream.JetStreamService;
import java.time.Instant;

/**
 * What the monitoring endpoints may read from the running server: immutable facts and thread-safe
 * counters only, so that the HTTP thread never touches state an event loop or a stream writer owns.
 * {@code NatsServer} implements it.
 */
public interface ServerView {
    String serverId();

    /** {@code server_name}, or the server id when none is configured. */
    String serverName();

    ServerConfig config();

    Instant started();

    /** The bound client port, 0 while the client listener is not open yet. */
    int clientPort();

    /** True once the client listener accepts connections. */
    boolean acceptingClients();

    /** Client connections open now. */
    int connections();

    /** Subscriptions in the subject index now. */
    int subscriptions();

    /** Subscriptions in {@code account}'s subject space now; 0 for an account without one. */
    int subscriptions(String account);

    /** Open clients per account and the closed ones' totals (nats-server's account statistics). */
    AccountCounters accountCounters();

    /** The client URLs a cluster offers clients ({@code connect_urls}), then its WebSocket ones; empty alone. */
    default java.util.List<java.util.List<String>> connectUrls() {
        return java.util.List.of(java.util.List.of(), java.util.List.of());
    }

    /** The bound WebSocket port, 0 without a WebSocket listener (or before it is bound). */
    default int websocketPort() {
        return 0;
    }

    ServerStats stats();

    /**
     * Snapshots of the open client connections, each taken on its connection's event loop; completes
     * when all have answered (a connection closed meanwhile is left out).
     */
    java.util.concurrent.CompletableFuture<java.util.List<ConnectionInfo>> connectionSnapshots();

    /** The last closed client connections, oldest first (at most {@code max_closed_clients}). */
    java.util.List<ConnectionInfo> closedConnections();

    /** The routes registered now, one per peer server; empty without a cluster. */
    java.util.List<RouteInfo> routes();

    /** What a console write may do, judged from HTTP basic credentials. */
    enum WriteCheck {
        /** The user authenticated, is in the global account and may publish to the subject. */
        ALLOWED,
        /** No such user, a wrong password, or the server has no users at all. */
        UNAUTHENTICATED,
        /** Authenticated, but its permissions (or its account) do not cover the subject. */
        FORBIDDEN
    }

    /**
     * Checks {@code user}/{@code password} against the server's own users (as a client's CONNECT is checked) and
     * whether that user may publish to {@code subject}. Any thread.
     */
    WriteCheck checkWrite(String user, String password, String subject);

    /** The global account's message bus: console writes publish through it, as a client's publish goes. */
    io.jetkv.jetstream.MessageBus bus();

    /** The JetStream service, or null when JetStream is off or not started yet. */
    JetStreamService jetstream();

    /** Clustered JetStream's meta leader (server name), or null: not clustered, or no leader known. */
    default String metaLeader() {
        return null;
    }
}
