package io.jetkv.jetstream.store;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteOptions;

/**
 * The contract on RocksDB without reopening (reads see staged, unflushed changes), plus persistence:
 * what a flush keeps, what a crash before it loses, streams side by side, and the metadata map.
 */
class RocksStreamStoreTest extends StreamStoreContract {
    @Override
    protected long sizeOf(StoredMessage m) {
        return m.fileStoredSize();
    }

    @TempDir
    Path dir;

    private RocksStorage storage;

    @Override
    protected long firstTimestampAfterLastRemoved() {
        return StreamState.EMPTIED_BY_REMOVAL;
    }

    @Override
    protected StreamStore newStore() {
        if (storage == null) {
            storage = RocksStorage.open(dir);
        }
        return storage.openStream("S");
    }

    @AfterEach
    void closeStorage() {
        storage.close();
    }

    /** Flushes, closes the whole RocksDB and opens stream {@code S} again. */
    private StreamStore reopen() {
        store.flush(false);
        return reopenWithoutFlush();
    }

    /** Like a kill -9 after the last flush: staged changes vanish. */
    private StreamStore reopenWithoutFlush() {
        storage.close();
        storage = RocksStorage.open(dir);
        return store = storage.openStream("S");
    }

    @Test
    void reopenAfterFlushKeepsEverything() {
        for (int i = 1; i <= 50; i++) {
            store.append("sub." + (i % 5), i % 2 == 0 ? HDR : null, ("p" + i).getBytes(UTF_8), i * 10L);
        }
        store.remove(7, true);
        store.remove(1, false);
        store.purge("sub.3", 0, 2);
        store.remove(50, false);
        StreamState state = store.state();
        Map<String, Long> counts = store.subjectCounts(null);
        long[] deleted = store.deletedSequences();
        List<SubjectState> perSubject = List.of(store.subjectState("sub.0"), store.subjectState("sub.3"));

        reopen();
        assertEquals(state, store.state());
        assertEquals(counts, store.subjectCounts(null));
        assertArrayEquals(deleted, store.deletedSequences());
        assertEquals(perSubject, List.of(store.subjectState("sub.0"), store.subjectState("sub.3")));
        StoredMessage m = store.load(2);
        assertEquals("sub.2", m.subject());
        assertArrayEquals(HDR, m.headers());
        assertEquals(20L, m.timestamp());
        assertEquals(51, store.append("x", null, new byte[0], 1));
    }

    @Test
    void subjectStateLivesInRowsWithABoundedCache() {
        storage.subjectCacheEntries(8);
        store.close();
        store = storage.openStream("S");
        for (int i = 0; i < 1000; i++) {
            put("k." + i, "v" + i);
        }
        put("k.7", "again");
        store.flush(false);
        int cached = ((RocksStreamStore) store).cachedSubjects();
        assertTrue(cached <= 8, "cached " + cached);
        assertEquals(1000, store.state().numSubjects());
        assertEquals(new SubjectState(2, 8, 1001), store.subjectState("k.7"));
        assertEquals(1000, store.subjectCounts("k.*").size());
        assertEquals(1001, store.countMatching(0, "k.*"));
        assertEquals(1000, store.lastSeqsMatching("k.>").length);
        StreamState state = store.state();

        reopen();
        // opening reads the state row only: no subject is loaded until asked for
        assertEquals(0, ((RocksStreamStore) store).cachedSubjects());
        assertEquals(state, store.state());
        assertEquals(new SubjectState(1, 1000, 1000), store.subjectState("k.999"));
        assertEquals(2, store.subjectCounts("k.7").get("k.7"));
    }

    @Test
    void fullPurgeStartsANewGenerationOfSubjectRows() {
        for (int i = 0; i < 4; i++) {
            put("a", "x" + i); // four messages: index rows
        }
        put("b", "y");
        store.flush(false);
        store.purge(null, 0, 0);
        put("a", "after"); // same batch as the purge
        store.flush(false);
        reopen();
        assertEquals(new SubjectState(1, 6, 6), store.subjectState("a"));
        assertEquals(SubjectState.EMPTY, store.subjectState("b"));
        assertEquals(Map.of("a", 1L), store.subjectCounts(null));
        assertEquals(1, store.state().numSubjects());
        // the old generation's subject and index rows are gone: state, msg-id mark, message 6 and one subject row
        assertEquals(4, rowCount());
    }

