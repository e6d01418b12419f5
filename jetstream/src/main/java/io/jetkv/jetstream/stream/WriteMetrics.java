package io.jetkv.jetstream.stream;

import java.util.concurrent.atomic.LongAdder;

/**
 * Group-commit figures for the metrics endpoint: how long each store flush took and how many tasks (publishes,
 * deletes, consumer updates) shared it. Fixed buckets of {@link LongAdder}s: stream writers add without
 * contention, the monitoring thread sums. Bucket {@code i} counts observations at or below {@code bounds[i]}
 * and above the bound before it; the last bucket is +Inf.
 */
public final class WriteMetrics {
    /** Flush latency bucket upper bounds, seconds. */
    public static final double[] LATENCY_BOUNDS = {
        0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
        Double.POSITIVE_INFINITY
    };
    /** Tasks-per-flush bucket upper bounds. */
    public static final double[] BATCH_BOUNDS = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, Double.POSITIVE_INFINITY};

    private final LongAdder[] latency = adders(LATENCY_BOUNDS.length);
    private final LongAdder[] batch = adders(BATCH_BOUNDS.length);
    private final LongAdder latencyNanos = new LongAdder();
    private final LongAdder tasks = new LongAdder();
    private final LongAdder flushes = new LongAdder();

    /** Writer thread: one flush of {@code taskCount} tasks took {@code nanos}. */
    void flushed(int taskCount, long nanos) {
        flushes.increment();
        latencyNanos.add(nanos);
        tasks.add(taskCount);
        latency[bucket(LATENCY_BOUNDS, nanos / 1e9)].increment();
        batch[bucket(BATCH_BOUNDS, taskCount)].increment();
    }

    /** Non-cumulative count per latency bucket. */
    public long[] latencyCounts() {
        return sums(latency);
    }

    /** Non-cumulative count per batch-size bucket. */
    public long[] batchCounts() {
        return sums(batch);
    }

    public double latencySumSeconds() {
        return latencyNanos.sum() / 1e9;
    }

    public long taskSum() {
        return tasks.sum();
    }

    public long flushes() {
        return flushes.sum();
    }

    private static int bucket(double[] bounds, double value) {
        for (int i = 0; i < bounds.length; i++) {
            if (value <= bounds[i]) {
                return i;
            }
        }
        return bounds.length - 1;
    }

    private static LongAdder[] adders(int n) {
        LongAdder[] a = new LongAdder[n];
        for (int i = 0; i < n; i++) {
            a[i] = new LongAdder();
        }
        return a;
    }

    private static long[] sums(LongAdder[] a) {
        long[] out = new long[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i].sum();
        }
        return out;
    }
}
