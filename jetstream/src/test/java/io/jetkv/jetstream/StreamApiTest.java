package io.jetkv.jetstream;

import static io.jetkv.jetstream.TestClient.assertError;
import static io.jetkv.jetstream.TestClient.assertNoError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

class StreamApiTest extends JetStreamTestBase {

    private static final String JNATS_KV = "{\"name\":\"KV_jcfg\",\"subjects\":[\"$KV.jcfg.>\"],\"retention\":\"limits\","
            + "\"max_msgs_per_subject\":3,\"max_age\":3600000000000,\"max_msg_size\":1024,\"storage\":\"file\","
            + "\"num_replicas\":1,\"discard\":\"new\",\"duplicate_window\":120000000000,\"allow_rollup_hdrs\":true,"
            + "\"allow_direct\":true,\"deny_delete\":true}";

    @Test
    void accountInfoHasTypeLimitsAndCounters() {
        JsonNode r = client.api("$JS.API.INFO", "");
        assertEquals("io.nats.jetstream.api.v1.account_info_response", r.get("type").asText());
        assertEquals(0, r.get("streams").asInt());
        assertEquals(-1, r.get("limits").get("max_memory").asLong());
        assertTrue(r.get("api").get("total").asLong() >= 1);
        createStream("{\"name\":\"M\",\"storage\":\"memory\"}");
        client.publish("M", null, "hello");
        r = client.api("$JS.API.INFO", "{}");
        assertEquals(1, r.get("streams").asInt());
        assertTrue(r.get("memory").asLong() > 0);
    }

    @Test
    void createEchoesConfigWithDefaultsLikeTheReference() {
        JsonNode r = createStream(JNATS_KV);
        assertEquals("io.nats.jetstream.api.v1.stream_create_response", r.get("type").asText());
        JsonNode c = r.get("config");
        assertEquals("KV_jcfg", c.get("name").asText());
        assertEquals("$KV.jcfg.>", c.get("subjects").get(0).asText());
        assertEquals("limits", c.get("retention").asText());
        assertEquals(-1, c.get("max_consumers").asInt());
        assertEquals(-1, c.get("max_msgs").asLong());
        assertEquals(-1, c.get("max_bytes").asLong());
        assertEquals(3600000000000L, c.get("max_age").asLong());
        assertEquals(3, c.get("max_msgs_per_subject").asLong());
        assertEquals(1024, c.get("max_msg_size").asInt());
        assertEquals("new", c.get("discard").asText());
        assertEquals("file", c.get("storage").asText());
        assertEquals(1, c.get("num_replicas").asInt());
        assertEquals(120000000000L, c.get("duplicate_window").asLong());
        assertTrue(c.get("allow_direct").asBoolean());
        assertFalse(c.get("mirror_direct").asBoolean());
        assertFalse(c.get("sealed").asBoolean());
        assertTrue(c.get("deny_delete").asBoolean());
        assertFalse(c.get("deny_purge").asBoolean());
        assertTrue(c.get("allow_rollup_hdrs").asBoolean());
        assertEquals("none", c.get("compression").asText());
        assertNull(c.get("no_ack"));
        assertNull(c.get("description"));
        assertTrue(r.get("did_create").asBoolean());
        JsonNode st = r.get("state");
        assertEquals(0, st.get("messages").asLong());
        assertEquals(0, st.get("first_seq").asLong());
        assertEquals("0001-01-01T00:00:00Z", st.get("first_ts").asText());
        assertEquals("0001-01-01T00:00:00Z", st.get("last_ts").asText());
        assertEquals(0, st.get("consumer_count").asInt());
        assertNull(st.get("num_subjects"));
        assertTrue(r.get("created").asText().endsWith("Z"));
    }

    @Test
    void duplicateWindowDefaultsToMaxAgeWhenSmaller() {
        JsonNode r = createStream("{\"name\":\"T\",\"max_age\":60000000000}");
        assertEquals(60000000000L, r.get("config").get("duplicate_window").asLong());
        assertEquals("T", r.get("config").get("subjects").get(0).asText());
    }

