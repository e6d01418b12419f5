package io.jetkv.server;

import io.jetkv.config.ServerConfig;

/**
 * Starts and stops JetStream for the server, bridging the server's configuration to the jetstream module.
 *
 * <p>Threading: start and close on the thread that starts and closes the server.
 */
final class JetStreamHost {
    private final ServerConfig config;
    private final Router router;

    JetStreamHost(ServerConfig config, Router router) {
        this.config = config;
        this.router = router;
    }

    void start() {}

    void close() {}
}
