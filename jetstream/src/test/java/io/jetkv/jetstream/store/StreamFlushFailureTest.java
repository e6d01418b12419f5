package io.jetkv.jetstream.store;

import static io.jetkv.jetstream.TestClient.assertError;
import static io.jetkv.jetstream.TestClient.assertNoError;
import static io.jetkv.jetstream.TestClient.headers;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jetkv.jetstream.FakeBus;
import io.jetkv.jetstream.JetStreamOptions;
import io.jetkv.jetstream.JetStreamService;
import io.jetkv.jetstream.TestClient;
import io.jetkv.jetstream.stream.StorageBackend;
import io.jetkv.jetstream.stream.Stream;
import io.jetkv.jetstream.stream.StreamEnums.Storage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A stream whose flush fails answers that batch with errors, reopens its store and serves again. */
class StreamFlushFailureTest {
    @TempDir
    Path dir;

    private RocksStorage storage;
    private FakeBus bus;
    private TestClient client;
    private JetStreamService js;
    private final List<String> delivered = new CopyOnWriteArrayList<>();
    /** Reopens still to fail (the disk is still bad), and reopens tried. */
    private final AtomicInteger failReopens = new AtomicInteger();
    private final AtomicInteger reopens = new AtomicInteger();

    /** File streams on {@link #storage}, configurations in memory (no restart here). */
    private final class Backend implements StorageBackend {
        private final Map<String, byte[]> metas = new ConcurrentHashMap<>();

        @Override
        public StreamStore openStore(String stream, Storage kind) {
            return kind == Storage.MEMORY ? new MemoryStreamStore() : storage.openStream(stream);
        }

        @Override
        public StreamStore reopenStore(String stream, StreamStore failed) {
            reopens.incrementAndGet();
            if (failReopens.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                throw new StoreException("injected reopen failure");
            }
            return storage.reopenStream((RocksStreamStore) failed);
        }

        @Override
        public void putStreamMeta(String stream, byte[] json) {}

        @Override
        public void deleteStreamMeta(String stream) {}

        @Override
        public Map<String, byte[]> streamMetas() {
            return Map.of();
        }

        @Override
        public void putMeta(String key, byte[] value) {
            metas.put(key, value);
        }

        @Override
        public void deleteMeta(String key) {
            metas.remove(key);
        }

        @Override
        public Map<String, byte[]> metaWithPrefix(String prefix) {
            var out = new TreeMap<String, byte[]>();
            metas.forEach((k, v) -> {
                if (k.startsWith(prefix)) {
                    out.put(k, v);
                }
            });
            return out;
        }

        @Override
        public void close() {}
    }

    @BeforeEach
    void start() {
        storage = RocksStorage.open(dir);
        bus = new FakeBus();
        client = new TestClient(bus);
        js = JetStreamService.start(new JetStreamOptions(dir, -1, -1, false, null), bus, new Backend());
        assertNoError(client.api("$JS.API.STREAM.CREATE.S", "{\"name\":\"S\",\"subjects\":[\"s.>\"],\"storage\":\"file\"}"));
        assertNoError(client.api("$JS.API.CONSUMER.CREATE.S.push",
                "{\"stream_name\":\"S\",\"config\":{\"name\":\"push\",\"deliver_subject\":\"dlv\",\"ack_policy\":\"none\"}}"));
        bus.subscribe("dlv", (subject, reply, h, payload) -> delivered.add(new String(payload, UTF_8)));
    }

    @AfterEach
    void stop() {
        js.close();
        storage.close();
    }

    @Test
    void failedBatchIsAnsweredWithErrorsAndTheStreamServesAgain() {
        assertEquals(1, client.publish("s.a", null, "a").get("seq").asLong());

        storage.failNextFlush("S");
        assertError(client.publish("s.b", headers("Nats-Msg-Id", "id-b"), "b"), 503, 10077);

        // the failed batch's sequence is reused: the reopened store never had it
        JsonNode c = client.publish("s.c", null, "c");
        assertNoError(c);
        assertEquals(2, c.get("seq").asLong());
        // its msg id left the dedupe window with the batch: the retry is stored, not a duplicate
        JsonNode b = client.publish("s.b", headers("Nats-Msg-Id", "id-b"), "b");
        assertEquals(3, b.get("seq").asLong());
        assertFalse(b.path("duplicate").asBoolean());

        JsonNode state = client.api("$JS.API.STREAM.INFO.S", "").get("state");
        assertEquals(3, state.get("messages").asLong());
        assertEquals(1, state.get("first_seq").asLong());
        assertEquals(3, state.get("last_seq").asLong());
        assertEquals("c", getMsg(2));
        assertEquals(List.of("a", "c", "b"), delivered);
    }

