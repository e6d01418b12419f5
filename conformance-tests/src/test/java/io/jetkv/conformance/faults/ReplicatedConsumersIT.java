package io.jetkv.conformance.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jetkv.server.testing.ClusterProbes;
import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.JetStreamSubscription;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.PullSubscribeOptions;
import io.nats.client.api.AckPolicy;
import io.nats.client.api.ConsumerConfiguration;
import io.nats.client.api.ConsumerInfo;
import io.nats.client.api.RetentionPolicy;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Consumers of R3 streams on a three-process JetKV cluster: their delivery and ack state is replicated in the
 * stream's Raft group, so after a kill -9 of the stream leader the new leader's consumer delivers exactly what
 * was not acknowledged; on a work-queue stream an ack removes the message on every replica. jnats clients.
 */
class ReplicatedConsumersIT {
    private static final int MESSAGES = 10;
    /** Acknowledged before the leader dies; the rest stay pending. Not a prefix: the ack floor stays low. */
    private static final Set<Long> ACKED = Set.of(1L, 3L, 4L, 6L, 8L, 10L);

    @TempDir
    static Path dir;

    /** One cluster for both tests (forming it takes most of their time); each test kills a leader. */
    private static ProcessCluster cluster;

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = ProcessCluster.builder(ServerKind.JETKV, 3, dir).name("RCONS").jetStream(true).proxied(true).start();
        FaultRun.awaitJetStream(cluster);
    }

    @AfterAll
    static void stopCluster() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** The node an earlier test killed comes back (restarting from its store and its Raft log). */
    @BeforeEach
    void allNodesUp() throws Exception {
        for (ProcessCluster.Node n : cluster.nodes()) {
            if (!n.running()) {
                n.restart();
            }
        }
        cluster.awaitFullMesh(60);
        FaultRun.awaitJetStream(cluster);
    }

    private static Connection connect(ProcessCluster.Node n) throws Exception {
        return Nats.connect(Options.builder().server(n.clientUrl()).noReconnect()
                .connectionTimeout(Duration.ofSeconds(5)).build());
    }

    /** Creates an R3 stream through a node, retrying while the meta leader does not know every peer yet. */
    private void createStream(StreamConfiguration sc) throws Exception {
        try (Connection nc = cluster.connect(0)) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            String[] last = {""};
            ClusterProbes.await(() -> {
                try {
                    jsm.addStream(sc);
                    return true;
                } catch (Exception e) {
                    last[0] = e.toString();
                    return false;
                }
            }, "stream " + sc.getName() + " created (last: " + last[0] + ")", 60);
        }
    }

    /** The index of the running node leading {@code stream}, as a running node reports it. */
    private int awaitLeader(String stream) {
        try {
            return leaderOf(stream);
        } catch (AssertionError e) {
            for (ProcessCluster.Node n : cluster.nodes()) {
                if (n.running()) {
                    System.out.println("---- last log lines of " + n.name());
                    n.process().log().forEach(System.out::println);
                }
            }
            throw e;
        }
    }

    private int leaderOf(String stream) {
        int[] leader = {-1};
        ClusterProbes.await(() -> {
            for (ProcessCluster.Node n : cluster.nodes()) {
                if (!n.running()) {
                    continue;
                }
                try (Connection nc = connect(n)) {
                    String name = nc.jetStreamManagement().getStreamInfo(stream).getClusterInfo().getLeader();
                    for (ProcessCluster.Node m : cluster.nodes()) {
                        if (m.name().equals(name) && m.running()) {
                            leader[0] = m.index();
                            return true;
                        }
                    }
                } catch (Exception e) {
                    // no leader yet
                }
            }
            return false;
        }, "a leader for " + stream, 60);
        return leader[0];
    }

    /**
     * Waits until the leader of {@code stream} reports both other replicas current: a node restarted by the
     * previous test may join a new stream's group late, and a kill before it caught up would leave no quorum.
     */
    private void awaitReplicasCurrent(String stream) {
        ClusterProbes.await(() -> {
            try (Connection nc = connect(cluster.node(awaitLeader(stream)))) {
                var replicas = nc.jetStreamManagement().getStreamInfo(stream).getClusterInfo().getReplicas();
                return replicas != null && replicas.size() == 2 && replicas.stream().allMatch(r -> r.isCurrent());
            } catch (Exception e) {
                return false;
            }
        }, "every replica of " + stream + " current", 60);
    }

    /** Publishes 1..MESSAGES, fetches them all through durable {@code DUR}, acks {@link #ACKED} (each confirmed). */
    private void publishFetchAndAckSome(String stream, String subject) throws Exception {
        try (Connection nc = cluster.connect(0)) {
            JetStream js = nc.jetStream();
            for (int i = 1; i <= MESSAGES; i++) {
                assertEquals(i, js.publish(subject, ("m" + i).getBytes(StandardCharsets.UTF_8)).getSeqno());
            }
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addOrUpdateConsumer(stream, ConsumerConfiguration.builder().durable("DUR")
                    .ackPolicy(AckPolicy.Explicit).ackWait(Duration.ofSeconds(2)).build());
            JetStreamSubscription sub = js.subscribe(null, PullSubscribeOptions.bind(stream, "DUR"));
            Set<Long> seen = new TreeSet<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (seen.size() < MESSAGES && System.nanoTime() < deadline) {
                for (Message m : sub.fetch(MESSAGES, Duration.ofSeconds(2))) {
                    long seq = m.metaData().streamSequence();
                    if (seen.add(seq) && ACKED.contains(seq)) {
                        m.ackSync(Duration.ofSeconds(10)); // confirmed once the ack is committed
                    }
                }
            }
            assertEquals(MESSAGES, seen.size(), "delivered before the kill: " + seen);
            ConsumerInfo ci = jsm.getConsumerInfo(stream, "DUR");
            assertEquals(MESSAGES - ACKED.size(), ci.getNumAckPending(), ci.toString());
        }
    }

    /**
     * Fetches from {@code DUR} through {@code node} until {@code expected} came (acking each); fails on anything
     * else. Redeliveries of pending messages start once their ack wait, counted from the new leader's start, ran out.
     */
    private Set<Long> drain(ProcessCluster.Node node, String stream, Set<Long> expected) {
        Set<Long> got = new TreeSet<>();
        ClusterProbes.await(() -> {
            try (Connection nc = connect(node)) {
                JetStreamSubscription sub = nc.jetStream().subscribe(null, PullSubscribeOptions.bind(stream, "DUR"));
                for (Message m : sub.fetch(MESSAGES, Duration.ofSeconds(3))) {
                    long seq = m.metaData().streamSequence();
                    assertTrue(expected.contains(seq), "delivered " + seq + ", expected only " + expected);
                    got.add(seq);
                    m.ackSync(Duration.ofSeconds(10));
                }
            } catch (AssertionError e) {
                throw e;
            } catch (Exception e) {
                // the consumer's stream has no leader yet, or the fetch timed out
            }
            return got.containsAll(expected);
        }, "redelivery of " + expected + " on " + node.name() + " (got " + got + ")", 90);
        return got;
    }

    private static Set<Long> unacked() {
        Set<Long> s = new TreeSet<>();
        for (long i = 1; i <= MESSAGES; i++) {
            if (!ACKED.contains(i)) {
                s.add(i);
            }
        }
        return s;
    }

    @Test
    void pullConsumerOnNewLeaderDeliversExactlyTheUnackedMessages() throws Exception {
        createStream(StreamConfiguration.builder().name("ORDERS").subjects("orders.>").replicas(3)
                .storageType(StorageType.File).build());
        publishFetchAndAckSome("ORDERS", "orders.new");
        awaitReplicasCurrent("ORDERS");
        int leader = awaitLeader("ORDERS");
        cluster.node(leader).kill();

        int next = awaitLeader("ORDERS");
        assertNotEquals(leader, next);
        ProcessCluster.Node survivor = cluster.node(next);
        assertEquals(unacked(), drain(survivor, "ORDERS", unacked()));

        // the consumer goes on: a new message is delivered, and nothing is pending afterwards
        try (Connection nc = connect(survivor)) {
            assertEquals(MESSAGES + 1, nc.jetStream().publish("orders.new", "late".getBytes(StandardCharsets.UTF_8))
                    .getSeqno());
        }
        assertEquals(Set.of((long) MESSAGES + 1), drain(survivor, "ORDERS", Set.of((long) MESSAGES + 1)));
        try (Connection nc = connect(survivor)) {
            ConsumerInfo ci = nc.jetStreamManagement().getConsumerInfo("ORDERS", "DUR");
            assertEquals(0, ci.getNumAckPending(), ci.toString());
            assertEquals(0, ci.getNumPending(), ci.toString());
            assertEquals(MESSAGES + 1, ci.getAckFloor().getStreamSequence(), ci.toString());
            // limits retention: every message stays in the stream
            assertEquals(MESSAGES + 1, nc.jetStreamManagement().getStreamInfo("ORDERS").getStreamState().getMsgCount());
        }

        // the killed node comes back (its committed consumers rebuilt from its Raft log) and is made to lead: its
        // consumer continues where the others left it
        ProcessCluster.Node old = cluster.node(leader);
        old.restart();
        cluster.awaitFullMesh(60);
        // with the third node down, a step-down can only hand the stream to the restarted one
        int third = 3 - leader - next;
        cluster.node(third).kill();
        ClusterProbes.await(() -> {
            int now = awaitLeader("ORDERS");
            if (now == leader) {
                return true;
            }
            try (Connection nc = connect(cluster.node(now))) {
                nc.request("$JS.API.STREAM.LEADER.STEPDOWN.ORDERS", new byte[0], Duration.ofSeconds(15));
            } catch (Exception e) {
                // asked again
            }
            return false;
        }, "the restarted " + old.name() + " leading ORDERS", 120);
        try (Connection nc = connect(old)) {
            ConsumerInfo[] ci = {null};
            ClusterProbes.await(() -> {
                try {
                    ci[0] = nc.jetStreamManagement().getConsumerInfo("ORDERS", "DUR");
                    return true;
                } catch (Exception e) {
                    return false; // leadership just moved: the consumers start once it is ready
                }
            }, "consumer info on " + old.name(), 60);
            assertEquals(0, ci[0].getNumAckPending(), ci[0].toString());
            assertEquals(MESSAGES + 1, ci[0].getAckFloor().getStreamSequence(), ci[0].toString());
            assertEquals(MESSAGES + 1, ci[0].getDelivered().getStreamSequence(), ci[0].toString());
            assertEquals(MESSAGES + 2, nc.jetStream().publish("orders.new", "back".getBytes(StandardCharsets.UTF_8))
                    .getSeqno());
        }
        assertEquals(Set.of((long) MESSAGES + 2), drain(old, "ORDERS", Set.of((long) MESSAGES + 2)));
    }

    @Test
    void workQueueAckRemovesTheMessageOnEveryReplica() throws Exception {
        createStream(StreamConfiguration.builder().name("JOBS").subjects("jobs.>").replicas(3)
                .retentionPolicy(RetentionPolicy.WorkQueue).allowDirect(true).storageType(StorageType.File).build());
        publishFetchAndAckSome("JOBS", "jobs.run");
        awaitReplicasCurrent("JOBS");

        // each node's own replica answers a direct get from a client on that node (after its read barrier)
        for (ProcessCluster.Node n : cluster.nodes()) {
            try (Connection nc = connect(n)) {
                JetStreamManagement jsm = nc.jetStreamManagement();
                for (long seq = 1; seq <= MESSAGES; seq++) {
                    assertEquals(!ACKED.contains(seq), present(jsm, "JOBS", seq), "seq " + seq + " on " + n.name());
                }
            }
        }
        int leader = awaitLeader("JOBS");
        cluster.node(leader).kill();
        int next = awaitLeader("JOBS");
        drain(cluster.node(next), "JOBS", unacked());
        // every message acked: the stream is empty on both surviving replicas
        for (ProcessCluster.Node n : List.of(cluster.node((leader + 1) % 3), cluster.node((leader + 2) % 3))) {
            try (Connection nc = connect(n)) {
                JetStreamManagement jsm = nc.jetStreamManagement();
                for (long seq = 1; seq <= MESSAGES; seq++) {
                    assertEquals(false, present(jsm, "JOBS", seq), "seq " + seq + " on " + n.name());
                }
            }
        }
        try (Connection nc = connect(cluster.node(next))) {
            assertEquals(0, nc.jetStreamManagement().getStreamInfo("JOBS").getStreamState().getMsgCount());
        }
    }

    /** Whether the replica answering a direct get holds {@code seq} (404 "no message found" when not). */
    private static boolean present(JetStreamManagement jsm, String stream, long seq) throws Exception {
        try {
            jsm.getMessage(stream, seq);
            return true;
        } catch (JetStreamApiException e) {
            if (e.getErrorCode() == 404) {
                return false;
            }
            throw e;
        }
    }
}
