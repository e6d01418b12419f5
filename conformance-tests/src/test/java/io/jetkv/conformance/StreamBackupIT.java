package io.jetkv.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jetkv.config.JetStreamConfig;
import io.jetkv.config.ServerConfig;
import io.jetkv.server.NatsServer;
import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.JetStreamSubscription;
import io.nats.client.KeyValue;
import io.nats.client.KeyValueManagement;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.PullSubscribeOptions;
import io.nats.client.api.ConsumerInfo;
import io.nats.client.api.KeyValueConfiguration;
import io.nats.client.api.KeyValueEntry;
import io.nats.client.api.MessageInfo;
import io.nats.client.api.Mirror;
import io.nats.client.api.Source;
import io.nats.client.PurgeOptions;
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
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stream backup and restore (nats.docs "Disaster recovery": {@code nats stream backup} / {@code restore}),
 * driven as jsm.go drives it: a JetKV stream with deleted messages and a durable consumer, and a KV bucket, go
 * through a snapshot, are deleted and come back with every message, sequence, header and timestamp.
 */
class StreamBackupIT {
    @TempDir
    Path store;

    static NatsServer start(Path dir) throws Exception {
        return NatsServer.start(ServerConfig.defaults().withHost("127.0.0.1").withPort(0)
                .withJetStream(JetStreamConfig.DISABLED.withEnabled(true).withStoreDir(dir)));
    }

    static Connection connect(String url) throws Exception {
        return Nats.connect(new Options.Builder().server(url).connectionTimeout(Duration.ofSeconds(10)).build());
    }

    /** A stored message as the message get API reports it. */
    record Stored(String subject, Map<String, List<String>> headers, String data, String time) {}

    /** Every message of the stream from sequence 1 to its last, by sequence; deleted ones are absent. */
    static TreeMap<Long, Stored> messages(JetStreamManagement jsm, String stream) throws Exception {
        long last = jsm.getStreamInfo(stream).getStreamState().getLastSequence();
        TreeMap<Long, Stored> out = new TreeMap<>();
        for (long seq = 1; seq <= last; seq++) {
            try {
                MessageInfo mi = jsm.getMessage(stream, seq);
                Map<String, List<String>> h = new TreeMap<>();
                if (mi.getHeaders() != null) {
                    for (String k : mi.getHeaders().keySet()) {
                        h.put(k, mi.getHeaders().get(k));
                    }
                }
                out.put(seq, new Stored(mi.getSubject(), h, new String(mi.getData() == null ? new byte[0] : mi.getData(),
                        StandardCharsets.UTF_8), mi.getTime().toInstant().toString()));
            } catch (JetStreamApiException e) {
                assertEquals(10037, e.getApiErrorCode(), "message " + seq);
            }
        }
        return out;
    }

    static void assertSameState(StreamState want, StreamState got) {
        assertEquals(want.getMsgCount(), got.getMsgCount(), "messages");
        assertEquals(want.getByteCount(), got.getByteCount(), "bytes");
        assertEquals(want.getFirstSequence(), got.getFirstSequence(), "first_seq");
        assertEquals(want.getLastSequence(), got.getLastSequence(), "last_seq");
        assertEquals(want.getDeletedCount(), got.getDeletedCount(), "num_deleted");
        assertEquals(want.getSubjectCount(), got.getSubjectCount(), "num_subjects");
    }

