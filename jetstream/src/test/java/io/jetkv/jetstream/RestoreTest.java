package io.jetkv.jetstream;

import static io.jetkv.jetstream.TestClient.assertError;
import static io.jetkv.jetstream.TestClient.assertNoError;
import static io.jetkv.jetstream.TestClient.headers;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** File streams on RocksDB come back after a restart; memory streams do not. */
class RestoreTest {
    @TempDir
    Path dir;

    private JetStreamService start(FakeBus bus) {
        return JetStreamService.start(new JetStreamOptions(dir, -1, -1, false, null), bus);
    }

    @Test
    void fileStreamsSurviveRestartWithConfigStateAndDedupe() {
        FakeBus bus = new FakeBus();
        TestClient c = new TestClient(bus);
        String created;
        try (JetStreamService js = start(bus)) {
            JsonNode r = c.api("$JS.API.STREAM.CREATE.KV_b", "{\"name\":\"KV_b\",\"subjects\":[\"$KV.b.>\"],"
                    + "\"max_msgs_per_subject\":2,\"discard\":\"new\",\"allow_direct\":true,\"allow_rollup_hdrs\":true}");
            assertNoError(r);
            created = r.get("created").asText();
            assertNoError(c.api("$JS.API.STREAM.CREATE.MEM", "{\"name\":\"MEM\",\"storage\":\"memory\"}"));
            c.publish("$KV.b.k", headers("Nats-Msg-Id", "id1"), "v1");
            c.publish("$KV.b.k", null, "v2");
            c.publish("$KV.b.j", null, "v3");
        }

        FakeBus bus2 = new FakeBus();
        TestClient c2 = new TestClient(bus2);
        try (JetStreamService js = start(bus2)) {
            JsonNode info = c2.api("$JS.API.STREAM.INFO.KV_b", "");
            assertNoError(info);
            assertEquals(created, info.get("created").asText());
            assertEquals(2, info.get("config").get("max_msgs_per_subject").asLong());
            assertEquals(3, info.get("state").get("messages").asLong());
            assertEquals(3, info.get("state").get("last_seq").asLong());
            assertError(c2.api("$JS.API.STREAM.INFO.MEM", ""), 404, 10059);
            // the dedupe window is rebuilt from stored messages
            JsonNode dup = c2.publish("$KV.b.k", headers("Nats-Msg-Id", "id1"), "v1");
            assertTrue(dup.get("duplicate").asBoolean());
            assertEquals(1, dup.get("seq").asLong());
            assertEquals(4, c2.publish("$KV.b.k", headers("Nats-Expected-Last-Subject-Sequence", "2"), "v4").get("seq").asLong());
            assertEquals("v4", c2.request("$JS.API.DIRECT.GET.KV_b.$KV.b.k", "").text());
            assertNoError(c2.api("$JS.API.STREAM.DELETE.KV_b", ""));
        }

        try (JetStreamService js = start(new FakeBus())) {
            assertEquals(0, js.streams().all().size());
        }
    }
}
