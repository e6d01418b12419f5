package io.jetkv.jetstream;

import static io.jetkv.jetstream.TestClient.assertError;
import static io.jetkv.jetstream.TestClient.assertNoError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The consumer API on the wire: create subjects and their checks, ack subjects, pull status replies. */
class ConsumerApiTest extends JetStreamTestBase {
    private record Delivery(String subject, String reply, String headers, String payload) {}

    private final LinkedBlockingQueue<Delivery> inbox = new LinkedBlockingQueue<>();

    @BeforeEach
    void kvLikeStream() {
        createStream("{\"name\":\"KV_b\",\"subjects\":[\"$KV.b.>\"],\"max_msgs_per_subject\":5,\"storage\":\"memory\"}");
        client.publish("$KV.b.a", null, "1");
        client.publish("$KV.b.c", TestClient.headers("KV-Operation", "DEL"), "");
        client.publish("$KV.b.a", null, "22");
    }

    private void listen(String subject) {
        bus.subscribe(subject, (s, r, h, p) -> inbox.add(new Delivery(s, r,
                h == null ? null : new String(h, StandardCharsets.UTF_8), new String(p, StandardCharsets.UTF_8))));
    }

    private Delivery next() throws InterruptedException {
        Delivery d = inbox.poll(5, TimeUnit.SECONDS);
        assertNotNull(d, "expected a delivery");
        return d;
    }

    @Test
    void lastPerSubjectSnapshotAndAckSubjects() throws Exception {
        listen("dlv.1");
        JsonNode r = client.api("$JS.API.CONSUMER.CREATE.KV_b.w1.$KV.b.>", "{\"stream_name\":\"KV_b\",\"config\":"
                + "{\"deliver_subject\":\"dlv.1\",\"deliver_policy\":\"last_per_subject\",\"ack_policy\":\"none\","
                + "\"filter_subject\":\"$KV.b.>\",\"headers_only\":true}}");
        assertNoError(r);
        assertEquals("w1", r.get("name").asText());
        assertEquals("w1", r.get("config").get("name").asText());
        assertEquals(2, r.get("num_pending").asLong());
        assertEquals(0, r.get("delivered").get("consumer_seq").asLong());
        assertEquals(1, r.get("delivered").get("stream_seq").asLong());
        assertEquals(5_000_000_000L, r.get("config").get("inactive_threshold").asLong());

        Delivery c = next();
        assertEquals("$KV.b.c", c.subject());
        assertTrue(c.reply().matches("\\$JS\\.ACK\\.KV_b\\.w1\\.1\\.2\\.1\\.\\d+\\.1"), c.reply());
        assertTrue(c.headers().contains("KV-Operation: DEL\r\nNats-Msg-Size: 0\r\n\r\n"), c.headers());
        Delivery a = next();
        assertEquals("$KV.b.a", a.subject());
        assertTrue(a.reply().matches("\\$JS\\.ACK\\.KV_b\\.w1\\.1\\.3\\.2\\.\\d+\\.0"), a.reply());
        assertEquals("NATS/1.0\r\nNats-Msg-Size: 2\r\n\r\n", a.headers());
        assertEquals("", a.payload());

        client.publish("$KV.b.z", null, "live");
        Delivery z = next();
        assertTrue(z.reply().matches("\\$JS\\.ACK\\.KV_b\\.w1\\.1\\.4\\.3\\.\\d+\\.0"), z.reply());
    }

    private long numPending(String stream, String consumer) {
        return client.api("$JS.API.CONSUMER.INFO." + stream + "." + consumer, "").get("num_pending").asLong();
    }

    /** The ack subject's last token: num_pending after this delivery. */
    private static long pendingToken(Delivery d) {
        return Long.parseLong(d.reply().substring(d.reply().lastIndexOf('.') + 1));
    }

