package io.jetkv.conformance.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jetkv.server.testing.ClusterProbes;
import io.nats.client.Connection;
import io.nats.client.JetStreamManagement;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.api.StreamInfo;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The meta group across restarts on a three-process JetKV cluster whose groups snapshot every few entries
 * ({@code -Djetkv.raft.snapshot.threshold=8}). Ratis opens a group found in its storage with an empty initial
 * configuration, and a follower installing a snapshot passes through that configuration (stream groups are reopened
 * with their peers for this reason): so a node opens the meta group with the members it saved. Node 3 is stopped
 * while the others go on far past its meta log (stream creates and deletes), restarts, installs the meta snapshot and
 * is a working member; then the whole cluster is killed and restarted, and every node reopens the meta group with its
 * members, the replicated stream keeps its messages, and a new R3 stream can be created. Last, KEEP's followers are
 * killed and its leader sends the quorum-lost advisory.
 */
class MetaRestartIT {
    @TempDir
    Path dir;

    private static final String OPENED = "opening the meta group from its storage with its members";

    private static StreamInfo create(Connection nc, StreamConfiguration sc) {
        StreamInfo[] out = {null};
        ClusterProbes.await(() -> {
            try {
                out[0] = nc.jetStreamManagement().addStream(sc);
                return true;
            } catch (Exception e) {
                return false;
            }
        }, "stream " + sc.getName() + " created", 60);
        return out[0];
    }

    private static void publish(Connection nc, String subject) {
        ClusterProbes.await(() -> {
            try {
                nc.jetStream().publish(subject, "x".getBytes(StandardCharsets.UTF_8));
                return true;
            } catch (Exception e) {
                return false;
            }
        }, "a pub ack on " + subject, 60);
    }

    /** STREAM.INFO through {@code node} once it answers with {@code msgs} messages. */
    private static void awaitMessages(ProcessCluster cluster, int node, String stream, long msgs) throws Exception {
        try (Connection nc = cluster.connect(node)) {
            long[] seen = {-1};
            ClusterProbes.await(() -> {
                try {
                    seen[0] = nc.jetStreamManagement().getStreamInfo(stream).getStreamState().getMsgCount();
                    return seen[0] == msgs;
                } catch (Exception e) {
                    return false;
                }
            }, stream + " with " + msgs + " messages through n" + (node + 1) + " (last seen " + seen[0] + ")", 90);
        }
    }

    @Test
    void metaGroupReopensWithItsMembersAfterASnapshotInstallAndAFullRestart() throws Exception {
        try (ProcessCluster cluster = ProcessCluster.builder(ServerKind.JETKV, 3, dir).name("METARESTART")
                .jetStream(true).javaOpts("-Djetkv.raft.snapshot.threshold=8").start()) {
            FaultRun.awaitJetStream(cluster);
            try (Connection nc = cluster.connect(0)) {
                create(nc, StreamConfiguration.builder().name("KEEP").subjects("keep").replicas(3)
                        .storageType(StorageType.File).build());
                for (int i = 0; i < 3; i++) {
                    publish(nc, "keep");
                }
            }
            awaitMessages(cluster, 2, "KEEP", 3);

            ProcessCluster.Node n3 = cluster.node(2);
            n3.kill();
            try (Connection nc = cluster.connect(0)) {
                JetStreamManagement jsm = nc.jetStreamManagement();
                // two meta entries each: the others snapshot their meta group and purge its log past n3's
                for (int i = 0; i < 10; i++) {
                    create(nc, StreamConfiguration.builder().name("T" + i).subjects("t." + i)
                            .storageType(StorageType.Memory).build());
                    jsm.deleteStream("T" + i);
                }
                publish(nc, "keep");
            }
            n3.restart();
            cluster.awaitFullMesh(60);
            FaultRun.awaitJetStream(cluster);
            ClusterProbes.await(() -> n3.process().log().stream().anyMatch(l -> l.contains(OPENED)),
                    "n3 opens the meta group with its members", 30);
            awaitMessages(cluster, 2, "KEEP", 4);

            for (ProcessCluster.Node n : cluster.nodes()) {
                n.kill();
            }
            for (ProcessCluster.Node n : cluster.nodes()) {
                n.restart();
            }
            cluster.awaitFullMesh(60);
            FaultRun.awaitJetStream(cluster);
            for (ProcessCluster.Node n : cluster.nodes()) {
                assertTrue(n.process().log().stream().anyMatch(l -> l.contains(OPENED)), n.name() + "'s log");
            }
            for (int i = 0; i < cluster.size(); i++) {
                awaitMessages(cluster, i, "KEEP", 4);
            }
            try (Connection nc = cluster.connect(1)) {
                StreamInfo after = create(nc, StreamConfiguration.builder().name("AFTER").subjects("after").replicas(3)
                        .storageType(StorageType.File).build());
                assertEquals(3, after.getConfiguration().getReplicas());
                assertEquals(0, nc.jetStreamManagement().getStreamNames().stream().filter(s -> s.startsWith("T"))
                        .count(), "the deleted streams stay deleted");
            }
            quorumLostAdvisory(cluster);
        }
    }

