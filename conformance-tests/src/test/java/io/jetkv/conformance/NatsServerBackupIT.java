package io.jetkv.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jetkv.server.NatsServer;
import io.jetkv.server.testing.ReferenceServer;
import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.JetStreamManagement;
import io.nats.client.JetStreamSubscription;
import io.nats.client.KeyValue;
import io.nats.client.KeyValueManagement;
import io.nats.client.Message;
import io.nats.client.PullSubscribeOptions;
import io.nats.client.PurgeOptions;
import io.nats.client.api.ConsumerInfo;
import io.nats.client.api.KeyValueConfiguration;
import io.nats.client.api.KeyValueEntry;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.api.StreamState;
import io.nats.client.impl.Headers;
import io.nats.client.impl.NatsMessage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Beyond the reference: a backup taken from nats-server 2.9.10 (its file store, tarred and S2-compressed)
 * restores into JetKV with every message at its sequence, with its subject, headers, payload and timestamp, the
 * stream's configuration, and its durable consumer's delivery and ack state.
 */
class NatsServerBackupIT {
    @TempDir
    Path referenceStore;
    @TempDir
    Path store;

    @Test
    void streamFromNatsServerRestoresIntoJetKv() throws Exception {
        assumeTrue(ReferenceServer.available(), "nats-server not installed");
        SnapshotClient.Backup backup;
        TreeMap<Long, StreamBackupIT.Stored> want;
        StreamState stateBefore;
        ConsumerInfo consumerBefore;
        try (ReferenceServer ref = ReferenceServer.start("-js", "-sd", referenceStore.toString());
                Connection nc = StreamBackupIT.connect("nats://127.0.0.1:" + ref.port())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addStream(StreamConfiguration.builder().name("ORDERS").subjects("orders.>")
                    .storageType(StorageType.File).maxMessagesPerSubject(100).build());
            JetStream js = nc.jetStream();
            for (int i = 1; i <= 300; i++) {
                Headers h = new Headers();
                if (i % 5 == 0) {
                    h.add("X-Order", "n" + i);
                }
                // repetitive payloads, so that nats-server's S2 writer compresses (and uses repeat offsets)
                String data = ("order " + i + " ").repeat(1 + i % 20);
                js.publish(NatsMessage.builder().subject("orders." + (i % 7)).headers(h).data(data).build());
            }
            jsm.purgeStream("ORDERS", PurgeOptions.builder().sequence(11).build());
            assertTrue(jsm.deleteMessage("ORDERS", 20)); // erased in place
            assertTrue(jsm.deleteMessage("ORDERS", 21, false));
            assertTrue(jsm.deleteMessage("ORDERS", 150, false));
            JetStreamSubscription sub = js.subscribe("orders.>", PullSubscribeOptions.builder().durable("C").build());
            List<Message> got = sub.fetch(10, Duration.ofSeconds(2));
            assertEquals(10, got.size());
            // acknowledged synchronously: nats-server applies acks on its own time, after the flush
            got.get(0).ackSync(Duration.ofSeconds(2));
            got.get(1).ackSync(Duration.ofSeconds(2));
            got.get(4).ackSync(Duration.ofSeconds(2));
            consumerBefore = jsm.getConsumerInfo("ORDERS", "C");
            stateBefore = jsm.getStreamInfo("ORDERS").getStreamState();
            want = StreamBackupIT.messages(jsm, "ORDERS");
            backup = SnapshotClient.backup(nc, "ORDERS", true);
        }
        assertEquals(300 - 10 - 3, want.size());
        try (NatsServer server = StreamBackupIT.start(store);
                Connection nc = StreamBackupIT.connect(server.clientUrl())) {
            JsonNode restored = SnapshotClient.restore(nc, "ORDERS", backup);
            assertNull(restored.get("error"), restored.toString());
            JetStreamManagement jsm = nc.jetStreamManagement();
            assertEquals(want, StreamBackupIT.messages(jsm, "ORDERS"));
            StreamState st = jsm.getStreamInfo("ORDERS").getStreamState();
            assertEquals(stateBefore.getMsgCount(), st.getMsgCount());
            assertEquals(stateBefore.getByteCount(), st.getByteCount());
            assertEquals(stateBefore.getFirstSequence(), st.getFirstSequence());
            assertEquals(stateBefore.getLastSequence(), st.getLastSequence());
            assertEquals(stateBefore.getSubjectCount(), st.getSubjectCount());
            assertEquals(100, jsm.getStreamInfo("ORDERS").getConfiguration().getMaxMsgsPerSubject());

            ConsumerInfo after = jsm.getConsumerInfo("ORDERS", "C");
            assertEquals(consumerBefore.getDelivered().getStreamSequence(), after.getDelivered().getStreamSequence());
            assertEquals(consumerBefore.getDelivered().getConsumerSequence(),
                    after.getDelivered().getConsumerSequence());
            assertEquals(consumerBefore.getAckFloor().getStreamSequence(), after.getAckFloor().getStreamSequence());
            assertEquals(consumerBefore.getNumAckPending(), after.getNumAckPending());
            assertEquals(consumerBefore.getNumPending(), after.getNumPending());
            assertEquals(consumerBefore.getConsumerConfiguration().getAckPolicy(),
                    after.getConsumerConfiguration().getAckPolicy());
        }
    }