    @Test
    void createIsIdempotentAndDifferentConfigIs10058() {
        createStream(JNATS_KV);
        JsonNode again = client.api("$JS.API.STREAM.CREATE.KV_jcfg", JNATS_KV);
        assertNoError(again);
        assertEquals("KV_jcfg", again.get("config").get("name").asText());
        JsonNode diff = client.api("$JS.API.STREAM.CREATE.KV_jcfg", JNATS_KV.replace("\"max_msgs_per_subject\":3", "\"max_msgs_per_subject\":4"));
        assertError(diff, 400, 10058);
        assertEquals("io.nats.jetstream.api.v1.stream_create_response", diff.get("type").asText());
    }

    @Test
    void createErrors() {
        assertError(client.api("$JS.API.STREAM.CREATE.A", "{\"name\":\"B\"}"), 400, 10056);
        assertError(client.api("$JS.API.STREAM.CREATE.A", ""), 400, 10025);
        assertError(client.api("$JS.API.STREAM.CREATE.A", "not json"), 400, 10025);
        assertError(client.api("$JS.API.STREAM.CREATE.A", "{\"name\":\"A\",\"retention\":\"bogus\"}"), 400, 10025);
        assertError(client.api("$JS.API.STREAM.CREATE.A", "{\"name\":\"A\",\"max_msgs\":\"x\"}"), 400, 10025);
        assertError(client.api("$JS.API.STREAM.CREATE.A", "{\"name\":\"A\",\"num_replicas\":3}"), 500, 10074);
        assertError(client.api("$JS.API.STREAM.CREATE.A", "{\"name\":\"A\",\"max_age\":1000,\"duplicate_window\":2000}"), 500, 10052);
        JsonNode dup = client.api("$JS.API.STREAM.CREATE.A",
                "{\"name\":\"A\",\"max_age\":1000000000,\"duplicate_window\":2000000000}");
        assertError(dup, 500, 10052);
        assertEquals("duplicates window can not be larger then max age", dup.get("error").get("description").asText());
        assertError(client.api("$JS.API.STREAM.CREATE.A", "{\"name\":\"A\",\"subjects\":[\"a..b\"]}"), 500, 10052);
        assertError(client.api("$JS.API.STREAM.CREATE.A", "{\"name\":\"A\",\"subjects\":[\">\"]}"), 500, 10052);
        assertError(client.api("$JS.API.STREAM.CREATE.A", "{\"name\":\"A\",\"deny_purge\":true,\"allow_rollup_hdrs\":true}"), 500, 10052);
        assertError(client.api("$JS.API.STREAM.CREATE.A", "{\"name\":\"A\",\"discard_new_per_subject\":true}"), 500, 10052);
        createStream("{\"name\":\"ORDERS\",\"subjects\":[\"orders.*\"]}");
        assertError(client.api("$JS.API.STREAM.CREATE.O2", "{\"name\":\"O2\",\"subjects\":[\"orders.>\"]}"), 400, 10065);
        // unknown fields are refused (strict decoding, nats-server 2.12's default), with Go's text
        JsonNode unknown = client.api("$JS.API.STREAM.CREATE.U", "{\"name\":\"U\",\"bogus_field\":1}");
        assertError(unknown, 400, 10025);
        assertEquals("invalid JSON: json: unknown field \"bogus_field\"", unknown.at("/error/description").asText());
    }

    @Test
    void unknownApiSubjectsAndWrongTokenCountsGetNoReply() {
        assertNull(client.requestOrNull("$JS.API.BOGUS", null, "", 300));
        assertNull(client.requestOrNull("$JS.API.STREAM.CREATE.T.X", null, "{\"name\":\"T\"}", 300));
    }

    @Test
    void infoNotFoundIs10059() {
        JsonNode r = info("NOPE");
        assertEquals("io.nats.jetstream.api.v1.stream_info_response", r.get("type").asText());
        assertError(r, 404, 10059);
        assertEquals("stream not found", r.get("error").get("description").asText());
    }