    /**
     * KEEP's two followers killed: its leader publishes nats-server's stream_quorum_lost advisory
     * ({@code sendStreamLostQuorumAdvisory}: type, id, timestamp, stream, replicas) on
     * {@code $JS.EVENT.ADVISORY.STREAM.QUORUM_LOST.KEEP}, heard by a subscriber on the leader's node.
     */
    private static void quorumLostAdvisory(ProcessCluster cluster) throws Exception {
        String[] leader = {null};
        try (Connection nc = cluster.connect(0)) {
            ClusterProbes.await(() -> {
                try {
                    leader[0] = nc.jetStreamManagement().getStreamInfo("KEEP").getClusterInfo().getLeader();
                    return leader[0] != null;
                } catch (Exception e) {
                    return false;
                }
            }, "KEEP's leader", 60);
        }
        ProcessCluster.Node at = cluster.nodes().stream().filter(n -> n.name().equals(leader[0])).findFirst()
                .orElseThrow();
        try (Connection nc = io.nats.client.Nats.connect(io.nats.client.Options.builder().server(at.clientUrl())
                .maxReconnects(-1).build())) {
            io.nats.client.Subscription sub = nc.subscribe("$JS.EVENT.ADVISORY.STREAM.QUORUM_LOST.KEEP");
            nc.flush(java.time.Duration.ofSeconds(5));
            java.util.List<String> followers = new java.util.ArrayList<>();
            for (ProcessCluster.Node n : cluster.nodes()) {
                if (n != at) {
                    followers.add(n.name());
                    n.kill();
                }
            }
            // a publish to the leader that cannot commit; its fate is not what is checked
            nc.jetStream().publishAsync("keep", "lost".getBytes(StandardCharsets.UTF_8));
            io.nats.client.Message m = sub.nextMessage(java.time.Duration.ofSeconds(60));
            org.junit.jupiter.api.Assertions.assertNotNull(m, "no quorum-lost advisory from " + at.name());
            com.fasterxml.jackson.databind.JsonNode a = new com.fasterxml.jackson.databind.ObjectMapper()
                    .readTree(m.getData());
            assertEquals("io.nats.jetstream.advisory.v1.stream_quorum_lost", a.path("type").asText(), a.toString());
            assertEquals("KEEP", a.path("stream").asText(), a.toString());
            assertTrue(a.path("id").asText().length() > 0 && a.hasNonNull("timestamp"), a.toString());
            java.util.Set<String> names = new java.util.TreeSet<>();
            a.path("replicas").forEach(r -> names.add(r.path("name").asText()));
            assertTrue(names.containsAll(followers), a.toString());
        }
    }
}
