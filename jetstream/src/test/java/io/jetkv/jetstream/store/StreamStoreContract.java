package io.jetkv.jetstream.store;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Behaviour every {@link StreamStore} must have. Subclasses supply a fresh store and may override
 * {@link #cycle} to push the store through persistence (flush, close, reopen) at the points where a test
 * calls {@link #reload()}.
 */
abstract class StreamStoreContract {
    static final byte[] HDR = "NATS/1.0\r\nk: v\r\n\r\n".getBytes(UTF_8);

    protected StreamStore store;

    /** A new, empty store. */
    protected abstract StreamStore newStore();

    /**
     * The first timestamp an emptied store reports once its last message was removed (not purged): the file store
     * reports it as nats-server's file store does ({@link StreamState#EMPTIED_BY_REMOVAL}), memory 0.
     */
    protected long firstTimestampAfterLastRemoved() {
        return 0;
    }

    /** The same store after whatever round trip the implementation can make; identity by default. */
    protected StreamStore cycle(StreamStore s) {
        return s;
    }

    @BeforeEach
    void openStore() {
        store = newStore();
    }

    @AfterEach
    void closeStore() {
        store.close();
    }

    protected void reload() {
        store = cycle(store);
    }

    long put(String subject, String payload) {
        return store.append(subject, null, payload.getBytes(UTF_8), 1000 + store.state().lastSeq());
    }

    static String text(StoredMessage m) {
        return new String(m.payload(), UTF_8);
    }

    long size(String subject, byte[] headers, String payload) {
        return sizeOf(new StoredMessage(0, subject, headers, payload.getBytes(UTF_8), 0));
    }

    /** The store's accounting size: nats-server counts memory and file storage differently. */
    protected long sizeOf(StoredMessage m) {
        return m.storedSize();
    }

    // ---- append and load

    @Test
    void newStoreIsEmpty() {
        StreamState s = store.state();
        assertEquals(new StreamState(0, 0, 1, 0, 0, 0, 0, 0), s);
        assertNull(store.load(1));
        assertNull(store.loadNext(0, null));
        assertNull(store.loadLast(null));
        assertEquals(0, store.deletedSequences().length);
    }

    /** The duplicate window's restart reads its messages only when an id may be among them. */
    @Test
    void lastMsgIdSeqFollowsAppendsWithAnIdWhateverTheirPath() {
        assertEquals(0, store.lastMsgIdSeq(), "a new store knows there is none");
        put("a", "1");
        store.append("a", HDR, "2".getBytes(UTF_8), 1001);
        assertEquals(0, store.lastMsgIdSeq(), "other headers are not ids");
        store.append("a", "NATS/1.0\r\nNats-Msg-Id: x\r\n\r\n".getBytes(UTF_8), "3".getBytes(UTF_8), 1002);
        put("a", "4");
        reload();
        assertEquals(3, store.lastMsgIdSeq());
        store.append("b", "NATS/1.0\r\nk: v\r\nnats-msg-id: y\r\n\r\n".getBytes(UTF_8), "5".getBytes(UTF_8), 1004);
        reload();
        assertEquals(5, store.lastMsgIdSeq(), "in any case");
        store.msgIdsScanned(1);
        assertEquals(5, store.lastMsgIdSeq(), "a store that knows keeps what it knows");
    }

    @Test
    void appendAssignsConsecutiveSequences() {
        assertEquals(1, put("a", "1"));
        assertEquals(2, put("b", "2"));
        assertEquals(3, put("a", "3"));
        reload();
        assertEquals(4, put("c", "4"));
        assertEquals(4, store.state().lastSeq());
    }

    @Test
    void loadReturnsWhatWasAppended() {
        store.append("orders.1", HDR, "one".getBytes(UTF_8), 123456789L);
        store.append("orders.2", null, new byte[0], 987654321L);
        reload();
        StoredMessage m1 = store.load(1);
        assertEquals(1, m1.seq());
        assertEquals("orders.1", m1.subject());
        assertArrayEquals(HDR, m1.headers());
        assertEquals("one", text(m1));
        assertEquals(123456789L, m1.timestamp());
        StoredMessage m2 = store.load(2);
        assertNull(m2.headers());
        assertEquals(0, m2.payload().length);
        assertEquals(987654321L, m2.timestamp());
        assertNull(store.load(0));
        assertNull(store.load(3));
    }

    @Test
    void emptyHeadersDifferFromNoHeaders() {
        store.append("a", new byte[0], "x".getBytes(UTF_8), 1);
        reload();
        assertArrayEquals(new byte[0], store.load(1).headers());
    }

    @Test
    void unicodeSubjectRoundTrips() {
        store.append("prix.\u00e9t\u00e9", null, "x".getBytes(UTF_8), 1);
        reload();
        assertEquals("prix.\u00e9t\u00e9", store.load(1).subject());
        assertEquals(1, store.subjectState("prix.\u00e9t\u00e9").msgs());
        assertEquals(1, store.loadNext(1, "prix.\u00e9t\u00e9").seq());
    }

    @Test
    void stateCountsMessagesBytesAndTimestamps() {
        store.append("a", HDR, "hello".getBytes(UTF_8), 10);
        store.append("b.c", null, "xy".getBytes(UTF_8), 20);
        store.append("a", null, "".getBytes(UTF_8), 30);
        reload();
        long bytes = size("a", HDR, "hello") + size("b.c", null, "xy") + size("a", null, "");
        assertEquals(new StreamState(3, bytes, 1, 10, 3, 30, 2, 0), store.state());
    }

    // ---- remove

    @Test
    void removeInteriorLeavesAGap() {
        for (int i = 1; i <= 5; i++) {
            put("s", "m" + i);
        }
        assertTrue(store.remove(3, false));
        reload();
        assertNull(store.load(3));
        StreamState s = store.state();
        assertEquals(4, s.msgs());
        assertEquals(1, s.firstSeq());
        assertEquals(5, s.lastSeq());
        assertEquals(1, s.numDeleted());
        assertEquals(4 * size("s", null, "m1"), s.bytes());
        assertArrayEquals(new long[] {3}, store.deletedSequences());
        assertEquals(4, store.loadNext(3, null).seq());
        assertEquals(4, store.loadNext(3, "s").seq());
    }

    @Test
    void removeFirstAdvancesFirstSequenceAndTimestamp() {
        put("a", "1");
        put("b", "2");
        put("a", "3");
        assertTrue(store.remove(1, false));
        assertTrue(store.remove(2, true));
        reload();
        StreamState s = store.state();
        assertEquals(1, s.msgs());
        assertEquals(3, s.firstSeq());
        assertEquals(1002, s.firstTimestamp());
        assertEquals(0, s.numDeleted());
        assertEquals(1, s.numSubjects());
        assertEquals(new SubjectState(1, 3, 3), store.subjectState("a"));
        assertEquals(SubjectState.EMPTY, store.subjectState("b"));
    }

    @Test
    void removeMissingReturnsFalse() {
        put("a", "1");
        put("a", "2");
        assertFalse(store.remove(0, false));
        assertFalse(store.remove(3, false));
        assertTrue(store.remove(2, false));
        assertFalse(store.remove(2, false));
        reload();
        assertFalse(store.remove(2, false));
        assertEquals(1, store.state().msgs());
    }

    @Test
    void removeLastKeepsLastSequence() {
        put("a", "1");
        put("a", "2");
        put("b", "3");
        assertTrue(store.remove(3, false));
        assertTrue(store.remove(2, false));
        reload();
        StreamState s = store.state();
        assertEquals(1, s.msgs());
        assertEquals(3, s.lastSeq());
        assertEquals(2, s.numDeleted());
        assertArrayEquals(new long[] {2, 3}, store.deletedSequences());
        assertEquals(new SubjectState(1, 1, 1), store.subjectState("a"));
        assertEquals(1, store.loadLast(null).seq());
        assertEquals(4, put("c", "4"));
    }

    @Test
    void removeEverythingEmptiesTheStore() {
        put("a", "1");
        put("b", "2");
        store.remove(2, false);
        store.remove(1, false);
        reload();
        assertEquals(new StreamState(0, 0, 3, firstTimestampAfterLastRemoved(), 2, 1001, 0, 0), store.state());
        assertEquals(3, put("a", "3"));
        assertEquals(3, store.state().firstSeq());
    }

    @Test
    void subjectFirstAndLastFollowRemovals() {
        for (int i = 1; i <= 6; i++) {
            put(i % 2 == 0 ? "even" : "odd", "m" + i);
        }
        store.remove(2, false);
        store.remove(6, false);
        reload();
        assertEquals(new SubjectState(1, 4, 4), store.subjectState("even"));
        assertEquals(new SubjectState(3, 1, 5), store.subjectState("odd"));
        assertEquals(4, store.loadLast("even").seq());
    }

    // ---- purge

    @Test
    void purgeAllKeepsLastSequence() {
        put("a", "1");
        put("b", "2");
        put("a", "3");
        assertEquals(3, store.purge(null, 0, 0));
        reload();
        assertEquals(new StreamState(0, 0, 4, 0, 3, 1002, 0, 0), store.state());
        assertNull(store.load(1));
        assertNull(store.loadNext(0, null));
        assertNull(store.loadLast("a"));
        assertEquals(SubjectState.EMPTY, store.subjectState("a"));
        assertEquals(4, put("a", "4"));
        reload();
        assertEquals(new SubjectState(1, 4, 4), store.subjectState("a"));
        assertEquals(new StreamState(1, size("a", null, "4"), 4, 1003, 4, 1003, 1, 0), store.state());
        assertEquals(4, store.loadNext(0, "a").seq());
        assertEquals(1, store.countMatching(0, "a"));
    }

    @Test
    void purgeGreaterThanAllIsZero() {
        assertEquals(0, store.purge(null, 0, 0));
        put("a", "1");
        assertEquals(0, store.purge(null, 0, 5));
        assertEquals(0, store.purge(null, 1, 0));
        assertEquals(0, store.purge("zzz", 0, 0));
        assertEquals(1, store.state().msgs());
    }

    @Test
    void purgeEverythingWithGtFilter() {
        put("a", "1");
        put("b.c", "2");
        assertEquals(2, store.purge(">", 0, 0));
        reload();
        assertEquals(0, store.state().msgs());
        assertEquals(2, store.state().lastSeq());
    }

    @Test
    void purgeLiteralFilterRemovesOnlyThatSubject() {
        put("a", "1");
        put("b", "2");
        put("a", "3");
        put("c", "4");
        assertEquals(2, store.purge("a", 0, 0));
        reload();
        StreamState s = store.state();
        assertEquals(2, s.msgs());
        assertEquals(2, s.firstSeq());
        assertEquals(4, s.lastSeq());
        assertEquals(1, s.numDeleted());
        assertEquals(2, s.numSubjects());
        assertEquals(2 * size("b", null, "2"), s.bytes());
        assertArrayEquals(new long[] {3}, store.deletedSequences());
        assertNull(store.loadLast("a"));
        assertEquals(Map.of("b", 1L, "c", 1L), store.subjectCounts(null));
    }

    @Test
    void purgeUpToSequence() {
        for (int i = 1; i <= 10; i++) {
            put(i % 3 == 0 ? "x" : "y", "m" + i);
        }
        assertEquals(4, store.purge(null, 5, 0));
        reload();
        StreamState s = store.state();
        assertEquals(6, s.msgs());
        assertEquals(5, s.firstSeq());
        assertEquals(1004, s.firstTimestamp());
        assertEquals(5 * size("x", null, "m1") + size("y", null, "m10"), s.bytes());
        assertEquals(new SubjectState(2, 6, 9), store.subjectState("x"));
        assertEquals(new SubjectState(4, 5, 10), store.subjectState("y"));
        assertNull(store.load(4));
        assertEquals(5, store.loadNext(0, null).seq());
        assertEquals(6, store.loadNext(0, "x").seq());
        assertEquals(5, store.loadNext(0, "*").seq());
        assertEquals(2, store.countMatching(0, "x"));
        assertEquals(0, store.deletedSequences().length);
    }

    @Test
    void purgeUpToSequenceBeyondLastEmptiesButKeepsLastSeq() {
        put("a", "1");
        put("a", "2");
        assertEquals(2, store.purge(null, 100, 0));
        reload();
        StreamState s = store.state();
        assertEquals(0, s.msgs());
        assertEquals(2, s.lastSeq());
        assertEquals(3, s.firstSeq());
        assertEquals(3, put("a", "3"));
    }

    @Test
    void purgeKeepNewest() {
        for (int i = 1; i <= 6; i++) {
            put(i % 2 == 0 ? "e" : "o", "m" + i);
        }
        store.remove(5, false);
        assertEquals(3, store.purge(null, 0, 2));
        reload();
        StreamState s = store.state();
        assertEquals(2, s.msgs());
        assertEquals(4, s.firstSeq());
        assertEquals(1, s.numDeleted());
        assertEquals(new SubjectState(2, 4, 6), store.subjectState("e"));
        assertEquals(SubjectState.EMPTY, store.subjectState("o"));
    }

    @Test
    void purgeKeepNewestWalkingFromTheFront() {
        for (int i = 1; i <= 10; i++) {
            put("s", "m" + i);
        }
        assertEquals(2, store.purge(null, 0, 8));
        reload();
        assertEquals(3, store.state().firstSeq());
        assertEquals(8, store.state().msgs());
    }

    @Test
    void purgeLiteralKeep() {
        for (int i = 1; i <= 8; i++) {
            put(i <= 5 ? "k" : "other", "m" + i);
        }
        put("k", "m9");
        assertEquals(4, store.purge("k", 0, 2));
        reload();
        assertEquals(new SubjectState(2, 5, 9), store.subjectState("k"));
        assertEquals(5, store.state().msgs());
        assertEquals(5, store.state().firstSeq());
        assertArrayEquals(new long[0], store.deletedSequences());
        assertEquals(0, store.purge("k", 0, 2));
        assertEquals(0, store.purge("k", 0, 5));
    }

    @Test
    void purgeLiteralUpToSequenceAsRollup() {
        put("k", "1");
        put("j", "2");
        put("k", "3");
        put("k", "4");
        assertEquals(2, store.purge("k", 4, 0));
        reload();
        assertEquals(new SubjectState(1, 4, 4), store.subjectState("k"));
        assertEquals(2, store.state().firstSeq());
        assertArrayEquals(new long[] {3}, store.deletedSequences());
    }

    @Test
    void purgeWildcardFilter() {
        put("kv.a", "1");
        put("kv.b", "2");
        put("other", "3");
        put("kv.a", "4");
        put("kv.c.d", "5");
        assertEquals(3, store.purge("kv.*", 0, 0));
        reload();
        assertEquals(Map.of("kv.c.d", 1L, "other", 1L), store.subjectCounts(null));
        assertEquals(3, store.state().firstSeq());
        assertEquals(2, store.state().msgs());
        assertArrayEquals(new long[] {4}, store.deletedSequences());
        assertEquals(1, store.purge("kv.>", 0, 0));
        assertEquals(1, store.state().msgs());
    }

    @Test
    void purgeWildcardFilterUpToSequence() {
        put("kv.a", "1");
        put("kv.b", "2");
        put("kv.a", "3");
        put("x", "4");
        put("kv.b", "5");
        assertEquals(3, store.purge("kv.*", 5, 0));
        reload();
        assertEquals(new SubjectState(1, 5, 5), store.subjectState("kv.b"));
        assertEquals(SubjectState.EMPTY, store.subjectState("kv.a"));
        assertEquals(4, store.state().firstSeq());
    }

    @Test
    void lastSeqsMatchingGivesEachSubjectsLastSequence() {
        put("kv.a", "1");
        put("kv.b", "2");
        put("x", "3");
        put("kv.a", "4");
        put("kv.c.d", "5");
        store.remove(2, true);
        reload();
        assertEquals(java.util.List.of(3L, 4L, 5L), sortedSeqs(store.lastSeqsMatching(null)));
        assertEquals(java.util.List.of(3L, 4L, 5L), sortedSeqs(store.lastSeqsMatching(">")));
        assertEquals(java.util.List.of(4L, 5L), sortedSeqs(store.lastSeqsMatching("kv.>")));
        assertEquals(java.util.List.of(4L), sortedSeqs(store.lastSeqsMatching("kv.*")));
        assertEquals(java.util.List.of(4L), sortedSeqs(store.lastSeqsMatching("kv.a")));
        assertEquals(java.util.List.of(), sortedSeqs(store.lastSeqsMatching("kv.b")), "its only message is gone");
        assertEquals(java.util.List.of(), sortedSeqs(store.lastSeqsMatching("nope")));
    }

    private static java.util.List<Long> sortedSeqs(long[] seqs) {
        return java.util.Arrays.stream(seqs).sorted().boxed().toList();
    }

    @Test
    void subjectsMatchingListsStoredSubjectsUnordered() {
        put("kv.b", "1");
        put("kv.a", "2");
        put("x", "3");
        put("kv.a", "4");
        assertEquals(java.util.Set.of("kv.a", "kv.b"), java.util.Set.of(store.subjectsMatching("kv.*")));
        assertEquals(3, store.subjectsMatching(null).length);
        assertEquals(1, store.purge("kv.b", 0, 0));
        assertEquals(java.util.Set.of("kv.a", "x"), java.util.Set.of(store.subjectsMatching(">")));
    }

    @Test
    void purgeWildcardKeepCountsOverAllMatches() {
        put("kv.a", "1");
        put("kv.b", "2");
        put("x", "3");
        put("kv.a", "4");
        put("kv.c", "5");
        put("x", "6");
        assertEquals(1, store.purge("kv.*", 0, 3));
        reload();
        assertEquals(Map.of("kv.a", 1L, "kv.b", 1L, "kv.c", 1L, "x", 2L), store.subjectCounts(null));
        assertEquals(new SubjectState(1, 4, 4), store.subjectState("kv.a"));
        assertEquals(2, store.state().firstSeq());
        assertEquals(2, store.purge("kv.*", 0, 1));
        reload();
        assertEquals(Map.of("kv.c", 1L, "x", 2L), store.subjectCounts(null));
        assertEquals(3, store.state().firstSeq());
        assertArrayEquals(new long[] {4}, store.deletedSequences());
    }

    @Test
    void purgeWildcardCoveringEverySubject() {
        put("kv.a", "1");
        put("kv.b", "2");
        put("kv.a", "3");
        assertEquals(2, store.purge("kv.*", 0, 1));
        reload();
        assertEquals(new SubjectState(1, 3, 3), store.subjectState("kv.a"));
        assertEquals(1, store.state().msgs());
        assertEquals(1, store.purge("kv.>", 0, 0));
        assertEquals(0, store.state().msgs());
        assertEquals(3, store.state().lastSeq());
    }

    @Test
    void purgeTwiceBeforeReload() {
        for (int i = 1; i <= 10; i++) {
            put("s" + (i % 3), "m" + i);
        }
        assertEquals(3, store.purge(null, 4, 0));
        assertEquals(3, store.purge(null, 7, 0));
        put("s9", "m11");
        reload();
        assertEquals(5, store.state().msgs());
        assertEquals(7, store.state().firstSeq());
        assertEquals(Map.of("s0", 1L, "s1", 2L, "s2", 1L, "s9", 1L), store.subjectCounts(null));
    }

    // ---- skipTo

    @Test
    void skipToOnEmptyStore() {
        store.skipTo(100);
        reload();
        StreamState s = store.state();
        assertEquals(0, s.msgs());
        assertEquals(99, s.lastSeq());
        assertEquals(100, s.firstSeq());
        assertEquals(100, put("a", "1"));
        reload();
        assertEquals(100, store.state().firstSeq());
        assertEquals(100, store.loadNext(0, null).seq());
    }

    @Test
    void skipToRemovesEverythingBelow() {
        put("a", "1");
        put("b", "2");
        store.skipTo(10);
        reload();
        StreamState s = store.state();
        assertEquals(0, s.msgs());
        assertEquals(9, s.lastSeq());
        assertEquals(10, s.firstSeq());
        assertEquals(0, s.numSubjects());
        assertNull(store.load(1));
        assertEquals(10, put("a", "3"));
        assertEquals(new SubjectState(1, 10, 10), store.subjectState("a"));
    }

    @Test
    void skipToNeverMovesLastSequenceBack() {
        put("a", "1");
        put("a", "2");
        store.purge(null, 0, 0);
        store.skipTo(2);
        reload();
        assertEquals(2, store.state().lastSeq());
        assertEquals(3, put("a", "3"));
    }

    // ---- loads

    @Test
    void loadNextWithLiteralAndWildcardFilters() {
        put("orders.new", "1");
        put("orders.paid", "2");
        put("users.x", "3");
        put("orders.new", "4");
        put("orders.new.eu", "5");
        reload();
        assertEquals(1, store.loadNext(0, null).seq());
        assertEquals(3, store.loadNext(3, ">").seq());
        assertEquals(4, store.loadNext(2, "orders.new").seq());
        assertNull(store.loadNext(5, "orders.new"));
        assertEquals(2, store.loadNext(2, "orders.*").seq());
        assertEquals(4, store.loadNext(3, "orders.*").seq());
        assertEquals(5, store.loadNext(5, "orders.>").seq());
        assertEquals(5, store.loadNext(1, "*.*.eu").seq());
        assertNull(store.loadNext(6, null));
        assertNull(store.loadNext(1, "nothing"));
        assertNull(store.loadNext(1, "nothing.*"));
        assertEquals("orders.new", store.loadNext(4, "orders.new").subject());
    }

    /** Sequences {@link StreamStore#loadNextBatch} gives. */
    List<Long> batch(long from, long to, String filter, int max) {
        return batch(from, to, filter, max, Long.MAX_VALUE);
    }

    List<Long> batch(long from, long to, String filter, int max, long maxBytes) {
        List<StoredMessage> out = new ArrayList<>();
        int n = store.loadNextBatch(from, to, filter, max, maxBytes, out);
        assertEquals(out.size(), n);
        return out.stream().map(StoredMessage::seq).toList();
    }

    @Test
    void loadNextBatchMatchesRepeatedLoadNext() {
        put("orders.new", "1");
        put("orders.paid", "2");
        put("users.x", "3");
        put("orders.new", "4");
        put("orders.new.eu", "5");
        put("orders.new", "6");
        store.remove(4, false);
        reload();
        assertEquals(List.of(1L, 2L, 3L, 5L, 6L), batch(0, Long.MAX_VALUE, null, 100));
        assertEquals(List.of(2L, 3L), batch(2, 3, ">", 100));
        assertEquals(List.of(2L, 3L), batch(2, 6, null, 2));
        assertEquals(List.of(1L, 6L), batch(1, 6, "orders.new", 100));
        assertEquals(List.of(6L), batch(2, 6, "orders.new", 100));
        assertEquals(List.of(1L), batch(1, 5, "orders.new", 100));
        assertEquals(List.of(1L), batch(1, 6, "orders.new", 1));
        assertEquals(List.of(1L, 2L, 6L), batch(1, 6, "orders.*", 100));
        assertEquals(List.of(5L), batch(1, 6, "*.*.eu", 100));
        assertEquals(List.of(), batch(7, 10, null, 100));
        assertEquals(List.of(), batch(3, 2, null, 100));
        assertEquals(List.of(), batch(1, 6, "nothing", 100));
        assertEquals(List.of(), batch(1, 6, null, 0));
        // payloads of one byte: the byte budget stops after the message that reaches it, never before the first
        assertEquals(List.of(1L, 2L), batch(1, 6, null, 100, 2));
        assertEquals(List.of(1L), batch(1, 6, null, 100, 1));
        assertEquals(List.of(1L, 6L), batch(1, 6, "orders.new", 100, 2));
        assertEquals(List.of(1L, 2L), batch(1, 6, "orders.*", 100, 2));
        List<StoredMessage> out = new ArrayList<>();
        store.loadNextBatch(6, 6, "orders.new", 1, Long.MAX_VALUE, out);
        StoredMessage m = out.get(0);
        assertEquals("orders.new", m.subject());
        assertEquals("6", text(m));
        assertEquals(1005, m.timestamp());
    }

    @Test
    void loadNextBatchOnTheOnlySubjectSkipsRemovedMessages() {
        for (int i = 1; i <= 10; i++) {
            put("only", "m" + i);
        }
        store.remove(3, false);
        store.purge(null, 2, 0);
        assertEquals(List.of(2L, 4L, 5L), batch(0, 10, "only", 3));
        reload();
        assertEquals(List.of(9L, 10L), batch(9, 20, "only", 5));
    }

    @Test
    void removalsMoveOnRemovalsOnly() {
        long r0 = store.removals();
        put("a", "1");
        put("b", "2");
        put("a", "3");
        put("c", "4");
        assertEquals(r0, store.removals());
        assertEquals(4, store.lastSeq());
        store.remove(2, false);
        long r1 = store.removals();
        assertTrue(r1 != r0);
        assertFalse(store.remove(2, false));
        assertEquals(r1, store.removals());
        store.purge("a", 0, 0);
        long r2 = store.removals();
        assertTrue(r2 != r1);
        store.skipTo(10);
        assertTrue(store.removals() != r2);
        assertEquals(9, store.lastSeq());
    }

    @Test
    void maxRemovedSeqCoversEveryRemoval() {
        assertEquals(0, store.maxRemovedSeq());
        for (int i = 1; i <= 8; i++) {
            put(i % 2 == 0 ? "even" : "odd", "v" + i);
        }
        assertEquals(0, store.maxRemovedSeq(), "appends remove nothing");
        store.remove(3, false);
        assertEquals(3, store.maxRemovedSeq());
        store.remove(2, false);
        assertEquals(3, store.maxRemovedSeq(), "a lower removal leaves the highest");
        // a subject purge removes 6 (and 4) of "even", keeping the newest one
        store.purge("even", 0, 1);
        assertTrue(store.maxRemovedSeq() >= 6, "subject purge: " + store.maxRemovedSeq());
        // purge below 8 removes 5 and 7
        store.purge(null, 8, 0);
        assertTrue(store.maxRemovedSeq() >= 7, "purge up to a sequence: " + store.maxRemovedSeq());
        store.flush(false);
        put("odd", "v9");
        store.purge(null, 0, 0);
        assertTrue(store.maxRemovedSeq() >= 9, "full purge: " + store.maxRemovedSeq());
        store.skipTo(20);
        put("odd", "v20");
        store.skipTo(30);
        assertTrue(store.maxRemovedSeq() >= 20, "skipTo: " + store.maxRemovedSeq());
    }

    @Test
    void removeRightAfterLoadStillSeesRemovalsInBetween() {
        for (int i = 1; i <= 6; i++) {
            put(i % 3 == 0 ? "x" : "q", "v" + i);
        }
        assertEquals("v2", text(store.load(2)));
        assertTrue(store.remove(2, false));
        assertFalse(store.remove(2, false), "removed once");
        assertEquals("v3", text(store.load(3)));
        store.purge("x", 0, 0); // removes 3 and 6 behind the load's back
        assertFalse(store.remove(3, false));
        assertEquals(3, store.state().msgs());
        assertEquals("v4", text(store.load(4)));
        store.flush(false);
        assertTrue(store.remove(4, false));
        assertEquals(2, store.state().msgs());
        reload();
        assertEquals(2, store.state().msgs());
        assertNull(store.load(4));
        assertEquals("v5", text(store.load(5)));
    }

    /** The bytes of every message still stored, by this store's accounting. */
    private long bytesStored() {
        long total = 0;
        for (long seq = 1; seq <= store.lastSeq(); seq++) {
            StoredMessage m = store.load(seq);
            total += m == null ? 0 : store.storedSize(m);
        }
        return total;
    }

    @Test
    void removeWithTheSubjectAndSizeOfAnEarlierLoad() {
        String[] subjects = {"a", "b", "a", "a", "b", "a"};
        long[] sizes = new long[subjects.length + 1];
        for (int i = 0; i < subjects.length; i++) {
            long seq = put(subjects[i], "payload " + i);
            sizes[(int) seq] = store.storedSize(store.load(seq));
        }
        assertEquals(store.state().bytes(), bytesStored());

        assertTrue(store.remove(1, "a", sizes[1], false), "a subject's first");
        assertEquals(new SubjectState(3, 3, 6), store.subjectState("a"));
        assertTrue(store.remove(4, "a", sizes[4], false), "between first and last");
        assertFalse(store.remove(4, "a", sizes[4], false), "gone already");
        assertTrue(store.remove(6, "a", sizes[6], false), "a subject's last");
        assertEquals(new SubjectState(1, 3, 3), store.subjectState("a"));
        assertFalse(store.remove(1, "a", sizes[1], false), "below the subject's first");
        assertTrue(store.remove(2, "b", sizes[2], false));
        assertEquals(2, store.state().msgs());
        assertEquals(3, store.state().firstSeq());
        assertEquals(bytesStored(), store.state().bytes());
        store.flush(false);
        reload();
        assertEquals(2, store.state().msgs());
        assertEquals(bytesStored(), store.state().bytes());
        assertEquals(new SubjectState(1, 5, 5), store.subjectState("b"));
    }

    @Test
    void removeFirstKeepsTheCountsAsAPerSubjectLimitUsesIt() {
        assertFalse(store.removeFirst("k"));
        // a history-1 key: each put, then the previous revision goes
        put("k", "v1");
        for (int i = 2; i <= 5; i++) {
            put("k", "v" + i + "x".repeat(i * 10));
            assertTrue(store.removeFirst("k"));
            assertEquals(new SubjectState(1, i, i), store.subjectState("k"));
            assertEquals(bytesStored(), store.state().bytes(), "after revision " + i);
        }
        // another subject in between; the newest removed directly, then the rest from the oldest on
        for (int i = 0; i < 6; i++) {
            put("h", "h" + i + "y".repeat(i * 7));
            put("o", "o" + i + "z".repeat(i * 5));
        }
        assertTrue(store.removeFirst("h"));
        assertTrue(store.remove(store.subjectState("h").lastSeq(), false));
        for (int left = 3; left >= 0; left--) {
            assertTrue(store.removeFirst("h"));
            assertEquals(left, store.subjectState("h").msgs());
            assertEquals(bytesStored(), store.state().bytes(), left + " left on h");
        }
        assertFalse(store.removeFirst("h"));
        // a purge raises the first: the next removal reads it
        store.purge("o", 0, 2);
        assertTrue(store.removeFirst("o"));
        assertEquals(new SubjectState(1, 17, 17), store.subjectState("o"));
        assertEquals(bytesStored(), store.state().bytes());
        store.flush(false);
        reload();
        // sizes are not known after reopening: the same through a read
        put("k", "v6");
        assertTrue(store.removeFirst("k"));
        assertTrue(store.removeFirst("o"));
        assertEquals(new SubjectState(1, 18, 18), store.subjectState("k"));
        assertEquals(SubjectState.EMPTY, store.subjectState("o"));
        assertEquals(bytesStored(), store.state().bytes());
        store.flush(false);
        reload();
        assertEquals(bytesStored(), store.state().bytes());
    }

    @Test
    void subjectFirstAfterRemovingItsFirst() {
        put("a", "1");
        put("b", "2");
        put("a", "3");
        put("a", "4");
        put("a", "5");
        put("c", "6");
        put("c", "7");
        put("c", "8");
        // a holds 1, 3, 4, 5: a gap, so its next first is found in the index
        assertTrue(store.remove(1, false));
        assertEquals(new SubjectState(3, 3, 5), store.subjectState("a"));
        // a holds 3, 4, 5 without gaps
        assertTrue(store.remove(3, false));
        assertEquals(new SubjectState(2, 4, 5), store.subjectState("a"));
        assertTrue(store.remove(6, false));
        assertEquals(new SubjectState(2, 7, 8), store.subjectState("c"));
        assertTrue(store.remove(2, false));
        assertEquals(4, store.state().firstSeq());
        store.flush(false);
        reload();
        assertEquals(new SubjectState(2, 4, 5), store.subjectState("a"));
        assertEquals(new SubjectState(2, 7, 8), store.subjectState("c"));
        assertEquals(4, store.state().firstSeq());
    }

    @Test
    void loadLastWithFilters() {
        put("a.1", "1");
        put("a.2", "2");
        put("b", "3");
        put("a.1", "4");
        reload();
        assertEquals(4, store.loadLast(null).seq());
        assertEquals(4, store.loadLast("a.1").seq());
        assertEquals(2, store.loadLast("a.2").seq());
        assertEquals(4, store.loadLast("a.*").seq());
        assertEquals(3, store.loadLast("b").seq());
        assertNull(store.loadLast("c"));
        assertNull(store.loadLast("c.*"));
        store.remove(4, false);
        assertEquals(3, store.loadLast(null).seq());
        assertEquals(1, store.loadLast("a.1").seq());
        assertEquals(2, store.loadLast("a.*").seq());
    }

    // ---- subject queries

    @Test
    void subjectCountsOrderedAndFiltered() {
        put("z", "1");
        put("a.b", "2");
        put("a.c", "3");
        put("a.b", "4");
        reload();
        Map<String, Long> all = store.subjectCounts(null);
        assertEquals(List.of("a.b", "a.c", "z"), List.copyOf(all.keySet()));
        assertEquals(2L, all.get("a.b"));
        assertEquals(Map.of("a.b", 2L, "a.c", 1L), store.subjectCounts("a.*"));
        assertEquals(Map.of("z", 1L), store.subjectCounts("z"));
        assertEquals(Map.of(), store.subjectCounts("q"));
        assertEquals(new SubjectState(2, 2, 4), store.subjectState("a.b"));
        assertEquals(SubjectState.EMPTY, store.subjectState("nope"));
    }

    @Test
    void countMatchingFromSequence() {
        for (int i = 1; i <= 20; i++) {
            put(i % 2 == 0 ? "ev.x" : "od.x", "m" + i);
        }
        store.remove(10, false);
        store.remove(11, false);
        reload();
        assertEquals(18, store.countMatching(0, null));
        assertEquals(18, store.countMatching(1, ">"));
        assertEquals(9, store.countMatching(10, null));
        assertEquals(1, store.countMatching(20, null));
        assertEquals(16, store.countMatching(3, null));
        assertEquals(0, store.countMatching(21, null));
        assertEquals(9, store.countMatching(0, "ev.x"));
        assertEquals(5, store.countMatching(10, "ev.x"));
        assertEquals(1, store.countMatching(19, "ev.x"));
        assertEquals(8, store.countMatching(4, "ev.x"));
        assertEquals(4, store.countMatching(12, "od.x"));
        assertEquals(9, store.countMatching(10, "*.x"));
        assertEquals(0, store.countMatching(1, "zz.*"));
    }

    /** With one or two messages left, the stream's last sequence need not be a stored message. */
    @Test
    void countMatchingAllWhenTheLastSequenceIsNotStored() {
        put("a", "1");
        put("b", "2");
        store.remove(2, false); // one message left, last sequence 2
        assertEquals(0, store.countMatching(2, ">"));
        assertEquals(0, store.countMatching(2, null));
        assertEquals(1, store.countMatching(1, null));
        put("a", "3");
        store.advanceTo(10); // two messages (1, 3), last sequence 9
        reload();
        assertEquals(0, store.countMatching(5, null));
        assertEquals(1, store.countMatching(2, ">"));
        assertEquals(2, store.countMatching(1, null));
        assertEquals(1, store.countMatching(2, "a"));
    }

    @Test
    void deletedSequencesListsInteriorGaps() {
        for (int i = 1; i <= 10; i++) {
            put("s", "m" + i);
        }
        store.remove(1, false);
        store.remove(4, false);
        store.remove(5, false);
        store.remove(9, false);
        reload();
        assertArrayEquals(new long[] {4, 5, 9}, store.deletedSequences());
        assertEquals(3, store.state().numDeleted());
        assertEquals(2, store.state().firstSeq());
    }

    @Test
    void manyMessagesAcrossSubjects() {
        for (int i = 1; i <= 2000; i++) {
            put("t." + (i % 7), "payload-" + i);
        }
        reload();
        assertEquals(2000, store.state().msgs());
        assertEquals(7, store.state().numSubjects());
        assertEquals(286, store.countMatching(0, "t.3"));
        assertEquals(1000, store.purge(null, 1001, 0));
        assertEquals(143, store.countMatching(0, "t.3"));
        assertEquals(142, store.purge("t.3", 0, 1));
        reload();
        assertEquals(858, store.state().msgs());
        assertEquals(142, store.deletedSequences().length);
        assertEquals(1, store.countMatching(0, "t.3"));
        assertEquals(new SubjectState(1, 1998, 1998), store.subjectState("t.3"));
    }

    // ---- the TTL index (Nats-TTL)

    static final long SEC = 1_000_000_000L;

    static byte[] ttl(String value) {
        return ("NATS/1.0\r\nk: v\r\nNats-TTL: " + value + "\r\n\r\n").getBytes(UTF_8);
    }

    long putTtl(String subject, String ttl, long timestamp) {
        return store.append(subject, ttl == null ? null : ttl(ttl), new byte[0], timestamp);
    }

    static List<Long> seqs(List<StoredMessage> ms) {
        return ms.stream().map(StoredMessage::seq).toList();
    }

    @Test
    void ttlIndexHandsOutDueMessagesByDeadline() {
        assertEquals(Long.MAX_VALUE, store.nextTtlDeadline());
        putTtl("a", "10", 100 * SEC); // deadline 110 s
        putTtl("b", "2s", 100 * SEC); // 102 s
        putTtl("c", null, 100 * SEC); // no TTL
        putTtl("d", "never", 100 * SEC); // never: not indexed
        putTtl("e", "1m0s", 100 * SEC); // 160 s
        putTtl("f", "0", 100 * SEC); // invalid: not indexed
        reload();
        assertEquals(102 * SEC, store.nextTtlDeadline());
        assertEquals(List.of(), store.takeExpiredTtl(101 * SEC, 100));
        List<StoredMessage> due = store.takeExpiredTtl(110 * SEC, 100);
        assertEquals(List.of(2L, 1L), seqs(due), "earliest deadline first");
        assertEquals("b", due.get(0).subject());
        assertEquals(160 * SEC, store.nextTtlDeadline());
        // taken entries are gone even though the messages are still stored (the caller removes them)
        assertEquals(List.of(), store.takeExpiredTtl(110 * SEC, 100));
        due.forEach(m -> store.remove(m.seq(), false));
        reload();
        assertEquals(160 * SEC, store.nextTtlDeadline());
        assertEquals(List.of(5L), seqs(store.takeExpiredTtl(Long.MAX_VALUE - 1, 100)));
        assertEquals(Long.MAX_VALUE, store.nextTtlDeadline());
        assertEquals(4, store.state().msgs());
    }

    @Test
    void ttlIndexTakesAtMostMaxAndKeepsTheRest() {
        for (int i = 1; i <= 10; i++) {
            putTtl("s." + i, i + "s", 0);
        }
        reload();
        assertEquals(List.of(1L, 2L, 3L), seqs(store.takeExpiredTtl(100 * SEC, 3)));
        assertEquals(4 * SEC, store.nextTtlDeadline());
        reload();
        assertEquals(List.of(4L, 5L, 6L, 7L), seqs(store.takeExpiredTtl(7 * SEC, 100)));
        assertEquals(8 * SEC, store.nextTtlDeadline());
    }

    @Test
    void ttlIndexDropsEntriesOfMessagesRemovedAnotherWay() {
        putTtl("a", "1", 0);
        putTtl("b", "2", 0);
        putTtl("a", "3", 0);
        putTtl("c", "4", 0);
        putTtl("d", "5", 0);
        reload();
        store.remove(2, false);
        store.purge("a", 0, 0);
        store.purge(null, 5, 0); // c (4) by floor
        reload();
        // never later than a live deadline; entries of removed messages are skipped when they come due
        assertTrue(store.nextTtlDeadline() <= 5 * SEC);
        assertEquals(List.of(5L), seqs(store.takeExpiredTtl(10 * SEC, 100)));
        assertEquals(Long.MAX_VALUE, store.nextTtlDeadline());
    }

    @Test
    void ttlIndexTakesAnEarlierDeadlineAppendedLater() {
        putTtl("a", "100", 0);
        reload();
        assertEquals(100 * SEC, store.nextTtlDeadline());
        putTtl("b", "5", 0);
        assertEquals(5 * SEC, store.nextTtlDeadline());
        reload();
        assertEquals(5 * SEC, store.nextTtlDeadline());
        assertEquals(List.of(2L), seqs(store.takeExpiredTtl(50 * SEC, 100)));
        assertEquals(100 * SEC, store.nextTtlDeadline());
    }

    // ---- the schedule index (message schedules)

    static List<Long> entrySeqs(List<long[]> entries) {
        return entries.stream().map(e -> e[1]).toList();
    }

    @Test
    void scheduleIndexHandsOutDueEntriesByDeadlineAcrossReopen() {
        assertEquals(Long.MAX_VALUE, store.nextScheduleDeadline());
        long a = put("sched.a", "x");
        long b = put("sched.b", "y");
        long c = put("sched.c", "z");
        store.indexSchedule(a, 30 * SEC);
        store.indexSchedule(b, 10 * SEC);
        store.indexSchedule(c, 20 * SEC);
        reload();
        assertEquals(10 * SEC, store.nextScheduleDeadline());
        assertEquals(List.of(), store.takeDueSchedules(9 * SEC, 100));
        List<long[]> due = store.takeDueSchedules(20 * SEC, 100);
        assertEquals(List.of(b, c), entrySeqs(due), "earliest deadline first");
        assertEquals(10 * SEC, due.get(0)[0]);
        assertEquals(30 * SEC, store.nextScheduleDeadline());
        // a repeat's next entry is staged with the take, and both survive a reopen together
        store.indexSchedule(b, 40 * SEC);
        reload();
        assertEquals(30 * SEC, store.nextScheduleDeadline());
        assertEquals(List.of(a), entrySeqs(store.takeDueSchedules(35 * SEC, 100)));
        reload();
        assertEquals(List.of(b), entrySeqs(store.takeDueSchedules(Long.MAX_VALUE - 1, 100)));
        assertEquals(Long.MAX_VALUE, store.nextScheduleDeadline());
        assertEquals(3, store.state().msgs(), "the index never removes messages");
    }

    @Test
    void scheduleIndexTakesAtMostMaxAndKeepsPastDeadlinesFirst() {
        for (int i = 1; i <= 5; i++) {
            store.indexSchedule(put("s." + i, "x"), i * SEC);
        }
        store.indexSchedule(put("s.past", "x"), -5 * SEC); // an @at long ago: due at once
        reload();
        assertTrue(store.nextScheduleDeadline() <= 0);
        assertEquals(List.of(6L, 1L), entrySeqs(store.takeDueSchedules(100 * SEC, 2)));
        assertEquals(2 * SEC, store.nextScheduleDeadline());
        reload();
        assertEquals(List.of(2L, 3L), entrySeqs(store.takeDueSchedules(3 * SEC, 100)));
    }

    @Test
    void destroyRemovesEverything() {
        put("a", "1");
        reload();
        store.destroy();
        store = newStore();
        assertEquals(0, store.state().msgs());
    }
}
