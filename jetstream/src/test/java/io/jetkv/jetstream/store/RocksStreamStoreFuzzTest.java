package io.jetkv.jetstream.store;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.RocksIterator;

/**
 * Random operations on a RocksDB stream store against {@link MemoryStreamStore} as the model, with few subjects
 * and few messages per subject: the store writes a subject's index rows only from its third message on, so every
 * path that adds, removes, reads or counts a subject's messages meets subjects of one, two and three messages.
 * Flushes, reopens with and without a flush (the model replays what was flushed) and failed flushes followed by
 * {@link RocksStorage#reopenStream} come in between. After each flush the rows on disk are checked one by one:
 * index rows, their sizes, the subject rows and their unindexed flags. {@code -Dseeds=N -Dsteps=N} run it longer.
 */
class RocksStreamStoreFuzzTest {
    @TempDir
    Path dir;
    RocksStorage storage;
    StreamStore store;

    @AfterEach
    void close() {
        storage.close();
    }

    /** Subjects cached per stream; 1 makes nearly every step read and write subject rows. */
    int cacheEntries = 16_384;

    @Test
    void fuzz() {
        run();
    }

    @Test
    void fuzzWithOneCachedSubject() {
        cacheEntries = 1;
        run();
    }

    private void run() {
        storage = open();
        int seeds = Integer.getInteger("seeds", cacheEntries == 1 ? 4 : 7);
        int steps = Integer.getInteger("steps", 2000);
        int[] subjectCounts = {1, 2, 3, 4, 6, 12, 40};
        for (int seed = 0; seed < seeds; seed++) {
            int nSubj = subjectCounts[seed % subjectCounts.length];
            store = storage.openStream("S");
            run(seed, nSubj, steps);
            store.destroy();
        }
    }

