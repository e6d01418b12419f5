package io.jetkv.conformance.faults;

import io.jetkv.server.testing.ClusterProbes;
import io.nats.client.Connection;
import io.nats.client.JetStreamManagement;
import io.nats.client.JetStreamOptions;
import io.nats.client.KeyValue;
import io.nats.client.KeyValueOptions;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.api.KeyValueConfiguration;
import io.nats.client.api.KeyValueEntry;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.api.StreamInfo;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A KV fault experiment on a {@link ProcessCluster}: an R3 bucket, a {@link KvWorkload} with clients spread over
 * the nodes, faults applied one at a time (each held while the clients issue a number of operations, so the
 * fault spans work rather than a fixed time), and the {@link LinearizabilityChecker} on the history at the end.
 * Used by KvLinearizabilityIT and by the long run ({@code conformance-tests/faults/run.sh}). Test thread only.
 */
public final class FaultRun {
    public static final String BUCKET = "LIN";
    public static final String STREAM = "KV_" + BUCKET;

    private final ProcessCluster cluster;
    private final KvWorkload workload;
    private final long startedAt = System.nanoTime();
    private final List<String> faults = new ArrayList<>();
    private final Random followerPick;

    public FaultRun(ProcessCluster cluster, int clients, List<String> keys, Duration timeout, long seed,
            KvWorkload.Mix mix) throws Exception {
        this.cluster = cluster;
        this.followerPick = new Random(seed);
        List<Connection> conns = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            conns.add(cluster.connect(i % cluster.size()));
        }
        this.workload = new KvWorkload(conns, BUCKET, keys, timeout, seed, mix);
    }

    public KvWorkload workload() {
        return workload;
    }

    /** The faults applied so far, in order. */
    public List<String> faults() {
        return faults;
    }

    /** JetStream answers account info on every running node (the meta group has a leader). */
    public static void awaitJetStream(ProcessCluster c) throws Exception {
        for (ProcessCluster.Node n : c.nodes()) {
            if (!n.running()) {
                continue;
            }
            // a node holds new clients until its JetStream is up: on a loaded machine the connect may time out
            ClusterProbes.await(() -> {
                try (Connection nc = Nats.connect(Options.builder().server(n.clientUrl()).noReconnect()
                        .connectionTimeout(Duration.ofSeconds(5)).build())) {
                    nc.jetStreamManagement().getAccountStatistics();
                    return true;
                } catch (Exception e) {
                    return false;
                }
            }, "JetStream ready on " + n.name(), 60);
        }
    }

    /** Creates the R3 bucket; with {@code direct} false, gets go to the stream leader ($JS.API.STREAM.MSG.GET). */
    public static void createBucket(ProcessCluster c, boolean direct) throws Exception {
        try (Connection nc = c.connect(0)) {
            KeyValueConfiguration config = KeyValueConfiguration.builder().name(BUCKET).replicas(3)
                    .storageType(StorageType.File).build();
            // just after start the meta leader may not know every peer yet: "no suitable peers for placement"
            String[] last = {""};
            ClusterProbes.await(() -> {
                try {
                    nc.keyValueManagement().create(config);
                    return true;
                } catch (Exception e) {
                    last[0] = e.toString();
                    return false;
                }
            }, "bucket " + BUCKET + " created (last: " + last[0] + ")", 60);
            JetStreamManagement jsm = nc.jetStreamManagement();
            if (!direct) {
                StreamConfiguration sc = jsm.getStreamInfo(STREAM).getConfiguration();
                jsm.updateStream(StreamConfiguration.builder(sc).allowDirect(false).build());
            }
            // on a loaded machine the stream leader may miss a 2 s request timeout just after the create
            Boolean[] allowDirect = {null};
            ClusterProbes.await(() -> {
                try {
                    allowDirect[0] = jsm.getStreamInfo(STREAM).getConfiguration().getAllowDirect();
                    return true;
                } catch (Exception e) {
                    return false;
                }
            }, "stream info of " + STREAM, 60);
            if (allowDirect[0] != direct) {
                throw new IllegalStateException("allow_direct is not " + direct);
            }
        }
        awaitLeader(c);
    }

    /** The index of the node leading the bucket's stream, as a running node reports it (waits for one). */
    public static int awaitLeader(ProcessCluster c) {
        int[] leader = {-1};
        ClusterProbes.await(() -> {
            for (ProcessCluster.Node n : c.nodes()) {
                if (!n.running() || n.process().paused()) {
                    continue;
                }
                try (Connection nc = Nats.connect(Options.builder().server(n.clientUrl()).noReconnect()
                        .connectionTimeout(Duration.ofSeconds(2)).build())) {
                    StreamInfo si = nc.jetStreamManagement().getStreamInfo(STREAM);
                    String name = si.getClusterInfo() == null ? null : si.getClusterInfo().getLeader();
                    for (ProcessCluster.Node m : c.nodes()) {
                        if (m.name().equals(name) && m.running() && !m.process().paused()) {
                            leader[0] = m.index();
                            return true;
                        }
                    }
                } catch (Exception e) {
                    // no leader yet, or this node cannot tell: ask the next
                }
            }
            return false;
        }, "a leader for " + STREAM + " in " + c, 60);
        return leader[0];
    }

    /**
     * Lets the clients issue {@code ops} more operations, or gives up waiting after {@code maxSeconds} (under a
     * fault most calls may hang until their timeout; the final count of answered operations judges the run).
     */
    public void hold(int ops, int maxSeconds) {
        long target = workload.history().size() + ops;
        try {
            ClusterProbes.await(() -> workload.history().size() >= target, ops + " operations", maxSeconds);
        } catch (AssertionError slow) {
            // a long fault: move on
        }
    }

    public void steady(int ops) {
        hold(ops, 60);
    }

    /** kill -9 of the stream leader; restarted on its store after {@code ops} operations. */
    public void killAndRestartLeader(int ops) throws Exception {
        int leader = awaitLeader(cluster);
        faults.add("kill -9 " + cluster.node(leader).name() + " (leader)");
        cluster.node(leader).kill();
        hold(ops, 30);
        cluster.node(leader).restart();
        recovered();
    }

    /** kill -9 of a node that does not lead the stream (picked by the run's seed); restarted after {@code ops}. */
    public void killAndRestartFollower(int ops) throws Exception {
        int leader = awaitLeader(cluster);
        int node = (leader + 1 + followerPick.nextInt(cluster.size() - 1)) % cluster.size();
        faults.add("kill -9 " + cluster.node(node).name() + " (follower)");
        cluster.node(node).kill();
        hold(ops, 30);
        cluster.node(node).restart();
        recovered();
    }

    /** SIGSTOP of the stream leader for {@code ops} operations, then SIGCONT. */
    public void pauseLeader(int ops) throws Exception {
        int leader = awaitLeader(cluster);
        faults.add("SIGSTOP " + cluster.node(leader).name() + " (leader)");
        cluster.node(leader).pause();
        try {
            hold(ops, 20);
        } finally {
            cluster.node(leader).resume();
        }
        recovered();
    }

    /** The stream leader cut off from both others (bytes held both ways) for {@code ops} operations, then healed. */
    public void isolateLeader(int ops) throws Exception {
        int leader = awaitLeader(cluster);
        faults.add("isolate " + cluster.node(leader).name() + " (leader)");
        cluster.isolate(leader);
        try {
            hold(ops, 20);
        } finally {
            cluster.heal();
        }
        recovered();
    }

    private void recovered() {
        cluster.awaitFullMesh(60);
        awaitLeader(cluster);
    }

    /** One fault picked at random, on a node picked at random (for long runs). */
    public void randomFault(Random rnd, int ops) throws Exception {
        int node = rnd.nextInt(cluster.size());
        ProcessCluster.Node n = cluster.node(node);
        switch (rnd.nextInt(6)) {
            case 0 -> killAndRestartLeader(ops);
            case 1 -> pauseLeader(ops);
            case 2 -> isolateLeader(ops);
            case 3 -> {
                faults.add("kill -9 " + n.name());
                n.kill();
                hold(ops, 30);
                n.restart();
                recovered();
            }
            case 4 -> {
                faults.add("reset links of " + n.name());
                cluster.resetLinks(node);
                hold(ops, 20);
                cluster.heal();
                recovered();
            }
            default -> {
                int other = (node + 1 + rnd.nextInt(cluster.size() - 1)) % cluster.size();
                faults.add("one-way cut " + n.name() + " -> " + cluster.node(other).name());
                cluster.cutOneWay(node, other);
                hold(ops, 20);
                cluster.heal();
                recovered();
            }
        }
    }

    /**
     * What a run found. {@code report} judges the history as asked ({@link #finish}); {@code full} is the whole
     * history's verdict, which differs when the clients' reads were left out.
     */
    public record Result(LinearizabilityChecker.Report report, LinearizabilityChecker.Report full, int operations,
            long definite, long indeterminate, List<String> faults, String errors, double seconds,
            double checkSeconds) {
        public String summary() {
            StringBuilder sb = new StringBuilder();
            if (full != report) {
                sb.append("whole history, every read included: ")
                        .append(full.linearizable() ? "linearizable" : "NOT linearizable (or undecided)").append('\n');
                if (!full.linearizable()) {
                    sb.append(full.explanation());
                }
                sb.append("judged with only the final reads among the gets:\n");
            }
            sb.append(String.format("%d operations in %.1f s (%d answered, %d indeterminate), checked in %.1f s%n",
                    operations, seconds, definite, indeterminate, checkSeconds));
            sb.append("faults: ").append(faults).append('\n');
            sb.append("errors: ").append(errors).append('\n');
            for (LinearizabilityChecker.KeyResult k : report.keys()) {
                sb.append("  key ").append(k.key()).append(": ").append(k.operations()).append(" ops, ")
                        .append(k.verdict()).append(" (").append(k.statesExplored()).append(" states)\n");
            }
            if (!report.linearizable()) {
                sb.append(report.explanation());
            }
            return sb.toString();
        }
    }

    /**
     * Runs {@code ops} more operations with every fault healed, stops the clients, reads every key once more from
     * the stream leader (one client, nothing running beside it) and checks the history. With {@code readsJudged}
     * false, only those final reads are judged among the gets (writes all stay, and the final reads still catch a
     * lost or reordered acknowledged write): for a server whose reads are known to go stale.
     */
    public Result finish(int ops, boolean readsJudged) throws Exception {
        steady(ops);
        workload.close();
        long finalReadsFrom = System.nanoTime();
        readEveryKey();
        double seconds = (System.nanoTime() - startedAt) / 1e9;
        List<KvOp> history = workload.history().operations();
        long t0 = System.nanoTime();
        // when reads are not judged, the whole history is only reported: refuting a long one can take an
        // exhaustive search, so it gets a small budget (an undecided verdict still shows where it stuck)
        LinearizabilityChecker.Report full =
                new LinearizabilityChecker(readsJudged ? 5_000_000 : 200_000).check(history);
        LinearizabilityChecker.Report report = full;
        if (!readsJudged && !full.linearizable()) {
            report = new LinearizabilityChecker().check(history.stream()
                    .filter(op -> op.kind() != KvOp.Kind.GET || op.invokedAt() >= finalReadsFrom).toList());
        }
        double checkSeconds = (System.nanoTime() - t0) / 1e9;
        for (Connection c : workload.connections()) {
            c.close();
        }
        return new Result(report, full, history.size(), workload.definite(), workload.indeterminate(), faults,
                workload.errors().toString(), seconds, checkSeconds);
    }

    /** One get of each key through the stream leader, recorded as a client of its own after the others stopped. */
    private void readEveryKey() throws Exception {
        int client = workload.connections().size();
        try (Connection nc = cluster.connect(awaitLeader(cluster))) {
            KeyValue kv = nc.keyValue(BUCKET, KeyValueOptions.builder().jetStreamOptions(
                    JetStreamOptions.builder().requestTimeout(Duration.ofSeconds(10)).build()).build());
            for (String key : workload.keys()) {
                History.Pending p = workload.history().invoke(client, KvOp.Kind.GET, key, null, 0);
                try {
                    KeyValueEntry e = kv.get(key);
                    p.read(e == null ? null : new String(e.getValue(), StandardCharsets.UTF_8),
                            e == null ? 0 : e.getRevision());
                } catch (Exception e) {
                    p.indeterminate(e.toString());
                }
            }
        }
    }
}
