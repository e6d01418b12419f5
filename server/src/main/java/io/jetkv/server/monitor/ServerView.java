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

    ServerStats stats();

    /**
     * Snapshots of the open client connections, each taken on its connection's event loop; completes
     * when all have answered (a connection closed meanwhile is left out).
     */
    java.util.concurrent.CompletableFuture<java.util.List<ConnectionInfo>> connectionSnapshots();

    /** The routes registered now, one per peer server; empty without a cluster. */
    java.util.List<RouteInfo> routes();

    /** The JetStream service, or null when JetStream is off or not started yet. */
    JetStreamService jetstream();

    /** Clustered JetStream's meta leader (server name), or null: not clustered, or no leader known. */
    default String metaLeader() {
        return null;
    }
}
