import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.JetStreamApiException;
import io.nats.client.KeyValue;
import io.nats.client.KeyValueOptions;
import io.nats.client.api.KeyValueConfiguration;
import io.nats.client.api.KeyValueEntry;
import io.nats.client.api.KeyValueStatus;
import io.nats.client.api.KeyValueWatcher;
import io.nats.client.api.PublishAck;
import io.nats.client.api.StorageType;
import io.nats.client.impl.NatsKeyValueWatchSubscription;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;

/**
 * KV scale benchmark: one bucket with many keys, then the whole-bucket reads a client does at start-up (list the
 * keys, replay every entry through a watcher, read the status). A black-box jnats client against any server at a
 * URL started with {@code -js}; jnats adds its own threads. Called by bench/kv-scale.sh.
 *
 * <p>Usage: {@code java -cp jnats-2.25.1.jar:. KvScale nats://127.0.0.1:4222 [keys] [serverPid] [phaseLimitSeconds]}
 *
 * <p>Prints {@code name value} lines on stdout: {@code load} (puts/s), {@code keys_s}, {@code watch_s},
 * {@code status_ms}, and, given the server's pid on this machine, {@code rss_<phase>}/{@code hwm_<phase>} in kB
 * from {@code /proc/<pid>/status}. A failed phase, or one still running after {@code phaseLimitSeconds} (default
 * 300), prints {@code <name> FAIL reason}; a failed load ends the run, a failed read phase does not, each read
 * phase having a connection of its own. Each phase runs on a daemon thread, so that an abandoned one cannot keep
 * the JVM alive. Progress and diagnostics go to stderr.
 */
