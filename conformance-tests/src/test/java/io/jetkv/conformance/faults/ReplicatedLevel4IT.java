package io.jetkv.conformance.faults;

import static io.jetkv.conformance.faults.ClusterCalls.awaitCount;
import static io.jetkv.conformance.faults.ClusterCalls.publish;
import static io.jetkv.conformance.faults.ClusterCalls.requestOk;
import static io.jetkv.conformance.faults.ClusterCalls.stepDown;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import io.jetkv.server.testing.ClusterProbes;
import io.nats.client.Connection;
import io.nats.client.JetStreamManagement;
import io.nats.client.JetStreamSubscription;
import io.nats.client.Message;
import io.nats.client.PullSubscribeOptions;
import io.nats.client.api.AckPolicy;
import io.nats.client.api.ConsumerConfiguration;
import io.nats.client.api.ConsumerInfo;
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
            requestOk(nc, "$JS.API.STREAM.CREATE.RS", "{\"name\":\"RS\",\"subjects\":[\"rs.>\"],\"num_replicas\":3}");
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
            requestOk(nc, "$JS.API.STREAM.CREATE.WQ", "{\"name\":\"WQ\",\"subjects\":[\"wq.>\"],\"retention\":\"workqueue\","
                    + "\"num_replicas\":3}");
            for (int i = 1; i <= 5; i++) {
                publish(nc, "wq." + i, "w" + i);
            }
            JsonNode consumer = requestOk(nc, "$JS.API.CONSUMER.CREATE.WQ.src", "{\"stream_name\":\"WQ\",\"config\":"
                    + "{\"durable_name\":\"src\",\"ack_policy\":\"flow_control\",\"deliver_subject\":\"deliver.wq\","
                    + "\"max_ack_pending\":3}}");
            assertEquals("flow_control", consumer.path("config").path("ack_policy").asText(), consumer.toString());
            requestOk(nc, "$JS.API.STREAM.CREATE.T", "{\"name\":\"T\",\"num_replicas\":3,\"sources\":[{\"name\":\"WQ\","
                    + "\"consumer\":{\"name\":\"src\",\"deliver_subject\":\"deliver.wq\"}}]}");
            awaitCount(nc, "T", 5);
            awaitCount(nc, "WQ", 0);

            stepDown(nc, "WQ");
            stepDown(nc, "T");
            for (int i = 6; i <= 10; i++) {
                publish(nc, "wq." + i, "w" + i);
            }
            awaitCount(nc, "T", 10);
            awaitCount(nc, "WQ", 0);
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
}