    @Test
    void aVersionOneStoreIsConvertedWhenOpened() throws Exception {
        store.close();
        storage.close();
        storage = RocksStorage.open(dir);
        // stream id 1: rows as a build before subject rows moved out of memory wrote them
        byte[] p = RocksStorage.streamPrefix(1);
        try (var wo = new WriteOptions()) {
            byte[] id = new byte[8];
            MessageCodec.putLong(id, 0, 1);
            storage.db().put(wo, RocksStorage.concat(new byte[] {0, 'N'}, "S".getBytes(UTF_8)), id);
            byte[] next = new byte[8];
            MessageCodec.putLong(next, 0, 2);
            storage.db().put(wo, new byte[] {0, 'I'}, next);
            long size = 0;
            for (int seq = 1; seq <= 4; seq++) {
                String subject = seq == 4 ? "b" : "a";
                byte[] row = MessageCodec.encode(subject, null, ("p" + seq).getBytes(UTF_8), seq * 10L);
                storage.db().put(wo, RocksStorage.concat(p, seqBytes(5, seq)), row);
                long stored = new StoredMessage(seq, subject, null, ("p" + seq).getBytes(UTF_8), seq * 10L)
                        .fileStoredSize();
                size += stored;
                if (seq <= 3) { // subject a has three messages, so index rows: 04 len(4) subject seq(8) -> size
                    byte[] k = RocksStorage.concat(p, new byte[] {4, 0, 0, 0, 1, 'a'});
                    storage.db().put(wo, RocksStorage.concat(k, seqBytes(-1, seq)), MessageCodec.varints(stored));
                }
            }
            long sizeB = new StoredMessage(4, "b", null, "p4".getBytes(UTF_8), 40).fileStoredSize();
            storage.db().put(wo, RocksStorage.concat(p, new byte[] {2, 'a'}),
                    concat1((byte) 1, MessageCodec.varints(3, size - sizeB, 1, 3)));
            storage.db().put(wo, RocksStorage.concat(p, new byte[] {2, 'b'}),
                    concat1((byte) 2, MessageCodec.varints(1, sizeB, 4, 4, 3)));
            byte[] state = new byte[57];
            state[0] = 1;
            MessageCodec.putLong(state, 1, 4);
            MessageCodec.putLong(state, 9, 40);
            MessageCodec.putLong(state, 17, 1);
            MessageCodec.putLong(state, 25, 4);
            MessageCodec.putLong(state, 33, size);
            MessageCodec.putLong(state, 41, 1);
            MessageCodec.putLong(state, 49, 10);
            storage.db().put(wo, RocksStorage.concat(p, new byte[] {1}), state);
        }
        store = storage.openStream("S");
        assertEquals(new StreamState(4, store.state().bytes(), 1, 10, 4, 40, 2, 0), store.state());
        assertEquals(new SubjectState(3, 1, 3), store.subjectState("a"));
        assertEquals(2, store.countMatching(2, "a"));
        assertEquals("p2", text(store.loadNext(2, "a")));
        assertTrue(store.removeFirst("a"));
        assertEquals(5, put("a", "p5"));
        reopen();
        assertEquals(Map.of("a", 3L, "b", 1L), store.subjectCounts(null));
        assertEquals(new SubjectState(3, 2, 5), store.subjectState("a"));
        // state, four messages, two subject rows and a's three index rows; none of the old kinds
        assertEquals(10, rowCount());
    }

    private static byte[] seqBytes(int kind, long seq) {
        byte[] b = new byte[kind < 0 ? 8 : 9];
        if (kind >= 0) {
            b[0] = (byte) kind;
        }
        MessageCodec.putLong(b, b.length - 8, seq);
        return b;
    }

    private static byte[] concat1(byte first, byte[] rest) {
        return RocksStorage.concat(new byte[] {first}, rest);
    }

