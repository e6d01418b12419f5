package io.jetkv.jetstream;

import static io.jetkv.jetstream.TestClient.assertError;
import static io.jetkv.jetstream.TestClient.assertNoError;
import static io.jetkv.jetstream.TestClient.headers;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jetkv.jetstream.stream.RocksStorageBackend;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
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

    /** Pulls {@code batch} messages of durable {@code name} on stream S without waiting; their ack subjects. */
    private static String[] pull(FakeBus bus, String name, int batch) throws InterruptedException {
        LinkedBlockingQueue<String> replies = new LinkedBlockingQueue<>();
        String inbox = "_INBOX." + name + System.nanoTime();
        MessageBus.Subscription sub = bus.subscribe(inbox, (s, r, h, p) -> replies.add(r == null ? "" : r));
        bus.clientPublish("$JS.API.CONSUMER.MSG.NEXT.S." + name, inbox, null,
                ("{\"batch\":" + batch + ",\"no_wait\":true}").getBytes(StandardCharsets.UTF_8));
        String[] out = new String[batch];
        for (int i = 0; i < batch; i++) {
            out[i] = replies.poll(5, TimeUnit.SECONDS);
            assertNotNull(out[i], "delivery " + (i + 1));
        }
        sub.unsubscribe();
        return out;
    }

    private static void publishTen(TestClient c) {
        assertNoError(c.api("$JS.API.STREAM.CREATE.S", "{\"name\":\"S\",\"subjects\":[\"s.>\"]}"));
        for (int i = 1; i <= 10; i++) {
            c.publish("s." + (i % 2), null, "m" + i);
        }
    }

    @Test
    void durableConsumerConfigAndAckStateSurviveRestart() throws Exception {
        FakeBus bus = new FakeBus();
        TestClient c = new TestClient(bus);
        try (JetStreamService js = start(bus)) {
            publishTen(c);
            assertNoError(c.api("$JS.API.CONSUMER.DURABLE.CREATE.S.d", "{\"stream_name\":\"S\",\"config\":"
                    + "{\"durable_name\":\"d\",\"ack_policy\":\"explicit\"}}"));
            String[] acks = pull(bus, "d", 5);
            // acks for 1, 2 and 4: the floor stops at 2, 3 and 5 stay pending
            for (int i : new int[] {0, 1, 3}) {
                assertNotNull(c.request(acks[i], "+ACK"));
            }
            assertNoError(c.api("$JS.API.CONSUMER.DURABLE.CREATE.S.d", "{\"stream_name\":\"S\",\"config\":"
                    + "{\"durable_name\":\"d\",\"ack_policy\":\"explicit\",\"description\":\"updated\"}}"));
        }

        FakeBus bus2 = new FakeBus();
        TestClient c2 = new TestClient(bus2);
        try (JetStreamService js = start(bus2)) {
            JsonNode info = c2.api("$JS.API.CONSUMER.INFO.S.d", "");
            assertNoError(info);
            assertEquals("updated", info.get("config").get("description").asText());
            assertEquals(5, info.get("delivered").get("consumer_seq").asLong());
            assertEquals(5, info.get("delivered").get("stream_seq").asLong());
            assertEquals(2, info.get("ack_floor").get("stream_seq").asLong());
            assertEquals(2, info.get("num_ack_pending").asLong());
            assertEquals(5, info.get("num_pending").asLong());
            String next = pull(bus2, "d", 1)[0];
            assertTrue(next.startsWith("$JS.ACK.S.d.1.6.6."), next);
            assertNoError(c2.api("$JS.API.CONSUMER.DELETE.S.d", ""));
        }

        try (JetStreamService js = start(new FakeBus())) {
            assertEquals(0, js.streams().get("S").consumerCount().get());
        }
    }

    @Test
    void consumerStateSavedInsideTheConfigurationByEarlierVersionsIsRead() throws Exception {
        FakeBus bus = new FakeBus();
        try (JetStreamService js = start(bus)) {
            publishTen(new TestClient(bus));
        }
        try (RocksStorageBackend storage = RocksStorageBackend.open(dir)) {
            storage.putMeta("consumer/S/old", ("{\"config\":{\"durable_name\":\"old\",\"ack_policy\":\"explicit\"},"
                    + "\"created\":1,\"state\":{\"dseq\":4,\"next_seq\":5,\"last_sseq\":4,\"ack_floor_cseq\":1,"
                    + "\"ack_floor_sseq\":1,\"pending\":[[3,3,1],[4,4,2]]}}").getBytes(StandardCharsets.UTF_8));
        }
        FakeBus bus2 = new FakeBus();
        TestClient c2 = new TestClient(bus2);
        try (JetStreamService js = start(bus2)) {
            JsonNode info = c2.api("$JS.API.CONSUMER.INFO.S.old", "");
            assertNoError(info);
            assertEquals(4, info.get("delivered").get("consumer_seq").asLong());
            assertEquals(1, info.get("ack_floor").get("stream_seq").asLong());
            assertEquals(2, info.get("num_ack_pending").asLong());
            assertEquals(1, info.get("num_redelivered").asLong());
            assertEquals(6, info.get("num_pending").asLong());
        }
    }
}
