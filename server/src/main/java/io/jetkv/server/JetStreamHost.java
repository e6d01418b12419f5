package io.jetkv.server;

import io.jetkv.config.JetStreamConfig;
import io.jetkv.jetstream.JetStreamOptions;
import io.jetkv.jetstream.JetStreamService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts and stops JetStream for the server, bridging the server's configuration to the jetstream module.
 *
 * <p>Threading: start and close on the thread that starts and closes the server.
 */
final class JetStreamHost {
    private static final Logger LOG = LoggerFactory.getLogger(JetStreamHost.class);

    private final JetStreamConfig config;
    private final Router router;
    /** Written by the start and close thread, read by the monitoring thread. */
    private volatile JetStreamService service;

    JetStreamHost(JetStreamConfig config, Router router) {
        this.config = config;
        this.router = router;
    }

    void start() {
        LOG.info("Starting JetStream");
        LOG.info("  Store Directory: \"{}\"", config.storeDir().resolve("jetstream"));
        LOG.info("  Sync:            {}", config.syncAlways() ? "always (fsync before every ack)"
                : "acks after the write-ahead log write; fsync left to the OS");
        service = JetStreamService.start(
                new JetStreamOptions(config.storeDir(), config.maxMemoryStore(), config.maxFileStore(),
                        config.syncAlways(), null),
                router);
    }

    JetStreamService service() {
        return service;
    }

    void close() {
        if (service != null) {
            service.close();
            service = null;
        }
    }
}
