package io.jetkv.server;

import io.jetkv.config.JetStreamConfig;
import io.jetkv.jetstream.JetStreamOptions;
import io.jetkv.jetstream.JetStreamService;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
    /** Written by the start and close thread, read by the monitoring thread. */
    private volatile JetStreamService service;
    private boolean closed;

    JetStreamHost(JetStreamConfig config, Router router) {
        this.config = config;
        this.router = router;
    }

    /**
     * Creates the store directory, on the bootstrap thread before the bind: the common start-up failure (a
     * bad path, no permission) then stops the server before it ever listens, as nats-server's would, at the
     * cost of a system call rather than of opening the store.
     */
    void prepareStoreDir() {
        Path dir = config.storeDir().resolve("jetstream");
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new IllegalStateException("cannot create store directory " + dir, e);
        }
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
