package io.jetkv.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jetkv.config.JetStreamConfig;
import io.jetkv.config.ServerConfig;
import io.jetkv.server.NatsServer;
import io.nats.client.Connection;
import io.nats.client.JetStreamManagement;
import io.nats.client.Message;
import io.nats.client.api.MessageInfo;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Durable sourcing (nats-server 2.14, ADR-60): a source or mirror entry with {@code consumer: {name,
 * deliver_subject}} copies through a consumer the user created on the origin with {@code ack_policy:
 * "flow_control"}, whose acks are the sourcing stream's answers to its flow-control requests, so a work-queue origin
 * is drained only of what was stored. Raw requests, as jnats 2.26 has neither the source field nor the ack policy.
 */
class DurableSourcingIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path store;

    private NatsServer start() throws Exception {
        return NatsServer.start(ServerConfig.defaults().withHost("127.0.0.1").withPort(0)
                .withJetStream(JetStreamConfig.DISABLED.withEnabled(true).withStoreDir(store)));
    }

    private static JsonNode request(Connection nc, String subject, String body) throws Exception {
        Message reply = nc.request(subject, body.getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(10));
        return JSON.readTree(reply.getData());
    }

    private static int errCode(JsonNode reply) {
        return reply.path("error").path("err_code").asInt();
    }

    private static JsonNode createStream(Connection nc, String name, String config) throws Exception {
        return request(nc, "$JS.API.STREAM.CREATE." + name, config);
    }

    @Test
    void consumerEntriesAreChecked() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            createStream(nc, "O", "{\"name\":\"O\",\"subjects\":[\"o.>\"]}");
            String[][] cases = {
                {"\"sources\":[{\"name\":\"O\",\"consumer\":{\"name\":\"a.b\",\"deliver_subject\":\"d\"}}]", "10215"},
                {"\"sources\":[{\"name\":\"O\",\"consumer\":{\"name\":\"c\",\"deliver_subject\":\"d.*\"}}]", "10215"},
                {"\"sources\":[{\"name\":\"O\",\"opt_start_seq\":2,\"consumer\":{\"name\":\"c\",\"deliver_subject\":\"d\"}}]",
                    "10215"},
                {"\"sources\":[{\"name\":\"O\",\"filter_subject\":\"o.a\",\"consumer\":{\"name\":\"c\",\"deliver_subject\":\"d\"}}]",
                    "10215"},
                {"\"mirror\":{\"name\":\"O\",\"consumer\":{\"name\":\"\",\"deliver_subject\":\"d\"}}", "10213"},
            };
            for (String[] c : cases) {
                JsonNode reply = createStream(nc, "T", "{\"name\":\"T\"," + c[0] + "}");
                assertEquals(Integer.parseInt(c[1]), errCode(reply), c[0] + " -> " + reply);
            }
            JsonNode ok = createStream(nc, "T",
                    "{\"name\":\"T\",\"sources\":[{\"name\":\"O\",\"consumer\":{\"name\":\"c\",\"deliver_subject\":\"d\"}}]}");
            assertEquals("4", ok.path("config").path("metadata").path("_nats.req.level").asText(), ok.toString());
            assertEquals("c", ok.path("config").path("sources").get(0).path("consumer").path("name").asText());
        }
    }

    @Test
    void aWorkQueueIsSourcedThroughItsFlowControlConsumer() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            createStream(nc, "O", "{\"name\":\"O\",\"subjects\":[\"o.>\"],\"retention\":\"workqueue\"}");
            for (int i = 1; i <= 5; i++) {
                nc.jetStream().publish("o." + i, ("m" + i).getBytes(StandardCharsets.UTF_8));
            }
            JsonNode consumer = request(nc, "$JS.API.CONSUMER.CREATE.O.src", "{\"stream_name\":\"O\",\"config\":"
                    + "{\"durable_name\":\"src\",\"ack_policy\":\"flow_control\",\"deliver_subject\":\"deliver.t\","
                    + "\"max_ack_pending\":3}}");
            assertEquals("flow_control", consumer.path("config").path("ack_policy").asText(), consumer.toString());
            JsonNode created = createStream(nc, "T", "{\"name\":\"T\",\"storage\":\"file\",\"sources\":[{\"name\":\"O\","
                    + "\"consumer\":{\"name\":\"src\",\"deliver_subject\":\"deliver.t\"}}]}");
            assertEquals("T", created.path("config").path("name").asText(), created.toString());

            // everything is copied, in order, and the work queue lets each message go once it is stored
            awaitEquals(5, () -> count(jsm, "T"), "copied");
            awaitEquals(0, () -> count(jsm, "O"), "left in the work queue");
            for (int i = 1; i <= 5; i++) {
                MessageInfo m = jsm.getMessage("T", i);
                assertEquals("o." + i, m.getSubject());
                assertEquals("O " + i, m.getHeaders().getFirst("Nats-Stream-Source").substring(0, ("O " + i).length()));
            }
            for (int i = 6; i <= 8; i++) {
                nc.jetStream().publish("o." + i, ("m" + i).getBytes(StandardCharsets.UTF_8));
            }
            awaitEquals(8, () -> count(jsm, "T"), "copied later");
            awaitEquals(0, () -> count(jsm, "O"), "left after the later ones");
            JsonNode info = request(nc, "$JS.API.CONSUMER.INFO.O.src", "");
            assertEquals(8, info.path("ack_floor").path("stream_seq").asLong(), info.toString());
            JsonNode si = request(nc, "$JS.API.STREAM.INFO.T", "");
            assertEquals("O", si.path("sources").get(0).path("name").asText(), si.toString());
            assertTrue(si.path("sources").get(0).has("active"));
        }
    }

    /** After a restart the consumer is reset and redelivers from its ack floor; nothing is copied twice. */
    @Test
    void aRestartResumesWithoutDuplicates() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            createStream(nc, "O", "{\"name\":\"O\",\"subjects\":[\"o.>\"]}");
            for (int i = 1; i <= 5; i++) {
                nc.jetStream().publish("o." + i, ("m" + i).getBytes(StandardCharsets.UTF_8));
            }
            request(nc, "$JS.API.CONSUMER.CREATE.O.src", "{\"stream_name\":\"O\",\"config\":{\"durable_name\":"
                    + "\"src\",\"ack_policy\":\"flow_control\",\"deliver_subject\":\"deliver.t\"}}");
            createStream(nc, "T", "{\"name\":\"T\",\"sources\":[{\"name\":\"O\","
                    + "\"consumer\":{\"name\":\"src\",\"deliver_subject\":\"deliver.t\"}}]}");
            awaitEquals(5, () -> count(jsm, "T"), "copied before the restart");
        }
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            for (int i = 6; i <= 8; i++) {
                nc.jetStream().publish("o." + i, ("m" + i).getBytes(StandardCharsets.UTF_8));
            }
            awaitEquals(8, () -> count(jsm, "T"), "copied after the restart");
            for (int i = 1; i <= 8; i++) {
                assertEquals("o." + i, jsm.getMessage("T", i).getSubject());
            }
            // the limits origin keeps its messages; the consumer's ack floor reaches the end
            awaitEquals(8, () -> {
                try {
                    return request(nc, "$JS.API.CONSUMER.INFO.O.src", "").path("ack_floor").path("stream_seq")
                            .asLong();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, "ack floor");
            assertEquals(8, count(jsm, "T"), "nothing copied twice");
        }
    }

    private static long count(JetStreamManagement jsm, String stream) {
        try {
            return jsm.getStreamInfo(stream).getStreamState().getMsgCount();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Polls to a generous deadline: copying and the flow-control acks follow the heartbeat (1 s). */
    private static void awaitEquals(long expected, LongSupplier actual, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        long last = actual.getAsLong();
        while (last != expected && System.nanoTime() < deadline) {
            Thread.sleep(50); // polling an eventual state to a deadline
            last = actual.getAsLong();
        }
        assertEquals(expected, last, what);
    }
}