    @Test
    void infoWithSubjectsFilterAndDeletedDetails() {
        createStream("{\"name\":\"T\",\"subjects\":[\"t.>\"]}");
        client.publish("t.a", null, "1");
        client.publish("t.a", null, "2");
        client.publish("t.c", null, "3");
        client.publish("t.d", null, "4");
        client.publish("t.a", null, "5");
        assertNoError(client.api("$JS.API.STREAM.MSG.DELETE.T", "{\"seq\":2}"));
        JsonNode r = client.api("$JS.API.STREAM.INFO.T", "{\"subjects_filter\":\">\",\"deleted_details\":true}");
        assertEquals(3, r.get("total").asInt());
        assertEquals(100000, r.get("limit").asInt());
        JsonNode st = r.get("state");
        assertEquals(4, st.get("messages").asLong());
        assertEquals(3, st.get("num_subjects").asInt());
        assertEquals(2, st.get("subjects").get("t.a").asLong());
        assertEquals(1, st.get("subjects").get("t.c").asLong());
        assertEquals(1, st.get("num_deleted").asInt());
        assertEquals(2, st.get("deleted").get(0).asLong());
        // plain info has neither subjects nor deleted
        JsonNode plain = info("T");
        assertNull(plain.get("state").get("subjects"));
        assertNull(plain.get("state").get("deleted"));
        assertEquals(5, plain.get("state").get("last_seq").asLong());
        assertEquals(1, plain.get("state").get("first_seq").asLong());
    }

    @Test
    void updateChangesLimitsAndRefusesForbiddenChanges() {
        createStream(JNATS_KV);
        client.publish("$KV.jcfg.a", null, "1");
        client.publish("$KV.jcfg.a", null, "2");
        client.publish("$KV.jcfg.a", null, "3");
        JsonNode up = client.api("$JS.API.STREAM.UPDATE.KV_jcfg",
                JNATS_KV.replace("\"max_msgs_per_subject\":3", "\"max_msgs_per_subject\":1"));
        assertNoError(up);
        assertEquals("io.nats.jetstream.api.v1.stream_update_response", up.get("type").asText());
        assertNull(up.get("did_create"));
        assertEquals(1, up.get("config").get("max_msgs_per_subject").asLong());
        assertEquals(1, up.get("state").get("messages").asLong());
        assertEquals(3, up.get("state").get("first_seq").asLong());

        JsonNode storage = client.api("$JS.API.STREAM.UPDATE.KV_jcfg", JNATS_KV.replace("\"file\"", "\"memory\""));
        assertError(storage, 500, 10052);
        assertEquals("stream configuration update can not change storage type", storage.get("error").get("description").asText());
        assertError(client.api("$JS.API.STREAM.UPDATE.KV_jcfg", JNATS_KV.replace("\"deny_delete\":true", "\"deny_delete\":false")), 500, 10052);
        assertError(client.api("$JS.API.STREAM.UPDATE.NOPE", "{\"name\":\"NOPE\"}"), 404, 10059);
        assertError(client.api("$JS.API.STREAM.UPDATE.KV_jcfg", "{\"name\":\"X\"}"), 400, 10056);
    }

    @Test
    void updateSubjectsMovesCapture() {
        createStream("{\"name\":\"S\",\"subjects\":[\"a\"]}");
        assertNoError(client.api("$JS.API.STREAM.UPDATE.S", "{\"name\":\"S\",\"subjects\":[\"b\"]}"));
        assertNull(client.requestOrNull("a", null, "x", 200));
        assertEquals(1, client.publish("b", null, "x").get("seq").asLong());
    }

    @Test
    void deleteRemovesStreamAndItsSubscriptions() {
        createStream("{\"name\":\"D\",\"subjects\":[\"d.>\"]}");
        client.publish("d.1", null, "x");
        JsonNode r = client.api("$JS.API.STREAM.DELETE.D", "");
        assertEquals("io.nats.jetstream.api.v1.stream_delete_response", r.get("type").asText());
        assertTrue(r.get("success").asBoolean());
        assertError(info("D"), 404, 10059);
        assertError(client.api("$JS.API.STREAM.DELETE.D", ""), 404, 10059);
        assertFalse(bus.hasInterest("d.1"));
        // the name can be reused at once
        createStream("{\"name\":\"D\",\"subjects\":[\"d.>\"]}");
        assertEquals(0, info("D").get("state").get("messages").asLong());
    }