    @Test
    void streamWithDeletesAndDurableConsumerComesBack() throws Exception {
        try (NatsServer server = start(store); Connection nc = connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addStream(StreamConfiguration.builder().name("ORDERS").subjects("orders.>")
                    .storageType(StorageType.File).build());
            JetStream js = nc.jetStream();
            for (int i = 1; i <= 30; i++) {
                Headers h = new Headers();
                if (i % 3 == 0) {
                    h.add("X-Order", "n" + i);
                    h.add("X-Multi", "a", "b");
                }
                js.publish(NatsMessage.builder()
                        .subject("orders." + (i % 4)).headers(h).data("order " + i).build());
            }
            jsm.purgeStream("ORDERS", PurgeOptions.builder().sequence(4).build()); // first_seq 4
            assertTrue(jsm.deleteMessage("ORDERS", 9));
            assertTrue(jsm.deleteMessage("ORDERS", 17, false));
            assertTrue(jsm.deleteMessage("ORDERS", 30)); // a deleted tail: last_seq stays 30

            JetStreamSubscription sub = js.subscribe("orders.>", PullSubscribeOptions.builder().durable("C").build());
            List<Message> got = sub.fetch(6, Duration.ofSeconds(2));
            assertEquals(6, got.size());
            got.get(0).ack();
            got.get(1).ack();
            got.get(3).ack();
            nc.flush(Duration.ofSeconds(2));
            ConsumerInfo before = jsm.getConsumerInfo("ORDERS", "C");
            assertEquals(3, before.getNumAckPending());

            StreamState stateBefore = jsm.getStreamInfo("ORDERS").getStreamState();
            TreeMap<Long, Stored> want = messages(jsm, "ORDERS");
            assertEquals(24, want.size());

            SnapshotClient.Backup backup = SnapshotClient.backup(nc, "ORDERS", true);
            assertTrue(backup.chunks() > 0);
            assertEquals(stateBefore.getLastSequence(), backup.meta().path("state").path("last_seq").asLong());
            sub.unsubscribe();
            assertTrue(jsm.deleteStream("ORDERS"));

            JsonNode restored = SnapshotClient.restore(nc, "ORDERS", backup);
            assertNull(restored.get("error"), restored.toString());
            assertEquals("io.nats.jetstream.api.v1.stream_create_response", restored.path("type").asText());
            assertEquals(30, restored.path("state").path("last_seq").asLong());

            assertSameState(stateBefore, jsm.getStreamInfo("ORDERS").getStreamState());
            assertEquals(want, messages(jsm, "ORDERS"));

            ConsumerInfo after = jsm.getConsumerInfo("ORDERS", "C");
            assertEquals(before.getDelivered().getStreamSequence(), after.getDelivered().getStreamSequence());
            assertEquals(before.getDelivered().getConsumerSequence(), after.getDelivered().getConsumerSequence());
            assertEquals(before.getAckFloor().getStreamSequence(), after.getAckFloor().getStreamSequence());
            assertEquals(before.getAckFloor().getConsumerSequence(), after.getAckFloor().getConsumerSequence());
            assertEquals(before.getNumAckPending(), after.getNumAckPending());
            assertEquals(before.getNumPending(), after.getNumPending());
            assertEquals(before.getConsumerConfiguration().getFilterSubject(),
                    after.getConsumerConfiguration().getFilterSubject());

            // the restored stream is live: publishes continue after its last sequence
            assertEquals(31, js.publish("orders.1", "more".getBytes(StandardCharsets.UTF_8)).getSeqno());
        }
    }

    /**
     * A restored mirror and a restored source stream go on from where their snapshot was: what the origin got
     * meanwhile comes over, nothing twice (a source's position is not its own last sequence, so the snapshot
     * carries it).
     */
    @Test
    void mirrorAndSourceResumeAfterRestore() throws Exception {
        try (NatsServer server = start(store); Connection nc = connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addStream(StreamConfiguration.builder().name("O").subjects("o.>").storageType(StorageType.File).build());
            jsm.addStream(StreamConfiguration.builder().name("M").mirror(Mirror.builder().sourceName("O").build())
                    .storageType(StorageType.File).build());
            jsm.addStream(StreamConfiguration.builder().name("S").subjects("s.>")
                    .sources(Source.builder().sourceName("O").build()).storageType(StorageType.File).build());
            JetStream js = nc.jetStream();
            js.publish("s.own", "own".getBytes(StandardCharsets.UTF_8)); // S's sequences differ from O's
            for (int i = 1; i <= 10; i++) {
                js.publish("o." + i, ("m" + i).getBytes(StandardCharsets.UTF_8));
            }
            awaitMessages(jsm, "M", 10);
            awaitMessages(jsm, "S", 11);
            SnapshotClient.Backup mirrorBackup = SnapshotClient.backup(nc, "M", false);
            SnapshotClient.Backup sourceBackup = SnapshotClient.backup(nc, "S", false);
            jsm.deleteStream("M");
            jsm.deleteStream("S");
            for (int i = 11; i <= 15; i++) {
                js.publish("o." + i, ("m" + i).getBytes(StandardCharsets.UTF_8));
            }
            assertNull(SnapshotClient.restore(nc, "M", mirrorBackup).get("error"));
            assertNull(SnapshotClient.restore(nc, "S", sourceBackup).get("error"));
            js.publish("o.16", "m16".getBytes(StandardCharsets.UTF_8));
            awaitMessages(jsm, "M", 16);
            awaitMessages(jsm, "S", 17);
            TreeMap<Long, Stored> origin = messages(jsm, "O");
            TreeMap<Long, Stored> mirror = messages(jsm, "M");
            assertEquals(origin.keySet(), mirror.keySet());
            List<String> fromOrigin = new ArrayList<>();
            for (long seq : origin.keySet()) {
                assertEquals(origin.get(seq).data(), mirror.get(seq).data());
                fromOrigin.add(origin.get(seq).data());
            }
            List<String> sourced = new ArrayList<>();
            for (Stored m : messages(jsm, "S").values()) {
                sourced.add(m.data());
            }
            assertEquals("own", sourced.remove(0));
            assertEquals(fromOrigin, sourced);
        }
    }

