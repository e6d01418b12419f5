package io.jetkv.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jetkv.config.JetStreamConfig;
import io.jetkv.config.ServerConfig;
import io.jetkv.server.NatsServer;
import io.nats.client.Connection;
import io.nats.client.JetStreamManagement;
import io.nats.client.Message;
import io.nats.client.api.Mirror;
import io.nats.client.api.RetentionPolicy;
import io.nats.client.api.Source;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The consumers nats-server 2.14 makes by itself to source or mirror a work-queue or interest stream (ADR-60): a
 * durable {@code JS_SRC_<id>} / {@code JS_MIRROR_<id>} on the origin acking by flow control, so the origin lets a
 * message go once the sourcing stream stored it; shown in the origin's consumer list with {@code sourcing} and the
 * {@code _nats.src.*} metadata. And the check of a user's durable-sourcing consumer (10214, 10217). Streams through
 * jnats; what jnats 2.26 cannot read (the {@code flow_control} ack policy, {@code sourcing}) through raw requests.
 */
class SourcingConsumerIT {
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

    private static void origin(JetStreamManagement jsm, String name, RetentionPolicy retention) throws Exception {
        jsm.addStream(StreamConfiguration.builder().name(name).subjects(name.toLowerCase() + ".>")
                .retentionPolicy(retention).storageType(StorageType.File).build());
    }

    private static void publish(Connection nc, String subject, int from, int to) throws Exception {
        for (int i = from; i <= to; i++) {
            nc.jetStream().publish(subject + "." + i, ("m" + i).getBytes(StandardCharsets.UTF_8));
        }
    }

    @Test
    void aWorkQueueIsSourcedThroughAConsumerItMakes() throws Exception {
        String consumer;
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            origin(jsm, "O", RetentionPolicy.WorkQueue);
            publish(nc, "o", 1, 5);
            jsm.addStream(StreamConfiguration.builder().name("T").storageType(StorageType.File)
                    .sources(Source.builder().name("O").build()).build());

            awaitEquals(5, () -> count(jsm, "T"), "copied");
            awaitEquals(0, () -> count(jsm, "O"), "left in the work queue");
            for (int i = 1; i <= 5; i++) {
                assertEquals("o." + i, jsm.getMessage("T", i).getSubject());
            }

            List<String> names = jsm.getConsumerNames("O");
            assertEquals(1, names.size(), names.toString());
            consumer = names.get(0);
            assertTrue(consumer.startsWith("JS_SRC_"), consumer);
            JsonNode info = request(nc, "$JS.API.CONSUMER.INFO.O." + consumer, "");
            JsonNode cfg = info.path("config");
            assertEquals(consumer, cfg.path("durable_name").asText(), info.toString());
            assertEquals("flow_control", cfg.path("ack_policy").asText());
            assertTrue(cfg.path("sourcing").asBoolean(), info.toString());
            assertFalse(cfg.has("direct"), info.toString());
            assertFalse(cfg.has("inactive_threshold"), info.toString());
            assertEquals("T", cfg.path("metadata").path("_nats.src.stream").asText());
            assertEquals("$G", cfg.path("metadata").path("_nats.src.acc").asText());
            assertEquals("4", cfg.path("metadata").path("_nats.req.level").asText());
            JsonNode list = request(nc, "$JS.API.CONSUMER.LIST.O", "");
            assertEquals(consumer, list.path("consumers").get(0).path("name").asText(), list.toString());

            publish(nc, "o", 6, 8);
            awaitEquals(8, () -> count(jsm, "T"), "copied later");
            awaitEquals(0, () -> count(jsm, "O"), "drained later");
        }
        // a restart finds the same consumer again: it resumes from its ack floor, nothing is copied twice
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            publish(nc, "o", 9, 10);
            awaitEquals(10, () -> count(jsm, "T"), "copied after the restart");
            awaitEquals(0, () -> count(jsm, "O"), "drained after the restart");
            assertEquals(List.of(consumer), jsm.getConsumerNames("O"));
            for (int i = 1; i <= 10; i++) {
                assertEquals("o." + i, jsm.getMessage("T", i).getSubject());
            }

