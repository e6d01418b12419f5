package io.jetkv.jetstream;

import static io.jetkv.jetstream.TestClient.assertError;
import static io.jetkv.jetstream.TestClient.assertNoError;
import static io.jetkv.jetstream.TestClient.headers;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

class PublishTest extends JetStreamTestBase {

    private static final String KV = "{\"name\":\"KV_cfg\",\"subjects\":[\"$KV.cfg.>\"],\"max_msgs_per_subject\":1,"
            + "\"discard\":\"new\",\"allow_rollup_hdrs\":true,\"allow_direct\":true,\"deny_delete\":true}";

    @Test
    void pubAckCarriesStreamAndSequence() {
        createStream("{\"name\":\"ORDERS\",\"subjects\":[\"orders.>\"]}");
        JsonNode ack = client.publish("orders.1", null, "one");
        assertEquals("ORDERS", ack.get("stream").asText());
        assertEquals(1, ack.get("seq").asLong());
        assertNull(ack.get("duplicate"));
        assertNull(ack.get("type"));
        assertEquals(2, client.publish("orders.2", null, "two").get("seq").asLong());
    }

    @Test
    void msgIdDeduplicatesWithinWindow() {
        createStream("{\"name\":\"ORDERS\",\"subjects\":[\"orders.>\"]}");
        assertEquals(1, client.publish("orders.1", headers("Nats-Msg-Id", "m1"), "a").get("seq").asLong());
        JsonNode dup = client.publish("orders.1", headers("Nats-Msg-Id", "m1"), "a");
        assertEquals(1, dup.get("seq").asLong());
        assertTrue(dup.get("duplicate").asBoolean());
        assertEquals(1, info("ORDERS").get("state").get("messages").asLong());
        assertEquals(2, client.publish("orders.1", headers("Nats-Msg-Id", "m2"), "b").get("seq").asLong());
    }

    @Test
    void expectedLastSubjectSequenceIsPurgeAware() {
        createStream(KV);
        // create: 0 means "nothing stored on this subject"
        assertEquals(1, client.publish("$KV.cfg.k", headers("Nats-Expected-Last-Subject-Sequence", "0"), "x").get("seq").asLong());
        JsonNode exists = client.publish("$KV.cfg.k", headers("Nats-Expected-Last-Subject-Sequence", "0"), "y");
        assertError(exists, 400, 10071);
        assertEquals("wrong last sequence: 1", exists.get("error").get("description").asText());
        assertEquals("KV_cfg", exists.get("stream").asText());
        assertEquals(0, exists.get("seq").asLong());
        // jnats sends no space after the colon
        JsonNode upd = client.publish("$KV.cfg.k", "NATS/1.0\r\nNats-Expected-Last-Subject-Sequence:1\r\n\r\n", "z");
        assertEquals(2, upd.get("seq").asLong());
        assertError(client.publish("$KV.cfg.k", headers("Nats-Expected-Last-Subject-Sequence", "1"), "w"), 400, 10071);
        // after a purge of the key, 0 is accepted again
        assertNoError(client.api("$JS.API.STREAM.PURGE.KV_cfg", "{\"filter\":\"$KV.cfg.k\"}"));
        assertEquals(3, client.publish("$KV.cfg.k", headers("Nats-Expected-Last-Subject-Sequence", "0"), "again").get("seq").asLong());
        // non-numeric never matches
        assertError(client.publish("$KV.cfg.k", headers("Nats-Expected-Last-Subject-Sequence", "abc"), "v"), 400, 10071);
    }

