package io.jetkv.conformance.faults;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.nats.client.Connection;
import io.nats.client.JetStreamApiException;
import io.nats.client.KeyValue;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.api.KeyValueEntry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Replicated KV (R3) under faults, checked for linearizability (issue 13): concurrent jnats clients on every
 * node run put/get/create/update/delete on a few keys while a node is killed and restarted, frozen, and cut off
 * through the fault proxies; the recorded history must be linearizable. The same test runs against nats-server
 * 2.9.10 and, once replicated JetStream lands, against JetKV ({@link ServerKind#replicatedJetStream}).
 *
 * <p>Findings on nats-server 2.9.10, each kept as a test that demonstrates it: compare-and-set (create,
 * update) lets two concurrent writers through ({@link #concurrentCompareAndSetOnOneRevision}, nats-server issue
 * #4320); and reads: nats-server answers a direct get from whichever replica the request reaches, and a follower may be
 * behind (nats-server issue #6557; spec cluster.md 5.3). So the fault test turns direct gets off for
 * nats-server and reads through the stream leader; {@link #directGetAfterAnAcknowledgedPut} demonstrates the
 * stale read that direct gets give, which JetKV must not.
 */
class KvLinearizabilityIT {
    @TempDir
    Path dir;

    private ProcessCluster cluster;
    private final List<Connection> connections = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (Connection c : connections) {
            c.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    static ProcessCluster startCluster(ServerKind kind, Path dir) throws Exception {
        assumeTrue(kind.available(), "nats-server not installed");
        assumeTrue(kind.replicatedJetStream(),
                kind + ": replicated streams (issue 13, on Apache Ratis) have not landed; ServerKind switches this on");
        // pings every second: a route that stops moving is noticed in seconds, not minutes
        ProcessCluster c = ProcessCluster.builder(kind, 3, dir).name("LIN").jetStream(true).proxied(true)
                .config("ping_interval: \"1s\"").config("ping_max: 3").start();
        try {
            FaultRun.awaitJetStream(c);
            return c;
        } catch (Exception | Error e) {
            c.close();
            throw e;
        }
    }

    /**
     * Six clients (two per node) on three keys through a kill -9 and restart of the stream leader, then of a
     * follower, a SIGSTOP of the leader, and a two-way partition isolating the next one (for JetKV, its Ratis
     * links too: {@link ProcessCluster}); then the checker runs on the history.
     * On nats-server, reads go through the leader (direct gets off) and the clients leave out create and update,
     * whose compare-and-set is not linearizable there ({@link #concurrentCompareAndSetOnOneRevision}); reads made
     * while the clients run are printed but not judged ({@link ServerKind#linearizableReads}), so what is
     * asserted is that acknowledged writes are ordered and none is lost, as one read of each key at the end sees.
     */
    @ParameterizedTest
    @EnumSource(ServerKind.class)
    void kvStaysLinearizableThroughKillPauseAndPartition(ServerKind kind) throws Exception {
        // JetKV's run leaves many writes with an unknown outcome (proposals refused with 10008 during the faults),
        // and on a loaded machine the checker's budget ran out before it could decide (2026-12-07): off in the
        // default run until those outcomes are reduced; -Dfaults.jetkv=true runs it
        assumeTrue(kind != ServerKind.JETKV || Boolean.getBoolean("faults.jetkv"),
                "JetKV's kill/pause/partition run needs -Dfaults.jetkv=true");
        cluster = startCluster(kind, dir);
        FaultRun.createBucket(cluster, kind != ServerKind.NATS_SERVER);
        KvWorkload.Mix mix = kind.linearizableCompareAndSet() ? KvWorkload.Mix.ALL : KvWorkload.Mix.NO_COMPARE_AND_SET;
        FaultRun run = new FaultRun(cluster, 6, List.of("a", "b", "c"), Duration.ofSeconds(2), 1, mix);
        connections.addAll(run.workload().connections());
        run.steady(150);
        run.killAndRestartLeader(150);
        run.killAndRestartFollower(100);
        run.pauseLeader(100);
        run.isolateLeader(100);
        FaultRun.Result result = run.finish(150, kind.linearizableReads());
        System.out.println(kind + " " + mix + ": " + result.summary());
        if (!result.report().linearizable()) {
            for (ProcessCluster.Node n : cluster.nodes()) {
                if (n.process() != null) {
                    System.out.println("---- " + n.name() + " (last lines about leaders, streams, warnings)");
                    n.process().log().stream()
                            .filter(l -> l.contains("leader") || l.contains("stream") || l.contains("WARN")
                                    || l.contains("ERROR") || l.contains("meta"))
                            .forEach(System.out::println);
                }
            }
        }
        assertTrue(result.definite() >= 300, "too few answered operations to judge: " + result.summary());
        assertTrue(result.report().linearizable(), result.report().explanation());
    }

    /**
     * Rounds of six clients on three nodes all updating one key on the same revision at once: at most one may
     * succeed. nats-server 2.9.10 lets several through (issue #4320: the expected sequence is checked before the
     * proposal, against what is applied, not in the replicated log), and the checker names it. Fails for
     * nats-server if no round shows it (then the documentation is wrong); for JetKV if any does.
     */
    @ParameterizedTest
    @EnumSource(ServerKind.class)
    void concurrentCompareAndSetOnOneRevision(ServerKind kind) throws Exception {
        cluster = startCluster(kind, dir);
        FaultRun.createBucket(cluster, true);
        int clients = 6;
        List<KeyValue> kvs = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            Connection c = cluster.connect(i % cluster.size());
            connections.add(c);
            kvs.add(c.keyValue(FaultRun.BUCKET));
        }
        History h = new History();
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        LinearizabilityChecker.Report report = null;
        int rounds = kind.linearizableCompareAndSet() ? 30 : 50;
        try {
            for (int round = 0; round < rounds; round++) {
                long rev = put(h, 0, kvs.get(0), "cas", "base-" + round);
                CyclicBarrier start = new CyclicBarrier(clients);
                List<Future<?>> done = new ArrayList<>();
                for (int i = 0; i < clients; i++) {
                    int client = i;
                    String value = "c" + i + "-" + round;
                    done.add(pool.submit(() -> {
                        start.await();
                        History.Pending p = h.invoke(client, KvOp.Kind.UPDATE, "cas", value, rev);
                        try {
                            p.ok(kvs.get(client).update("cas", value.getBytes(StandardCharsets.UTF_8), rev));
                        } catch (JetStreamApiException e) {
                            if (e.getApiErrorCode() == 10071) {
                                p.failed("wrong last sequence");
                            } else {
                                p.indeterminate(e.toString());
                            }
                        } catch (Exception e) {
                            p.indeterminate(e.toString());
                        }
                        return null;
                    }));
                }
                for (Future<?> f : done) {
                    f.get(30, TimeUnit.SECONDS);
                }
                report = new LinearizabilityChecker().check(h.operations());
                if (!report.linearizable()) {
                    break;
                }
            }
        } finally {
            pool.shutdownNow();
        }
        System.out.println(kind + " concurrent compare-and-set, " + h.size() + " operations:\n" + report.explanation());
        if (kind.linearizableCompareAndSet()) {
            assertTrue(report.linearizable(), report.explanation());
        } else {
            assertFalse(report.linearizable(), "no round let two updates on one revision through: nats-server "
                    + "fixed issue #4320? Then switch ServerKind.linearizableCompareAndSet on");
            assertTrue(report.explanation().contains("a compare-and-set on a stale revision"), report.explanation());
        }
    }

    /**
     * A client on the leader's node puts, and right after each acknowledgement clients on both followers' nodes
     * get the key. nats-server acknowledges once a quorum (the leader and one follower) has the write and lets
     * every replica answer direct gets from its own store, so a get from the slower follower can miss the write
     * its reader knows was acknowledged: a stale read (nats-server issue #6557, spec cluster.md 5.3), which the
     * checker names. Fails for nats-server if no round shows it; for JetKV if any does.
     */
    @ParameterizedTest
    @EnumSource(ServerKind.class)
    void directGetAfterAnAcknowledgedPut(ServerKind kind) throws Exception {
        cluster = startCluster(kind, dir);
        FaultRun.createBucket(cluster, true);
        int leader = FaultRun.awaitLeader(cluster);
        Connection onLeader = Nats.connect(Options.builder().server(cluster.node(leader).clientUrl()).build());
        connections.add(onLeader);
        KeyValue writer = onLeader.keyValue(FaultRun.BUCKET);
        List<KeyValue> readers = new ArrayList<>();
        for (int f = 1; f < 3; f++) {
            Connection c = Nats.connect(Options.builder().server(cluster.node((leader + f) % 3).clientUrl()).build());
            connections.add(c);
            readers.add(c.keyValue(FaultRun.BUCKET));
        }
        History h = new History();
        LinearizabilityChecker.Report report = null;
        int rounds = kind.linearizableReads() ? 300 : 2000;
        for (int round = 1; round <= rounds; round++) {
            put(h, 0, writer, "k", "v" + round);
            for (int r = 0; r < readers.size(); r++) {
                History.Pending p = h.invoke(1 + r, KvOp.Kind.GET, "k", null, 0);
                try {
                    KeyValueEntry e = readers.get(r).get("k");
                    p.read(e == null ? null : new String(e.getValue(), StandardCharsets.UTF_8),
                            e == null ? 0 : e.getRevision());
                } catch (Exception e) {
                    p.indeterminate(e.toString());
                }
            }
            if (round % 50 == 0 || round == rounds) {
                report = new LinearizabilityChecker().check(h.operations());
                if (!report.linearizable()) {
                    break;
                }
            }
        }
        System.out.println(kind + " direct get after an acknowledged put, " + h.size() + " operations:\n"
                + report.explanation());
        if (kind.linearizableReads()) {
            assertTrue(report.linearizable(), report.explanation());
        } else {
            assertFalse(report.linearizable(), "no follower answered behind the acknowledged put in " + rounds
                    + " rounds: did nats-server fix issue #6557?");
            assertTrue(report.explanation().contains("stale read"), report.explanation());
        }
    }

    private static long put(History h, int client, KeyValue kv, String key, String value) throws Exception {
        History.Pending p = h.invoke(client, KvOp.Kind.PUT, key, value, 0);
        long rev = kv.put(key, value.getBytes(StandardCharsets.UTF_8));
        p.ok(rev);
        return rev;
    }
}
