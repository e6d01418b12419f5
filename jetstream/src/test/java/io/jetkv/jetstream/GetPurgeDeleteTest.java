package io.jetkv.jetstream;

import static io.jetkv.jetstream.TestClient.assertError;
import static io.jetkv.jetstream.TestClient.assertNoError;
import static io.jetkv.jetstream.TestClient.headers;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class GetPurgeDeleteTest extends JetStreamTestBase {
    private static final Pattern RFC3339_NANO = Pattern.compile("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d{1,9})?Z");

    @BeforeEach
    void stream() {
        createStream("{\"name\":\"T\",\"subjects\":[\"t.>\"],\"allow_direct\":true,\"max_msgs_per_subject\":10}");
        client.publish("t.a", headers("Nats-Msg-Id", "m1"), "one");   // 1
        client.publish("t.b", null, "two");                            // 2
        client.publish("t.a", null, "three");                          // 3
        client.publish("t.c", headers("KV-Operation", "DEL"), "");     // 4
    }

    @Test
    void msgGetBySeqLastAndNext() {
        JsonNode r = client.api("$JS.API.STREAM.MSG.GET.T", "{\"seq\":1}");
        assertEquals("io.nats.jetstream.api.v1.stream_msg_get_response", r.get("type").asText());
        JsonNode m = r.get("message");
        assertEquals("t.a", m.get("subject").asText());
        assertEquals(1, m.get("seq").asLong());
        assertEquals("one", new String(Base64.getDecoder().decode(m.get("data").asText()), StandardCharsets.UTF_8));
        assertEquals("NATS/1.0\r\nNats-Msg-Id: m1\r\n\r\n",
                new String(Base64.getDecoder().decode(m.get("hdrs").asText()), StandardCharsets.UTF_8));
        assertTrue(RFC3339_NANO.matcher(m.get("time").asText()).matches(), m.get("time").asText());

        assertEquals(3, client.api("$JS.API.STREAM.MSG.GET.T", "{\"last_by_subj\":\"t.a\"}").get("message").get("seq").asLong());
        assertEquals(3, client.api("$JS.API.STREAM.MSG.GET.T", "{\"next_by_subj\":\"t.a\",\"seq\":2}").get("message").get("seq").asLong());
        assertEquals(1, client.api("$JS.API.STREAM.MSG.GET.T", "{\"next_by_subj\":\"t.a\"}").get("message").get("seq").asLong());
        JsonNode marker = client.api("$JS.API.STREAM.MSG.GET.T", "{\"seq\":4}").get("message");
        assertNull(marker.get("data"));

        assertError(client.api("$JS.API.STREAM.MSG.GET.T", "{\"seq\":99}"), 404, 10037);
        assertError(client.api("$JS.API.STREAM.MSG.GET.T", "{\"last_by_subj\":\"t.zz\"}"), 404, 10037);
        assertError(client.api("$JS.API.STREAM.MSG.GET.T", "{}"), 400, 10003);
        assertError(client.api("$JS.API.STREAM.MSG.GET.T", ""), 400, 10003);
        assertError(client.api("$JS.API.STREAM.MSG.GET.NOPE", "{\"seq\":1}"), 404, 10059);
    }

    @Test
    void directGetBySubjectAppendsServerHeaders() {
        TestClient.Reply r = client.request("$JS.API.DIRECT.GET.T.t.a", "");
        String h = r.headersText();
        assertTrue(h.startsWith("NATS/1.0\r\nNats-Stream: T\r\nNats-Subject: t.a\r\nNats-Sequence: 3\r\nNats-Time-Stamp: "), h);
        assertTrue(h.endsWith("Z\r\n\r\n"), h);
        String ts = h.substring(h.indexOf("Nats-Time-Stamp: ") + 17, h.length() - 4);
        assertTrue(RFC3339_NANO.matcher(ts).matches(), ts);
        assertEquals("three", r.text());

        TestClient.Reply del = client.request("$JS.API.DIRECT.GET.T.t.c", "");
        assertTrue(del.headersText().startsWith("NATS/1.0\r\nKV-Operation: DEL\r\nNats-Stream: T\r\nNats-Subject: t.c\r\nNats-Sequence: 4\r\n"));
        assertEquals(0, del.payload().length);
    }

    @Test
    void directGetJsonForms() {
        TestClient.Reply bySeq = client.request("$JS.API.DIRECT.GET.T", "{\"seq\":1}");
        assertTrue(bySeq.headersText().startsWith("NATS/1.0\r\nNats-Msg-Id: m1\r\nNats-Stream: T\r\nNats-Subject: t.a\r\nNats-Sequence: 1\r\n"));
        assertEquals("one", bySeq.text());
        assertEquals("two", client.request("$JS.API.DIRECT.GET.T", "{\"last_by_subj\":\"t.b\"}").text());
        assertEquals("three", client.request("$JS.API.DIRECT.GET.T", "{\"next_by_subj\":\"t.a\",\"seq\":2}").text());
    }

    @Test
    void directGetStatusReplies() {
        assertEquals("NATS/1.0 404 Message Not Found\r\n\r\n", client.request("$JS.API.DIRECT.GET.T", "{\"seq\":99}").headersText());
        assertEquals("NATS/1.0 404 Message Not Found\r\n\r\n", client.request("$JS.API.DIRECT.GET.T.t.none", "").headersText());
        assertEquals("NATS/1.0 408 Empty Request\r\n\r\n", client.request("$JS.API.DIRECT.GET.T", "").headersText());
        assertEquals("NATS/1.0 408 Empty Request\r\n\r\n", client.request("$JS.API.DIRECT.GET.T", "{}").headersText());
        assertEquals("NATS/1.0 408 Malformed Request\r\n\r\n", client.request("$JS.API.DIRECT.GET.T", "nope").headersText());
        assertEquals("NATS/1.0 408 Bad Request\r\n\r\n", client.request("$JS.API.DIRECT.GET.T.t.a", "{\"seq\":1}").headersText());
        assertEquals(0, client.request("$JS.API.DIRECT.GET.T", "{\"seq\":99}").payload().length);
    }

    @Test
    void directGetNeedsAllowDirect() {
        createStream("{\"name\":\"ND\",\"subjects\":[\"nd\"]}");
        client.publish("nd", null, "x");
        assertNull(client.requestOrNull("$JS.API.DIRECT.GET.ND", null, "{\"seq\":1}", 300));
        assertNull(client.requestOrNull("$JS.API.DIRECT.GET.NOPE", null, "{\"seq\":1}", 300));
    }

    @Test
    void purgeWithFilterKeepAndSeq() {
        client.publish("t.a", null, "five");   // 5
        JsonNode keep = client.api("$JS.API.STREAM.PURGE.T", "{\"filter\":\"t.a\",\"keep\":1}");
        assertEquals("io.nats.jetstream.api.v1.stream_purge_response", keep.get("type").asText());
        assertTrue(keep.get("success").asBoolean());
        assertEquals(2, keep.get("purged").asLong());
        JsonNode seq = client.api("$JS.API.STREAM.PURGE.T", "{\"seq\":4}");
        assertEquals(1, seq.get("purged").asLong()); // t.b at 2
        JsonNode all = client.api("$JS.API.STREAM.PURGE.T", "");
        assertEquals(2, all.get("purged").asLong());
        JsonNode st = info("T").get("state");
        assertEquals(0, st.get("messages").asLong());
        assertEquals(5, st.get("last_seq").asLong());
        assertEquals(6, st.get("first_seq").asLong());
        assertEquals(6, client.publish("t.a", null, "x").get("seq").asLong());
        assertError(client.api("$JS.API.STREAM.PURGE.T", "{\"seq\":2,\"keep\":1}"), 400, 10003);
        assertError(client.api("$JS.API.STREAM.PURGE.NOPE", ""), 404, 10059);
    }

    @Test
    void purgeDeniedButRollupFreeStreamsStillPurge() {
        createStream("{\"name\":\"DP\",\"subjects\":[\"dp\"],\"deny_purge\":true}");
        JsonNode r = client.api("$JS.API.STREAM.PURGE.DP", "");
        assertError(r, 500, 10110);
        assertEquals("stream purge not permitted", r.get("error").get("description").asText());
    }

    @Test
    void msgDelete() {
        JsonNode r = client.api("$JS.API.STREAM.MSG.DELETE.T", "{\"seq\":2}");
        assertEquals("io.nats.jetstream.api.v1.stream_msg_delete_response", r.get("type").asText());
        assertTrue(r.get("success").asBoolean());
        assertNoError(client.api("$JS.API.STREAM.MSG.DELETE.T", "{\"seq\":3,\"no_erase\":true}"));
        JsonNode missing = client.api("$JS.API.STREAM.MSG.DELETE.T", "{\"seq\":2}");
        assertError(missing, 400, 10043);
        assertEquals("sequence 2 not found", missing.get("error").get("description").asText());
        assertEquals(2, info("T").get("state").get("num_deleted").asLong());

        createStream("{\"name\":\"DD\",\"subjects\":[\"dd\"],\"deny_delete\":true}");
        client.publish("dd", null, "x");
        JsonNode denied = client.api("$JS.API.STREAM.MSG.DELETE.DD", "{\"seq\":1}");
        assertError(denied, 500, 10057);
        assertEquals("message delete not permitted", denied.get("error").get("description").asText());
        // deny_delete does not block purge
        assertNoError(client.api("$JS.API.STREAM.PURGE.DD", ""));
    }
}
