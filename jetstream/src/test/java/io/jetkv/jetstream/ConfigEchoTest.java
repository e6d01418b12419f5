package io.jetkv.jetstream;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

/** The config in create replies equals the reference's capture field for field (plus 2.10's and 2.11's additions). */
class ConfigEchoTest extends JetStreamTestBase {

    @Test
    void natsJsBucketConfigIsEchoedLikeTheReference() throws Exception {
        String request = "{\"name\":\"KV_cfg\",\"retention\":\"limits\",\"max_msgs_per_subject\":5,\"max_bytes\":-1,"
                + "\"max_msg_size\":-1,\"storage\":\"file\",\"subjects\":[\"$KV.cfg.>\"],\"discard\":\"new\","
                + "\"allow_direct\":true,\"num_replicas\":1,\"allow_rollup_hdrs\":true}";
        // captured from nats-server 2.9.10 (kv.md 2.1)
        String captured = "{\"name\":\"KV_cfg\",\"subjects\":[\"$KV.cfg.>\"],\"retention\":\"limits\",\"max_consumers\":-1,"
                + "\"max_msgs\":-1,\"max_bytes\":-1,\"max_age\":0,\"max_msgs_per_subject\":5,\"max_msg_size\":-1,"
                + "\"discard\":\"new\",\"storage\":\"file\",\"num_replicas\":1,\"duplicate_window\":120000000000,"
                + "\"allow_direct\":true,\"mirror_direct\":false,\"sealed\":false,\"deny_delete\":false,"
                + "\"deny_purge\":false,\"allow_rollup_hdrs\":true}";
        JsonNode config = createStream(request).get("config");
        ObjectNode expected = (ObjectNode) TestClient.JSON.readTree(captured);
        // fields 2.10 always adds
        expected.put("compression", "none");
        expected.putObject("consumer_limits");
        // and those 2.11 adds: allow_msg_ttl always, the _nats.* metadata in a create reply
        expected.put("allow_msg_ttl", false);
        ObjectNode metadata = expected.putObject("metadata");
        metadata.put("_nats.req.level", "0");
        metadata.put("_nats.ver", io.jetkv.jetstream.api.ApiLevel.SERVER_VERSION);
        metadata.put("_nats.level", String.valueOf(io.jetkv.jetstream.api.ApiLevel.SERVER));
        assertEquals(expected, config);
    }
}
