package io.jetkv.server.monitor;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The events nats-server publishes in the system account: {@code $SYS.ACCOUNT.<account>.CONNECT} and
 * {@code .DISCONNECT} for each client of an account other than the global one (typed
 * {@code io.nats.server.advisory.v1.client_connect}/{@code client_disconnect}), and this server's
 * {@code $SYS.SERVER.<id>.STATSZ}, first after 250 ms, then at doubling intervals up to every 10 s.
 *
 * <p>Threading: {@link #connected}/{@link #disconnected} are called on the client's event loop with its
 * snapshot and only queue; the JSON is built and published on one {@code sys-events} thread. At most
 * {@link #MAX_WAITING} events wait; beyond that they are dropped with a warning, never blocking a loop.
 */
public final class SystemEvents implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SystemEvents.class);
    static final String CONNECT_TYPE = "io.nats.server.advisory.v1.client_connect";
    static final String DISCONNECT_TYPE = "io.nats.server.advisory.v1.client_disconnect";
    private static final Duration FIRST_STATSZ = Duration.ofMillis(250);
    private static final Duration STATSZ_INTERVAL = Duration.ofSeconds(10);
    private static final int MAX_WAITING = 10_000;
    private static final char[] DIGITS =
            "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".toCharArray();

    private final ServerView server;
    private final SysRequests sys;
    private final SecureRandom random = new SecureRandom();
    private final AtomicInteger waiting = new AtomicInteger();
    private final ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, r -> {
        Thread t = new Thread(r, "sys-events");
        t.setDaemon(true);
        return t;
    });
    /** sys-events thread only. */
    private Duration statszEvery = FIRST_STATSZ;

    /** {@code sys} supplies the envelope (with its sequence, shared with the replies) and the statsz body. */
    public SystemEvents(ServerView server, SysRequests sys) {
        this.server = server;
        this.sys = sys;
        executor.setRemoveOnCancelPolicy(true);
    }

    /** Starts the STATSZ heartbeat. */
    public void start() {
        schedule(this::statsz, FIRST_STATSZ);
    }

    /** A client's CONNECT was accepted; its event loop. */
    public void connected(ConnectionInfo c) {
        if (!global(c)) {
            queue(() -> publish("$SYS.ACCOUNT." + c.account() + ".CONNECT", event(CONNECT_TYPE, c, false)));
        }
    }

    /** A client that had connected closed ({@code c.stop()} and {@code c.reason()} set); its event loop. */
    public void disconnected(ConnectionInfo c) {
        if (global(c)) {
            return;
        }
        queue(() -> {
            ObjectNode o = event(DISCONNECT_TYPE, c, true);
            // the client's view: what it sent is what the server received from it
            o.putObject("sent").put("msgs", c.inMsgs()).put("bytes", c.inBytes());
            o.putObject("received").put("msgs", c.outMsgs()).put("bytes", c.outBytes());
            o.put("reason", c.reason());
            publish("$SYS.ACCOUNT." + c.account() + ".DISCONNECT", o);
        });
    }

    /** nats-server leaves its global account's clients out of these (billing) events. */
    private static boolean global(ConnectionInfo c) {
        return c.account() == null || c.account().equals("$G");
    }

    private ObjectNode event(String type, ConnectionInfo c, boolean closed) {
        ObjectNode o = SysRequests.MAPPER.createObjectNode();
        o.put("type", type);
        o.put("id", eventId());
        o.put("timestamp", Endpoints.time(closed ? c.stop() : Instant.now()));
        ObjectNode env = sys.envelope();
        o.set("server", env.get("server"));
        ObjectNode client = o.putObject("client");
        client.put("start", Endpoints.time(c.start()));
        if (!c.ip().isEmpty()) {
            client.put("host", c.ip());
        }
        client.put("id", c.cid());
        client.put("acc", c.account());
        putIfSet(client, "user", c.user());
        putIfSet(client, "name", c.name());
        putIfSet(client, "lang", c.lang());
        putIfSet(client, "ver", c.version());
        if (closed && c.rttNanos() > 0) {
            client.put("rtt", c.rttNanos()); // a Go time.Duration: nanoseconds
        }
        client.put("server", server.serverName());
        if (closed) {
            client.put("stop", Endpoints.time(c.stop()));
        }
        client.put("kind", "Client");
        client.put("client_type", c.type());
        return o;
    }

    private static void putIfSet(ObjectNode o, String key, String value) {
        if (value != null && !value.isEmpty()) {
            o.put(key, value);
        }
    }

    /** 22 characters of base 62, the length of nats-server's NUID event ids. */
    private String eventId() {
        char[] id = new char[22];
        for (int i = 0; i < id.length; i++) {
            id[i] = DIGITS[random.nextInt(DIGITS.length)];
        }
        return new String(id);
    }

    private void statsz() {
        ObjectNode o = sys.envelope();
        o.set("statsz", sys.statsz(Instant.now()));
        publish("$SYS.SERVER." + server.serverId() + ".STATSZ", o);
        // as the reference: quick at start-up, then slower until the steady interval
        Duration next = statszEvery.multipliedBy(2);
        statszEvery = next.compareTo(STATSZ_INTERVAL) > 0 ? STATSZ_INTERVAL : next;
        schedule(this::statsz, statszEvery);
    }

    private void publish(String subject, ObjectNode o) {
        sys.send(subject, o);
    }

    private void queue(Runnable task) {
        if (waiting.incrementAndGet() > MAX_WAITING) {
            waiting.decrementAndGet();
            LOG.warn("dropping a system event: {} waiting", MAX_WAITING);
            return;
        }
        try {
            executor.execute(() -> {
                waiting.decrementAndGet();
                run(task);
            });
        } catch (RejectedExecutionException e) {
            waiting.decrementAndGet(); // closing
        }
    }

    private void schedule(Runnable task, Duration delay) {
        try {
            executor.schedule(() -> run(task), delay.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            // closing
        }
    }

    private static void run(Runnable task) {
        try {
            task.run();
        } catch (RuntimeException e) {
            LOG.warn("system event failed: {}", e.toString());
        }
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
