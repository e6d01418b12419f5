package io.jetkv.conformance.faults;

import static io.jetkv.conformance.faults.ClusterCalls.connect;
import static io.jetkv.conformance.faults.ClusterCalls.createStream;
import static io.jetkv.conformance.faults.ClusterCalls.metaLeader;
import static io.jetkv.conformance.faults.ClusterCalls.request;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jetkv.server.testing.ClusterProbes;
import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.KeyValue;
import io.nats.client.api.KeyValueEntry;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How JetKV's JetStream meta group forms when every node lists the others in {@code routes} (the usual
 * nats-server config; the fault proxies' config is one): nodes started one at a time, requests answered
 * 503/10008 while there is no quorum, and a whole-cluster kill -9 and restart that must bring every stream and
 * every acknowledged write back. Three {@code ./jetkv} processes, jnats clients.
 */
class MetaFormationIT {
    @TempDir
    Path dir;

    private ProcessCluster cluster;

    @AfterEach
    void tearDown() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** The JetStream error a node answers $JS.API.INFO with, or 0 when it answers account info. */
    private static int accountInfoError(ProcessCluster.Node n) {
        try (Connection nc = connect(n)) {
            nc.jetStreamManagement().getAccountStatistics();
            return 0;
        } catch (JetStreamApiException e) {
            return e.getApiErrorCode();
        } catch (Exception e) {
            return -1; // no answer in time
        }
    }

    @Test
    void oneNodeAtATimeAnswersUnavailableUntilAQuorumFormsTheMetaGroup() throws Exception {
        cluster = ProcessCluster.builder(ServerKind.JETKV, 3, dir).name("FORM").jetStream(true).proxied(true)
                .startFirst(1).start();
        ProcessCluster.Node n1 = cluster.node(0);
        // alone, n1 has no meta group: after its first 10 s it answers as nats-server does without a leader
        int[] error = {0};
        ClusterProbes.await(() -> (error[0] = accountInfoError(n1)) == 10008, "503/10008 from n1 alone", 60);
        try (Connection nc = connect(n1)) {
            JetStreamApiException e = org.junit.jupiter.api.Assertions.assertThrows(JetStreamApiException.class,
                    () -> nc.jetStreamManagement().getAccountStatistics());
            assertEquals(503, e.getErrorCode());
            assertEquals("JetStream system temporarily unavailable", e.getErrorDescription());
        }

        // a second node: two of three is a quorum, the meta group forms without the third (after a grace period)
        cluster.node(1).restart();
        cluster.awaitFullMesh(60);
        FaultRun.awaitJetStream(cluster);

        // the third joins the running group: an R3 bucket needs it as a peer of the meta group
        cluster.node(2).restart();
        cluster.awaitFullMesh(60);
        FaultRun.createBucket(cluster, true);
        try (Connection on3 = connect(cluster.node(2)); Connection on1 = connect(n1)) {
            KeyValue kv3 = on3.keyValue(FaultRun.BUCKET);
            long rev = kv3.put("k", "v1".getBytes(StandardCharsets.UTF_8));
            KeyValueEntry e = on1.keyValue(FaultRun.BUCKET).get("k");
            assertNotNull(e);
            assertEquals("v1", new String(e.getValue(), StandardCharsets.UTF_8));
            assertEquals(rev, e.getRevision());
            // answered by the stream leader, which lists the other two peers
            assertEquals(2, on1.jetStreamManagement().getStreamInfo(FaultRun.STREAM).getClusterInfo()
                    .getReplicas().size());
        }
    }

    @Test
    void wholeClusterKilledAndRestartedKeepsEveryStreamAndAcknowledgedWrite() throws Exception {
        cluster = ProcessCluster.builder(ServerKind.JETKV, 3, dir).name("RESTART").jetStream(true).proxied(true)
                .start();
        FaultRun.awaitJetStream(cluster);
        FaultRun.createBucket(cluster, true);
        int keys = 30;
        try (Connection nc = cluster.connect(1)) {
            createStream(nc, StreamConfiguration.builder().name("EVENTS").subjects("events.>").replicas(3)
                    .storageType(StorageType.File).build());
            createStream(nc, StreamConfiguration.builder().name("LOCAL").subjects("local.>").replicas(1)
                    .storageType(StorageType.File).build());
            JetStream js = nc.jetStream();
            for (int i = 0; i < 20; i++) {
                js.publish("events." + i, ("e" + i).getBytes(StandardCharsets.UTF_8));
            }
            for (int i = 0; i < 5; i++) {
                js.publish("local." + i, ("l" + i).getBytes(StandardCharsets.UTF_8));
            }
            KeyValue kv = nc.keyValue(FaultRun.BUCKET);
            for (int i = 0; i < keys; i++) {
                kv.put("key" + i, ("value" + i).getBytes(StandardCharsets.UTF_8)); // each acknowledged
            }
        }

        for (ProcessCluster.Node n : cluster.nodes()) {
            n.kill();
        }
        for (ProcessCluster.Node n : cluster.nodes()) {
            n.restart();
        }
        cluster.awaitFullMesh(60);
        FaultRun.awaitJetStream(cluster);
        FaultRun.awaitLeader(cluster);

        for (ProcessCluster.Node n : cluster.nodes()) {
            try (Connection nc = connect(n)) {
                JetStreamManagement jsm = nc.jetStreamManagement();
                Set<String> names = new HashSet<>();
                ClusterProbes.await(() -> {
                    try {
                        names.addAll(jsm.getStreamNames());
                        return names.containsAll(List.of(FaultRun.STREAM, "EVENTS", "LOCAL"));
                    } catch (Exception e) {
                        return false;
                    }
                }, "every stream listed on " + n.name(), 60);
                long[] count = {0, 0};
                ClusterProbes.await(() -> {
                    try {
                        count[0] = jsm.getStreamInfo("EVENTS").getStreamState().getMsgCount();
                        count[1] = jsm.getStreamInfo("LOCAL").getStreamState().getMsgCount();
                        return true;
                    } catch (Exception e) {
                        return false; // a stream group still electing its leader
                    }
                }, "stream info on " + n.name(), 60);
                assertEquals(20, count[0], "EVENTS on " + n.name());
                assertEquals(5, count[1], "LOCAL on " + n.name());
                KeyValue kv = nc.keyValue(FaultRun.BUCKET);
                for (int i = 0; i < keys; i++) {
                    String key = "key" + i;
                    KeyValueEntry[] e = {null};
                    // a replica replaying its log answers once its read index is reached (an error before)
                    ClusterProbes.await(() -> {
                        try {
                            e[0] = kv.get(key);
                            return true;
                        } catch (Exception notYet) {
                            return false;
                        }
                    }, key + " read on " + n.name(), 60);
                    assertNotNull(e[0], key + " on " + n.name());
                    assertEquals("value" + i, new String(e[0].getValue(), StandardCharsets.UTF_8));
                }
                assertTrue(kv.keys().size() >= keys);
            }
        }
    }

