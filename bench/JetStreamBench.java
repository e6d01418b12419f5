import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.JetStreamManagement;
import io.nats.client.KeyValue;
import io.nats.client.api.KeyValueConfiguration;
import io.nats.client.api.KeyValueEntry;
import io.nats.client.api.PublishAck;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * JetStream and KV throughput benchmark: the same black-box jnats client as {@link Bench}, against any server at
 * a URL started with {@code -js}. Runs on the caller's thread; jnats adds its own threads.
 *
 * <p>Usage: {@code java -cp jnats-2.25.1.jar:. JetStreamBench nats://127.0.0.1:4222 [syncN] [asyncN] [getN]
 * [repeats]}
 *
 * <p>Every scenario writes to a file-storage stream (or bucket) created empty just before the clock starts. Each
 * runs once untimed at a tenth of its size, then {@code repeats} timed times. Prints one
 * {@code scenario median_per_sec} line per scenario on stdout (bench/run.sh parses them), like {@link Bench}.
 */
public final class JetStreamBench {
    static final String STREAM = "BENCH";
    static final String STREAM_SUBJECT = "bench.js";
    static final String BUCKET = "bench";
    static final int KEYS = 1000;
    /** {@code -Dbench.replicas=3}: replicated stream and bucket, for a cluster. */
    static final int REPLICAS = Integer.getInteger("bench.replicas", 1);
    // Outstanding pub acks in the async scenarios: enough to fill the server's group commits, well under
    // JetKV's per-stream queue (8192), so neither server is asked to refuse work.
    static final int WINDOW = 1024;
    // A tenth, not Bench's half: a half-size sync run with sync_always would cost minutes of fsyncs.
    static final int WARMUP_DIVISOR = 10;

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: JetStreamBench <url> [syncN] [asyncN] [getN] [repeats]");
            System.exit(2);
        }
        String url = args[0];
        int syncN = args.length > 1 ? Integer.parseInt(args[1]) : 20_000;
        int asyncN = args.length > 2 ? Integer.parseInt(args[2]) : 200_000;
        int getN = args.length > 3 ? Integer.parseInt(args[3]) : 20_000;
        int repeats = args.length > 4 ? Integer.parseInt(args[4]) : 1;

        try (Connection nc = Bench.connect(url, "bench-js", null)) {
            Bench.run("jspub", repeats, () -> jsPublishSync(nc, syncN / WARMUP_DIVISOR),
                    () -> jsPublishSync(nc, syncN));
            Bench.run("jspubasync", repeats, () -> jsPublishAsync(nc, asyncN / WARMUP_DIVISOR),
                    () -> jsPublishAsync(nc, asyncN));
            Bench.run("kvput", repeats, () -> kvPutSync(nc, syncN / WARMUP_DIVISOR), () -> kvPutSync(nc, syncN));
            Bench.run("kvputasync", repeats, () -> kvPutAsync(nc, asyncN / WARMUP_DIVISOR),
                    () -> kvPutAsync(nc, asyncN));
            Bench.run("kvget", repeats, () -> kvGet(nc, getN / WARMUP_DIVISOR), () -> kvGet(nc, getN));
            Bench.deleteStream(nc.jetStreamManagement(), STREAM);
            Bench.deleteStream(nc.jetStreamManagement(), "KV_" + BUCKET);
        }
    }

    /** Sequential {@code JetStream.publish}: each message waits for its pub ack, one round trip at a time. */
    static double jsPublishSync(Connection nc, int n) throws Exception {
        freshStream(nc);
        JetStream js = nc.jetStream();
        byte[] payload = new byte[Bench.PAYLOAD_SIZE];
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            js.publish(STREAM_SUBJECT, payload); // throws on an error ack
        }
        return Bench.rate(n, System.nanoTime() - start);
    }

    /** {@code publishAsync} with at most {@link #WINDOW} acks outstanding; the clock stops at the last ack. */
    static double jsPublishAsync(Connection nc, int n) throws Exception {
        freshStream(nc);
        JetStream js = nc.jetStream();
        byte[] payload = new byte[Bench.PAYLOAD_SIZE];
        long start = System.nanoTime();
        publishWindowed(js, n, i -> STREAM_SUBJECT, payload);
        return Bench.rate(n, System.nanoTime() - start);
    }

    /** Sequential {@code KeyValue.put} over {@link #KEYS} keys of a history-1 bucket. */
    static double kvPutSync(Connection nc, int n) throws Exception {
        KeyValue kv = freshBucket(nc);
        byte[] payload = new byte[Bench.PAYLOAD_SIZE];
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            kv.put(key(i), payload);
        }
        return Bench.rate(n, System.nanoTime() - start);
    }

    /** A KV put is a publish to {@code $KV.<bucket>.<key>}; this one is asynchronous, windowed like jspubasync. */
    static double kvPutAsync(Connection nc, int n) throws Exception {
        freshBucket(nc);
        JetStream js = nc.jetStream();
        byte[] payload = new byte[Bench.PAYLOAD_SIZE];
        long start = System.nanoTime();
        publishWindowed(js, n, i -> "$KV." + BUCKET + "." + key(i), payload);
        return Bench.rate(n, System.nanoTime() - start);
    }

    /** Sequential {@code KeyValue.get} of existing keys: a get of the last message by subject. */
    static double kvGet(Connection nc, int n) throws Exception {
        KeyValue kv = freshBucket(nc);
        boolean direct = nc.jetStreamManagement().getStreamInfo("KV_" + BUCKET).getConfiguration().getAllowDirect();
        System.err.println("  kvget: bucket allow_direct " + direct); // jnats uses DIRECT.GET only then
        byte[] payload = new byte[Bench.PAYLOAD_SIZE];
        publishWindowed(nc.jetStream(), KEYS, i -> "$KV." + BUCKET + "." + key(i), payload); // untimed
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            KeyValueEntry e = kv.get(key(i));
            if (e == null || e.getValue() == null || e.getValue().length != payload.length) {
                throw new IllegalStateException("get " + key(i) + " returned " + e);
            }
        }
        return Bench.rate(n, System.nanoTime() - start);
    }

    interface SubjectOf {
        String subject(int i);
    }

    static void publishWindowed(JetStream js, int n, SubjectOf subjects, byte[] payload) throws Exception {
        Semaphore window = new Semaphore(WINDOW);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        for (int i = 0; i < n && failure.get() == null; i++) {
            if (!window.tryAcquire(Bench.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException("no pub ack for " + Bench.TIMEOUT + " at message " + i);
            }
            js.publishAsync(subjects.subject(i), payload).whenComplete((PublishAck ack, Throwable error) -> {
                if (error != null) {
                    failure.compareAndSet(null, error);
                } else if (ack.hasError()) {
                    failure.compareAndSet(null, new IllegalStateException("error ack: " + ack.getError()));
                }
                window.release();
            });
        }
        // All permits back means every ack arrived.
        if (!window.tryAcquire(WINDOW, Bench.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException("acks still missing after " + Bench.TIMEOUT);
        }
        if (failure.get() != null) {
            throw new IllegalStateException("publish failed: " + failure.get(), failure.get());
        }
    }

    static String key(int i) {
        return "k" + (i % KEYS);
    }

    static void freshStream(Connection nc) throws Exception {
        JetStreamManagement jsm = nc.jetStreamManagement();
        Bench.deleteStream(jsm, STREAM);
        StreamConfiguration sc = StreamConfiguration.builder()
                .name(STREAM)
                .subjects(STREAM_SUBJECT)
                .storageType(StorageType.File)
                .replicas(REPLICAS)
                .build();
        creating(() -> jsm.addStream(sc));
    }

    /**
     * Runs a create; a replicated one is answered once its group elected a leader, which on a loaded machine
     * may outlast jnats' 2 s request timeout, so it is asked again (the same config answers as created).
     */
    static void creating(java.util.concurrent.Callable<?> create) throws Exception {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (true) {
            try {
                create.call();
                return;
            } catch (java.io.IOException e) {
                if (REPLICAS <= 1 || System.nanoTime() > deadline) {
                    throw e;
                }
            }
        }
    }

    static KeyValue freshBucket(Connection nc) throws Exception {
        Bench.deleteStream(nc.jetStreamManagement(), "KV_" + BUCKET);
        KeyValueConfiguration kc = KeyValueConfiguration.builder()
                .name(BUCKET)
                .maxHistoryPerKey(1)
                .storageType(StorageType.File)
                .replicas(REPLICAS)
                .build();
        creating(() -> nc.keyValueManagement().create(kc));
        return nc.keyValue(BUCKET);
    }
}