    @Test
    void expectedStreamLastSequenceAndLastMsgId() {
        createStream("{\"name\":\"S\",\"subjects\":[\"s.>\"]}");
        assertError(client.publish("s.1", headers("Nats-Expected-Stream", "OTHER"), "x"), 400, 10060);
        assertEquals(1, client.publish("s.1", headers("Nats-Expected-Stream", "S", "Nats-Msg-Id", "a"), "x").get("seq").asLong());
        JsonNode wrong = client.publish("s.1", headers("Nats-Expected-Last-Sequence", "5"), "x");
        assertError(wrong, 400, 10071);
        assertEquals("wrong last sequence: 1", wrong.get("error").get("description").asText());
        assertEquals(2, client.publish("s.2", headers("Nats-Expected-Last-Sequence", "1"), "x").get("seq").asLong());
        JsonNode badId = client.publish("s.1", headers("Nats-Expected-Last-Msg-Id", "a"), "x");
        assertError(badId, 400, 10070);
        assertEquals("wrong last msg ID: ", badId.get("error").get("description").asText());
        client.publish("s.1", headers("Nats-Msg-Id", "b"), "x");
        assertEquals(4, client.publish("s.1", headers("Nats-Expected-Last-Msg-Id", "b"), "x").get("seq").asLong());
    }

    @Test
    void perSubjectLimitDropsOldestEvenWithDiscardNew() {
        createStream(KV);
        client.publish("$KV.cfg.a", null, "1");
        JsonNode ack = client.publish("$KV.cfg.a", null, "2");
        assertNoError(ack);
        assertEquals(2, ack.get("seq").asLong());
        JsonNode st = info("KV_cfg").get("state");
        assertEquals(1, st.get("messages").asLong());
        assertEquals(2, st.get("first_seq").asLong());
    }

    @Test
    void discardNewPerSubjectRefuses() {
        createStream("{\"name\":\"S\",\"max_msgs_per_subject\":1,\"discard\":\"new\",\"discard_new_per_subject\":true}");
        client.publish("S", null, "1");
        JsonNode r = client.publish("S", null, "2");
        assertError(r, 503, 10077);
        assertEquals("maximum messages per subject exceeded", r.get("error").get("description").asText());
    }

    @Test
    void maxMsgsDiscardOldAndNew() {
        createStream("{\"name\":\"OLD\",\"max_msgs\":2}");
        client.publish("OLD", null, "1");
        client.publish("OLD", null, "2");
        client.publish("OLD", null, "3");
        JsonNode st = info("OLD").get("state");
        assertEquals(2, st.get("messages").asLong());
        assertEquals(2, st.get("first_seq").asLong());

        createStream("{\"name\":\"NEW\",\"max_msgs\":2,\"discard\":\"new\"}");
        client.publish("NEW", null, "1");
        client.publish("NEW", null, "2");
        JsonNode r = client.publish("NEW", null, "3");
        assertError(r, 503, 10077);
        assertEquals("maximum messages exceeded", r.get("error").get("description").asText());
    }

    @Test
    void maxBytesDiscardNew() {
        createStream("{\"name\":\"B\",\"max_bytes\":100,\"discard\":\"new\"}");
        assertNoError(client.publish("B", null, "x".repeat(40)));
        JsonNode r = client.publish("B", null, "x".repeat(60));
        assertError(r, 503, 10077);
        assertEquals("maximum bytes exceeded", r.get("error").get("description").asText());
    }

    @Test
    void maxMsgSizeAndSealed() {
        createStream("{\"name\":\"S\",\"max_msg_size\":4}");
        assertError(client.publish("S", null, "12345"), 400, 10054);
        assertNoError(client.publish("S", null, "1234"));
        assertNoError(client.api("$JS.API.STREAM.UPDATE.S", "{\"name\":\"S\",\"max_msg_size\":4,\"sealed\":true}"));
        assertError(client.publish("S", null, "1"), 400, 10109);
        assertError(client.api("$JS.API.STREAM.PURGE.S", ""), 400, 10109);
    }

