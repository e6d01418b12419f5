package io.jetkv.conformance.faults;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * The long run of the KV fault suite, off in the normal build: {@code conformance-tests/faults/run.sh --minutes
 * 10 --kind nats-server|jetkv} sets {@code faults.minutes}, {@code faults.kind} and {@code faults.seed}. Random
 * faults (kill -9 and restart, SIGSTOP, isolation of the leader or of any node, link resets, one-way cuts), one
 * at a time, each held while the clients issue 100 operations, with quiet spells between them; then the
 * linearizability check, judged as in KvLinearizabilityIT.
 */
@EnabledIfSystemProperty(named = "faults.minutes", matches = "\\d+")
class KvFaultSoakIT {
    @TempDir
    Path dir;

    @Test
    void soak() throws Exception {
        ServerKind kind = ServerKind.valueOf(System.getProperty("faults.kind", "NATS_SERVER"));
        long minutes = Long.getLong("faults.minutes");
        long seed = Long.getLong("faults.seed", System.currentTimeMillis());
        System.out.println("soak: " + kind + ", " + minutes + " min, seed " + seed);
        try (ProcessCluster cluster = KvLinearizabilityIT.startCluster(kind, dir)) {
            FaultRun.createBucket(cluster, kind != ServerKind.NATS_SERVER);
            KvWorkload.Mix mix =
                    kind.linearizableCompareAndSet() ? KvWorkload.Mix.ALL : KvWorkload.Mix.NO_COMPARE_AND_SET;
            FaultRun run = new FaultRun(cluster, 6, List.of("a", "b", "c", "d", "e"), Duration.ofSeconds(2), seed,
                    mix);
            Random rnd = new Random(seed);
            long end = System.nanoTime() + Duration.ofMinutes(minutes).toNanos();
            while (System.nanoTime() < end) {
                run.steady(100);
                run.randomFault(rnd, 100);
                System.out.println("soak: " + run.workload().history().size() + " operations, faults "
                        + run.faults().size() + ", last: " + run.faults().get(run.faults().size() - 1));
            }
            FaultRun.Result result = run.finish(200, kind.linearizableReads());
            System.out.println("soak result, " + kind + " " + mix + ", seed " + seed + ":\n" + result.summary());
            assertTrue(result.report().linearizable(), result.summary());
        }
    }
}
