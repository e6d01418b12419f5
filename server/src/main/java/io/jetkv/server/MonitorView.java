package io.jetkv.server;

import io.jetkv.config.ServerConfig;
import io.jetkv.jetstream.JetStreamService;
import io.jetkv.server.monitor.ServerStats;
import io.jetkv.server.monitor.ServerView;
import io.jetkv.server.monitor.ConnectionInfo;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The monitoring port's window on a {@link NatsServer}: only immutable values, atomics and the subject
 * index's read-locked count. Called on the monitoring thread.
 */
final class MonitorView implements ServerView {
    private final NatsServer server;

    MonitorView(NatsServer server) {
        this.server = server;
    }

    @Override
    public String serverId() {
        return server.serverId();
    }

    @Override
    public String serverName() {
        String name = server.config().serverName();
        return name == null ? server.serverId() : name;
    }

    @Override
    public ServerConfig config() {
        return server.config();
    }

    @Override
    public Instant started() {
        return server.started();
    }

    @Override
    public int clientPort() {
        return server.accepting() ? server.port() : 0;
    }

    @Override
    public boolean acceptingClients() {
        return server.accepting();
    }

    @Override
    public int connections() {
        return server.connectionCount();
    }

    @Override
    public int subscriptions() {
        // every account's, as nats-server's varz and subsz count them
        int n = 0;
        for (Router r : server.routers()) {
            n += r.index().size();
        }
        return n;
    }

    @Override
    public int subscriptions(String account) {
        Router r = server.knownRouter(account);
        return r == null ? 0 : r.index().size();
    }

    @Override
    public io.jetkv.server.monitor.AccountCounters accountCounters() {
        return server.accountCounters();
    }

    @Override
    public List<List<String>> connectUrls() {
        return List.of(server.info().connectUrls(), server.info().wsConnectUrls());
    }

    @Override
    public int websocketPort() {
        return server.websocketPort();
    }

    @Override
    public CompletableFuture<List<ConnectionInfo>> connectionSnapshots() {
        List<CompletableFuture<ConnectionInfo>> each = new ArrayList<>();
        for (ClientConnection c : server.clients()) {
            // a connection that closes before its loop runs the task still answers; one that fails is skipped
            each.add(c.snapshot().exceptionally(t -> null));
        }
        return CompletableFuture.allOf(each.toArray(new CompletableFuture<?>[0])).thenApply(v -> {
            List<ConnectionInfo> all = new ArrayList<>(each.size());
            for (CompletableFuture<ConnectionInfo> f : each) {
                ConnectionInfo info = f.join();
                if (info != null) {
                    all.add(info);
                }
            }
            return all;
        });
    }

    @Override
    public List<ConnectionInfo> closedConnections() {
        return server.closedConnections();
    }

    @Override
    public ServerStats stats() {
        return server.stats();
    }

    @Override
    public List<io.jetkv.server.monitor.RouteInfo> routes() {
        Cluster cluster = server.cluster();
        return cluster == null ? List.of() : cluster.routeInfos();
    }

    @Override
    public WriteCheck checkWrite(String user, String password, String subject) {
        Authenticator auth = server.authenticator();
        if (!auth.required() || user == null || user.isEmpty()) {
            return WriteCheck.UNAUTHENTICATED; // writes need one of the server's own users
        }
        ConnectOptions opts;
        try {
            com.fasterxml.jackson.databind.node.ObjectNode o =
                    new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode();
            o.put("user", user);
            o.put("pass", password == null ? "" : password);
            opts = ConnectOptions.parse(o.toString(), ConnectOptions.DEFAULTS);
        } catch (java.io.IOException e) {
            return WriteCheck.UNAUTHENTICATED;
        }
        Authenticator.Grant grant = auth.authenticate(opts, null, server.config().tls().verifyAndMap(), null);
        if (grant == null) {
            return WriteCheck.UNAUTHENTICATED;
        }
        // the console shows the global account's buckets: a user of another account may not write them
        if (!io.jetkv.config.AccountConfig.GLOBAL.equals(grant.account())) {
            return WriteCheck.FORBIDDEN;
        }
        return new PermissionCheck(grant.permissions()).canPublish(subject) ? WriteCheck.ALLOWED : WriteCheck.FORBIDDEN;
    }

    @Override
    public io.jetkv.jetstream.MessageBus bus() {
        return server.router();
    }

    @Override
    public JetStreamService jetstream() {
        return server.jetstream().service();
    }

    @Override
    public String metaLeader() {
        return server.jetstream().metaLeader();
    }
}
