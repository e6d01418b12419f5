package io.jetkv.server.monitor;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.LongSupplier;

/**
 * The process's CPU and resident memory for {@code /varz} and STATSZ, sampled at most once per second and shared
 * by every reader in between, as nats-server's {@code pse} refreshes them on a one-second ticker: a scrape or a
 * PING storm costs a field read, not system calls, and {@code cpu} is the CPU time used over the last sampling
 * interval, not over however long it was since the previous scrape. Any thread.
 */
final class ProcessUsage {
    /** What one sample found. */
    record Sample(double cpu, long rss) {}

    private static final long INTERVAL_NANOS = 1_000_000_000L;

    private final LongSupplier clock;
    private final LongSupplier cpuTime;
    private final LongSupplier resident;
    private volatile Sample last = new Sample(0, 0);
    /** Guarded by this. */
    private long sampledAt;
    /** Guarded by this: process CPU nanoseconds at {@link #sampledAt}, -1 before the first sample. */
    private long cpuAt = -1;

    ProcessUsage() {
        this(System::nanoTime, ProcessUsage::processCpuNanos, ProcessUsage::residentBytes);
    }

    /** With a clock, a CPU-time and a memory source of the caller's (tests). */
    ProcessUsage(LongSupplier clock, LongSupplier cpuTime, LongSupplier resident) {
        this.clock = clock;
        this.cpuTime = cpuTime;
        this.resident = resident;
    }

    /** The latest sample, taken now when the last one is a second old or more. */
    Sample sample() {
        long now = clock.getAsLong();
        synchronized (this) {
            if (cpuAt >= 0 && now - sampledAt < INTERVAL_NANOS) {
                return last;
            }
            long cpu = cpuTime.getAsLong();
            double percent = 0;
            if (cpuAt >= 0 && cpu >= 0 && now > sampledAt) {
                // per cent of one core, as ps and nats-server report it (200 = two busy cores), one decimal
                percent = Math.round((cpu - cpuAt) * 1000.0 / (now - sampledAt)) / 10.0;
            }
            last = new Sample(percent, resident.getAsLong());
            sampledAt = now;
            cpuAt = cpu;
            return last;
        }
    }

    private static long processCpuNanos() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getProcessCpuTime();
        }
        return -1;
    }

    /** Resident set size from /proc (what nats-server's {@code mem} reports), else the JVM's heap in use. */
    private static long residentBytes() {
        try {
            String[] statm = Files.readString(Path.of("/proc/self/statm")).trim().split("\\s+");
            return Long.parseLong(statm[1]) * 4096L;
        } catch (Exception e) {
            Runtime rt = Runtime.getRuntime();
            return rt.totalMemory() - rt.freeMemory();
        }
    }
}