    @Test
    void numPendingFollowsAppendsDeliveriesAndRemovals() throws Exception {
        createStream("{\"name\":\"NP\",\"subjects\":[\"np.>\"],\"storage\":\"memory\"}");
        for (String s : new String[] {"np.a", "np.a", "np.a", "np.b", "np.b"}) {
            client.publish(s, null, "x");
        }
        assertNoError(client.api("$JS.API.CONSUMER.DURABLE.CREATE.NP.f", "{\"stream_name\":\"NP\",\"config\":"
                + "{\"durable_name\":\"f\",\"ack_policy\":\"explicit\",\"filter_subject\":\"np.a\"}}"));
        assertNoError(client.api("$JS.API.CONSUMER.DURABLE.CREATE.NP.all", "{\"stream_name\":\"NP\",\"config\":"
                + "{\"durable_name\":\"all\",\"ack_policy\":\"explicit\"}}"));
        assertEquals(3, numPending("NP", "f"));
        assertEquals(5, numPending("NP", "all"));
        client.publish("np.a", null, "6");
        client.publish("np.b", null, "7");
        assertEquals(4, numPending("NP", "f"));
        assertEquals(7, numPending("NP", "all"));

        listen("_INBOX.np");
        bus.clientPublish("$JS.API.CONSUMER.MSG.NEXT.NP.f", "_INBOX.np", null,
                "{\"batch\":2,\"no_wait\":true}".getBytes(StandardCharsets.UTF_8));
        assertEquals(3, pendingToken(next()));
        assertEquals(2, pendingToken(next()));
        assertEquals(2, numPending("NP", "f"));

        // an undelivered message goes: one less; a delivered one goes: no change
        assertTrue(client.api("$JS.API.STREAM.MSG.DELETE.NP", "{\"seq\":6}").get("success").asBoolean());
        assertEquals(1, numPending("NP", "f"));
        assertEquals(6, numPending("NP", "all"));
        assertTrue(client.api("$JS.API.STREAM.MSG.DELETE.NP", "{\"seq\":1}").get("success").asBoolean());
        assertEquals(1, numPending("NP", "f"));
        assertEquals(5, numPending("NP", "all"));
        client.publish("np.a", null, "8");
        assertEquals(2, numPending("NP", "f"));
        assertNoError(client.api("$JS.API.STREAM.PURGE.NP", "{\"filter\":\"np.a\"}"));
        assertEquals(0, numPending("NP", "f"));
        assertEquals(3, numPending("NP", "all"));
        client.publish("np.a", null, "9");
        bus.clientPublish("$JS.API.CONSUMER.MSG.NEXT.NP.f", "_INBOX.np", null,
                "{\"batch\":1,\"no_wait\":true}".getBytes(StandardCharsets.UTF_8));
        Delivery d = next();
        assertTrue(d.reply().startsWith("$JS.ACK.NP.f.1.9.3."), d.reply());
        assertEquals(0, pendingToken(d));
        assertEquals(0, numPending("NP", "f"));
    }

