package io.jetkv.conformance.faults;

import io.nats.client.Connection;
import io.nats.client.JetStreamApiException;
import io.nats.client.KeyValue;
import io.nats.client.KeyValueOptions;
import io.nats.client.api.KeyValueEntry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Concurrent KV clients for a linearizability check: each runs on its own thread and its own jnats connection
 * (to the node it was given, failing over to the others), picks one of a few keys and one of put, get,
 * create, update (on the last revision it saw of the key, or one before) and delete, and records every call in
 * one {@link History}. Values are unique ({@code c<client>-<n>}), so a read names the write it saw.
 *
 * <p>Error mapping: JetStream's "wrong last sequence" (10071) is a definite failure of create/update; a request
 * that reached no one (503 no responders) did not take effect; anything else (timeouts, lost connections,
 * other API errors, which a leader change can produce after the proposal went out) is indeterminate.
 */
public final class KvWorkload implements AutoCloseable {
    private static final int WRONG_LAST_SEQUENCE = 10071;

    private final History history = new History();
    private final List<String> keys;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicLong definite = new AtomicLong();
    private final AtomicLong indeterminate = new AtomicLong();
    private final List<Thread> threads = new ArrayList<>();
    private final List<Connection> connections;
    private final Map<String, Long> errors = new HashMap<>(); // guarded by itself
    private final boolean compareAndSet;

    /** Which calls the clients make. */
    public enum Mix {
        /** put, get, create, update (CAS) and delete. */
        ALL,
        /**
         * put, get and delete only: for a server whose CAS is known not to be linearizable (nats-server 2.9.10,
         * issue #4320), so that the rest is still checked.
         */
        NO_COMPARE_AND_SET
    }

    /** Starts one client per connection on {@code bucket}; {@code timeout} bounds each request. */
    public KvWorkload(List<Connection> connections, String bucket, List<String> keys, Duration timeout, long seed,
            Mix mix) throws Exception {
        this.connections = connections;
        this.compareAndSet = mix == Mix.ALL;
        this.keys = List.copyOf(keys);
        for (int c = 0; c < connections.size(); c++) {
            KeyValue kv = connections.get(c).keyValue(bucket,
                    KeyValueOptions.builder().jetStreamOptions(
                            io.nats.client.JetStreamOptions.builder().requestTimeout(timeout).build()).build());
            int client = c;
            Random rnd = new Random(seed * 31 + c);
            Thread t = new Thread(() -> run(client, kv, rnd), "kv-client-" + c);
            t.setDaemon(true);
            threads.add(t);
        }
        threads.forEach(Thread::start);
    }

    public History history() {
        return history;
    }

    /** The keys the clients work on. */
    public List<String> keys() {
        return keys;
    }

    /** Operations answered so far (success or definite failure). */
    public long definite() {
        return definite.get();
    }

    public long indeterminate() {
        return indeterminate.get();
    }

    /** Error texts of indeterminate operations and how often each came. */
    public Map<String, Long> errors() {
        synchronized (errors) {
            return new HashMap<>(errors);
        }
    }

    private void run(int client, KeyValue kv, Random rnd) {
        Map<String, Long> lastRevision = new HashMap<>();
        int n = 0;
        while (running.get()) {
            String key = keys.get(rnd.nextInt(keys.size()));
            String value = "c" + client + "-" + n++;
            int pick = rnd.nextInt(100);
            if (!compareAndSet && pick >= 55 && pick < 92) {
                pick = pick < 80 ? 0 : 40; // a get or a put instead
            }
            if (pick < 35) {
                History.Pending p = history.invoke(client, KvOp.Kind.GET, key, null, 0);
                try {
                    KeyValueEntry e = kv.get(key);
                    if (e == null) {
                        p.read(null, 0);
                    } else {
                        lastRevision.put(key, e.getRevision());
                        p.read(new String(e.getValue(), StandardCharsets.UTF_8), e.getRevision());
                    }
                    definite.incrementAndGet();
                } catch (Exception e) {
                    outcome(p, e);
                }
            } else if (pick < 55) {
                History.Pending p = history.invoke(client, KvOp.Kind.PUT, key, value, 0);
                try {
                    long rev = kv.put(key, value.getBytes(StandardCharsets.UTF_8));
                    lastRevision.put(key, rev);
                    p.ok(rev);
                    definite.incrementAndGet();
                } catch (Exception e) {
                    outcome(p, e);
                }
            } else if (pick < 70) {
                History.Pending p = history.invoke(client, KvOp.Kind.CREATE, key, value, 0);
                try {
                    long rev = kv.create(key, value.getBytes(StandardCharsets.UTF_8));
                    lastRevision.put(key, rev);
                    p.ok(rev);
                    definite.incrementAndGet();
                } catch (Exception e) {
                    outcome(p, e);
                }
            } else if (pick < 92) {
                long seen = lastRevision.getOrDefault(key, 1L);
                long expected = rnd.nextInt(4) == 0 ? Math.max(1, seen - 1) : seen;
                History.Pending p = history.invoke(client, KvOp.Kind.UPDATE, key, value, expected);
                try {
                    long rev = kv.update(key, value.getBytes(StandardCharsets.UTF_8), expected);
                    lastRevision.put(key, rev);
                    p.ok(rev);
                    definite.incrementAndGet();
                } catch (Exception e) {
                    outcome(p, e);
                }
            } else {
                History.Pending p = history.invoke(client, KvOp.Kind.DELETE, key, null, 0);
                try {
                    kv.delete(key);
                    p.ok(0);
                    definite.incrementAndGet();
                } catch (Exception e) {
                    outcome(p, e);
                }
            }
        }
    }

    private void outcome(History.Pending p, Exception e) {
        if (e instanceof JetStreamApiException api && api.getApiErrorCode() == WRONG_LAST_SEQUENCE) {
            p.failed("wrong last sequence");
            definite.incrementAndGet();
            return;
        }
        String text = String.valueOf(e.getMessage());
        boolean definiteError = text.contains("503") || text.toLowerCase().contains("no responders");
        if (definiteError) {
            p.notApplied("no responders"); // reached no stream: took no effect
            noteError("no responders");
        } else {
            p.indeterminate(e.getClass().getSimpleName() + ": " + text);
            indeterminate.incrementAndGet();
            noteError(e.getClass().getSimpleName() + ": " + text.replaceAll("\\d+", "N"));
        }
        // back off as an application would: errors that come at once (no leader yet) would otherwise fill the
        // history with thousands of calls a second while the cluster recovers; longer after an indeterminate one,
        // which stays open to the end of the history and so multiplies the checker's search
        try {
            Thread.sleep(definiteError ? 50 : 250);
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        }
        if (e instanceof InterruptedException) {
            Thread.currentThread().interrupt();
        }
    }

    private void noteError(String what) {
        synchronized (errors) {
            errors.merge(what, 1L, Long::sum);
        }
    }

    /** Stops the clients after their current operation (an unanswered one stays indeterminate). */
    @Override
    public void close() throws InterruptedException {
        running.set(false);
        for (Thread t : threads) {
            t.join(30_000);
        }
    }

    public List<Connection> connections() {
        return connections;
    }
}
