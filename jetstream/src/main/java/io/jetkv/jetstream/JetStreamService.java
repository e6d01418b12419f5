package io.jetkv.jetstream;

import io.jetkv.jetstream.api.JsApi;
import io.jetkv.jetstream.api.StandaloneApi;
import io.jetkv.jetstream.consumer.ConsumerManager;
import io.jetkv.jetstream.snapshot.SnapshotApi;
import io.jetkv.jetstream.stream.RocksStorageBackend;
import io.jetkv.jetstream.stream.StorageBackend;
import io.jetkv.jetstream.stream.Stream;
import io.jetkv.jetstream.stream.StreamApi;
import io.jetkv.jetstream.stream.StreamManager;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * JetStream of one server: opens storage, restores streams, answers {@code $JS.API.>} and captures
 * publishes on stream subjects, all through the {@link MessageBus} the server provides.
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
    private final MessageBus bus;
    private final StorageBackend storage;
    private final ExecutorService[] writers;
    private final ThreadPoolExecutor apiWorkers;
    private final ScheduledExecutorService timer;
    private final StreamManager streams;
    private final JsApi api;
    private final ConsumerManager consumers;
    private final SnapshotApi snapshots;
    private final List<MessageBus.Subscription> apiSubscriptions = new ArrayList<>();
    private volatile boolean closed;

    private JetStreamService(JetStreamOptions options, MessageBus bus, StorageBackend storage) {
        this.options = options;
        this.bus = bus;
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
        Stream.Context ctx = new Stream.Context(bus, options.syncAlways(), options.domain(), options.maxMemory(),
                options.maxStore(), new AtomicLong(), new AtomicLong(), writeMetrics);
        this.streams = new StreamManager(bus, storage, writers, STREAM_QUEUE_CAPACITY, ctx, options.maxMemory(),
                options.maxStore());
        this.api = new JsApi(bus, apiWorkers, options.domain());
        api.setStrict(options.strict());
        new StreamApi(streams, bus, options.domain(), options.maxMemory(), options.maxStore()).registerWith(api);
        this.consumers = new ConsumerManager(streams, bus, storage);
        consumers.registerWith(api);
        StandaloneApi.registerWith(api);
        Path staging = options.storeDir() == null
                ? Path.of(System.getProperty("java.io.tmpdir"), "jetkv-restore")
                : options.storeDir().resolve("jetstream-restore");
        this.snapshots = new SnapshotApi(streams, consumers, bus, staging, options.maxStore());
        snapshots.registerWith(api);
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
        JetStreamService js = new JetStreamService(options, bus, RocksStorageBackend.open(options.storeDir()));
        js.api.setGate(gate);
        return js.open();
    }

    /** As {@link #start(JetStreamOptions, MessageBus)} with a given storage (tests, embedding). */
    public static JetStreamService start(JetStreamOptions options, MessageBus bus, StorageBackend storage) {
        return new JetStreamService(options, bus, storage).open();
    }

    private JetStreamService open() {
        JetStreamService js = this;
        js.streams.restore();
        js.consumers.start();
        for (String subject : js.api.subscriptionSubjects()) {
            js.apiSubscriptions.add(bus.subscribe(subject, js.api::onMessage));
        }
        js.timer.scheduleAtFixedRate(js::tick, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
        LOG.info("JetStream started: {} streams restored, store {}", js.streams.all().size(), options.storeDir());
        return js;
    }

    /** The API dispatch table; the consumer side registers its {@code CONSUMER.*} handlers here. */
    public JsApi api() {
        return api;
    }

    /** The consumers; the monitoring port reads their infos through {@link ConsumerManager#infos}. */
    public ConsumerManager consumers() {
        return consumers;
    }

    /** The streams; the consumer side looks streams up here and runs on their writers. */
    public StreamManager streams() {
        return streams;
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
        for (Stream s : streams.all()) {
            try {
                s.tick(now);
            } catch (RuntimeException e) {
                LOG.error("stream {}: timer tick failed", s.name(), e);
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
        apiSubscriptions.forEach(MessageBus.Subscription::unsubscribe);
        snapshots.close();
        timer.shutdownNow();
        consumers.close();
        streams.stopAll();
        apiWorkers.shutdown();
        await(apiWorkers, "API workers");
        streams.drainAndCloseAll();
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