    private void run(int seed, int nSubj, int steps) {
        var rnd = new Random(seed * 7919L + nSubj);
        List<Function<StreamStore, Object>> changes = new ArrayList<>();
        List<String> log = new ArrayList<>();
        int flushed = 0;
        var model = new MemoryStreamStore();
        String[] filters = {null, ">", "k.*", "j.*", "*.1", "k.>", "k.0", "j.2", "nope"};
        List<String> all = new ArrayList<>();
        for (int i = 0; i < nSubj; i++) {
            all.add((i % 3 == 0 ? "j." : "k.") + (i / 2));
        }
        for (int step = 0; step < steps; step++) {
            String s = all.get(rnd.nextInt(all.size()));
            String f = filters[rnd.nextInt(filters.length)];
            int op = rnd.nextInt(100);
            long last = model.state().lastSeq();
            String where = "seed " + seed + " n " + nSubj + " step " + step + " op " + op + " " + s + " " + f;
            Function<StreamStore, Object> change = null;
            String desc = null;
            if (op < 40) {
                byte[] payload = new byte[rnd.nextInt(12)];
                rnd.nextBytes(payload);
                int history = 1 + rnd.nextInt(4);
                long ts = step;
                desc = "append " + s + " hist " + history;
                change = x -> {
                    long seq = x.append(s, null, payload, ts);
                    while (x.subjectState(s).msgs() > history) {
                        assertTrue(x.removeFirst(s));
                    }
                    return seq;
                };
            } else if (op < 46) {
                long seq = 1 + rnd.nextInt((int) last + 1);
                boolean erase = rnd.nextBoolean();
                desc = "remove " + seq;
                change = x -> x.remove(seq, erase);
            } else if (op < 52) {
                SubjectState st = model.subjectState(s);
                int w = rnd.nextInt(3);
                long seq = w == 0 ? st.firstSeq() : w == 1 ? st.lastSeq() : st.firstSeq() + 1;
                boolean erase = rnd.nextBoolean();
                desc = "removeBySubject " + seq + " " + s;
                change = x -> {
                    StoredMessage m = x.load(seq);
                    return m != null && m.subject().equals(s) && x.remove(seq, s, x.storedSize(m), erase);
                };
            } else if (op < 55) {
                desc = "removeFirst " + s;
                change = x -> x.removeFirst(s);
            } else if (op < 60) {
                long keep = rnd.nextInt(4);
                long upTo = rnd.nextBoolean() ? 0 : 1 + rnd.nextInt((int) last + 2);
                desc = "purge " + s + " " + upTo + " " + keep;
                change = x -> x.purge(s, upTo, keep);
            } else if (op < 65) {
                long keep = rnd.nextInt(5);
                long upTo = rnd.nextBoolean() ? 0 : 1 + rnd.nextInt((int) last + 2);
                desc = "purge " + f + " " + upTo + " " + keep;
                change = x -> x.purge(f, upTo, keep);
            } else if (op < 67) {
                long next = 1 + rnd.nextInt((int) last + 3);
                desc = "skipTo " + next;
                change = x -> {
                    x.skipTo(next);
                    return null;
                };
            } else if (op < 69 && rnd.nextBoolean()) {
                long keep = rnd.nextInt(3);
                desc = "drain keep " + keep;
                change = x -> x.purge(null, 0, keep);
            } else if (op < 69) {
                long next = last + rnd.nextInt(4);
                desc = "advanceTo " + next;
                change = x -> {
                    x.advanceTo(next);
                    return null;
                };
            } else if (op < 82) {
                long from = rnd.nextInt((int) last + 3);
                String ff = rnd.nextBoolean() ? s : f;
                assertSame(model.loadNext(from, ff), store.loadNext(from, ff), where + " loadNext " + from);
                assertEquals(model.countMatching(from, ff), store.countMatching(from, ff),
                        where + " count " + from + " " + ff);
                int max = 1 + rnd.nextInt(4);
                long to = rnd.nextBoolean() ? Long.MAX_VALUE : from + rnd.nextInt(40);
                List<StoredMessage> expected = new ArrayList<>();
                List<StoredMessage> actual = new ArrayList<>();
                assertEquals(model.loadNextBatch(from, to, ff, max, 1 << 20, expected),
                        store.loadNextBatch(from, to, ff, max, 1 << 20, actual), where);
                assertEquals(expected.size(), actual.size(), where);
                for (int i = 0; i < expected.size(); i++) {
                    assertSame(expected.get(i), actual.get(i), where);
                }
                assertSame(model.loadLast(ff), store.loadLast(ff), where + " loadLast");
                assertEquals(model.subjectCounts(ff), store.subjectCounts(ff), where);
                assertEquals(model.subjectCounts(ff), visited(store, ff), where + " forEachSubject");
                assertEquals(sorted(model.lastSeqsMatching(ff)), sorted(store.lastSeqsMatching(ff)), where + " lastSeqs");
            } else if (op < 85 && rnd.nextInt(3) == 0) {
                store.flush(false);
                store = reopenWithoutFlush();
                flushed = changes.size();
                log.add("--- reopen");
            } else if (op >= 85 && op < 88 && rnd.nextInt(3) == 0) {
                store = reopenWithoutFlush();
                changes.subList(flushed, changes.size()).clear();
                log.add("--- reopenWithoutFlush");
                model = replay(changes);
            } else if (op >= 88 && op < 90) {
                storage.failNextFlush("S");
                StreamStore failedStore = store;
                boolean threw = false;
                try {
                    failedStore.flush(false);
                } catch (StoreException e) {
                    threw = true;
                }
                storage.failNextFlush(null);
                if (threw) {
                    store = storage.reopenStream((RocksStreamStore) failedStore);
                    changes.subList(flushed, changes.size()).clear();
                    log.add("--- failedFlush+reopenStream");
                    model = replay(changes);
                }
            } else {
                store.flush(false);
                flushed = changes.size();
                log.add("--- flush");
                assertIndexExact(model, where);
            }
            if (change != null) {
                log.add(desc);
                Object expected;
                Object actual;
                expected = change.apply(model);
                try {
                    actual = change.apply(store);
                } catch (RuntimeException e) {
                    throw new AssertionError(where + " " + desc + " threw; log tail " + tail(log), e);
                }
                assertEquals(expected, actual, where + " " + desc + "; log tail " + tail(log));
                changes.add(change);
            }
            assertEquals(withoutBytes(model.state()), withoutBytes(store.state()), where + " " + desc + "; " + tail(log));
            if (model.state().msgs() <= 3 || step % 97 == 0) {
                long lo = model.state().firstSeq() - 1;
                for (long from = Math.max(0, lo); from <= model.state().lastSeq() + 1; from++) {
                    for (String ff : filters) {
                        assertEquals(model.countMatching(from, ff), store.countMatching(from, ff),
                                where + " sweep count " + from + " " + ff + " " + desc + "; " + tail(log));
                        assertSame(model.loadNext(from, ff), store.loadNext(from, ff), where + " sweep loadNext");
                    }
                    if (from - lo > 60) {
                        break;
                    }
                }
            }
            if (step % 5 == 0) {
                assertBytes(model, where + " " + desc + "; " + tail(log));
            }
            if (step % 20 == 0) {
                for (String ff : filters) {
                    String w = where + " filter " + ff + " " + desc + "; " + tail(log);
                    assertEquals(model.subjectCounts(ff), store.subjectCounts(ff), w);
                    assertEquals(model.subjectCounts(ff), visited(store, ff), w + " forEachSubject");
                    assertEquals(sorted(model.lastSeqsMatching(ff)), sorted(store.lastSeqsMatching(ff)), w);
                    assertSame(model.loadLast(ff), store.loadLast(ff), w);
                }
            }
            for (String x : all) {
                assertEquals(model.subjectState(x), store.subjectState(x), where + " " + x + " " + desc + "; " + tail(log));
            }
        }
        store.flush(false);
        store = reopenWithoutFlush();
        assertIndexExact(model, "end seed " + seed);
        assertArrayEquals(model.deletedSequences(), store.deletedSequences());
    }