    @Test
    void namesAndListArePagedSortedAndFilteredBySubject() {
        createStream("{\"name\":\"KV_b\",\"subjects\":[\"$KV.b.>\"]}");
        createStream("{\"name\":\"KV_a\",\"subjects\":[\"$KV.a.>\"]}");
        createStream("{\"name\":\"ORDERS\",\"subjects\":[\"orders.>\"]}");
        JsonNode names = client.api("$JS.API.STREAM.NAMES", "");
        assertEquals("io.nats.jetstream.api.v1.stream_names_response", names.get("type").asText());
        assertEquals(3, names.get("total").asInt());
        assertEquals(0, names.get("offset").asInt());
        assertEquals(1024, names.get("limit").asInt());
        assertEquals("KV_a", names.get("streams").get(0).asText());
        assertEquals("KV_b", names.get("streams").get(1).asText());
        assertEquals("ORDERS", names.get("streams").get(2).asText());

        JsonNode kv = client.api("$JS.API.STREAM.NAMES", "{\"subject\":\"$KV.*.>\",\"offset\":0}");
        assertEquals(2, kv.get("total").asInt());
        assertEquals(2, kv.get("streams").size());

        JsonNode paged = client.api("$JS.API.STREAM.NAMES", "{\"offset\":2}");
        assertEquals(3, paged.get("total").asInt());
        assertEquals(2, paged.get("offset").asInt());
        assertEquals("ORDERS", paged.get("streams").get(0).asText());

        JsonNode list = client.api("$JS.API.STREAM.LIST", "{\"offset\":0}");
        assertEquals("io.nats.jetstream.api.v1.stream_list_response", list.get("type").asText());
        assertEquals(256, list.get("limit").asInt());
        assertEquals(3, list.get("streams").size());
        assertEquals("KV_a", list.get("streams").get(0).get("config").get("name").asText());
        assertTrue(list.get("streams").get(0).has("state"));

        JsonNode none = client.api("$JS.API.STREAM.NAMES", "{\"subject\":\"nothing.here\"}");
        assertEquals(0, none.get("total").asInt());
    }

    @Test
    void consumerApiAnswersUntilConsumersExist() {
        assertError(client.api("$JS.API.CONSUMER.INFO.NOPE.C", ""), 404, 10059);
        createStream("{\"name\":\"S\"}");
        JsonNode r = client.api("$JS.API.CONSUMER.INFO.S.C", "");
        assertEquals("io.nats.jetstream.api.v1.consumer_info_response", r.get("type").asText());
        assertError(r, 404, 10014);
        assertError(client.api("$JS.API.CONSUMER.CREATE.S.C.foo", "{\"stream_name\":\"S\"}"), 500, 10012);
    }

    @Test
    void metadataCompressionFirstSeqEchoed() {
        JsonNode r = createStream("{\"name\":\"F\",\"compression\":\"s2\",\"first_seq\":100,\"metadata\":{\"k\":\"v\"},"
                + "\"description\":\"d\"}");
        JsonNode c = r.get("config");
        assertEquals("s2", c.get("compression").asText());
        assertEquals(100, c.get("first_seq").asLong());
        assertEquals("v", c.get("metadata").get("k").asText());
        assertEquals("d", c.get("description").asText());
        assertEquals(100, r.get("state").get("first_seq").asLong());
        assertEquals(100, client.publish("F", null, "x").get("seq").asLong());
    }

    /** Each subject transform of a mirror or source is echoed with its dest, empty when it keeps the subject. */
    @Test
    void sourceTransformsKeepEntriesWithoutDest() {
        createStream("{\"name\":\"O\",\"subjects\":[\"o.>\"]}");
        JsonNode c = createStream("{\"name\":\"M\",\"mirror\":{\"name\":\"O\",\"subject_transforms\":"
                + "[{\"src\":\"o.a\",\"dest\":\"\"},{\"src\":\"o.b\"},{\"src\":\"o.c\",\"dest\":\"c\"}]}}").get("config");
        JsonNode t = c.get("mirror").get("subject_transforms");
        assertEquals(3, t.size(), c.toString());
        assertEquals("", t.get(0).get("dest").asText());
        assertEquals("", t.get(1).get("dest").asText());
        assertEquals("c", t.get(2).get("dest").asText());
    }
}