    @Test
    void createSubjectChecks() {
        String cfg = "{\"stream_name\":\"KV_b\",\"config\":{\"durable_name\":\"x\",\"ack_policy\":\"explicit\"}}";
        assertError(client.api("$JS.API.CONSUMER.CREATE.KV_b", cfg), 400, 10020);
        assertError(client.api("$JS.API.CONSUMER.CREATE.KV_b.y", cfg), 400, 10017);
        assertError(client.api("$JS.API.CONSUMER.DURABLE.CREATE.KV_b.y", cfg), 400, 10017);
        assertError(client.api("$JS.API.CONSUMER.CREATE.KV_b.x.$KV.b.q", cfg), 400, 10131);
        assertError(client.api("$JS.API.CONSUMER.CREATE.NOPE.x", cfg.replace("KV_b", "NOPE")), 404, 10059);
        assertError(client.api("$JS.API.CONSUMER.CREATE.KV_b.x", cfg.replace("\"KV_b\"", "\"other\"")), 400, 10056);
        assertError(client.api("$JS.API.CONSUMER.CREATE.KV_b.x", "{\"stream_name\":\"KV_b\",\"config\":"
                + "{\"deliver_policy\":\"last_per_subject\"}}"), 400, 10094);
        assertError(client.api("$JS.API.CONSUMER.CREATE.KV_b.x", "{\"stream_name\":\"KV_b\",\"config\":"
                + "{\"filter_subject\":\"other.>\"}}"), 400, 10093);
        assertError(client.api("$JS.API.CONSUMER.CREATE.KV_b.x", "{\"stream_name\":\"KV_b\",\"config\":"
                + "{\"deliver_subject\":\"d\",\"flow_control\":true}}"), 400, 10108);
        assertError(client.api("$JS.API.CONSUMER.CREATE.KV_b.x", "{\"stream_name\":\"KV_b\",\"config\":"
                + "{\"idle_heartbeat\":1000000000}}"), 400, 10088);
        assertError(client.api("$JS.API.CONSUMER.CREATE.KV_b.x", "{\"stream_name\":\"KV_b\",\"config\":"
                + "{\"ack_policy\":\"sometimes\"}}"), 400, 10025);
        JsonNode ok = client.api("$JS.API.CONSUMER.DURABLE.CREATE.KV_b.x", cfg);
        assertNoError(ok);
        assertEquals(30_000_000_000L, ok.get("config").get("ack_wait").asLong());
        assertEquals(1000, ok.get("config").get("max_ack_pending").asLong());
        assertEquals(512, ok.get("config").get("max_waiting").asLong());
        assertEquals(3, ok.get("num_pending").asLong());
        assertError(client.api("$JS.API.CONSUMER.CREATE.KV_b.x", "{\"stream_name\":\"KV_b\",\"action\":\"update\","
                + "\"config\":{\"durable_name\":\"x\",\"ack_policy\":\"none\"}}"), 500, 10012);
        JsonNode names = client.api("$JS.API.CONSUMER.NAMES.KV_b", "");
        assertEquals(1, names.get("total").asInt());
        assertEquals("x", names.get("consumers").get(0).asText());
        assertTrue(client.api("$JS.API.CONSUMER.DELETE.KV_b.x", "").get("success").asBoolean());
        assertError(client.api("$JS.API.CONSUMER.INFO.KV_b.x", ""), 404, 10014);
    }