    @Test
    void onlyOkAcksAreStoredWhenAFailedBatchHoldsSeveral() throws Exception {
        assertEquals(1, client.publish("s.a", null, "first").get("seq").asLong());
        storage.failNextFlush("S");
        // queued without waiting, so several land in the batch whose flush fails
        List<CompletableFuture<JsonNode>> acks = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            CompletableFuture<JsonNode> f = new CompletableFuture<>();
            String inbox = "_INBOX.ack." + i;
            bus.subscribe(inbox, (s, r, h, p) -> f.complete(parse(p)));
            acks.add(f);
            bus.clientPublish("s.m", inbox, null, ("m" + i).getBytes(UTF_8));
        }
        List<String> ok = new ArrayList<>(List.of("first"));
        int errors = 0;
        long expectedSeq = 2;
        for (int i = 0; i < acks.size(); i++) {
            JsonNode ack = acks.get(i).get(5, TimeUnit.SECONDS);
            if (ack.has("error")) {
                assertError(ack, 503, 10077);
                errors++;
            } else {
                // acked messages take the next sequences of the reopened store: no gap
                assertEquals(expectedSeq++, ack.get("seq").asLong());
                ok.add("m" + i);
            }
        }
        assertFalse(errors == 0, "one batch failed");
        JsonNode last = client.publish("s.z", null, "z");
        assertEquals(expectedSeq, last.get("seq").asLong());
        ok.add("z");

