package io.jetkv.server.monitor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The CPU and memory sampler behind /varz: at most one sample a second, CPU as per cent of one core. */
class ProcessUsageTest {
    @Test
    void samplesAtMostOncePerSecondAndReportsCpuOverTheInterval() {
        AtomicLong clock = new AtomicLong(1_000_000_000L);
        AtomicLong cpu = new AtomicLong(5_000_000_000L);
        AtomicInteger reads = new AtomicInteger();
        ProcessUsage usage = new ProcessUsage(clock::get, () -> {
            reads.incrementAndGet();
            return cpu.get();
        }, () -> 4096);

        assertEquals(new ProcessUsage.Sample(0, 4096), usage.sample()); // no interval yet
        clock.addAndGet(400_000_000L);
        cpu.addAndGet(400_000_000L);
        assertEquals(new ProcessUsage.Sample(0, 4096), usage.sample()); // within the second: the cached sample
        assertEquals(1, reads.get());

        clock.addAndGet(1_600_000_000L); // two seconds after the first sample
        cpu.addAndGet(2_600_000_000L); // three CPU seconds in two: 1.5 cores busy
        assertEquals(150.0, usage.sample().cpu());
        assertEquals(2, reads.get());
        for (int i = 0; i < 100; i++) {
            usage.sample();
        }
        assertEquals(2, reads.get(), "a burst of scrapes reads the process figures once");
    }
}
