package io.jetkv.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jetkv.config.JetStreamConfig;
import io.jetkv.config.ServerConfig;
import io.jetkv.server.NatsServer;
import io.nats.client.Connection;
import io.nats.client.Message;
import io.nats.client.api.StreamInfo;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code pedantic: true} on stream and consumer create and update (nats-server 2.11+): where the server would fill
 * in or adjust a setting, it refuses instead, with 10157 {@code pedantic mode: <reason>} (10052 for the settings
 * markers and schedules force). The same requests without it are adjusted and accepted. Raw requests: jnats 2.26
 * does not send {@code pedantic}; jnats reads the results back.
 */
class PedanticModeIT {
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

    /** Asserts the reply is the error {@code code}/{@code text}. */
    private static void assertError(JsonNode reply, int code, String text) {
        assertEquals(code, reply.path("error").path("err_code").asInt(), reply.toString());
        assertEquals(text, reply.path("error").path("description").asText(), reply.toString());
    }

    private static JsonNode stream(Connection nc, String config, boolean pedantic) throws Exception {
        JsonNode cfg = JSON.readTree(config);
        String body = config.substring(0, config.length() - 1) + ",\"pedantic\":" + pedantic + "}";
        return request(nc, "$JS.API.STREAM.CREATE." + cfg.path("name").asText(), body);
    }

    @Test
    void streamCreateRefusesWhatItWouldAdjust() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            String[][] cases = {
                {"{\"name\":\"A\",\"subjects\":[\"a\"],\"max_msgs\":-5}", "10157",
                    "pedantic mode: max_msgs must be set to -1"},
                {"{\"name\":\"B\",\"subjects\":[\"b\"],\"max_bytes\":-2}", "10157",
                    "pedantic mode: max_bytes must be set to -1"},
                {"{\"name\":\"C\",\"subjects\":[\"c\"],\"max_consumers\":-7}", "10157",
                    "pedantic mode: max_consumers must be set to -1"},
                {"{\"name\":\"D\",\"subjects\":[\"d\"],\"max_age\":1000000000}", "10157",
                    "pedantic mode: duplicate window cannot be bigger than max age"},
                {"{\"name\":\"E\",\"subjects\":[\"e\"],\"subject_delete_marker_ttl\":1000000000}", "10052",
                    "subject delete marker cannot be set if message TTLs are disabled"},
                {"{\"name\":\"F\",\"subjects\":[\"f\"],\"subject_delete_marker_ttl\":1000000000,\"allow_msg_ttl\":true}",
                    "10052", "subject delete marker cannot be set if roll-ups are disabled"},
                {"{\"name\":\"G\",\"subjects\":[\"g\"],\"allow_msg_schedules\":true}", "10052",
                    "message scheduling cannot be set if roll-ups are disabled"},
                {"{\"name\":\"H\",\"subjects\":[\"h\"],\"republish\":{\"dest\":\"rp.>\"}}", "10157",
                    "pedantic mode: republish source can not be empty"},
            };
            for (String[] c : cases) {
                assertError(stream(nc, c[0], true), Integer.parseInt(c[1]), c[2]);
                // without pedantic the server fills the setting in and creates the stream
                JsonNode created = stream(nc, c[0], false);
                assertFalse(created.has("error"), created.toString());
            }
            StreamInfo a = nc.jetStreamManagement().getStreamInfo("A");
            assertEquals(-1, a.getConfiguration().getMaxMsgs());
            StreamInfo f = nc.jetStreamManagement().getStreamInfo("F");
            assertEquals(true, f.getConfiguration().getAllowRollup());