    /**
     * Several blocks (nats-server sizes them a quarter of max_bytes), the first ones dropped whole by max_bytes and
     * the next one's head removed:
     * blocks come in order, each with its index, and records below a block's first sequence are gone.
     */
    @Test
    void multiBlockStreamWithDiscardedHead() throws Exception {
        assumeTrue(ReferenceServer.available(), "nats-server not installed");
        SnapshotClient.Backup backup;
        TreeMap<Long, StreamBackupIT.Stored> want;
        StreamState before;
        try (ReferenceServer ref = ReferenceServer.start("-js", "-sd", referenceStore.toString());
                Connection nc = StreamBackupIT.connect("nats://127.0.0.1:" + ref.port())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addStream(StreamConfiguration.builder().name("LOG").subjects("log.*").maxBytes(8L << 20)
                    .storageType(StorageType.File).build());
            JetStream js = nc.jetStream();
            java.util.Random r = new java.util.Random(5);
            List<java.util.concurrent.CompletableFuture<io.nats.client.api.PublishAck>> acks = new ArrayList<>();
            for (int i = 1; i <= 14_000; i++) {
                byte[] data = new byte[700 + r.nextInt(600)];
                r.nextBytes(data);
                acks.add(js.publishAsync("log." + (i % 11), data));
                if (acks.size() == 1000) {
                    for (var a : acks) {
                        a.get(10, java.util.concurrent.TimeUnit.SECONDS);
                    }
                    acks.clear();
                }
            }
            for (var a : acks) {
                a.get(10, java.util.concurrent.TimeUnit.SECONDS);
            }
            for (long seq = 13_000; seq < 13_100; seq += 7) {
                jsm.deleteMessage("LOG", seq, seq % 2 == 0);
            }
            before = jsm.getStreamInfo("LOG").getStreamState();
            want = StreamBackupIT.messages(jsm, "LOG");
            backup = SnapshotClient.backup(nc, "LOG", false);
        }
        assertTrue(before.getFirstSequence() > 3_000, "the head was discarded: " + before.getFirstSequence());
        try (NatsServer server = StreamBackupIT.start(store);
                Connection nc = StreamBackupIT.connect(server.clientUrl())) {
            JsonNode restored = SnapshotClient.restore(nc, "LOG", backup);
            assertNull(restored.get("error"), restored.toString());
            JetStreamManagement jsm = nc.jetStreamManagement();
            StreamState st = jsm.getStreamInfo("LOG").getStreamState();
            assertEquals(before.getFirstSequence(), st.getFirstSequence());
            assertEquals(before.getLastSequence(), st.getLastSequence());
            assertEquals(before.getMsgCount(), st.getMsgCount());
            assertEquals(before.getByteCount(), st.getByteCount());
            assertEquals(want, StreamBackupIT.messages(jsm, "LOG"));
        }
    }

    @Test
    void kvBucketFromNatsServerRestoresIntoJetKv() throws Exception {
        assumeTrue(ReferenceServer.available(), "nats-server not installed");
        SnapshotClient.Backup backup;
        TreeMap<Long, StreamBackupIT.Stored> want;
        List<String> history;
        List<String> keys;
        try (ReferenceServer ref = ReferenceServer.start("-js", "-sd", referenceStore.toString());
                Connection nc = StreamBackupIT.connect("nats://127.0.0.1:" + ref.port())) {
            KeyValueManagement kvm = nc.keyValueManagement();
            kvm.create(KeyValueConfiguration.builder().name("cfg").maxHistoryPerKey(3).storageType(StorageType.File)
                    .build());
            KeyValue kv = nc.keyValue("cfg");
            for (int i = 0; i < 6; i++) {
                kv.put("a", "v" + i);
            }
            kv.put("b", "1");
            kv.delete("b");
            kv.put("c", "1");
            kv.purge("c");
            kv.put("d", "x".repeat(500));
            history = entries(kv.history("a"));
            keys = new ArrayList<>(kv.keys());
            want = StreamBackupIT.messages(nc.jetStreamManagement(), "KV_cfg");
            backup = SnapshotClient.backup(nc, "KV_cfg", true);
        }
        try (NatsServer server = StreamBackupIT.start(store);
                Connection nc = StreamBackupIT.connect(server.clientUrl())) {
            JsonNode restored = SnapshotClient.restore(nc, "KV_cfg", backup);
            assertNull(restored.get("error"), restored.toString());
            assertEquals(want, StreamBackupIT.messages(nc.jetStreamManagement(), "KV_cfg"));
            KeyValue kv = nc.keyValue("cfg");
            assertEquals(history, entries(kv.history("a")));
            assertEquals(keys, new ArrayList<>(kv.keys()));
            assertEquals("v5", new String(kv.get("a").getValue(), StandardCharsets.UTF_8));
            assertNull(kv.get("b"));
            assertEquals(3, nc.keyValueManagement().getStatus("cfg").getMaxHistoryPerKey());
            kv.put("a", "after");
            assertEquals("after", new String(kv.get("a").getValue(), StandardCharsets.UTF_8));
        }
    }