    @Test
    void lastSeqSurvivesFullPurgeAndReopen() {
        put("a", "1");
        put("b", "2");
        store.flush(true);
        store.purge(null, 0, 0);
        reopen();
        assertEquals(new StreamState(0, 0, 3, 0, 2, 1001, 0, 0), store.state());
        assertEquals(3, put("a", "3"));
    }

    @Test
    void unflushedChangesAreGoneAfterReopen() {
        put("a", "1");
        put("b", "2");
        store.flush(false);
        StreamState flushed = store.state();
        put("a", "3");
        store.remove(1, false);
        store.purge("b", 0, 0);
        store.skipTo(100);
        reopenWithoutFlush();
        assertEquals(flushed, store.state());
        assertEquals(Map.of("a", 1L, "b", 1L), store.subjectCounts(null));
        assertNull(store.load(3));
        assertEquals(1, store.loadNext(0, "a").seq());
        assertEquals(3, put("c", "3"));
    }

    @Test
    void flushedRangePurgeLeavesNoRowsBehind() {
        for (int i = 1; i <= 100; i++) {
            put("s." + (i % 4), "m" + i);
        }
        store.flush(false);
        store.purge(null, 61, 0);
        store.flush(false);
        // 40 messages left: one message row and one index row each, plus state, msg-id mark and four subject rows
        assertEquals(2 * 40 + 2 + 4, rowCount());
        store.purge(null, 0, 0);
        store.flush(false);
        assertEquals(2, rowCount()); // state and msg-id mark
    }

    @Test
    void streamsInOneStorageAreIndependent() {
        StreamStore other = storage.openStream("T");
        put("a", "1");
        put("a", "2");
        other.append("a", null, "x".getBytes(UTF_8), 5);
        store.flush(false);
        other.flush(false);
        assertEquals(1, other.state().msgs());
        assertEquals(1, other.subjectState("a").msgs());
        other.purge(null, 0, 0);
        other.flush(false);
        assertEquals(2, store.state().msgs());
        assertEquals(2, store.subjectState("a").msgs());
        other.close();
        reopen();
        assertEquals(List.of("S", "T"), storage.streamNames());
        assertEquals(2, store.state().msgs());
        try (StreamStore t = storage.openStream("T")) {
            assertEquals(0, t.state().msgs());
            assertEquals(1, t.state().lastSeq());
        }
    }

    @Test
    void deleteStreamRemovesItsRows() {
        StreamStore other = storage.openStream("T");
        other.append("a", null, "x".getBytes(UTF_8), 5);
        other.flush(false);
        assertThrows(IllegalStateException.class, () -> storage.deleteStream("T"));
        assertThrows(IllegalStateException.class, () -> storage.openStream("T"));
        other.close();
        storage.deleteStream("T");
        storage.deleteStream("never-existed");
        assertEquals(List.of("S"), storage.streamNames());
        try (StreamStore again = storage.openStream("T")) {
            assertEquals(new StreamState(0, 0, 1, 0, 0, 0, 0, 0), again.state());
            assertNull(again.load(1));
        }
    }

    @Test
    void destroyDeletesTheStream() {
        put("a", "1");
        store.flush(false);
        store.destroy();
        assertEquals(List.of(), storage.streamNames());
        store = storage.openStream("S");
        assertEquals(0, store.state().lastSeq());
    }

    @Test
    void closedStoreRefusesCalls() {
        store.close();
        assertThrows(StoreException.class, () -> put("a", "1"));
    }

