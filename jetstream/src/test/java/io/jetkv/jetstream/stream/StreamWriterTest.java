package io.jetkv.jetstream.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jetkv.jetstream.FakeBus;
import io.jetkv.jetstream.api.JsJson;
import io.jetkv.jetstream.store.MemoryStreamStore;
import io.jetkv.jetstream.store.StoreException;
import io.jetkv.jetstream.store.StoredMessage;
import io.jetkv.jetstream.store.StreamState;
import io.jetkv.jetstream.store.StreamStore;
import io.jetkv.jetstream.store.SubjectState;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import org.junit.jupiter.api.Test;

/** The single writer: bounded queue, group commit, replies after the flush. */
class StreamWriterTest {

    /** Runs submitted work only when the test says so. */
    private static final class ManualExecutor implements Executor {
        final ArrayDeque<Runnable> tasks = new ArrayDeque<>();

        @Override
        public void execute(Runnable r) {
            tasks.add(r);
        }

        void runAll() {
            Runnable r;
            while ((r = tasks.poll()) != null) {
                r.run();
            }
        }
    }

    /** Counts flushes and records how many acks were already out at each flush. */
    private static final class CountingStore implements StreamStore {
        final MemoryStreamStore inner = new MemoryStreamStore();
        final FakeBus bus;
        final List<Integer> publishedAtFlush = new ArrayList<>();

        CountingStore(FakeBus bus) {
            this.bus = bus;
        }

        @Override public long append(String s, byte[] h, byte[] p, long t) { return inner.append(s, h, p, t); }
        @Override public void skipTo(long n) { inner.skipTo(n); }
        @Override public boolean remove(long seq, boolean erase) { return inner.remove(seq, erase); }
        @Override public long purge(String f, long up, long keep) { return inner.purge(f, up, keep); }
        boolean failNextFlush;

        @Override public void flush(boolean sync) {
            publishedAtFlush.add(bus.published().size());
            if (failNextFlush) {
                failNextFlush = false;
                throw new StoreException("injected flush failure");
            }
            inner.flush(sync);
        }
        @Override public StoredMessage load(long seq) { return inner.load(seq); }
        @Override public StoredMessage loadNext(long from, String f) { return inner.loadNext(from, f); }
        @Override public StoredMessage loadLast(String f) { return inner.loadLast(f); }
        @Override public StreamState state() { return inner.state(); }
        @Override public SubjectState subjectState(String s) { return inner.subjectState(s); }
        @Override public Map<String, Long> subjectCounts(String f) { return inner.subjectCounts(f); }
        @Override public long countMatching(long from, String f) { return inner.countMatching(from, f); }
        @Override public long removals() { return inner.removals(); }
        @Override public long maxRemovedSeq() { return inner.maxRemovedSeq(); }
        @Override public long[] deletedSequences() { return inner.deletedSequences(); }
        @Override public void destroy() { inner.destroy(); }
        @Override public void close() { inner.close(); }
    }

