package io.jetkv.server;

import io.jetkv.config.ServerConfig;
import io.jetkv.jetstream.JetStreamService;
import io.jetkv.server.monitor.ServerStats;
import io.jetkv.server.monitor.ServerView;
import java.time.Instant;

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
        return server.router().index().size();
    }

    @Override
    public ServerStats stats() {
        return server.stats();
    }

    @Override
    public JetStreamService jetstream() {
        return server.jetstream().service();
    }
}
