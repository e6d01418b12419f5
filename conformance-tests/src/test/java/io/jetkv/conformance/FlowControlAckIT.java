package io.jetkv.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jetkv.config.JetStreamConfig;
import io.jetkv.config.ServerConfig;
import io.jetkv.server.NatsServer;
import io.nats.client.Connection;
import io.nats.client.Message;
import io.nats.client.Subscription;
import io.nats.client.api.RetentionPolicy;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ack_policy: "flow_control"} (nats-server 2.14, ADR-60), the policy of durable sourcing consumers: a push
 * consumer whose acks are the answers to its flow-control requests. jnats 2.26 has no such policy value, so the
 * consumer is created with a raw request and its deliveries are read and answered on a core subscription, as a
 * sourcing server would.
 */
class FlowControlAckIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path store;

    private NatsServer start() throws Exception {
        return NatsServer.start(ServerConfig.defaults().withHost("127.0.0.1").withPort(0)
                .withJetStream(JetStreamConfig.DISABLED.withEnabled(true).withStoreDir(store)));
    }

    private static JsonNode create(Connection nc, String stream, String name, String config) throws Exception {
        String body = "{\"stream_name\":\"" + stream + "\",\"config\":" + config + "}";
        Message reply = nc.request("$JS.API.CONSUMER.CREATE." + stream + "." + name,
                body.getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(10));
        return JSON.readTree(reply.getData());
    }

    private static int errCode(JsonNode reply) {
        return reply.path("error").path("err_code").asInt();
    }

    private static JsonNode info(Connection nc, String stream, String name) throws Exception {
        Message reply = nc.request("$JS.API.CONSUMER.INFO." + stream + "." + name, new byte[0], Duration.ofSeconds(10));
        return JSON.readTree(reply.getData());
    }

    @Test
    void configurationRulesAndDefaults() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            nc.jetStreamManagement().addStream(StreamConfiguration.builder().name("S").subjects("s.>")
                    .storageType(StorageType.Memory).build());
            String fc = "\"durable_name\":\"%s\",\"ack_policy\":\"flow_control\"";
            assertEquals(10218, errCode(create(nc, "S", "a", "{" + fc.formatted("a") + "}")), "pull");
            String push = "{" + fc + ",\"deliver_subject\":\"d.%s\"%s}";
            assertEquals(10221, errCode(create(nc, "S", "b", push.formatted("b", "b", ",\"ack_wait\":5000000000"))));
            assertEquals(10221, errCode(create(nc, "S", "c", push.formatted("c", "c", ",\"backoff\":[1000000000]"))));
            assertEquals(10222, errCode(create(nc, "S", "d", push.formatted("d", "d", ",\"max_deliver\":3"))));
            JsonNode noPending = create(nc, "S", "e", push.formatted("e", "e", ",\"max_ack_pending\":-1"));
            assertEquals(10220, errCode(noPending));
            assertEquals("flow control ack policy requires max ack pending",
                    noPending.path("error").path("description").asText());

            // flow control and the 1 s heartbeat are filled in, whatever was asked; no ack wait
            JsonNode ok = create(nc, "S", "f",
                    push.formatted("f", "f", ",\"flow_control\":false,\"idle_heartbeat\":5000000000"));
            JsonNode cfg = ok.path("config");
            assertEquals("flow_control", cfg.path("ack_policy").asText(), ok.toString());
            assertTrue(cfg.path("flow_control").asBoolean());
            assertEquals(1_000_000_000L, cfg.path("idle_heartbeat").asLong());
            assertFalse(cfg.has("ack_wait"), cfg.toString());
            assertEquals(-1, cfg.path("max_deliver").asLong());
            assertEquals(1000, cfg.path("max_ack_pending").asLong());
            assertEquals("4", cfg.path("metadata").path("_nats.req.level").asText());
            assertEquals("flow_control", info(nc, "S", "f").path("config").path("ack_policy").asText());
        }
    }

    @Test
    void answersToFlowControlRequestsAckTheWorkQueue() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            var jsm = nc.jetStreamManagement();
            jsm.addStream(StreamConfiguration.builder().name("WQ").subjects("wq.>").storageType(StorageType.File)
                    .retentionPolicy(RetentionPolicy.WorkQueue).build());
            for (int i = 1; i <= 5; i++) {
                nc.jetStream().publish("wq." + i, ("m" + i).getBytes(StandardCharsets.UTF_8));
            }
            Subscription deliveries = nc.subscribe("d.wq");
            nc.flush(Duration.ofSeconds(5));
            JsonNode created = create(nc, "WQ", "src", "{\"durable_name\":\"src\",\"ack_policy\":\"flow_control\","
                    + "\"deliver_subject\":\"d.wq\",\"max_ack_pending\":3}");
            assertEquals("flow_control", created.path("config").path("ack_policy").asText(), created.toString());

            // three messages (max_ack_pending), then at once a flow-control request
            for (int i = 1; i <= 3; i++) {
                Message m = next(deliveries);
                assertEquals("wq." + i, m.getSubject());
            }
            Message fc = next(deliveries);
            assertTrue(fc.isStatusMessage() && fc.getStatus().getCode() == 100, fc.toString());
            assertNotNull(fc.getReplyTo(), "a flow-control request has a reply subject");
            // nothing is acked until it is answered; no ack wait redelivers them either
            assertEquals(5, jsm.getStreamInfo("WQ").getStreamState().getMsgCount());
            nc.publish(fc.getReplyTo(), new byte[0]);

            // the answer acked 1..3: the work queue drops them, and 4 and 5 follow
            assertEquals("wq.4", nextMessage(deliveries).getSubject());
            assertEquals("wq.5", nextMessage(deliveries).getSubject());
            // with nothing more to send, the heartbeat brings a request that moves the ack floor up
            Message idleFc = null;
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (idleFc == null && System.nanoTime() < deadline) {
                Message m = next(deliveries);
                if (m.isStatusMessage() && m.getReplyTo() != null) {
                    idleFc = m;
                }
            }
            assertNotNull(idleFc, "no flow-control request while idle");
            nc.publish(idleFc.getReplyTo(), new byte[0]);
            JsonNode floor = null;
            deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (System.nanoTime() < deadline) {
                floor = info(nc, "WQ", "src").path("ack_floor");
                if (floor.path("stream_seq").asLong() == 5) {
                    break;
                }
                nc.flush(Duration.ofSeconds(5));
            }
            assertEquals(5, floor.path("stream_seq").asLong(), String.valueOf(floor));
            assertEquals(0, jsm.getStreamInfo("WQ").getStreamState().getMsgCount());
        }
    }

    private static Message next(Subscription sub) throws Exception {
        Message m = sub.nextMessage(Duration.ofSeconds(10));
        assertNotNull(m, "nothing delivered");
        return m;
    }

    /** The next stored message, past heartbeats. */
    private static Message nextMessage(Subscription sub) throws Exception {
        Message m = next(sub);
        while (m.isStatusMessage()) {
            m = next(sub);
        }
        return m;
    }
}