    private void assertBytes(StreamStore model, String where) {
        List<StoredMessage> ms = new ArrayList<>();
        model.loadNextBatch(0, Long.MAX_VALUE, null, Integer.MAX_VALUE, Long.MAX_VALUE, ms);
        long total = 0;
        Map<String, Long> per = new HashMap<>();
        for (StoredMessage m : ms) {
            total += m.fileStoredSize();
            per.merge(m.subject(), m.fileStoredSize(), Long::sum);
        }
        assertEquals(total, store.state().bytes(), where + ": bytes");
        // per-subject bytes are only visible on disk; check them after a flush in assertIndexExact
        lastPer = per;
    }

    Map<String, Long> lastPer;

    private static String tail(List<String> log) {
        return String.join(" | ", log.subList(Math.max(0, log.size() - 25), log.size()));
    }

    private static MemoryStreamStore replay(List<Function<StreamStore, Object>> changes) {
        var m = new MemoryStreamStore();
        for (var c : changes) {
            c.apply(m);
        }
        return m;
    }

    private StreamStore reopenWithoutFlush() {
        storage.close();
        storage = open();
        return storage.openStream("S");
    }

    private RocksStorage open() {
        RocksStorage s = RocksStorage.open(dir);
        s.subjectCacheEntries(cacheEntries);
        return s;
    }