    private static StreamConfig config(String json) {
        return StreamConfig.fromJson(JsJson.parseObject(json.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void queuedPublishesShareOneFlushAndAcksFollowIt() {
        FakeBus bus = new FakeBus();
        ManualExecutor writer = new ManualExecutor();
        CountingStore store = new CountingStore(bus);
        Stream s = new Stream(config("{\"name\":\"S\"}"), 1, store, writer, 16, new Stream.Context(bus, false, null));
        for (int i = 0; i < 5; i++) {
            assertTrue(s.offerPublish("S", "_INBOX." + i, null, new byte[] {1}));
        }
        writer.runAll();
        assertEquals(List.of(0), store.publishedAtFlush); // one flush, before any ack
        assertEquals(5, bus.published().size());
        assertEquals("{\"stream\":\"S\", \"seq\":5}", new String(bus.published().get(4).payload(), StandardCharsets.UTF_8));
        assertEquals(5, s.stats().msgs());
    }

    /**
     * A backlog of expiries shares the writer with publishes: a publish queued behind a maintenance run is answered
     * after that one run of {@link Stream#EXPIRY_CAP}, not after the whole backlog; and the runs go on by themselves
     * (no timer tick) until nothing is due.
     */
    @Test
    void expiryBacklogTakesTurnsWithPublishes() {
        FakeBus bus = new FakeBus();
        ManualExecutor writer = new ManualExecutor();
        int due = 3 * Stream.EXPIRY_CAP + 10;
        Stream s = new Stream(config("{\"name\":\"S\",\"allow_msg_ttl\":true}"), 1, new MemoryStreamStore(), writer,
                due + 16, new Stream.Context(bus, false, null));
        byte[] ttl = "NATS/1.0\r\nNats-TTL: 1s\r\n\r\n".getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < due; i++) {
            assertTrue(s.offerPublish("S", null, ttl, new byte[] {1}));
        }
        writer.runAll();
        assertEquals(due, s.stats().msgs());
        long deadline = Stream.nowNanos() + 1_100_000_000L; // every TTL ends by then
        while (Stream.nowNanos() < deadline) {
            java.util.concurrent.locks.LockSupport.parkNanos(10_000_000L); // waits for the clock, not for a thread
        }
        s.tick(Stream.nowNanos()); // queues one maintenance run
        assertTrue(s.offerPublish("S", "_INBOX.late", null, new byte[] {2}));
        long heldAtAck = -1;
        int runs = 0;
        while (!writer.tasks.isEmpty() && runs++ < 1000) {
            writer.tasks.poll().run();
            if (heldAtAck < 0 && bus.published().stream().anyMatch(m -> "_INBOX.late".equals(m.subject()))) {
                heldAtAck = s.stats().msgs();
            }
        }
        assertEquals(due + 1 - Stream.EXPIRY_CAP, heldAtAck, "the late publish waits for one run of expiries");
        assertEquals(1, s.stats().msgs(), "the runs went on without the timer until every TTL had expired");
    }

    /**
     * A restart rebuilds the duplicate window from the stored messages, but reads them only when the store says an id
     * may be among them: a bucket of puts without ids restarts without reading its window.
     */
    @Test
    void aRestartReadsTheDuplicateWindowOnlyWhenAnIdMayBeInIt() {
        MemoryStreamStore inner = new MemoryStreamStore();
        long now = Stream.nowNanos();
        for (int i = 0; i < 100; i++) {
            inner.append("s", null, new byte[] {1}, now - 1_000_000L + i);
        }
        int[] batchReads = {0};
        StreamStore counted = (StreamStore) java.lang.reflect.Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {StreamStore.class}, (proxy, method, args) -> {
                    if (method.getName().equals("loadNextBatch")) {
                        batchReads[0]++;
                    }
                    try {
                        return method.invoke(inner, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        StreamConfig cfg = config("{\"name\":\"S\",\"subjects\":[\"s\"]}");
        new Stream(cfg, 1, counted, new ManualExecutor(), 16, new Stream.Context(new FakeBus(), false, null));
        assertEquals(0, batchReads[0], "no id in the window: nothing read");

        inner.append("s", "NATS/1.0\r\nNats-Msg-Id: m1\r\n\r\n".getBytes(StandardCharsets.UTF_8), new byte[] {2}, now);
        inner.append("s", null, new byte[] {3}, now + 1);
        FakeBus bus = new FakeBus();
        ManualExecutor writer = new ManualExecutor();
        Stream s = new Stream(cfg, 1, counted, writer, 16, new Stream.Context(bus, false, null));
        assertTrue(batchReads[0] > 0, "an id in the window: read");
        assertTrue(s.offerPublish("s", "_INBOX.dup", "NATS/1.0\r\nNats-Msg-Id: m1\r\n\r\n".getBytes(StandardCharsets.UTF_8),
                new byte[] {2}));
        writer.runAll();
        String ack = new String(bus.published().get(bus.published().size() - 1).payload(), StandardCharsets.UTF_8);
        assertTrue(ack.contains("\"duplicate\": true") && ack.contains("\"seq\":101"), ack);
    }

    @Test
    void fullQueueRefusesInsteadOfBlocking() {
        FakeBus bus = new FakeBus();
        ManualExecutor writer = new ManualExecutor();
        Stream s = new Stream(config("{\"name\":\"S\"}"), 1, new MemoryStreamStore(), writer, 2,
                new Stream.Context(bus, false, null));
        assertTrue(s.offerPublish("S", null, null, new byte[0]));
        assertTrue(s.offerPublish("S", null, null, new byte[0]));
        assertFalse(s.offerPublish("S", null, null, new byte[0]));
        writer.runAll();
        assertTrue(s.offerPublish("S", null, null, new byte[0]));
    }

    @Test
    void streamManagerAnswers429WhenTheWriterQueueIsFull() {
        FakeBus bus = new FakeBus();
        ManualExecutor writer = new ManualExecutor();
        java.util.concurrent.ExecutorService[] writers = {new java.util.concurrent.AbstractExecutorService() {
            @Override public void shutdown() {}
            @Override public List<Runnable> shutdownNow() { return List.of(); }
            @Override public boolean isShutdown() { return false; }
            @Override public boolean isTerminated() { return false; }
            @Override public boolean awaitTermination(long t, java.util.concurrent.TimeUnit u) { return true; }
            @Override public void execute(Runnable r) { writer.execute(r); }
        }};
        StreamManager m = new StreamManager(bus, new io.jetkv.jetstream.MemoryBackend(), writers, 1,
                new Stream.Context(bus, false, null), -1, -1);
        m.create(config("{\"name\":\"S\"}"));
        List<String> replies = new ArrayList<>();
        bus.subscribe("r", (subj, reply, h, p) -> replies.add(new String(p, StandardCharsets.UTF_8)));
        bus.clientPublish("S", "r", null, new byte[0]);
        bus.clientPublish("S", "r", null, new byte[0]);
        assertEquals(1, replies.size());
        assertTrue(replies.get(0).contains("\"err_code\":10167"), replies.get(0));
        assertTrue(replies.get(0).contains("\"code\":429"), replies.get(0));
        writer.runAll();
        assertEquals(2, replies.size());
    }

    /**
     * A source copies only what its origin flushed: a fetch queued behind a publish, in the batch whose flush then
     * fails, must not copy the message that failure took back.
     */
    @Test
    void aSourceCopiesOnlyWhatItsOriginFlushed() {
        FakeBus bus = new FakeBus();
        Stream.Context ctx = new Stream.Context(bus, false, null);
        ManualExecutor originWriter = new ManualExecutor();
        ManualExecutor targetWriter = new ManualExecutor();
        CountingStore originStore = new CountingStore(bus);
        Stream origin = new Stream(config("{\"name\":\"O\",\"subjects\":[\"o.>\"]}"), 1, originStore, originWriter,
                16, ctx);
        StreamConfig targetConfig = config("{\"name\":\"T\",\"sources\":[{\"name\":\"O\"}]}");
        MemoryStreamStore targetStore = new MemoryStreamStore();
        Stream target = new Stream(targetConfig, 1, targetStore, targetWriter, 16, ctx);
        Sourcing sourcing = new Sourcing(target, targetConfig, name -> name.equals("O") ? origin : null);
        target.setSourcing(sourcing);

        assertTrue(origin.offerPublish("o.a", null, null, "kept".getBytes(StandardCharsets.UTF_8)));
        originWriter.runAll();
        sourcing.kickAll(null);
        for (int i = 0; i < 3; i++) { // target decides, origin reads, target stores
            targetWriter.runAll();
            originWriter.runAll();
        }
        assertEquals(1, targetStore.state().msgs());

        // the publish and the next fetch land in one origin batch, in that order, and its flush fails
        assertTrue(origin.offerPublish("o.b", null, null, "lost".getBytes(StandardCharsets.UTF_8)));
        originStore.failNextFlush = true;
        sourcing.kickAll(null);
        targetWriter.runAll(); // queues the fetch on the origin, behind the publish
        originWriter.runAll();
        targetWriter.runAll();
        assertFalse(originStore.failNextFlush, "the origin's flush failed");
        assertEquals(1, targetStore.state().msgs(), "only the flushed message was copied");
        assertEquals("kept", new String(targetStore.load(1).payload(), StandardCharsets.UTF_8));
    }
}