            // a pedantic request that needs no adjusting is accepted
            JsonNode ok = stream(nc, "{\"name\":\"OK\",\"subjects\":[\"ok\"],\"max_msgs\":-1,\"max_age\":1000000000,"
                    + "\"duplicate_window\":1000000000,\"subject_delete_marker_ttl\":1000000000,\"allow_msg_ttl\":true,"
                    + "\"allow_rollup_hdrs\":true,\"republish\":{\"src\":\"ok\",\"dest\":\"rp.ok\"}}", true);
            assertFalse(ok.has("error"), ok.toString());
            assertEquals("OK", nc.jetStreamManagement().getStreamInfo("OK").getConfiguration().getName());
        }
    }

    @Test
    void streamUpdateAndMirrorAreCheckedToo() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            stream(nc, "{\"name\":\"U\",\"subjects\":[\"u\"]}", false);
            assertError(request(nc, "$JS.API.STREAM.UPDATE.U",
                    "{\"name\":\"U\",\"subjects\":[\"u\"],\"max_msgs_per_subject\":-3,\"pedantic\":true}"), 10157,
                    "pedantic mode: max_msgs_per_subject must be set to -1");
            JsonNode updated = request(nc, "$JS.API.STREAM.UPDATE.U",
                    "{\"name\":\"U\",\"subjects\":[\"u\"],\"max_msgs_per_subject\":5,\"pedantic\":true}");
            assertEquals(5, updated.path("config").path("max_msgs_per_subject").asLong(), updated.toString());

            stream(nc, "{\"name\":\"O\",\"subjects\":[\"o\"],\"allow_direct\":true}", false);
            assertError(stream(nc, "{\"name\":\"M\",\"mirror\":{\"name\":\"O\"}}", true), 10157,
                    "pedantic mode: origin stream has direct get set, mirror has it disabled");
            JsonNode mirror = stream(nc, "{\"name\":\"M\",\"mirror\":{\"name\":\"O\"},\"mirror_direct\":true}", true);
            assertFalse(mirror.has("error"), mirror.toString());
        }
    }

    @Test
    void consumerCreateRefusesWhatItWouldAdjust() throws Exception {
        try (NatsServer server = start(); Connection nc = Clients.connect(server.clientUrl())) {
            stream(nc, "{\"name\":\"S\",\"subjects\":[\"s.>\"]}", false);
            stream(nc, "{\"name\":\"L\",\"subjects\":[\"l.>\"],\"consumer_limits\":{\"max_ack_pending\":100}}", false);
            String[][] cases = {
                {"S", "{\"durable_name\":\"c1\",\"ack_policy\":\"explicit\",\"max_deliver\":-3}", "10157",
                    "pedantic mode: max_deliver must be set to -1"},
                {"S", "{\"durable_name\":\"c2\",\"ack_policy\":\"explicit\",\"max_ack_pending\":-4}", "10157",
                    "pedantic mode: max_ack_pending must be set to -1"},
                {"S", "{\"durable_name\":\"c3\",\"ack_policy\":\"explicit\",\"max_expires\":-1}", "10157",
                    "pedantic mode: max_expires must not be negative"},
                {"S", "{\"durable_name\":\"c4\",\"ack_policy\":\"explicit\",\"backoff\":[1000000000,2000000000]}",
                    "10157", "pedantic mode: first backoff value has to equal batch AckWait"},
                {"L", "{\"durable_name\":\"c5\",\"ack_policy\":\"explicit\"}", "10157",
                    "pedantic mode: max_ack_pending must be set if it's configured in stream limits"},
                // acks by flow control get no flow control or heartbeat filled in
                {"S", "{\"durable_name\":\"c6\",\"ack_policy\":\"flow_control\",\"deliver_subject\":\"d6\"}", "10219",
                    "flow control ack policy requires flow control"},
                {"S", "{\"durable_name\":\"c7\",\"ack_policy\":\"flow_control\",\"deliver_subject\":\"d7\","
                    + "\"flow_control\":true,\"idle_heartbeat\":5000000000}", "10052",
                    "flow control ack policy heartbeat needs to be 1s"},
            };
            for (String[] c : cases) {
                String subject = "$JS.API.CONSUMER.CREATE." + c[0] + "." + JSON.readTree(c[1]).path("durable_name").asText();
                String body = "{\"stream_name\":\"" + c[0] + "\",\"config\":" + c[1] + ",\"pedantic\":true}";
                assertError(request(nc, subject, body), Integer.parseInt(c[2]), c[3]);
                String lenient = "{\"stream_name\":\"" + c[0] + "\",\"config\":" + c[1] + ",\"pedantic\":false}";
                JsonNode created = request(nc, subject, lenient);
                assertFalse(created.has("error"), c[1] + " -> " + created);
            }
            JsonNode ok = request(nc, "$JS.API.CONSUMER.CREATE.S.fine", "{\"stream_name\":\"S\",\"config\":{\"durable_name\":"
                    + "\"fine\",\"ack_policy\":\"explicit\",\"ack_wait\":1000000000,\"backoff\":[1000000000,2000000000]},"
                    + "\"pedantic\":true}");
            assertFalse(ok.has("error"), ok.toString());
            assertEquals(1_000_000_000L, nc.jetStreamManagement().getConsumerInfo("S", "fine").getConsumerConfiguration()
                    .getAckWait().toNanos());
        }
    }
}