    @Test
    void failedFlushFailsTheStoreUntilReopened() {
        put("a", "1");
        store.flush(false);
        StreamState flushed = store.state();
        put("a", "2");
        store.remove(1, false);
        StreamState staged = store.state();
        // RocksDB refuses a synced write without WAL: a write failure on demand
        WriteOptions options = storage.writeOptions(false);
        options.setSync(true).setDisableWAL(true);
        try {
            assertThrows(StoreException.class, () -> store.flush(false));
        } finally {
            options.setSync(false).setDisableWAL(false);
        }
        // the batch is not written again, even now that a write would succeed
        assertThrows(StoreException.class, () -> store.flush(false));
        assertThrows(StoreException.class, () -> put("b", "3"));
        assertThrows(StoreException.class, () -> store.remove(2, false));
        assertThrows(StoreException.class, () -> store.purge(null, 0, 0));
        assertThrows(StoreException.class, () -> store.skipTo(10));
        assertEquals(staged, store.state());
        assertEquals("2", text(store.load(2)));

        reopenWithoutFlush();
        assertEquals(flushed, store.state());
        assertEquals("1", text(store.load(1)));
        assertNull(store.load(2));
        assertEquals(2, put("b", "3"));
        reopen();
        assertEquals(Map.of("a", 1L, "b", 1L), store.subjectCounts(null));
    }

    @Test
    void metaPutGetDeleteAndPrefix() {
        storage.putMeta("stream/ORDERS", "cfg1".getBytes(UTF_8), true);
        storage.putMeta("stream/KV_b", "cfg2".getBytes(UTF_8), false);
        storage.putMeta("consumer/ORDERS/c1", "c".getBytes(UTF_8), false);
        assertEquals("cfg1", new String(storage.getMeta("stream/ORDERS"), UTF_8));
        assertNull(storage.getMeta("stream/NOPE"));
        Map<String, byte[]> streams = storage.metaWithPrefix("stream/");
        assertEquals(List.of("stream/KV_b", "stream/ORDERS"), List.copyOf(streams.keySet()));
        storage.deleteMeta("stream/KV_b");
        put("a", "1");
        reopen();
        assertEquals(List.of("stream/ORDERS"), List.copyOf(storage.metaWithPrefix("stream/").keySet()));
        assertEquals(List.of("consumer/ORDERS/c1", "stream/ORDERS"), List.copyOf(storage.metaWithPrefix("").keySet()));
        assertEquals(1, store.state().msgs());
        storage.close();
        assertThrows(StoreException.class, () -> storage.getMeta("x"));
    }

    /** Random operations against the memory store as a model, flushing and reopening now and then. */
    @Test
    void agreesWithMemoryStoreUnderRandomOperations() {
        var model = new MemoryStreamStore();
        var rnd = new Random(42);
        String[] subjects = {"kv.a", "kv.b", "kv.c.d", "x", "y.z", "kv.e"};
        String[] filters = {null, ">", "kv.*", "kv.>", "x", "kv.a", "*.z", "nope"};
        for (int step = 0; step < 2000; step++) {
            int op = rnd.nextInt(100);
            String filter = filters[rnd.nextInt(filters.length)];
            long last = model.state().lastSeq();
            if (op < 55) {
                String s = subjects[rnd.nextInt(subjects.length)];
                byte[] hdr = rnd.nextBoolean() ? null : HDR;
                byte[] payload = new byte[rnd.nextInt(20)];
                rnd.nextBytes(payload);
                assertEquals(model.append(s, hdr, payload, step), store.append(s, hdr, payload, step));
            } else if (op < 70) {
                long seq = 1 + (long) rnd.nextInt((int) last + 2);
                assertEquals(model.remove(seq, false), store.remove(seq, false), "remove " + seq);
            } else if (op < 74) {
                long upTo = rnd.nextBoolean() ? 0 : 1 + rnd.nextInt((int) last + 2);
                long keep = upTo == 0 && rnd.nextBoolean() ? rnd.nextInt(6) : 0;
                assertEquals(model.purge(filter, upTo, keep), store.purge(filter, upTo, keep),
                        "purge " + filter + " " + upTo + " " + keep);
            } else if (op < 75 && model.state().msgs() == 0) {
                long next = last + 1 + rnd.nextInt(3);
                model.skipTo(next);
                store.skipTo(next);
            } else if (op < 85) {
                long from = rnd.nextInt((int) last + 2);
                assertSame(model.loadNext(from, filter), store.loadNext(from, filter));
                assertEquals(model.countMatching(from, filter), store.countMatching(from, filter));
            } else if (op < 90) {
                assertSame(model.loadLast(filter), store.loadLast(filter));
                assertEquals(model.subjectCounts(filter), store.subjectCounts(filter));
            } else if (op < 91) {
                reopen();
            } else {
                store.flush(rnd.nextInt(50) == 0);
            }
            // byte accounting differs by design (file vs memory formulas); everything else must agree
            assertEquals(withoutBytes(model.state()), withoutBytes(store.state()), "step " + step);
            if (step % 50 == 0) {
                assertArrayEquals(model.deletedSequences(), store.deletedSequences());
                for (String s : subjects) {
                    assertEquals(model.subjectState(s), store.subjectState(s));
                }
            }
        }
        assertTrue(store.state().lastSeq() > 800);
    }