    private static void awaitMessages(JetStreamManagement jsm, String stream, long n) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        long got;
        while ((got = jsm.getStreamInfo(stream).getStreamState().getMsgCount()) < n && System.nanoTime() < deadline) {
            Thread.sleep(10); // polling stream info to a deadline: mirrors copy on their own time
        }
        assertEquals(n, got, stream + " messages");
    }

    @Test
    void noConsumersLeavesThemOut() throws Exception {
        try (NatsServer server = start(store); Connection nc = connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addStream(StreamConfiguration.builder().name("S").subjects("s").build());
            nc.jetStream().publish("s", "x".getBytes(StandardCharsets.UTF_8));
            nc.jetStream().subscribe("s", PullSubscribeOptions.builder().durable("D").build()).unsubscribe();
            SnapshotClient.Backup backup = SnapshotClient.backup(nc, "S", false);
            jsm.deleteStream("S");
            assertNull(SnapshotClient.restore(nc, "S", backup).get("error"));
            assertEquals(1, jsm.getStreamInfo("S").getStreamState().getMsgCount());
            assertEquals(List.of(), jsm.getConsumerNames("S"));
        }
    }

    @Test
    void errors() throws Exception {
        try (NatsServer server = start(store); Connection nc = connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            JsonNode missing = SnapshotClient.snapshotRequest(nc, "NOPE", nc.createInbox(), false);
            assertEquals(10059, missing.path("error").path("err_code").asInt(), missing.toString());

            jsm.addStream(StreamConfiguration.builder().name("E").subjects("e").build());
            nc.jetStream().publish("e", "x".getBytes(StandardCharsets.UTF_8));
            JsonNode badDeliver = SnapshotClient.snapshotRequest(nc, "E", "bad subject", false);
            assertEquals(10015, badDeliver.path("error").path("err_code").asInt(), badDeliver.toString());
            JsonNode empty = SnapshotClient.request(nc, "$JS.API.STREAM.SNAPSHOT.E", new byte[0], Duration.ofSeconds(5));
            assertEquals(10003, empty.path("error").path("err_code").asInt(), empty.toString());

            SnapshotClient.Backup backup = SnapshotClient.backup(nc, "E", false);
            JsonNode exists = SnapshotClient.restore(nc, "E", backup);
            assertEquals(10130, exists.path("error").path("err_code").asInt(), exists.toString());

            // a cut-off archive is refused and leaves no stream behind
            jsm.deleteStream("E");
            byte[] half = java.util.Arrays.copyOf(backup.data(), backup.data().length / 2);
            JsonNode cut = SnapshotClient.restore(nc, "E", new SnapshotClient.Backup(backup.meta(), half, 1));
            assertEquals(10062, cut.path("error").path("err_code").asInt(), cut.toString());
            assertFalse(jsm.getStreamNames().contains("E"));
            // and the same archive whole restores
            assertNull(SnapshotClient.restore(nc, "E", backup).get("error"));
        }
    }

    @Test
    void kvBucketComesBack() throws Exception {
        try (NatsServer server = start(store); Connection nc = connect(server.clientUrl())) {
            KeyValueManagement kvm = nc.keyValueManagement();
            kvm.create(KeyValueConfiguration.builder().name("cfg").maxHistoryPerKey(5).storageType(StorageType.File)
                    .build());
            KeyValue kv = nc.keyValue("cfg");
            kv.put("a", "1");
            kv.put("b", "1");
            kv.put("a", "2");
            kv.put("c", "1");
            kv.delete("b");
            kv.put("d", "1");
            kv.purge("d");
            kv.put("a", "3");
            List<String> historyA = values(kv.history("a"));
            List<String> keys = new ArrayList<>(kv.keys());
            JetStreamManagement jsm = nc.jetStreamManagement();
            TreeMap<Long, Stored> want = messages(jsm, "KV_cfg");
            StreamState stateBefore = jsm.getStreamInfo("KV_cfg").getStreamState();

            SnapshotClient.Backup backup = SnapshotClient.backup(nc, "KV_cfg", true);
            kvm.delete("cfg");
            JsonNode restored = SnapshotClient.restore(nc, "KV_cfg", backup);
            assertNull(restored.get("error"), restored.toString());

            KeyValue again = nc.keyValue("cfg");
            assertEquals("3", new String(again.get("a").getValue(), StandardCharsets.UTF_8));
            assertNull(again.get("b"));
            assertEquals(historyA, values(again.history("a")));
            assertEquals(keys, new ArrayList<>(again.keys()));
            assertEquals(want, messages(jsm, "KV_cfg"));
            assertSameState(stateBefore, jsm.getStreamInfo("KV_cfg").getStreamState());
            assertEquals(5, kvm.getStatus("cfg").getMaxHistoryPerKey());
        }
    }

    private static List<String> values(List<KeyValueEntry> entries) {
        List<String> out = new ArrayList<>();
        for (KeyValueEntry e : entries) {
            out.add(e.getRevision() + ":" + e.getOperation() + ":" + (e.getValue() == null ? "" : new String(e.getValue(),
                    StandardCharsets.UTF_8)));
        }
        return out;
    }
}