    /** The API errors of snapshot and restore, from both servers: same codes, same descriptions. */
    @Test
    void errorsMatchTheReference() throws Exception {
        assumeTrue(ReferenceServer.available(), "nats-server not installed");
        List<String> ref;
        try (ReferenceServer server = ReferenceServer.start("-js", "-sd", referenceStore.toString());
                Connection nc = StreamBackupIT.connect("nats://127.0.0.1:" + server.port())) {
            ref = errorTranscript(nc);
        }
        try (NatsServer server = StreamBackupIT.start(store); Connection nc = StreamBackupIT.connect(server.clientUrl())) {
            assertEquals(ref, errorTranscript(nc));
        }
    }

    private static List<String> errorTranscript(Connection nc) throws Exception {
        List<String> out = new ArrayList<>();
        JetStreamManagement jsm = nc.jetStreamManagement();
        jsm.addStream(StreamConfiguration.builder().name("E").subjects("e").storageType(StorageType.File).build());
        nc.jetStream().publish("e", "x".getBytes(StandardCharsets.UTF_8));
        out.add("snapshot missing: " + error(SnapshotClient.snapshotRequest(nc, "NOPE", nc.createInbox(), false)));
        out.add("snapshot empty: " + error(SnapshotClient.request(nc, "$JS.API.STREAM.SNAPSHOT.E", new byte[0],
                Duration.ofSeconds(5))));
        out.add("snapshot bad json: " + error(SnapshotClient.request(nc, "$JS.API.STREAM.SNAPSHOT.E",
                "{nope".getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(5))));
        out.add("snapshot no deliver: " + error(SnapshotClient.request(nc, "$JS.API.STREAM.SNAPSHOT.E",
                "{}".getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(5))));
        out.add("snapshot bad deliver: " + error(SnapshotClient.snapshotRequest(nc, "E", "bad subject", false)));
        SnapshotClient.Backup backup = SnapshotClient.backup(nc, "E", false);
        out.add("restore existing: " + error(SnapshotClient.request(nc, "$JS.API.STREAM.RESTORE.E", backup.meta(),
                Duration.ofSeconds(5))));
        out.add("restore empty: " + error(SnapshotClient.request(nc, "$JS.API.STREAM.RESTORE.E", new byte[0],
                Duration.ofSeconds(5))));
        out.add("restore bad json: " + error(SnapshotClient.request(nc, "$JS.API.STREAM.RESTORE.E",
                "{nope".getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(5))));
        // set, not put: ObjectNode.put(String, JsonNode) returns the old value, which sent the old config alone
        JsonNode ok = SnapshotClient.request(nc, "$JS.API.STREAM.RESTORE.F", backup.meta().deepCopy()
                .set("config", SnapshotClient.JSON.createObjectNode().put("name", "F")), Duration.ofSeconds(5));
        out.add("restore type: " + ok.path("type").asText() + " " + ok.path("deliver_subject").asText()
                .startsWith("$JS.SNAPSHOT.RESTORE.F."));
        return out;
    }

    private static String error(JsonNode reply) {
        JsonNode e = reply.path("error");
        return reply.path("type").asText() + " " + e.path("code").asInt() + "/" + e.path("err_code").asInt() + " "
                + e.path("description").asText();
    }

    private static List<String> entries(List<KeyValueEntry> list) {
        List<String> out = new ArrayList<>();
        for (KeyValueEntry e : list) {
            out.add(e.getRevision() + ":" + e.getOperation() + ":"
                    + (e.getValue() == null ? "" : new String(e.getValue(), StandardCharsets.UTF_8)));
        }
        return out;
    }
}