public final class KvScale {
    static final String BUCKET = "scale";
    /** Bytes per value: 16, or the {@code kvscale.valueSize} system property (kv-scale.sh's VALUE_SIZE). */
    static final int VALUE_SIZE = Integer.getInteger("kvscale.valueSize", 16);
    // Outstanding pub acks while loading, as in JetStreamBench: under JetKV's per-stream queue (8192).
    static final int WINDOW = 1024;
    static final int STATUS_CALLS = 5;
    // No progress for this long counts as a stall: far above any pause either server should need.
    static final Duration STALL = Duration.ofSeconds(60);
    // What the running phase has done so far, for the message when it runs out of time.
    static volatile LongSupplier progress = () -> -1;

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: KvScale <url> [keys] [serverPid] [phaseLimitSeconds]");
            System.exit(2);
        }
        String url = args[0];
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 1_000_000;
        Path procStatus = args.length > 2 ? Path.of("/proc", args[2], "status") : null;
        Duration limit = Duration.ofSeconds(args.length > 3 ? Long.parseLong(args[3]) : 300);

        memory(procStatus, "start");
        try (Connection nc = Bench.connect(url, "bench-kv-scale-load", null)) {
            freshBucket(nc);
            if (!phase("load", limit, "%.0f", () -> load(nc, n))) {
                return; // nothing to read back
            }
        }
        memory(procStatus, "load");
        readPhase(url, "keys_s", limit, "%.2f", kv -> keys(kv, n));
        memory(procStatus, "keys");
        readPhase(url, "watch_s", limit, "%.2f", kv -> watchAll(kv, n));
        memory(procStatus, "watch");
        readPhase(url, "status_ms", limit, "%.1f", kv -> status(kv, n));
        memory(procStatus, "status");
        // The bucket stays: bench/kv-scale.sh measures the store on disk, then removes it with the server's.
    }

    interface Phase {
        double run() throws Exception;
    }

    interface ReadPhase {
        double run(KeyValue kv) throws Exception;
    }

    /**
     * A read phase on a connection of its own: closing it takes the interest away from the consumer of a phase
     * that ran out of time, so the next phase does not compete with it on the server.
     */
    static void readPhase(String url, String name, Duration limit, String format, ReadPhase phase) throws Exception {
        try (Connection nc = Bench.connect(url, "bench-kv-scale-" + name, null)) {
            // jnats' keys() reads its ordered consumer with nextMessage(request timeout) and returns what it has
            // on the first timeout; a longer timeout makes a slow server show up as a long time, not a short list.
            KeyValue kv = nc.keyValue(BUCKET, KeyValueOptions.builder().jsRequestTimeout(STALL).build());
            phase(name, limit, format, () -> phase.run(kv));
        }
    }

    /**
     * Runs one phase on a daemon thread, so that a server too slow for this size costs {@code limit}, not hours:
     * keys() blocks until its consumer is drained and cannot be asked how far it got.
     */
    static boolean phase(String name, Duration limit, String format, Phase phase) {
        progress = () -> -1;
        FutureTask<Double> task = new FutureTask<>(phase::run);
        Thread runner = new Thread(task, "phase-" + name);
        runner.setDaemon(true);
        runner.start();
        try {
            double result = task.get(limit.toMillis(), TimeUnit.MILLISECONDS);
            System.out.printf(Locale.ROOT, "%s " + format + "%n", name, result);
            return true;
        } catch (TimeoutException e) {
            long done = progress.getAsLong();
            System.err.printf("%s: still running after %d s%s; stopped there%n", name, limit.toSeconds(),
                    done < 0 ? "" : ", " + done + " done");
            System.out.printf("%s FAIL timeout%n", name);
            return false;
        } catch (ExecutionException e) {
            System.err.printf("%s failed: %s%n", name, e.getCause());
            System.out.printf("%s FAIL %s%n", name, e.getCause().getClass().getSimpleName());
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } finally {
            System.out.flush();
        }
    }

    /** Publishes key {@code k<i>} for every i below n to {@code $KV.<bucket>.<key>}, windowed; returns puts/s. */
    static double load(Connection nc, int n) throws Exception {
        JetStream js = nc.jetStream();
        byte[] value = new byte[VALUE_SIZE];
        Arrays.fill(value, (byte) 'v');
        Semaphore window = new Semaphore(WINDOW);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        long start = System.nanoTime();
        long lastReport = start;
        AtomicLong acked = new AtomicLong();
        progress = acked::get;
        for (int i = 0; i < n && failure.get() == null; i++) {
            if (!window.tryAcquire(STALL.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException("no pub ack for " + STALL + " at put " + i);
            }
            js.publishAsync("$KV." + BUCKET + "." + key(i), value).whenComplete((PublishAck ack, Throwable error) -> {
                if (error != null) {
                    failure.compareAndSet(null, error);
                } else if (ack.hasError()) {
                    failure.compareAndSet(null, new IllegalStateException("error ack: " + ack.getError()));
                }
                acked.incrementAndGet();
                window.release();
            });
            if ((i + 1) % 100_000 == 0) {
                long now = System.nanoTime();
                System.err.printf(Locale.ROOT, "  load: %d puts, last 100k at %.0f/s%n", i + 1,
                        Bench.rate(100_000, now - lastReport));
                lastReport = now;
            }
        }
        // All permits back means every ack arrived.
        if (!window.tryAcquire(WINDOW, STALL.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException("pub acks still missing after " + STALL);
        }
        if (failure.get() != null) {
            throw new IllegalStateException("put failed: " + failure.get(), failure.get());
        }
        return Bench.rate(n, System.nanoTime() - start);
    }

    /**
     * {@code KeyValue.keys()}: a headers-only ordered consumer over the bucket; returns seconds. A short list can
     * also be the client's doing: keys() reads through a subscription with jnats' default pending limits, and a
     * server that outruns this client makes it drop messages (stderr then shows "client-side slow consumer").
     */
    static double keys(KeyValue kv, int n) throws Exception {
        long start = System.nanoTime();
        List<String> keys = kv.keys();
        double seconds = (System.nanoTime() - start) / 1e9;
        System.err.printf(Locale.ROOT, "  keys(): %d keys in %.2f s%n", keys.size(), seconds);
        if (keys.size() != n || new HashSet<>(keys).size() != n) {
            throw new IllegalStateException("keys() returned " + keys.size() + " keys, " + new HashSet<>(keys).size()
                    + " distinct, expected " + n);
        }
        return seconds;
    }

    /** {@code KeyValue.watchAll}: every entry with its value, timed until the watcher's end-of-data call. */
    static double watchAll(KeyValue kv, int n) throws Exception {
        AtomicLong entries = new AtomicLong();
        progress = entries::get;
        AtomicLong atEndOfData = new AtomicLong(-1);
        CountDownLatch endOfData = new CountDownLatch(1);
        KeyValueWatcher watcher = new KeyValueWatcher() {
            @Override
            public void watch(KeyValueEntry entry) {
                entries.incrementAndGet();
            }

            @Override
            public void endOfData() {
                atEndOfData.set(entries.get());
                endOfData.countDown();
            }
        };
        long start = System.nanoTime();
        NatsKeyValueWatchSubscription sub = kv.watchAll(watcher);
        try {
            awaitProgress(endOfData, entries, n);
            double seconds = (System.nanoTime() - start) / 1e9;
            System.err.printf(Locale.ROOT, "  watchAll: %d entries before end of data, in %.2f s%n",
                    atEndOfData.get(), seconds);
            if (atEndOfData.get() != n) {
                throw new IllegalStateException("end of data after " + atEndOfData.get() + " entries, expected " + n);
            }
            return seconds;
        } finally {
            sub.unsubscribe();
        }
    }

    /** {@code KeyValue.getStatus()} (a stream info request) {@link #STATUS_CALLS} times; median milliseconds. */
    static double status(KeyValue kv, int n) throws Exception {
        double[] millis = new double[STATUS_CALLS];
        for (int i = 0; i < STATUS_CALLS; i++) {
            long start = System.nanoTime();
            KeyValueStatus status = kv.getStatus();
            millis[i] = (System.nanoTime() - start) / 1e6;
            if (status.getEntryCount() != n) {
                throw new IllegalStateException("status counts " + status.getEntryCount() + " entries, expected " + n);
            }
        }
        System.err.printf(Locale.ROOT, "  status: %s ms%n", Arrays.toString(millis));
        Arrays.sort(millis);
        return millis[STATUS_CALLS / 2];
    }

    // Waits for the latch, failing once the count stops moving for STALL; a slow but moving replay is fine.
    static void awaitProgress(CountDownLatch done, AtomicLong received, int n) throws Exception {
        long seen = -1;
        long lastMove = System.nanoTime();
        while (!done.await(1, TimeUnit.SECONDS)) {
            long now = received.get();
            if (now != seen) {
                seen = now;
                lastMove = System.nanoTime();
            } else if (System.nanoTime() - lastMove > STALL.toNanos()) {
                throw new IllegalStateException("watchAll stalled at " + now + " of " + n + " entries for " + STALL);
            }
        }
    }

    // The server's resident set now and at its peak so far, read between phases (the script samples the peak too).
    static void memory(Path procStatus, String phase) {
        if (procStatus == null) {
            return;
        }
        try {
            for (String line : Files.readAllLines(procStatus)) {
                String[] f = line.split("\\s+");
                if (f[0].equals("VmRSS:")) {
                    System.out.println("rss_" + phase + " " + f[1]);
                } else if (f[0].equals("VmHWM:")) {
                    System.out.println("hwm_" + phase + " " + f[1]);
                }
            }
        } catch (Exception e) {
            System.err.println("cannot read " + procStatus + ": " + e);
        }
    }

    static String key(int i) {
        return "k" + i;
    }

    static void freshBucket(Connection nc) throws Exception {
        try {
            nc.keyValueManagement().delete(BUCKET);
        } catch (JetStreamApiException e) {
            if (e.getApiErrorCode() != 10059) { // stream not found: nothing to delete
                throw e;
            }
        }
        nc.keyValueManagement().create(KeyValueConfiguration.builder()
                .name(BUCKET)
                .maxHistoryPerKey(1)
                .storageType(StorageType.File)
                .build());
    }
}