    /** Index rows exact, sizes right, and the subject rows' flags agree with the rows present. */
    private void assertIndexExact(StreamStore model, String where) {
        Map<String, TreeMap<Long, Long>> rows = new TreeMap<>();
        Map<String, long[]> subjRows = new HashMap<>();
        Map<String, Long> subjBytes = new HashMap<>();
        try (RocksIterator it = storage.db().newIterator()) {
            for (it.seek(new byte[] {RocksStorage.SPACE_STREAM});
                    it.isValid() && it.key()[0] == RocksStorage.SPACE_STREAM; it.next()) {
                byte[] k = it.key();
                // rows of older generations are range-deleted by the flush: all rows seen here are current
                if (k[9] == 9) { // 09 gen(4) len(4) subject seq(8)
                    int len = ((k[14] & 0xff) << 24) | ((k[15] & 0xff) << 16) | ((k[16] & 0xff) << 8) | (k[17] & 0xff);
                    String subject = new String(k, 18, len, UTF_8);
                    rows.computeIfAbsent(subject, x -> new TreeMap<>()).put(MessageCodec.getLong(k, 18 + len),
                            MessageCodec.getVarint(it.value(), new int[] {0}));
                } else if (k[9] == 8) { // 08 gen(4) subject
                    String subject = new String(k, 14, k.length - 14, UTF_8);
                    assertTrue(!subjRows.containsKey(subject), where + ": two generations of " + subject);
                    byte[] v = it.value();
                    int[] pos = {1};
                    long msgs = MessageCodec.getVarint(v, pos);
                    long sb = MessageCodec.getVarint(v, pos);
                    subjBytes.put(subject, sb);
                    long first = MessageCodec.getVarint(v, pos);
                    long lastS = MessageCodec.getVarint(v, pos);
                    long flags = MessageCodec.getVarint(v, pos);
                    subjRows.put(subject, new long[] {msgs, first, lastS, flags});
                } else {
                    assertTrue(k[9] == 1 || k[9] == 5 || k[9] == 6 || k[9] == 7 || k[9] == 12, where + ": row of kind " + k[9]);
                }
            }
        }
        for (var e : rows.entrySet()) {
            for (var r : e.getValue().entrySet()) {
                StoredMessage m = model.load(r.getKey());
                assertTrue(m != null && m.subject().equals(e.getKey()),
                        where + ": stray index row " + e.getKey() + " " + r.getKey());
                assertEquals(m.fileStoredSize(), (long) r.getValue(), where + ": size in index row " + r.getKey());
            }
        }
        assertEquals(model.subjectCounts(null).keySet(), subjRows.keySet(), where + ": subject rows");
        assertBytes(model, where);
        assertEquals(new TreeMap<>(lastPer), new TreeMap<>(subjBytes), where + ": subject bytes");
        for (String subject : model.subjectCounts(null).keySet()) {
            SubjectState st = model.subjectState(subject);
            long[] sr = subjRows.get(subject);
            assertEquals(st.msgs(), sr[0], where + " " + subject);
            assertEquals(st.firstSeq(), sr[1], where + " " + subject);
            assertEquals(st.lastSeq(), sr[2], where + " " + subject);
            var r = rows.getOrDefault(subject, new TreeMap<>());
            if (st.msgs() >= 3) {
                assertEquals(0, sr[3], where + ": flags of " + subject);
                assertEquals(st.msgs(), r.size(), where + ": index rows of " + subject);
            } else {
                assertEquals((sr[3] & 1) == 0, r.containsKey(st.firstSeq()), where + ": first flag of " + subject);
                assertEquals((sr[3] & 2) == 0, r.containsKey(st.lastSeq()), where + ": last flag of " + subject);
            }
        }
    }

    private static void assertSame(StoredMessage expected, StoredMessage actual, String where) {
        if (expected == null || actual == null) {
            assertEquals(expected, actual, where);
            return;
        }
        assertEquals(expected.seq(), actual.seq(), where);
        assertEquals(expected.subject(), actual.subject(), where);
        assertArrayEquals(expected.payload(), actual.payload(), where);
        assertEquals(expected.timestamp(), actual.timestamp(), where);
    }

    /** Stored sizes differ between the stores, and so does an empty store's first timestamp (0 or emptied-by-removal). */
    private static StreamState withoutBytes(StreamState s) {
        return new StreamState(s.msgs(), 0, s.firstSeq(), s.msgs() == 0 ? 0 : s.firstTimestamp(), s.lastSeq(),
                s.lastTimestamp(),
                s.numSubjects(), s.numDeleted());
    }

    private static java.util.List<Long> sorted(long[] seqs) {
        return java.util.Arrays.stream(seqs).sorted().boxed().toList();
    }

    /** What {@link StreamStore#forEachSubject} visits, in visiting order (checked to be ascending by subject). */
    private static Map<String, Long> visited(StreamStore store, String filter) {
        Map<String, Long> out = new java.util.LinkedHashMap<>();
        String[] previous = {null};
        store.forEachSubject(filter, (subject, msgs) -> {
            assertTrue(previous[0] == null || previous[0].compareTo(subject) < 0, "ascending at " + subject);
            previous[0] = subject;
            out.put(subject, msgs);
        });
        return new java.util.TreeMap<>(out);
    }
}