            // the entry goes: so does the consumer made for it (best effort, as the reference)
            jsm.updateStream(StreamConfiguration.builder().name("T").storageType(StorageType.File)
                    .subjects("t.local").build());
            awaitTrue(() -> names(jsm, "O").isEmpty(), "consumer deleted with its entry");
        }
    }

    @Test
    void anInterestStreamIsMirroredThroughAConsumerItMakes() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            origin(jsm, "I", RetentionPolicy.Interest);
            jsm.addStream(StreamConfiguration.builder().name("M").storageType(StorageType.File)
                    .mirror(Mirror.builder().name("I").build()).build());
            // the mirror's consumer is the origin's interest: what is published now is kept until mirrored
            awaitTrue(() -> names(jsm, "I").size() == 1, "consumer made");
            String consumer = jsm.getConsumerNames("I").get(0);
            assertTrue(consumer.startsWith("JS_MIRROR_"), consumer);
            JsonNode cfg = request(nc, "$JS.API.CONSUMER.INFO.I." + consumer, "").path("config");
            assertEquals("M", cfg.path("metadata").path("_nats.mirror.stream").asText(), cfg.toString());
            assertEquals("flow_control", cfg.path("ack_policy").asText());

            publish(nc, "i", 1, 4);
            awaitEquals(4, () -> count(jsm, "M"), "mirrored");
            awaitEquals(0, () -> count(jsm, "I"), "acked by the mirror, so gone from the interest stream");
            for (int i = 1; i <= 4; i++) {
                assertEquals("i." + i, jsm.getMessage("M", i).getSubject());
            }
            // deleting the mirror deletes its consumer
            jsm.deleteStream("M");
            awaitTrue(() -> names(jsm, "I").isEmpty(), "consumer deleted with the mirror");
        }
    }

    @Test
    void aLimitsOriginGetsNoConsumer() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            origin(jsm, "L", RetentionPolicy.Limits);
            publish(nc, "l", 1, 3);
            jsm.addStream(StreamConfiguration.builder().name("T").storageType(StorageType.File)
                    .sources(Source.builder().name("L").build()).build());
            awaitEquals(3, () -> count(jsm, "T"), "copied");
            assertEquals(3, count(jsm, "L"));
            assertTrue(jsm.getConsumerNames("L").isEmpty());
        }
    }

    /** What the origin makes of a sourcing server's request (a direct, sourcing, named consumer), by retention. */
    @Test
    void aSourcingRequestIsUpgradedOnAWorkQueueAndMadeUniqueOnLimits() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            origin(jsm, "W", RetentionPolicy.WorkQueue);
            origin(jsm, "L", RetentionPolicy.Limits);
            String config = "\"config\":{\"name\":\"JS_SRC_abc\",\"deliver_subject\":\"$JS.S.x\","
                    + "\"deliver_policy\":\"all\",\"ack_policy\":\"none\",\"ack_wait\":79200000000000,"
                    + "\"max_deliver\":1,\"flow_control\":true,\"idle_heartbeat\":1000000000,"
                    + "\"inactive_threshold\":10000000000,\"direct\":true,\"sourcing\":true}";
            JsonNode w = request(nc, "$JS.API.CONSUMER.CREATE.W", "{\"stream_name\":\"W\"," + config + "}");
            assertEquals("JS_SRC_abc", w.path("name").asText(), w.toString());
            assertEquals("JS_SRC_abc", w.path("config").path("durable_name").asText());
            assertEquals("flow_control", w.path("config").path("ack_policy").asText());
            assertEquals(-1, w.path("config").path("max_deliver").asLong());
            assertFalse(w.path("config").has("ack_wait"), w.toString());
            assertFalse(w.path("config").has("direct"), w.toString());
            JsonNode l = request(nc, "$JS.API.CONSUMER.CREATE.L", "{\"stream_name\":\"L\"," + config + "}");
            assertTrue(l.path("name").asText().startsWith("JS_SRC_abc-"), l.toString());
            assertEquals("none", l.path("config").path("ack_policy").asText());
            assertTrue(l.path("config").path("direct").asBoolean(), l.toString());
        }
    }

    /** A durable-sourcing entry whose consumer does not ack by flow control copies nothing and says why. */
    @Test
    void aUserConsumerWithoutFlowControlAcksIsRefused() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            origin(jsm, "O", RetentionPolicy.Limits);
            publish(nc, "o", 1, 3);
            request(nc, "$JS.API.CONSUMER.CREATE.O.explicit", "{\"stream_name\":\"O\",\"config\":{\"durable_name\":"
                    + "\"explicit\",\"ack_policy\":\"explicit\",\"deliver_subject\":\"deliver.x\"}}");
            request(nc, "$JS.API.STREAM.CREATE.S", "{\"name\":\"S\",\"sources\":[{\"name\":\"O\",\"consumer\":"
                    + "{\"name\":\"explicit\",\"deliver_subject\":\"deliver.x\"}}]}");
            request(nc, "$JS.API.STREAM.CREATE.M", "{\"name\":\"M\",\"mirror\":{\"name\":\"O\",\"consumer\":"
                    + "{\"name\":\"explicit\",\"deliver_subject\":\"deliver.x\"}}}");
            awaitTrue(() -> errCode(nc, "S", "sources") == 10217, "source error");
            awaitTrue(() -> errCode(nc, "M", "mirror") == 10214, "mirror error");
            JsonNode error = request(nc, "$JS.API.STREAM.INFO.S", "").path("sources").get(0).path("error");
            assertEquals("stream source consumer requires flow control ack policy", error.path("description").asText());
            assertEquals(400, error.path("code").asInt());
            JsonNode mirrorError = request(nc, "$JS.API.STREAM.INFO.M", "").path("mirror").path("error");
            assertEquals("stream mirror consumer requires flow control ack policy",
                    mirrorError.path("description").asText());
            assertEquals(0, count(jsm, "S"), "nothing copied through it");
            assertEquals(0, count(jsm, "M"), "nothing mirrored through it");
        }
    }

    private static long errCode(Connection nc, String stream, String field) {
        try {
            JsonNode si = request(nc, "$JS.API.STREAM.INFO." + stream, "");
            JsonNode entry = field.equals("mirror") ? si.path("mirror") : si.path("sources").path(0);
            return entry.path("error").path("err_code").asLong();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<String> names(JetStreamManagement jsm, String stream) {
        try {
            return jsm.getConsumerNames(stream);
        } catch (Exception e) {
            throw new IllegalStateException(e);
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

    private static void awaitTrue(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, what);
            Thread.sleep(50); // polling an eventual state to a deadline
        }
    }
}