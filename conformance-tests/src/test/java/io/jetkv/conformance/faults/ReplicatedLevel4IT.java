package io.jetkv.conformance.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jetkv.server.testing.ClusterProbes;
import io.nats.client.Connection;
import io.nats.client.JetStreamManagement;
import io.nats.client.JetStreamSubscription;
import io.nats.client.Message;
import io.nats.client.PullSubscribeOptions;
import io.nats.client.api.AckPolicy;
import io.nats.client.api.ConsumerConfiguration;
import io.nats.client.api.ConsumerInfo;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The nats-server 2.14 (API level 4) consumer features on replicated streams, on a three-process JetKV cluster
 * through jnats: a consumer reset ({@code $JS.API.CONSUMER.RESET}) is committed in the stream's group, so the next
 * leader delivers from the reset point (the reset is answered only once its entry committed, so a step-down right
 * after the answer keeps the new position); a work-queue origin copied through a user consumer acking by flow control
 * (ADR-60 durable sourcing) lets exactly the copied messages go, through step-downs of the origin's and the copy's
 * leaders.
 */
class ReplicatedLevel4IT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;

    private static ProcessCluster cluster;

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = ProcessCluster.builder(ServerKind.JETKV, 3, dir).name("LVL4").jetStream(true).proxied(true).start();
        FaultRun.awaitJetStream(cluster);
    }

    @AfterAll
    static void stopCluster() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void aConsumerResetSurvivesALeaderChange() throws Exception {
        try (Connection nc = cluster.connect(0)) {
            request(nc, "$JS.API.STREAM.CREATE.RS", "{\"name\":\"RS\",\"subjects\":[\"rs.>\"],\"num_replicas\":3}");
            for (int i = 1; i <= 10; i++) {
                publish(nc, "rs." + i, "m" + i);
            }
            JetStreamManagement jsm = nc.jetStreamManagement();
            ClusterProbes.await(() -> {
                try {
                    jsm.addOrUpdateConsumer("RS", ConsumerConfiguration.builder().durable("C")
                            .ackPolicy(AckPolicy.Explicit).build());
                    return true;
                } catch (Exception e) {
                    return false;
                }
            }, "consumer C created", 60);
            JetStreamSubscription sub = nc.jetStream().subscribe(null,
                    PullSubscribeOptions.builder().stream("RS").bind(true).durable("C").build());
            List<Message> got = sub.fetch(5, Duration.ofSeconds(10));
            assertEquals(5, got.size());
            for (Message m : got) {
                m.ackSync(Duration.ofSeconds(10));
            }
            ConsumerInfo reset = jsm.resetConsumer("RS", "C", 3);
            assertEquals(2, reset.getDelivered().getStreamSequence(), "delivery starts again at 3");
            // the answer comes after the reset's commit: a step-down at once cannot bring back delivered 5
            stepDown(nc, "RS");
            // the new leader's consumer continues from the committed reset: 3, then 4
            ConsumerInfo after = awaitConsumer(jsm, "RS", "C");
            assertEquals(2, after.getDelivered().getStreamSequence(), after.toString());
            List<Message> again = fetchSome(nc, 2);
            assertEquals(3, again.get(0).metaData().streamSequence());
            assertEquals(1, again.get(0).metaData().consumerSequence());
            assertEquals(4, again.get(1).metaData().streamSequence());

            // forward this time, from the new leader, and a step-down again right after the answer
            ConsumerInfo forward = jsm.resetConsumer("RS", "C", 9);
            assertEquals(8, forward.getDelivered().getStreamSequence(), "delivery starts again at 9");
            stepDown(nc, "RS");
            ConsumerInfo moved = awaitConsumer(jsm, "RS", "C");
            assertEquals(8, moved.getDelivered().getStreamSequence(), moved.toString());
            assertEquals(9, fetchSome(nc, 2).get(0).metaData().streamSequence());
        }
    }

    @Test
    void aWorkQueueIsSourcedThroughAFlowControlConsumerAcrossLeaderChanges() throws Exception {
        try (Connection nc = cluster.connect(1)) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            request(nc, "$JS.API.STREAM.CREATE.WQ", "{\"name\":\"WQ\",\"subjects\":[\"wq.>\"],\"retention\":\"workqueue\","
                    + "\"num_replicas\":3}");
            for (int i = 1; i <= 5; i++) {
                publish(nc, "wq." + i, "w" + i);
            }
            JsonNode consumer = request(nc, "$JS.API.CONSUMER.CREATE.WQ.src", "{\"stream_name\":\"WQ\",\"config\":"
                    + "{\"durable_name\":\"src\",\"ack_policy\":\"flow_control\",\"deliver_subject\":\"deliver.wq\","
                    + "\"max_ack_pending\":3}}");
            assertEquals("flow_control", consumer.path("config").path("ack_policy").asText(), consumer.toString());
            request(nc, "$JS.API.STREAM.CREATE.T", "{\"name\":\"T\",\"num_replicas\":3,\"sources\":[{\"name\":\"WQ\","
                    + "\"consumer\":{\"name\":\"src\",\"deliver_subject\":\"deliver.wq\"}}]}");
            awaitCount(jsm, "T", 5);
            awaitCount(jsm, "WQ", 0);

            stepDown(nc, "WQ");
            stepDown(nc, "T");
            for (int i = 6; i <= 10; i++) {
                publish(nc, "wq." + i, "w" + i);
            }
            awaitCount(jsm, "T", 10);
            awaitCount(jsm, "WQ", 0);
            for (int i = 1; i <= 10; i++) {
                assertEquals("wq." + i, jsm.getMessage("T", i).getSubject(), "in order, each once");
            }
        }
    }

    private static List<Message> fetchSome(Connection nc, int n) {
        @SuppressWarnings("unchecked")
        List<Message>[] out = new List[1];
        ClusterProbes.await(() -> {
            try {
                JetStreamSubscription s = nc.jetStream().subscribe(null,
                        PullSubscribeOptions.builder().stream("RS").bind(true).durable("C").build());
                out[0] = s.fetch(n, Duration.ofSeconds(3));
                s.unsubscribe();
                return out[0].size() == n;
            } catch (Exception e) {
                return false;
            }
        }, n + " messages from the new leader", 60);
        return out[0];
    }

    private static ConsumerInfo awaitConsumer(JetStreamManagement jsm, String stream, String name) {
        ConsumerInfo[] ci = {null};
        ClusterProbes.await(() -> {
            try {
                ci[0] = jsm.getConsumerInfo(stream, name);
                return true;
            } catch (Exception e) {
                return false;
            }
        }, "consumer info of " + name, 60);
        return ci[0];
    }

    private static void awaitCount(JetStreamManagement jsm, String stream, long count) {
        long[] seen = {-1};
        try {
            ClusterProbes.await(() -> {
                try {
                    seen[0] = jsm.getStreamInfo(stream).getStreamState().getMsgCount();
                    return seen[0] == count;
                } catch (Exception e) {
                    return false;
                }
            }, stream + " holds " + count, 60);
        } catch (AssertionError e) {
            throw new AssertionError(stream + " holds " + seen[0] + " messages, not " + count, e);
        }
    }

    /** A JetStream API request, asked again while the cluster answers 503 (no leader yet). */
    private static JsonNode request(Connection nc, String subject, String body) {
        JsonNode[] out = {null};
        ClusterProbes.await(() -> {
            try {
                Message m = nc.request(subject, body.getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(10));
                if (m == null) {
                    return false;
                }
                out[0] = JSON.readTree(m.getData());
                return !out[0].has("error") || out[0].path("error").path("code").asInt() != 503;
            } catch (Exception e) {
                return false;
            }
        }, "an answer to " + subject, 60);
        assertNotNull(out[0]);
        if (out[0].has("error")) {
            throw new AssertionError(subject + ": " + out[0]);
        }
        return out[0];
    }

    private static void publish(Connection nc, String subject, String data) {
        ClusterProbes.await(() -> {
            try {
                nc.jetStream().publish(subject, data.getBytes(StandardCharsets.UTF_8));
                return true;
            } catch (Exception e) {
                return false;
            }
        }, "a pub ack for " + subject, 60);
    }

    private static void stepDown(Connection nc, String stream) {
        ClusterProbes.await(() -> {
            try {
                Message m = nc.request("$JS.API.STREAM.LEADER.STEPDOWN." + stream, new byte[0], Duration.ofSeconds(5));
                return m != null && new String(m.getData(), StandardCharsets.UTF_8).contains("\"success\":true");
            } catch (Exception e) {
                return false;
            }
        }, "a step-down of " + stream + "'s leader", 60);
    }
}
