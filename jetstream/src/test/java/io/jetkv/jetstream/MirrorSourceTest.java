package io.jetkv.jetstream;

import static io.jetkv.jetstream.TestClient.assertError;
import static io.jetkv.jetstream.TestClient.assertNoError;
import static io.jetkv.jetstream.TestClient.headers;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Mirrors and sources copied within one server: config rules, sequences, filters, transforms, restart. */
class MirrorSourceTest {
    @TempDir
    Path dir;

    private JetStreamService start(FakeBus bus) {
        return JetStreamService.start(new JetStreamOptions(dir, -1, -1, false, null), bus);
    }

    /** Polls stream info until {@code done} holds, to a deadline (the copy is asynchronous). */
    static JsonNode awaitInfo(TestClient c, String stream, Predicate<JsonNode> done) {
        long deadline = System.nanoTime() + 5_000_000_000L;
        JsonNode info;
        do {
            info = c.api("$JS.API.STREAM.INFO." + stream, "");
            if (!info.has("error") && done.test(info)) {
                return info;
            }
            Thread.onSpinWait();
        } while (System.nanoTime() < deadline);
        throw new AssertionError("stream " + stream + " did not reach the expected state: " + info);
    }

    private static long msgs(JsonNode info) {
        return info.get("state").get("messages").asLong();
    }

    @Test
    void configRules() {
        FakeBus bus = new FakeBus();
        TestClient c = new TestClient(bus);
        try (JetStreamService js = start(bus)) {
            assertNoError(c.api("$JS.API.STREAM.CREATE.O", "{\"name\":\"O\",\"subjects\":[\"o.>\"]}"));
            assertError(c.api("$JS.API.STREAM.CREATE.M", "{\"name\":\"M\",\"subjects\":[\"m\"],\"mirror\":{\"name\":\"O\"}}"), 400, 10034);
            assertError(c.api("$JS.API.STREAM.CREATE.M", "{\"name\":\"M\",\"mirror\":{\"name\":\"O\"},\"sources\":[{\"name\":\"O\"}]}"), 400, 10031);
            assertError(c.api("$JS.API.STREAM.CREATE.M", "{\"name\":\"M\",\"mirror\":{\"name\":\"O\",\"external\":{\"api\":\"$JS.hub.API\"}}}"), 500, 10052);
            JsonNode r = c.api("$JS.API.STREAM.CREATE.M", "{\"name\":\"M\",\"mirror\":{\"name\":\"O\",\"external\":{\"api\":\"$JS.API\"}}}");
            assertNoError(r);
            assertFalse(r.get("config").has("subjects"));
            assertEquals("O", r.get("config").get("mirror").get("name").asText());
            assertEquals("O", r.get("mirror").get("name").asText());
            // identical create is idempotent; the mirror can not change
            assertNoError(c.api("$JS.API.STREAM.CREATE.M", "{\"name\":\"M\",\"mirror\":{\"name\":\"O\",\"external\":{\"api\":\"$JS.API\"}}}"));
            assertError(c.api("$JS.API.STREAM.UPDATE.M", "{\"name\":\"M\",\"mirror\":{\"name\":\"P\"}}"), 400, 10055);
        }
    }

    @Test
    void mirrorKeepsSequencesAndSurvivesOriginDelete() {
        FakeBus bus = new FakeBus();
        TestClient c = new TestClient(bus);
        try (JetStreamService js = start(bus)) {
            assertNoError(c.api("$JS.API.STREAM.CREATE.O", "{\"name\":\"O\",\"subjects\":[\"o.>\"],\"allow_direct\":true}"));
            for (int i = 1; i <= 5; i++) {
                c.publish("o." + i, null, "v" + i);
            }
            assertNoError(c.api("$JS.API.STREAM.MSG.DELETE.O", "{\"seq\":3}"));
            assertNoError(c.api("$JS.API.STREAM.CREATE.M", "{\"name\":\"M\",\"mirror\":{\"name\":\"O\"},\"mirror_direct\":true,\"allow_direct\":true}"));
            JsonNode info = awaitInfo(c, "M", i -> msgs(i) == 4);
            assertEquals(5, info.get("state").get("last_seq").asLong());
            assertEquals(1, info.get("state").get("num_deleted").asLong());
            assertEquals(0, info.get("mirror").get("lag").asLong());
            assertTrue(info.get("mirror").get("active").asLong() >= 0);
            c.publish("o.6", null, "v6");
            awaitInfo(c, "M", i -> i.get("state").get("last_seq").asLong() == 6);
            assertEquals("v6", c.request("$JS.API.DIRECT.GET.M.o.6", "").text());

            assertNoError(c.api("$JS.API.STREAM.DELETE.O", ""));
            assertEquals(5, msgs(c.api("$JS.API.STREAM.INFO.M", "")));
            // with mirror_direct the mirror answers the origin's direct gets
            assertEquals("v2", c.request("$JS.API.DIRECT.GET.O.o.2", "").text());
        }
    }

    @Test
    void sourcesWithFiltersAndTransformsResumeAfterRestart() {
        FakeBus bus = new FakeBus();
        TestClient c = new TestClient(bus);
        try (JetStreamService js = start(bus)) {
            assertNoError(c.api("$JS.API.STREAM.CREATE.A", "{\"name\":\"A\",\"subjects\":[\"a.>\"]}"));
            assertNoError(c.api("$JS.API.STREAM.CREATE.KV_b", "{\"name\":\"KV_b\",\"subjects\":[\"$KV.b.>\"]}"));
            c.publish("a.keep", headers("Nats-Expected-Last-Sequence", "0"), "1");
            c.publish("a.drop", null, "2");
            c.publish("$KV.b.k", null, "3");
            assertNoError(c.api("$JS.API.STREAM.CREATE.S", "{\"name\":\"S\",\"subjects\":[\"$KV.s.>\"],\"sources\":["
                    + "{\"name\":\"A\",\"filter_subject\":\"a.keep\"},"
                    + "{\"name\":\"KV_b\",\"subject_transforms\":[{\"src\":\"$KV.b.>\",\"dest\":\"$KV.s.>\"}]}]}"));
            JsonNode info = awaitInfo(c, "S", i -> msgs(i) == 2);
            assertEquals(2, info.get("sources").size());
            assertEquals("a.keep", info.get("sources").get(0).get("filter_subject").asText());
            c.publish("a.keep", null, "4");
            awaitInfo(c, "S", i -> msgs(i) == 3);
        }
        try (JetStreamService js = start(bus)) {
            c.publish("$KV.b.k", null, "5");
            JsonNode info = awaitInfo(c, "S", i -> msgs(i) == 4);
            assertEquals(4, info.get("state").get("last_seq").asLong());
            JsonNode last = c.api("$JS.API.STREAM.MSG.GET.S", "{\"last_by_subj\":\"$KV.s.k\"}");
            assertEquals(4, last.get("message").get("seq").asLong());
            // no duplicates: nothing else shows up
            assertEquals(2, c.api("$JS.API.STREAM.INFO.S", "{\"subjects_filter\":\"a.keep\"}").get("state").get("subjects").get("a.keep").asLong());
        }
    }
}
