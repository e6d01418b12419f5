package io.jetkv.conformance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jetkv.server.NatsServer;
import io.nats.client.Connection;
import io.nats.client.Dispatcher;
import io.nats.client.JetStreamManagement;
import io.nats.client.KeyValue;
import io.nats.client.KeyValueManagement;
import io.nats.client.Message;
import io.nats.client.api.KeyValueConfiguration;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.api.StreamState;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The snapshot request's {@code window_size} (nats-server 2.12.5, JetStream API level 3; {@code nats stream backup
 * --window-size}): at most {@code window_size / chunk_size} chunks are unacknowledged at once, sizes are clamped
 * (1 KiB .. 32 MiB), a client that sends none gets the 8 MiB default, and a client that stops acknowledging gets
 * {@code 408 No Flow Response}. jnats has no snapshot API, so the exchange is driven as jsm.go drives it.
 */
class SnapshotWindowIT {
    @TempDir
    Path store;

    private static ObjectNode options(int chunk, Integer window) {
        ObjectNode o = SnapshotClient.JSON.createObjectNode();
        if (chunk > 0) {
            o.put("chunk_size", chunk);
        }
        if (window != null) {
            o.put("window_size", window);
        }
        return o;
    }

    @Test
    void kvBucketRoundTripsWithAWindowSmallerThanTheStream() throws Exception {
        int chunk = 1024;
        int slots = 4;
        try (NatsServer server = StreamBackupIT.start(store);
                Connection nc = StreamBackupIT.connect(server.clientUrl())) {
            KeyValueManagement kvm = nc.keyValueManagement();
            kvm.create(KeyValueConfiguration.builder().name("big").maxHistoryPerKey(2).storageType(StorageType.File)
                    .build());
            KeyValue kv = nc.keyValue("big");
            Random random = new Random(7);
            Map<String, byte[]> want = new LinkedHashMap<>();
            for (int i = 0; i < 300; i++) {
                byte[] v = new byte[1024]; // random: S2 cannot shrink the archive below the stream's size
                random.nextBytes(v);
                kv.put("k" + i, v);
                want.put("k" + i, v);
            }
            kv.delete("k0");
            want.remove("k0");
            JetStreamManagement jsm = nc.jetStreamManagement();
            StreamState before = jsm.getStreamInfo("KV_big").getStreamState();
            assertTrue(before.getByteCount() > 50L * slots * chunk, "the stream is many windows long");

            // the client holds each ack until the server has filled the window (or gone quiet, at the end)
            AtomicInteger received = new AtomicInteger();
            AtomicInteger acked = new AtomicInteger();
            AtomicInteger maxOutstanding = new AtomicInteger();
            LinkedBlockingQueue<Message> toAck = new LinkedBlockingQueue<>();
            AtomicBoolean stop = new AtomicBoolean();
            Thread acker = new Thread(() -> {
                try {
                    while (!stop.get()) {
                        Message m = toAck.poll(50, TimeUnit.MILLISECONDS);
                        if (m == null) {
                            continue;
                        }
                        long quietSince = System.nanoTime();
                        int seen = received.get();
                        while (received.get() - acked.get() < slots && !stop.get()) {
                            if (received.get() != seen) {
                                seen = received.get();
                                quietSince = System.nanoTime();
                            } else if (System.nanoTime() - quietSince > TimeUnit.MILLISECONDS.toNanos(200)) {
                                break;
                            }
                            Thread.sleep(1); // polling the receive count, bounded by the quiet period above
                        }
                        acked.incrementAndGet();
                        nc.publish(m.getReplyTo(), new byte[0]);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "test-snapshot-acker");
            acker.setDaemon(true);
            acker.start();
            SnapshotClient.Backup backup;
            try {
                backup = SnapshotClient.backup(nc, "KV_big", true, options(chunk, slots * chunk), m -> {
                    int outstanding = received.incrementAndGet() - acked.get();
                    maxOutstanding.accumulateAndGet(outstanding, Math::max);
                    toAck.add(m);
                });
            } finally {
                stop.set(true);
                acker.join(10_000);
            }
            assertEquals(slots, maxOutstanding.get(), "chunks in flight never exceed window_size / chunk_size");
            assertTrue(backup.chunks() > 100, "chunks: " + backup.chunks());

            kvm.delete("big");
            JsonNode restored = SnapshotClient.restore(nc, "KV_big", backup);
            assertNull(restored.get("error"), restored.toString());
            KeyValue again = nc.keyValue("big");
            for (Map.Entry<String, byte[]> e : want.entrySet()) {
                assertArrayEquals(e.getValue(), again.get(e.getKey()).getValue(), e.getKey());
            }
            assertNull(again.get("k0"));
            StreamBackupIT.assertSameState(before, jsm.getStreamInfo("KV_big").getStreamState());
        }
    }

    /** The snapshot messages a client receives that never acknowledges: chunks, then the end's status. */
    private static List<Message> withoutAcks(Connection nc, String stream, ObjectNode options) throws Exception {
        String inbox = nc.createInbox();
        List<Message> got = new CopyOnWriteArrayList<>();
        CompletableFuture<Void> end = new CompletableFuture<>();
        Dispatcher d = nc.createDispatcher(m -> {
            got.add(m);
            if (m.getData() == null || m.getData().length == 0) {
                end.complete(null);
            }
        });
        d.setPendingLimits(-1, -1);
        d.subscribe(inbox);
        try {
            nc.flush(Duration.ofSeconds(5));
            JsonNode resp = SnapshotClient.snapshotRequest(nc, stream, inbox, false, options);
            assertNull(resp.get("error"), resp.toString());
            end.get(60, TimeUnit.SECONDS);
            return got;
        } finally {
            nc.closeDispatcher(d);
        }
    }

    @Test
    void aClientThatSendsNoWindowGetsTheDefaultAndOneThatStopsAckingGetsNoFlowResponse() throws Exception {
        try (NatsServer server = StreamBackupIT.start(store);
                Connection nc = StreamBackupIT.connect(server.clientUrl())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addStream(StreamConfiguration.builder().name("BIG").subjects("big").storageType(StorageType.File)
                    .build());
            Random random = new Random(11);
            for (int i = 0; i < 12; i++) {
                byte[] v = new byte[800 * 1024];
                random.nextBytes(v);
                nc.jetStream().publish("big", v);
            }
            // no window_size, no chunk_size: 128 KiB chunks, 8 MiB in flight, so 64 chunks and then a wait
            List<Message> got = withoutAcks(nc, "BIG", options(0, null));
            assertEquals(65, got.size());
            for (Message m : got.subList(0, 64)) {
                assertEquals(128 * 1024, m.getData().length);
                assertTrue(m.getReplyTo().endsWith("." + (128 * 1024) + "." + (got.indexOf(m) + 1)), m.getReplyTo());
            }
            Message end = got.get(64);
            assertEquals(408, end.getStatus().getCode());
            assertEquals("No Flow Response", end.getStatus().getMessage());

            // a window below the smallest chunk still lets one chunk go; sizes below 1 KiB are raised to it
            got = withoutAcks(nc, "BIG", options(10, 10));
            assertEquals(2, got.size());
            assertEquals(1024, got.get(0).getData().length);
            assertEquals(408, got.get(1).getStatus().getCode());
        }
    }

    @Test
    void aWindowThatIsNotAnIntegerIsInvalidJson() throws Exception {
        try (NatsServer server = StreamBackupIT.start(store);
                Connection nc = StreamBackupIT.connect(server.clientUrl())) {
            nc.jetStreamManagement().addStream(StreamConfiguration.builder().name("S").subjects("s").build());
            for (String bad : List.of("\"8MB\"", "1.5", "true")) {
                byte[] req = ("{\"deliver_subject\":\"x\",\"window_size\":" + bad + "}").getBytes(StandardCharsets.UTF_8);
                JsonNode resp = SnapshotClient.request(nc, "$JS.API.STREAM.SNAPSHOT.S", req, Duration.ofSeconds(5));
                assertEquals(10025, resp.path("error").path("err_code").asInt(), bad + ": " + resp);
            }
            // negative and huge windows are clamped, not refused (Go ints are 64 bits)
            for (String ok : List.of("-1", "0", "9223372036854775807")) {
                byte[] req = ("{\"deliver_subject\":\"x\",\"window_size\":" + ok + "}").getBytes(StandardCharsets.UTF_8);
                JsonNode resp = SnapshotClient.request(nc, "$JS.API.STREAM.SNAPSHOT.S", req, Duration.ofSeconds(5));
                assertNull(resp.get("error"), ok + ": " + resp);
            }
        }
    }
}
