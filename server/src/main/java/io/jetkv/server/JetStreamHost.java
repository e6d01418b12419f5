package io.jetkv.server;

import io.jetkv.config.JetStreamConfig;
import io.jetkv.jetstream.JetStreamOptions;
import io.jetkv.jetstream.JetStreamService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts and stops JetStream for the server, bridging the server's configuration to the jetstream module.
 *
 * <p>Threading: {@link #start} runs on the {@code js-start} thread while the server already listens, and
 * {@link #close} on the thread that closes the server; they are serialised, so a close during start-up
 * waits for the store to open and then closes it, and a start after close does nothing.
 */
final class JetStreamHost {
    private static final Logger LOG = LoggerFactory.getLogger(JetStreamHost.class);

    private final JetStreamConfig config;
    private final Router router;
    private JetStreamService service;
    private boolean closed;

    JetStreamHost(JetStreamConfig config, Router router) {
        this.config = config;
        this.router = router;
    }

    synchronized void start() {
        if (closed) {
            throw new IllegalStateException("server closed while JetStream was starting");
        }
        LOG.info("Starting JetStream");
        LOG.info("  Store Directory: \"{}\"", config.storeDir().resolve("jetstream"));
        LOG.info("  Sync:            {}", config.syncAlways() ? "always (fsync before every ack)"
                : "acks after the write-ahead log write; fsync left to the OS");
        service = JetStreamService.start(
                new JetStreamOptions(config.storeDir(), config.maxMemoryStore(), config.maxFileStore(),
                        config.syncAlways(), null),
                router);
    }

    synchronized JetStreamService service() {
        return service;
    }

    synchronized void close() {
        closed = true;
        if (service != null) {
            service.close();
            service = null;
        }
    }
}