    /**
     * {@code $JS.API.STREAM.LEADER.STEPDOWN.<stream>} and {@code $JS.API.META.LEADER.STEPDOWN} through jnats:
     * nats-server's response types with {@code success:true}, a new leader afterwards, and its errors (unknown
     * stream 404/10059, tags in the meta placement 400/10011, bad JSON 400/10025).
     */
    @Test
    void leaderStepdownsMoveLeadership() throws Exception {
        cluster = ProcessCluster.builder(ServerKind.JETKV, 3, dir).name("STEPDOWN").jetStream(true).proxied(true)
                .start();
        FaultRun.awaitJetStream(cluster);
        FaultRun.createBucket(cluster, true);
        try (Connection nc = cluster.connect(0)) {
            stepDownUntilMoved(FaultRun.STREAM, () -> String.valueOf(FaultRun.awaitLeader(cluster)),
                    () -> request(nc, "$JS.API.STREAM.LEADER.STEPDOWN." + FaultRun.STREAM, ""),
                    "io.nats.jetstream.api.v1.stream_leader_stepdown_response");
            KeyValue kv = nc.keyValue(FaultRun.BUCKET);
            // STREAM.INFO names the new leader a moment before it takes the stream's subjects (as on nats-server,
            // a publish in between gets no responders): the first put may need a retry
            long rev = putEventually(kv, "after", "stepdown");
            assertEquals(rev, kv.get("after").getRevision());

            JsonNode missing = request(nc, "$JS.API.STREAM.LEADER.STEPDOWN.NOPE", "");
            assertEquals(10059, missing.path("error").path("err_code").asInt(), missing.toString());

            stepDownUntilMoved("the meta group", () -> metaLeader(cluster),
                    () -> request(nc, "$JS.API.META.LEADER.STEPDOWN", "{}"),
                    "io.nats.jetstream.api.v1.meta_leader_stepdown_response");
            FaultRun.awaitJetStream(cluster);

            JsonNode tags = request(nc, "$JS.API.META.LEADER.STEPDOWN", "{\"placement\":{\"tags\":[\"az1\"]}}");
            assertEquals(10011, tags.path("error").path("err_code").asInt(), tags.toString());
            JsonNode bad = request(nc, "$JS.API.META.LEADER.STEPDOWN", "{nope");
            assertEquals(10025, bad.path("error").path("err_code").asInt(), bad.toString());
        }
    }

    /**
     * Steps down until the leader named by {@code leader} changes. On a loaded machine leadership also moves on its
     * own (a heartbeat missed for an election timeout): the leader read before a step-down may already be gone and
     * the step-down may hand leadership back to it, so each round reads the leader again. A step-down that never
     * moves leadership fails after three rounds.
     */
    private static void stepDownUntilMoved(String what, java.util.function.Supplier<String> leader,
            java.util.concurrent.Callable<JsonNode> stepDown, String type) throws Exception {
        for (int round = 1; ; round++) {
            String before = leader.get();
            JsonNode r = stepDown.call();
            assertEquals(type, r.path("type").asText(), r.toString());
            assertTrue(r.path("success").asBoolean(), r.toString());
            try {
                ClusterProbes.await(() -> {
                    String now = leader.get();
                    return now != null && !now.equals(before);
                }, "a new leader of " + what + " (was " + before + ")", 20);
                return;
            } catch (AssertionError stayed) {
                if (round == 3) {
                    throw stayed;
                }
            }
        }
    }

    /** A put retried while the stream's new leader is not yet taking publishes (no responders), up to 60 s. */
    private static long putEventually(KeyValue kv, String key, String value) throws Exception {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try {
                return kv.put(key, value.getBytes(StandardCharsets.UTF_8));
            } catch (java.io.IOException | io.nats.client.JetStreamApiException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(10); // polling to a deadline, as ClusterProbes.await does
            }
        }
    }
}