    /** KV-shaped load: many subjects, a per-subject limit enforced after each append, reopening now and then. */
    @Test
    void agreesWithMemoryStoreUnderPerSubjectLimits() {
        var model = new MemoryStreamStore();
        var rnd = new Random(7);
        for (int step = 0; step < 2000; step++) {
            int op = rnd.nextInt(100);
            if (op < 85) {
                String s = "kv.k" + rnd.nextInt(40);
                long limit = 1 + rnd.nextInt(3);
                byte[] payload = new byte[rnd.nextInt(10)];
                assertEquals(model.append(s, null, payload, step), store.append(s, null, payload, step));
                while (model.subjectState(s).msgs() > limit) {
                    long first = model.subjectState(s).firstSeq();
                    assertEquals(first, store.subjectState(s).firstSeq());
                    assertTrue(model.remove(first, false));
                    assertTrue(store.remove(first, false));
                }
            } else if (op < 92) {
                long seq = 1 + rnd.nextInt((int) model.state().lastSeq() + 1);
                assertEquals(model.remove(seq, false), store.remove(seq, false), "remove " + seq);
            } else if (op < 93) {
                reopen();
            } else if (op < 94) {
                assertEquals(model.purge("kv.k1", 0, 1), store.purge("kv.k1", 0, 1));
            } else {
                store.flush(false);
            }
            assertEquals(withoutBytes(model.state()), withoutBytes(store.state()), "step " + step);
        }
        assertArrayEquals(model.deletedSequences(), store.deletedSequences());
        assertEquals(model.subjectCounts(null), store.subjectCounts(null));
    }

    /** Subjects emptied and trimmed in random order, so the first moves to subjects anywhere in the store. */
    @Test
    void firstFollowsRemovalsInAnyOrder() {
        var model = new MemoryStreamStore();
        var rnd = new Random(11);
        for (int round = 0; round < 5; round++) {
            List<Long> seqs = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                String s = "s" + rnd.nextInt(120);
                seqs.add(model.append(s, null, new byte[1], i));
                store.append(s, null, new byte[1], i);
            }
            Collections.shuffle(seqs, rnd);
            for (long seq : seqs.subList(0, 250)) {
                assertEquals(model.remove(seq, false), store.remove(seq, false));
                assertEquals(withoutBytes(model.state()), withoutBytes(store.state()), "remove " + seq);
            }
            reopen();
            assertEquals(withoutBytes(model.state()), withoutBytes(store.state()));
        }
    }

    private static void assertSame(StoredMessage expected, StoredMessage actual) {
        if (expected == null || actual == null) {
            assertEquals(expected, actual);
            return;
        }
        assertEquals(expected.seq(), actual.seq());
        assertEquals(expected.subject(), actual.subject());
        assertArrayEquals(expected.headers(), actual.headers());
        assertArrayEquals(expected.payload(), actual.payload());
        assertEquals(expected.timestamp(), actual.timestamp());
    }

    private int rowCount() {
        int n = 0;
        try (RocksIterator it = storage.db().newIterator()) {
            byte[] prefix = {RocksStorage.SPACE_STREAM};
            for (it.seek(prefix); it.isValid() && it.key()[0] == RocksStorage.SPACE_STREAM; it.next()) {
                n++;
            }
        }
        return n;
    }

    private static StreamState withoutBytes(StreamState s) {
        return new StreamState(s.msgs(), 0, s.firstSeq(), s.firstTimestamp(), s.lastSeq(), s.lastTimestamp(),
                s.numSubjects(), s.numDeleted());
    }
}