    @Test
    void pullStatusReplies() throws Exception {
        assertNoError(client.api("$JS.API.CONSUMER.CREATE.KV_b.p", "{\"stream_name\":\"KV_b\",\"config\":"
                + "{\"durable_name\":\"p\",\"ack_policy\":\"explicit\",\"max_batch\":10}}"));
        listen("_INBOX.pull");
        bus.clientPublish("$JS.API.CONSUMER.MSG.NEXT.KV_b.p", "_INBOX.pull", null,
                "{\"batch\":5,\"no_wait\":true}".getBytes(StandardCharsets.UTF_8));
        assertEquals("$KV.b.a", next().subject());
        assertEquals("$KV.b.c", next().subject());
        Delivery last = next();
        assertEquals("22", last.payload());
        Delivery end = next();
        assertEquals("NATS/1.0 408 Request Timeout\r\nNats-Pending-Messages: 2\r\nNats-Pending-Bytes: 0\r\n\r\n",
                end.headers());

        bus.clientPublish("$JS.API.CONSUMER.MSG.NEXT.KV_b.p", "_INBOX.pull", null,
                "{\"batch\":1,\"no_wait\":true}".getBytes(StandardCharsets.UTF_8));
        assertEquals("NATS/1.0 404 No Messages\r\n\r\n", next().headers());
        bus.clientPublish("$JS.API.CONSUMER.MSG.NEXT.KV_b.p", "_INBOX.pull", null,
                "{\"batch\":11}".getBytes(StandardCharsets.UTF_8));
        assertEquals("NATS/1.0 409 Exceeded MaxRequestBatch of 10\r\n\r\n", next().headers());
        bus.clientPublish("$JS.API.CONSUMER.MSG.NEXT.KV_b.p", "_INBOX.pull", null,
                "{\"batch\":2,\"expires\":200000000}".getBytes(StandardCharsets.UTF_8));
        assertEquals("NATS/1.0 408 Request Timeout\r\nNats-Pending-Messages: 2\r\nNats-Pending-Bytes: 0\r\n\r\n",
                next().headers());

        // an ack with a reply subject gets an empty confirmation; the ack floor moves
        JsonNode info = client.api("$JS.API.CONSUMER.INFO.KV_b.p", "");
        assertEquals(3, info.get("num_ack_pending").asInt());
        TestClient.Reply confirm = client.request(last.reply(), "+ACK");
        assertNotNull(confirm);
        assertEquals(0, confirm.payload().length);
        info = client.api("$JS.API.CONSUMER.INFO.KV_b.p", "");
        assertEquals(2, info.get("num_ack_pending").asInt());
        assertEquals(0, info.get("num_waiting").asInt());

        bus.clientPublish("$JS.API.CONSUMER.MSG.NEXT.KV_b.p", "_INBOX.pull", null,
                "{\"batch\":1,\"expires\":5000000000}".getBytes(StandardCharsets.UTF_8));
        client.api("$JS.API.CONSUMER.DELETE.KV_b.p", "");
        assertEquals("NATS/1.0 409 Consumer Deleted\r\n\r\n", next().headers());
        assertNull(client.requestOrNull("$JS.API.CONSUMER.MSG.NEXT.KV_b.p", null, "1", 200), "unknown: no reply");
    }

    @Test
    void flowControlPausesUntilAnsweredAndStalledHeartbeatNamesTheRequest() throws Exception {
        createStream("{\"name\":\"BIG\",\"subjects\":[\"big\"],\"storage\":\"memory\"}");
        String body = "x".repeat(64 * 1024);
        for (int i = 0; i < 24; i++) {
            client.publish("big", null, body);
        }
        listen("dlv.fc");
        assertNoError(client.api("$JS.API.CONSUMER.CREATE.BIG.fc", "{\"stream_name\":\"BIG\",\"config\":"
                + "{\"deliver_subject\":\"dlv.fc\",\"ack_policy\":\"none\",\"flow_control\":true,"
                + "\"idle_heartbeat\":100000000}}"));
        int messages = 0;
        String fc = null;
        Delivery d;
        // deliveries until the window is used up, with one flow-control request in between
        while (true) {
            d = next();
            if (d.headers() != null && d.headers().startsWith("NATS/1.0 100 FlowControl Request")) {
                assertNull(fc, "one outstanding request at a time");
                fc = d.reply();
                assertTrue(fc.startsWith("$JS.FC.BIG.fc."), fc);
                continue;
            }
            if (d.headers() != null && d.headers().startsWith("NATS/1.0 100 Idle Heartbeat")) {
                break;
            }
            messages++;
        }
        assertNotNull(fc);
        assertTrue(messages < 24, "paused before the end: " + messages);
        assertTrue(d.headers().contains("Nats-Last-Consumer: " + messages + "\r\n"), d.headers());
        assertTrue(d.headers().contains("Nats-Consumer-Stalled: " + fc + "\r\n"), d.headers());
        bus.clientPublish(fc, null, null, new byte[0]);
        int rest = 0;
        while (messages + rest < 24) {
            d = next();
            if (d.headers() == null) {
                rest++;
            } else if (d.headers().startsWith("NATS/1.0 100 FlowControl Request")) {
                bus.clientPublish(d.reply(), null, null, new byte[0]);
            }
        }
    }
}
