package io.jetkv.server;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lame duck mode, as nats-server runs it for rolling restarts: stop accepting, tell clients and routes
 * ({@code "ldm":true}), wait the grace period, close the clients one at a time spread over the rest of
 * {@code lame_duck_duration} (each pause random between half and all of min(1 s, (duration − grace) / clients)),
 * then shut the server down. Runs on its own thread ({@code lame-duck}), never on an event loop: its last step,
 * {@link NatsServer#close}, waits for the loops to stop.
 */
final class LameDuck {
    private static final Logger LOG = LoggerFactory.getLogger(LameDuck.class);
    private static final long MAX_PAUSE_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final NatsServer server;
    private final AtomicBoolean started = new AtomicBoolean();
    private final CompletableFuture<Void> done = new CompletableFuture<>();
    private ScheduledExecutorService timer;

    LameDuck(NatsServer server) {
        this.server = server;
    }

    boolean started() {
        return started.get();
    }

    CompletableFuture<Void> start() {
        if (started.compareAndSet(false, true)) {
            timer = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "lame-duck");
                t.setDaemon(true);
                return t;
            });
            timer.execute(this::enter);
        }
        return done;
    }

    private void enter() {
        try {
            server.stopAcceptingForLameDuck();
            List<ClientConnection> clients = new ArrayList<>(server.clients());
            if (clients.isEmpty()) {
                finish();
                return;
            }
            Duration grace = server.config().ops().lameDuckGracePeriod();
            timer.schedule(this::closeClients, grace.toNanos(), TimeUnit.NANOSECONDS);
        } catch (RuntimeException e) {
            LOG.error("lame duck mode failed: {}", e.toString());
            finish();
        }
    }

    private void closeClients() {
        List<ClientConnection> clients = new ArrayList<>(server.clients());
        LOG.info("Closing existing clients");
        if (clients.isEmpty()) {
            finish();
            return;
        }
        long spread = server.config().ops().lameDuckDuration().minus(server.config().ops().lameDuckGracePeriod())
                .toNanos();
        if (spread <= 0) {
            spread = MAX_PAUSE_NANOS;
        }
        long pause = Math.min(MAX_PAUSE_NANOS, Math.max(1, spread / clients.size()));
        closeNext(clients, 0, pause);
    }

    /** Closes client {@code i}, then schedules the next after a random pause in [pause/2, pause). */
    private void closeNext(List<ClientConnection> clients, int i, long pause) {
        try {
            clients.get(i).closeForShutdown();
            if (i + 1 >= clients.size()) {
                finish();
                return;
            }
            long wait = Math.max(pause / 2, ThreadLocalRandom.current().nextLong(pause));
            timer.schedule(() -> closeNext(clients, i + 1, pause), wait, TimeUnit.NANOSECONDS);
        } catch (RuntimeException e) {
            LOG.error("lame duck mode failed: {}", e.toString());
            finish();
        }
    }

    private void finish() {
        try {
            server.close();
        } finally {
            done.complete(null);
            timer.shutdown();
        }
    }
}