        JsonNode state = client.api("$JS.API.STREAM.INFO.S", "").get("state");
        assertEquals(ok.size(), state.get("messages").asLong());
        assertEquals(expectedSeq, state.get("last_seq").asLong());
        for (int i = 0; i < ok.size(); i++) {
            assertEquals(ok.get(i), getMsg(i + 1));
        }
        assertEquals(ok, delivered);
    }

    /**
     * When reopening the store fails too, the stream refuses publishes (503, 10077) until the timer's retry
     * (once a second) reopens it; then it serves from the last completed flush, as after a plain failure.
     */
    @Test
    void aStreamWhoseReopenFailsTooRefusesPublishesUntilARetryWorks() throws Exception {
        assertEquals(1, client.publish("s.a", null, "a").get("seq").asLong());
        failReopens.set(2); // at once and at the first retry: the second retry, 2 s on, works
        storage.failNextFlush("S");
        assertError(client.publish("s.b", null, "b"), 503, 10077);
        assertError(client.publish("s.c", null, "c"), 503, 10077);

        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        JsonNode ack;
        while ((ack = client.publish("s.c", null, "c")).has("error")) {
            assertError(ack, 503, 10077);
            assertTrue(System.nanoTime() < deadline, "still refused after 30 s, " + reopens.get() + " reopens");
            Thread.sleep(20);
        }
        assertEquals(3, reopens.get());
        assertEquals(2, ack.get("seq").asLong(), "the failed batch's sequence is reused");
        JsonNode state = client.api("$JS.API.STREAM.INFO.S", "").get("state");
        assertEquals(2, state.get("messages").asLong());
        assertEquals(2, state.get("last_seq").asLong());
        assertEquals("a", getMsg(1));
        assertEquals("c", getMsg(2));
        assertEquals(List.of("a", "c"), delivered);
    }

    /**
     * An ack on a work-queue stream removes the message in the writer's next batch; when that batch's flush fails,
     * the reopened store has the message again, and it must still go, not stay forever with nobody to deliver it.
     */
    @Test
    void aWorkQueueAckLostWithAFailedFlushIsRedone() throws Exception {
        assertNoError(client.api("$JS.API.STREAM.CREATE.W",
                "{\"name\":\"W\",\"subjects\":[\"w.>\"],\"storage\":\"file\",\"retention\":\"workqueue\"}"));
        assertNoError(client.api("$JS.API.CONSUMER.CREATE.W.c",
                "{\"stream_name\":\"W\",\"config\":{\"durable_name\":\"c\",\"ack_policy\":\"explicit\"}}"));
        for (int i = 1; i <= 3; i++) {
            assertEquals(i, client.publish("w.x", null, "m" + i).get("seq").asLong());
        }
        java.util.concurrent.LinkedBlockingQueue<String> ackSubjects = new java.util.concurrent.LinkedBlockingQueue<>();
        bus.subscribe("_INBOX.pull", (s, r, h, p) -> {
            if (r != null) {
                ackSubjects.add(r);
            }
            return true;
        });
        bus.clientPublish("$JS.API.CONSUMER.MSG.NEXT.W.c", "_INBOX.pull", null, "{\"batch\":3}".getBytes(UTF_8));
        List<String> acks = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            String a = ackSubjects.poll(5, TimeUnit.SECONDS);
            assertNotNull(a, "delivery " + (i + 1));
            acks.add(a);
        }
        assertNotNull(client.request(acks.get(0), "+ACK"));
        assertEquals(2, client.api("$JS.API.STREAM.INFO.W", "").get("state").get("messages").asLong());

        storage.failNextFlush("W");
        assertNotNull(client.request(acks.get(1), "+ACK")); // its removal is in the batch whose flush fails
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        JsonNode state;
        while ((state = client.api("$JS.API.STREAM.INFO.W", "").get("state")).get("messages").asLong() != 1) {
            assertTrue(System.nanoTime() < deadline, "the acked message is still stored: " + state);
            Thread.sleep(20);
        }
        assertEquals(3, state.get("first_seq").asLong());
        assertNotNull(client.request(acks.get(2), "+ACK"));
        assertEquals(0, client.api("$JS.API.STREAM.INFO.W", "").get("state").get("messages").asLong());
    }

    /**
     * A read queued behind a publish in the batch whose flush fails answers from what was stored: the value
     * the publish would have replaced, never the one the failed flush lost.
     */
    @Test
    void aReadInAFailedBatchAnswersFromTheStoredState() throws Exception {
        assertNoError(client.api("$JS.API.STREAM.CREATE.D",
                "{\"name\":\"D\",\"subjects\":[\"d.>\"],\"storage\":\"file\",\"allow_direct\":true}"));
        assertEquals(1, client.publish("d.k", null, "old").get("seq").asLong());
        Stream stream = js.streams().get("D");
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        // hold the writer, so that the publish and the read below land in one batch, in that order
        stream.execute(b -> {
            held.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        held.await();
        storage.failNextFlush("D");
        CompletableFuture<JsonNode> ack = new CompletableFuture<>();
        bus.subscribe("_INBOX.ack", (s, r, h, p) -> ack.complete(parse(p)));
        bus.clientPublish("d.k", "_INBOX.ack", null, "new".getBytes(UTF_8));
        CompletableFuture<String> read = new CompletableFuture<>();
        bus.subscribe("_INBOX.get", (s, r, h, p) -> read.complete(new String(h, UTF_8) + new String(p, UTF_8)));
        // a direct get is queued on the calling thread: right behind the publish
        bus.clientPublish("$JS.API.DIRECT.GET.D.d.k", "_INBOX.get", null, new byte[0]);
        release.countDown();

        assertError(ack.get(5, TimeUnit.SECONDS), 503, 10077);
        String got = read.get(5, TimeUnit.SECONDS);
        assertTrue(got.endsWith("old"), got);
        assertTrue(got.contains("Nats-Sequence: 1"), got);
    }

    private String getMsg(long seq) {
        JsonNode r = client.api("$JS.API.STREAM.MSG.GET.S", "{\"seq\":" + seq + "}");
        assertNoError(r);
        assertNotNull(r.get("message"));
        return new String(java.util.Base64.getDecoder().decode(r.get("message").get("data").asText()), UTF_8);
    }

    private static JsonNode parse(byte[] p) {
        try {
            return TestClient.JSON.readTree(p);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
