package io.jetkv.conformance.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jetkv.server.testing.ClusterProbes;
import io.nats.client.Connection;
import io.nats.client.JetStreamManagement;
import io.nats.client.Message;
import io.nats.client.Subscription;
import io.nats.client.api.AckPolicy;
import io.nats.client.api.ClusterInfo;
import io.nats.client.api.ConsumerConfiguration;
import io.nats.client.api.ConsumerInfo;
import io.nats.client.api.Placement;
import io.nats.client.api.Replica;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.api.StreamInfo;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cluster's administrative JetStream requests on a three-process JetKV cluster, through jnats: placement by
 * {@code server_tags} and {@code placement.cluster} (nats-server's 10005 texts), the consumer {@code cluster}
 * block and {@code CONSUMER.LEADER.STEPDOWN}, the leader-elected advisories the new leader sends,
 * {@code STREAM.PEER.REMOVE} (the replica moves to the spare server, with the data) and {@code SERVER.REMOVE}.
 * One cluster for all tests (forming it is most of the time); they run in order, server removal last.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterAdminIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration API = Duration.ofSeconds(10);

    @TempDir
    static Path dir;

    private static ProcessCluster cluster;

    /** A failed test shows the end of every node's log. */
    @org.junit.jupiter.api.extension.RegisterExtension
    static final org.junit.jupiter.api.extension.AfterTestExecutionCallback LOGS_ON_FAILURE = context -> {
        if (context.getExecutionException().isPresent() && cluster != null) {
            dumpLogs();
        }
    };

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = ProcessCluster.builder(ServerKind.JETKV, 3, dir).name("ADMIN").jetStream(true)
                .nodeConfig(0, "server_tags: [\"az1\", \"all\"]")
                .nodeConfig(1, "server_tags: [\"AZ2\", \"all\"]") // tags are case-insensitive, as nats-server's
                .nodeConfig(2, "server_tags: \"az3\"")
                .start();
        FaultRun.awaitJetStream(cluster);
    }

    @AfterAll
    static void stopCluster() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** Adds a stream through node 0, retrying while the meta leader does not know every peer yet. */
    private static StreamInfo create(Connection nc, StreamConfiguration sc) {
        JetStreamManagement[] jsm = {null};
        StreamInfo[] out = {null};
        String[] last = {""};
        try {
            ClusterProbes.await(() -> {
                try {
                    jsm[0] = nc.jetStreamManagement();
                    out[0] = jsm[0].addStream(sc);
                    return true;
                } catch (Exception e) {
                    last[0] = e.toString();
                    return false;
                }
            }, "stream " + sc.getName() + " created", 60);
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + " (last: " + last[0] + ")", e);
        }
        return out[0];
    }

    private static void dumpLogs() {
        for (ProcessCluster.Node n : cluster.nodes()) {
            List<String> log = n.process().log();
            System.out.println("---- last log lines of " + n.name());
            log.stream().filter(l -> l.contains("stream ") || l.contains("JetStream cluster")).forEach(System.out::println);
            System.out.println("---- end of the log of " + n.name());
            log.subList(Math.max(0, log.size() - 30), log.size()).forEach(System.out::println);
        }
    }

    /**
     * Publishes and returns the pub ack's sequence; retries while the stream leader's interest has not reached the
     * client's server yet over the routes (no responders), as a client would.
     */
    private static long publish(Connection nc, String subject, String data) {
        long[] seq = {0};
        ClusterProbes.await(() -> {
            try {
                seq[0] = nc.jetStream().publish(subject, data.getBytes(StandardCharsets.UTF_8)).getSeqno();
                return true;
            } catch (Exception e) {
                return false;
            }
        }, "a pub ack for " + subject, 60);
        return seq[0];
    }

    private static JsonNode request(Connection nc, String subject, String body) throws Exception {
        Message m = nc.request(subject, body.getBytes(StandardCharsets.UTF_8), API);
        assertNotNull(m, "no reply to " + subject);
        return JSON.readTree(m.getData());
    }

    private static String leaderOf(Connection nc, String stream) {
        String[] leader = {null};
        ClusterProbes.await(() -> {
            try {
                ClusterInfo ci = nc.jetStreamManagement().getStreamInfo(stream).getClusterInfo();
                leader[0] = ci == null ? null : ci.getLeader();
                return leader[0] != null;
            } catch (Exception e) {
                return false;
            }
        }, "a leader for " + stream, 60);
        return leader[0];
    }

    private static void assertApiError(JsonNode reply, int code, int errCode, String description) {
        JsonNode e = reply.path("error");
        assertEquals(code, e.path("code").asInt(), reply.toString());
        assertEquals(errCode, e.path("err_code").asInt(), reply.toString());
        assertEquals(description, e.path("description").asText(), reply.toString());
    }

    @Test
    @Order(1)
    void placementHonoursServerTagsAndCluster() throws Exception {
        try (Connection nc = cluster.connect(0)) {
            StreamInfo r1 = create(nc, StreamConfiguration.builder().name("TAGGED").subjects("tagged.>")
                    .storageType(StorageType.File).replicas(1).placement(Placement.builder().tags("az2").build())
                    .build());
            assertEquals("n2", r1.getClusterInfo().getLeader(), "R1 with tag az2 goes to the server tagged AZ2");

            create(nc, StreamConfiguration.builder().name("ALL2").subjects("all2.>")
                    .storageType(StorageType.File).replicas(2).placement(Placement.builder().tags("all").build())
                    .build());
            // the create's reply may be a retry's, answered before the group elected: ask its leader
            leaderOf(nc, "ALL2");
            ClusterInfo all2 = nc.jetStreamManagement().getStreamInfo("ALL2").getClusterInfo();
            Set<String> peers = new TreeSet<>();
            peers.add(all2.getLeader());
            all2.getReplicas().forEach(r -> peers.add(r.getName()));
            assertEquals(Set.of("n1", "n2"), peers, "only n1 and n2 have the tag all");

            JsonNode tooFew = request(nc, "$JS.API.STREAM.CREATE.AZ2R3",
                    "{\"name\":\"AZ2R3\",\"subjects\":[\"az2r3\"],\"num_replicas\":3,\"placement\":{\"tags\":[\"az2\"]}}");
            assertApiError(tooFew, 400, 10005, "no suitable peers for placement, tags not matched ['az2']");

            JsonNode other = request(nc, "$JS.API.STREAM.CREATE.OTHER",
                    "{\"name\":\"OTHER\",\"subjects\":[\"other\"],\"placement\":{\"cluster\":\"ELSEWHERE\"}}");
            assertApiError(other, 400, 10005, "no suitable peers for placement");

            StreamInfo here = create(nc, StreamConfiguration.builder().name("HERE").subjects("here")
                    .storageType(StorageType.File).placement(Placement.builder().cluster("ADMIN").build()).build());
            assertEquals("ADMIN", here.getClusterInfo().getName());
        }
    }

    @Test
    @Order(2)
    void consumerClusterBlockStepdownAndLeaderAdvisories() throws Exception {
        try (Connection nc = cluster.connect(0)) {
            create(nc, StreamConfiguration.builder().name("ORDERS").subjects("orders.>").storageType(StorageType.File)
                    .replicas(3).build());
            leaderOf(nc, "ORDERS");
            JetStreamManagement jsm = nc.jetStreamManagement();
            publish(nc, "orders.1", "one");
            ConsumerInfo created = jsm.addOrUpdateConsumer("ORDERS", ConsumerConfiguration.builder().durable("DUR")
                    .ackPolicy(AckPolicy.Explicit).build());
            String leader = leaderOf(nc, "ORDERS");
            ClusterInfo ci = created.getClusterInfo();
            assertNotNull(ci, "consumer info of a replicated stream has a cluster block");
            assertEquals("ADMIN", ci.getName());
            assertEquals(leader, ci.getLeader(), "the consumer runs on its stream's leader");
            assertEquals(2, ci.getReplicas().size(), ci.toString());
            for (Replica r : ci.getReplicas()) {
                assertNotEquals(leader, r.getName());
            }

            Subscription advisories = nc.subscribe("$JS.EVENT.ADVISORY.*.LEADER_ELECTED.ORDERS.>");
            Subscription streamAdvisories = nc.subscribe("$JS.EVENT.ADVISORY.STREAM.LEADER_ELECTED.ORDERS");
            nc.flush(API);

            JsonNode bad = request(nc, "$JS.API.CONSUMER.LEADER.STEPDOWN.ORDERS.NOPE", "");
            assertApiError(bad, 404, 10014, "consumer not found");
            JsonNode noStream = request(nc, "$JS.API.CONSUMER.LEADER.STEPDOWN.NOSUCH.DUR", "");
            assertApiError(noStream, 404, 10059, "stream not found");

            // a leadership transfer that cannot finish in time (the target is behind on a loaded machine) answers
            // 503/10008, as a leaderless group would: a client asks again
            JsonNode[] answer = {null};
            ClusterProbes.await(() -> {
                try {
                    answer[0] = request(nc, "$JS.API.CONSUMER.LEADER.STEPDOWN.ORDERS.DUR", "");
                    return answer[0].path("error").path("err_code").asInt() != 10008;
                } catch (Exception e) {
                    return false;
                }
            }, "a consumer step-down", 60);
            JsonNode ok = answer[0];
            assertEquals("io.nats.jetstream.api.v1.consumer_leader_stepdown_response", ok.path("type").asText());
            assertTrue(ok.path("success").asBoolean(), ok.toString());

            Message sa = streamAdvisories.nextMessage(Duration.ofSeconds(30));
            assertNotNull(sa, "stream leader elected advisory");
            JsonNode s = JSON.readTree(sa.getData());
            assertEquals("io.nats.jetstream.advisory.v1.stream_leader_elected", s.path("type").asText());
            assertEquals("ORDERS", s.path("stream").asText());
            String newLeader = s.path("leader").asText();
            assertNotEquals(leader, newLeader, s.toString());
            assertEquals(3, s.path("replicas").size(), "advisory replicas include the leader: " + s);
            assertFalse(s.path("id").asText().isEmpty());
            assertTrue(s.hasNonNull("timestamp"));

            Message ca = advisories.nextMessage(Duration.ofSeconds(30));
            assertNotNull(ca, "consumer leader elected advisory");
            JsonNode c = JSON.readTree(ca.getData());
            assertEquals("$JS.EVENT.ADVISORY.CONSUMER.LEADER_ELECTED.ORDERS.DUR", ca.getSubject());
            assertEquals("io.nats.jetstream.advisory.v1.consumer_leader_elected", c.path("type").asText());
            assertEquals("DUR", c.path("consumer").asText());
            assertEquals(newLeader, c.path("leader").asText());
            for (JsonNode r : c.path("replicas")) {
                assertTrue(r.hasNonNull("peer") && r.has("current") && r.has("active"), r.toString());
            }

            ClusterProbes.await(() -> {
                try {
                    ClusterInfo now = jsm.getConsumerInfo("ORDERS", "DUR").getClusterInfo();
                    return newLeader.equals(now.getLeader());
                } catch (Exception e) {
                    return false;
                }
            }, "consumer info from the new leader", 30);
            assertEquals(1, jsm.getConsumerInfo("ORDERS", "DUR").getNumPending());
        }
    }

    @Test
    @Order(3)
    void peerRemoveMovesTheReplicaToTheSpareServer() throws Exception {
        try (Connection nc = cluster.connect(0)) {
            create(nc, StreamConfiguration.builder().name("MOVE").subjects("move.>").storageType(StorageType.File)
                    .replicas(2).build());
            leaderOf(nc, "MOVE");
            JetStreamManagement jsm = nc.jetStreamManagement();
            StreamInfo si = jsm.getStreamInfo("MOVE");
            for (int i = 0; i < 5; i++) {
                publish(nc, "move." + i, "m" + i);
            }
            Set<String> before = new TreeSet<>();
            before.add(si.getClusterInfo().getLeader());
            si.getClusterInfo().getReplicas().forEach(r -> before.add(r.getName()));
            Set<String> spare = new TreeSet<>(Set.of("n1", "n2", "n3"));
            spare.removeAll(before);
            assertEquals(1, spare.size(), before.toString());
            String removed = before.iterator().next();

            assertApiError(request(nc, "$JS.API.STREAM.PEER.REMOVE.MOVE", ""), 400, 10003, "bad request");
            assertApiError(request(nc, "$JS.API.STREAM.PEER.REMOVE.MOVE", "{\"peer\":\"Z\"}"), 400, 10040,
                    "peer not a member");
            assertApiError(request(nc, "$JS.API.STREAM.PEER.REMOVE.NOSUCH", "{\"peer\":\"n1\"}"), 404, 10059,
                    "stream not found");

            JsonNode ok = request(nc, "$JS.API.STREAM.PEER.REMOVE.MOVE", "{\"peer\":\"" + removed + "\"}");
            assertEquals("io.nats.jetstream.api.v1.stream_remove_peer_response", ok.path("type").asText());
            assertTrue(ok.path("success").asBoolean(), ok.toString());

            Set<String> expected = new TreeSet<>(before);
            expected.remove(removed);
            expected.addAll(spare);
            String target = spare.iterator().next();
            List<String> seen = new ArrayList<>();
            long[] lastStepdown = {0};
            // the new peer catches up; then leadership is moved to it, and it answers with every message
            ClusterProbes.await(() -> {
                try {
                    StreamInfo now = jsm.getStreamInfo("MOVE");
                    Set<String> peers = new TreeSet<>();
                    peers.add(now.getClusterInfo().getLeader());
                    now.getClusterInfo().getReplicas().forEach(r -> peers.add(r.getName()));
                    String state = peers + " leader " + now.getClusterInfo().getLeader() + " msgs "
                            + now.getStreamState().getMsgCount();
                    if (seen.isEmpty() || !seen.get(seen.size() - 1).equals(state)) {
                        seen.add(state);
                        System.out.println("MOVE: " + state);
                    }
                    if (!peers.equals(expected)) {
                        return false;
                    }
                    if (!target.equals(now.getClusterInfo().getLeader())) {
                        boolean caughtUp = now.getClusterInfo().getReplicas().stream()
                                .anyMatch(r -> r.getName().equals(target) && r.isCurrent());
                        if (caughtUp && System.nanoTime() - lastStepdown[0] > 5_000_000_000L) {
                            lastStepdown[0] = System.nanoTime();
                            nc.request("$JS.API.STREAM.LEADER.STEPDOWN.MOVE", new byte[0], API);
                        }
                        return false;
                    }
                    return now.getStreamState().getMsgCount() == 5 && now.getStreamState().getLastSequence() == 5;
                } catch (Exception e) {
                    System.out.println("MOVE: " + e);
                    return false;
                }
            }, "MOVE on " + expected + " led by " + target + " with 5 messages (see the output)", 90);
            assertEquals(6, publish(nc, "move.after", "after"));
        }
    }

    @Test
    @Order(4)
    void serverRemove() throws Exception {
        try (Connection nc = cluster.connect(0)) {
            assertApiError(request(nc, "$JS.API.SERVER.REMOVE", ""), 400, 10003, "bad request");
            assertApiError(request(nc, "$JS.API.SERVER.REMOVE", "{\"peer\":\"nobody\"}"), 400, 10044,
                    "server is not a member of the cluster");
            JsonNode ok = request(nc, "$JS.API.SERVER.REMOVE", "{\"peer\":\"n3\"}");
            assertEquals("io.nats.jetstream.api.v1.meta_server_remove_response", ok.path("type").asText());
            assertTrue(ok.path("success").asBoolean(), ok.toString());
            ProcessCluster.Node n3 = cluster.node(2);
            ClusterProbes.await(() -> n3.process().log().stream()
                            .anyMatch(l -> l.contains("JetStream being DISABLED, our server was removed from the cluster")),
                    "n3 notices its removal", 60);
            // with n3 out of the meta group, R3 has no room
            JsonNode r3 = request(nc, "$JS.API.STREAM.CREATE.R3AFTER",
                    "{\"name\":\"R3AFTER\",\"subjects\":[\"r3after\"],\"num_replicas\":3}");
            assertApiError(r3, 400, 10005, "no suitable peers for placement");
        }
    }
}
