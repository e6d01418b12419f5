package io.jetkv.jetstream;

import io.jetkv.jetstream.api.JsApi;
import io.jetkv.jetstream.consumer.ConsumerManager;
import io.jetkv.jetstream.snapshot.SnapshotApi;
import io.jetkv.jetstream.stream.RocksStorageBackend;
import io.jetkv.jetstream.stream.StorageBackend;
import io.jetkv.jetstream.stream.Stream;
import io.jetkv.jetstream.stream.StreamManager;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * JetStream of one server: opens storage, restores streams, answers {@code $JS.API.>} and captures
 * publishes on stream subjects, all through the {@link MessageBus} the server provides. Each account is a
 * {@link JetStreamAccount} of its own (its bus, streams, consumers, API and limits); the threads and the RocksDB
 * below are shared. A server without accounts has one, {@code $G}.
 *
 * <p>Threads it owns: {@code js-writer-N} (one single-thread executor per slot; each stream is pinned to
 * one), {@code js-api-N} (request parsing and validation), {@code js-timer} (max-age expiry and dedupe
 * window ticks), and through {@link SnapshotApi} one thread per running snapshot or restore
 * ({@code js-snapshot-<stream>}, {@code js-restore-<stream>}, at most 4). {@link #start} and {@link #close} are
 * called by the server's bootstrap thread.
 */
public final class JetStreamService implements AutoCloseable {
    private final io.jetkv.jetstream.stream.WriteMetrics writeMetrics = new io.jetkv.jetstream.stream.WriteMetrics();
    private static final Logger LOG = LoggerFactory.getLogger(JetStreamService.class);

    /** Bounded queue of each stream's writer; a full queue answers 429/10167. */
    static final int STREAM_QUEUE_CAPACITY = 8192;
    private static final int API_QUEUE_CAPACITY = 4096;
    private static final long TICK_MILLIS = 100;
    private static final long SHUTDOWN_SECONDS = 10;
    /**
     * How long a writer polls its emptied queue before parking ({@link WriterQueue}). It covers a client's round
     * trip on the VMs measured in BENCHMARKS.md. {@code -Djetkv.writerPollMicros=0} turns the poll off.
     */
    static final long WRITER_POLL_MICROS = Long.getLong("jetkv.writerPollMicros", 300);

    private final JetStreamOptions options;
    private final StorageBackend storage;
    private final ExecutorService[] writers;
    private final ThreadPoolExecutor apiWorkers;
    private final ScheduledExecutorService timer;
    /** Every account, in configuration order; fixed at start. */
    private final java.util.Map<String, JetStreamAccount> accounts = new java.util.LinkedHashMap<>();
    /** The account {@link #streams()}, {@link #api()} and {@link #consumers()} speak for. */
    private final JetStreamAccount primary;
    private volatile boolean closed;

    /**
     * One account's place in the server's JetStream.
     *
     * @param name    the account name ({@code $G} for the global account)
     * @param bus     the account's subject space
     * @param enabled false: its API answers "JetStream not enabled for account"
     * @param limits  its own limits, or null when the server's are its ({@code $G} of a server without accounts)
     * @param system  the system account: only {@code $JS.API.INFO} is answered (not enabled), the rest is not
     */
    public record AccountSetup(String name, MessageBus bus, boolean enabled, AccountLimits limits, boolean system) {
        public AccountSetup(String name, MessageBus bus, boolean enabled, AccountLimits limits) {
            this(name, bus, enabled, limits, false);
        }
    }

    /** The global account's name, whose streams are stored without a namespace (as before accounts). */
    public static final String GLOBAL_ACCOUNT = "$G";

    private JetStreamService(JetStreamOptions options, List<AccountSetup> setups, StorageBackend storage) {
        this.options = options;
        this.storage = storage;
        int n = Math.max(2, Runtime.getRuntime().availableProcessors());
        this.writers = new ExecutorService[n];
        for (int i = 0; i < n; i++) {
            writers[i] = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS,
                    new WriterQueue(TimeUnit.MICROSECONDS.toNanos(WRITER_POLL_MICROS)), named("js-writer-" + i));
        }
        int apiThreads = Math.min(4, Math.max(2, n / 2));
        this.apiWorkers = new ThreadPoolExecutor(apiThreads, apiThreads, 0, TimeUnit.MILLISECONDS,
                new ArrayBlockingQueue<>(API_QUEUE_CAPACITY), numbered("js-api-"), new ThreadPoolExecutor.AbortPolicy());
        this.timer = Executors.newSingleThreadScheduledExecutor(named("js-timer"));
        Path staging = options.storeDir() == null
                ? Path.of(System.getProperty("java.io.tmpdir"), "jetkv-restore")
                : options.storeDir().resolve("jetstream-restore");
        JetStreamAccount.Shared shared = new JetStreamAccount.Shared(options, writers, STREAM_QUEUE_CAPACITY,
                apiWorkers, writeMetrics, staging, new java.util.concurrent.atomic.AtomicLong(),
                new java.util.concurrent.atomic.AtomicLong(), new AtomicInteger(), new AtomicInteger());
        JetStreamAccount first = null;
        JetStreamAccount firstEnabled = null;
        for (AccountSetup a : setups) {
            JetStreamAccount acc = new JetStreamAccount(a.name(), a.enabled() && !a.system(), a.system(), a.bus(), a.limits(),
                    storage.forAccount(a.name().equals(GLOBAL_ACCOUNT) ? null : a.name()), shared);
            accounts.put(a.name(), acc);
            first = first == null ? acc : first;
            firstEnabled = firstEnabled == null && a.enabled() ? acc : firstEnabled;
        }
        if (first == null) {
            throw new IllegalArgumentException("JetStream needs at least one account");
        }
        JetStreamAccount global = accounts.get(GLOBAL_ACCOUNT);
        this.primary = global != null && global.enabled() ? global : firstEnabled != null ? firstEnabled : first;
    }

    /** Opens RocksDB under {@code options.storeDir()/jetstream}, restores streams and subscribes. */
    public static JetStreamService start(JetStreamOptions options, MessageBus bus) {
        return start(options, bus, RocksStorageBackend.open(options.storeDir()));
    }

    /**
     * As {@link #start(JetStreamOptions, MessageBus)}, with {@code gate} deciding who answers the API from the
     * first request on: a cluster member must not answer as a single server from its restored streams before
     * the cluster layer has started and installed its own gate.
     */
    public static JetStreamService start(JetStreamOptions options, MessageBus bus, JsApi.Gate gate) {
        return start(options, List.of(new AccountSetup(GLOBAL_ACCOUNT, bus, true, null)), gate);
    }

    /** As {@link #start(JetStreamOptions, List)}, with {@code gate} in front of every enabled account's API. */
    public static JetStreamService start(JetStreamOptions options, List<AccountSetup> accounts, JsApi.Gate gate) {
        JetStreamService js = new JetStreamService(options, accounts, RocksStorageBackend.open(options.storeDir()));
        for (JetStreamAccount a : js.accounts.values()) {
            if (a.enabled()) {
                a.api().setGate(gate);
            }
        }
        return js.open();
    }

    /** As {@link #start(JetStreamOptions, MessageBus)} with a given storage (tests, embedding). */
    public static JetStreamService start(JetStreamOptions options, MessageBus bus, StorageBackend storage) {
        return start(options, List.of(new AccountSetup(GLOBAL_ACCOUNT, bus, true, null)), storage);
    }

    /** JetStream for several accounts, each in its own subject space and storage namespace. */
    public static JetStreamService start(JetStreamOptions options, List<AccountSetup> accounts) {
        return start(options, accounts, RocksStorageBackend.open(options.storeDir()));
    }

    public static JetStreamService start(JetStreamOptions options, List<AccountSetup> accounts,
            StorageBackend storage) {
        return new JetStreamService(options, accounts, storage).open();
    }

    /** Restores each account's streams, starts its consumers and subscribes its API; starts the timer. */
    private JetStreamService open() {
        JetStreamService js = this;
        for (JetStreamAccount a : js.accounts.values()) {
            a.start();
        }
        js.timer.scheduleAtFixedRate(js::tick, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
        int restored = 0;
        for (JetStreamAccount a : js.accounts.values()) {
            restored += a.streams().all().size();
        }
        LOG.info("JetStream started: {} streams restored, store {}", restored, options.storeDir());
        return js;
    }

    /** The account called {@code name}, or null when it has no place in JetStream. */
    public JetStreamAccount account(String name) {
        return accounts.get(name);
    }

    /** The account {@link #api()}, {@link #streams()} and {@link #consumers()} speak for. */
    public JetStreamAccount primary() {
        return primary;
    }

    /** Every account, enabled or not, in configuration order. */
    public java.util.Collection<JetStreamAccount> accounts() {
        return java.util.Collections.unmodifiableCollection(accounts.values());
    }

    /**
     * The API dispatch table of the primary account ({@code $G} when it has JetStream, else the first account that
     * has); the cluster layer wraps it.
     */
    public JsApi api() {
        return primary.api();
    }

    /** The primary account's consumers; the monitoring port reads their infos through {@link ConsumerManager#infos}. */
    public ConsumerManager consumers() {
        return primary.consumers();
    }

    /** The primary account's streams; the consumer side looks streams up here and runs on their writers. */
    public StreamManager streams() {
        return primary.streams();
    }

    /** Persisted metadata (consumer configs and state go here, outside the {@code stream/} keys). */
    public StorageBackend storage() {
        return storage;
    }

    /** Group-commit latency and batch sizes of all streams, read by the metrics endpoint. */
    public io.jetkv.jetstream.stream.WriteMetrics writeMetrics() {
        return writeMetrics;
    }

    public JetStreamOptions options() {
        return options;
    }

    private void tick() {
        Instant i = Instant.now();
        long now = i.getEpochSecond() * 1_000_000_000L + i.getNano();
        for (JetStreamAccount a : accounts.values()) {
            for (Stream s : a.streams().all()) {
                try {
                    s.tick(now);
                } catch (RuntimeException e) {
                    LOG.error("stream {}: timer tick failed", s.name(), e);
                }
            }
        }
    }

    /**
     * Shuts down in reverse: stop answering the API and capturing publishes, let each writer finish its
     * queue and close its stores, stop the threads, close storage. Each step is time-boxed.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        timer.shutdownNow();
        for (JetStreamAccount a : accounts.values()) {
            a.stop();
        }
        apiWorkers.shutdown();
        await(apiWorkers, "API workers");
        for (JetStreamAccount a : accounts.values()) {
            a.streams().drainAndCloseAll();
        }
        for (ExecutorService w : writers) {
            w.shutdown();
        }
        for (ExecutorService w : writers) {
            await(w, "stream writer");
        }
        try {
            storage.close();
        } catch (RuntimeException e) {
            LOG.error("closing JetStream storage failed", e);
        }
        LOG.info("JetStream stopped");
    }

    private static void await(ExecutorService e, String what) {
        try {
            if (!e.awaitTermination(SHUTDOWN_SECONDS, TimeUnit.SECONDS)) {
                LOG.warn("{} did not stop within {} s", what, SHUTDOWN_SECONDS);
                e.shutdownNow();
            }
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            e.shutdownNow();
        }
    }

    private static ThreadFactory named(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }

    private static ThreadFactory numbered(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