    @Test
    void rollupSubRemovesOlderMessagesOfTheSubject() {
        createStream(KV.replace("\"max_msgs_per_subject\":1", "\"max_msgs_per_subject\":5"));
        client.publish("$KV.cfg.a", null, "1");
        client.publish("$KV.cfg.b", null, "1");
        client.publish("$KV.cfg.a", null, "2");
        JsonNode ack = client.publish("$KV.cfg.a", headers("KV-Operation", "PURGE", "Nats-Rollup", "sub"), "");
        assertEquals(4, ack.get("seq").asLong());
        JsonNode st = client.api("$JS.API.STREAM.INFO.KV_cfg", "{\"subjects_filter\":\">\"}").get("state");
        assertEquals(2, st.get("messages").asLong());
        assertEquals(1, st.get("subjects").get("$KV.cfg.a").asLong());
        // the marker keeps its headers verbatim
        TestClient.Reply r = client.request("$JS.API.DIRECT.GET.KV_cfg.$KV.cfg.a", "");
        assertTrue(r.headersText().startsWith("NATS/1.0\r\nKV-Operation: PURGE\r\nNats-Rollup: sub\r\nNats-Stream: KV_cfg\r\n"),
                r.headersText());
    }

    @Test
    void rollupAllAndRollupNotPermitted() {
        createStream("{\"name\":\"R\",\"subjects\":[\"r.>\"],\"allow_rollup_hdrs\":true}");
        client.publish("r.a", null, "1");
        client.publish("r.b", null, "1");
        client.publish("r.c", headers("Nats-Rollup", "all"), "x");
        assertEquals(1, info("R").get("state").get("messages").asLong());
        // 2.10 drops a message with an unknown rollup value and sends no pub ack
        assertNull(client.requestOrNull("r.c", headers("Nats-Rollup", "bogus"), "x", 300));
        assertEquals(1, info("R").get("state").get("messages").asLong());

        createStream("{\"name\":\"N\",\"subjects\":[\"n.>\"]}");
        JsonNode r = client.publish("n.a", headers("Nats-Rollup", "sub"), "x");
        assertError(r, 500, 10111);
        assertEquals("rollup not permitted", r.get("error").get("description").asText());
    }

    @Test
    void noAckStoresWithoutReply() {
        createStream("{\"name\":\"Q\",\"no_ack\":true}");
        assertNull(client.requestOrNull("Q", null, "x", 300));
        assertEquals(1, info("Q").get("state").get("messages").asLong());
    }

    @Test
    void maxAgeExpiresInTheBackground() throws InterruptedException {
        createStream("{\"name\":\"E\",\"max_age\":200000000}");
        client.publish("E", null, "x");
        long deadline = System.currentTimeMillis() + 3000;
        long msgs = 1;
        while (System.currentTimeMillis() < deadline && (msgs = info("E").get("state").get("messages").asLong()) > 0) {
            Thread.sleep(20); // polling for truly eventual state (background expiry), bounded by the deadline
        }
        assertEquals(0, msgs);
        JsonNode st = info("E").get("state");
        assertEquals(2, st.get("first_seq").asLong());
        assertEquals(1, st.get("last_seq").asLong());
    }

    @Test
    void republishCopiesWithHeaders() {
        createStream("{\"name\":\"RP\",\"subjects\":[\"src.>\"],\"republish\":{\"src\":\"src.>\",\"dest\":\"repub.>\"}}");
        TestClient.Reply[] got = new TestClient.Reply[1];
        bus.subscribe("repub.>", (s, r, h, p) -> {
            got[0] = new TestClient.Reply(h, p);
            return true;
        });
        client.publish("src.a.b", headers("X", "1"), "payload");
        assertNotNull(got[0]);
        String h = got[0].headersText();
        assertTrue(h.startsWith("NATS/1.0\r\nX: 1\r\nNats-Stream: RP\r\nNats-Subject: src.a.b\r\nNats-Sequence: 1\r\n"), h);
        assertTrue(h.contains("Nats-Last-Sequence: 0\r\n"), h);
        assertEquals("payload", got[0].text());
    }

    @Test
    void overlappingPatternsOfOneStreamStoreOnce() {
        createStream("{\"name\":\"O\",\"subjects\":[\"a.>\",\"a.b\"]}");
        client.publish("a.b", null, "x");
        assertEquals(1, info("O").get("state").get("messages").asLong());
    }

    @Test
    void headersLargerThan64kAreRefused() {
        createStream("{\"name\":\"H\"}");
        String big = headers("X", "y".repeat(70_000));
        assertError(client.publish("H", big, "x"), 400, 10097);
        assertEquals(0, info("H").get("state").get("messages").asLong());
    }
}
