package io.jetkv.jetstream.store;

import java.util.List;
import java.util.Map;

/**
 * The messages of one stream. Implemented by {@code RocksStreamStore} (file storage) and
 * {@code MemoryStreamStore} (memory storage); both pass {@code StreamStoreContract}.
 *
 * <p>Threading: confined to the stream's single writer thread. Every method, reads included, is called
 * from that one thread, so implementations need no locks.
 *
 * <p>Writes are staged: {@link #append}, {@link #remove}, {@link #purge} and {@link #skipTo} change the
 * store's visible state at once (reads see them) and are made durable together by {@link #flush}. A crash
 * before {@code flush} returns may lose staged changes but never tears them: after restart the store holds
 * exactly the state of some completed flush. The stream sends pub acks only after {@code flush}.
 *
 * <p>A {@code flush} that throws leaves the store <em>failed</em>: memory is ahead of disk, so it must be
 * closed and opened again, which brings back the state of the last flush that reached disk (the failed
 * one's changes wholly or not at all). Until then every change and every {@code flush} throws
 * {@link StoreException} without writing anything; reads still answer from memory, unflushed changes
 * included, and {@link #close} and {@link #destroy} work.
 *
 * <p>Subject filters may hold wildcards ({@code *}, {@code >}); null or {@code ">"} means every subject.
 */
public interface StreamStore extends AutoCloseable {

    /** Stores a message with sequence {@code lastSeq + 1} and returns that sequence. */
    long append(String subject, byte[] headers, byte[] payload, long timestamp);

    /**
     * Moves the sequence forward so that the next append gets {@code nextSeq}. Only valid when the store
     * holds no message at or above {@code nextSeq}; messages below it are removed (used by purge-to-seq on
     * an emptied stream and by {@code first_seq}).
     */
    void skipTo(long nextSeq);

    /**
     * Moves the sequence forward so that the next append gets {@code nextSeq}, keeping every stored message:
     * the skipped sequences become interior deletes (a mirror keeps its origin's sequences this way). On an
     * empty store it behaves like {@link #skipTo}. No effect when {@code nextSeq <= lastSeq + 1}.
     */
    default void advanceTo(long nextSeq) {
        throw new UnsupportedOperationException("advanceTo");
    }

    /**
     * Stages a small named value that is made durable by the same {@link #flush} as the messages staged with
     * it (a source's position rides with the messages it copied). Null removes it. Destroyed with the store.
     */
    default void putAux(String key, byte[] value) {
        throw new UnsupportedOperationException("putAux");
    }

    /** A value stored by {@link #putAux} (staged ones included), or null. */
    default byte[] getAux(String key) {
        return null;
    }

    /** Removes one message; false when it was not stored. {@code erase} overwrites the data too (no_erase=false). */
    boolean remove(long seq, boolean erase);

    /**
     * As {@link #remove(long, boolean)}, for a message the caller loaded earlier: {@code subject} and
     * {@code size} (its {@link #storedSize}) as they were then. A store may use them to skip reading the message
     * again (an ack on a work-queue stream removes what was delivered a moment ago).
     */
    default boolean remove(long seq, String subject, long size, boolean erase) {
        return remove(seq, erase);
    }

    /** Removes the oldest message on the literal {@code subject}; false when it has none. */
    default boolean removeFirst(String subject) {
        SubjectState ss = subjectState(subject);
        return ss.msgs() > 0 && remove(ss.firstSeq(), false);
    }

    /** What {@code m} counts for in this store's {@code bytes} (file and memory storage count differently). */
    default long storedSize(StoredMessage m) {
        return m.storedSize();
    }

    /**
     * Removes the messages matching {@code filter} (null: all) with sequence below {@code upToSeq}
     * (0: no bound), keeping the newest {@code keep} per filter (0: keep none; with a wildcard filter
     * {@code keep} counts over all matching messages). Returns how many were removed. Purging the whole
     * stream keeps {@code lastSeq}; the next append continues after it.
     */
    long purge(String filter, long upToSeq, long keep);

    /**
     * Makes every staged change durable in one atomic write; with {@code sync} also fsyncs. On failure
     * throws {@link StoreException} and the store is failed (see above).
     */
    void flush(boolean sync);

    /** The message at {@code seq}, or null when it is not stored. */
    StoredMessage load(long seq);

    /** The first stored message with sequence &gt;= {@code fromSeq} whose subject matches {@code filter}, or null. */
    StoredMessage loadNext(long fromSeq, String filter);

    /**
     * The first sequence whose message was stored at or after {@code epochNanos} (timestamps grow with sequences),
     * or the last sequence + 1 when none was: a binary search over {@link #loadNext}, not a scan.
     */
    default long firstSeqAtOrAfter(long epochNanos) {
        StreamState st = state();
        if (st.msgs() == 0) {
            return st.lastSeq() + 1;
        }
        long lo = st.firstSeq();
        long hi = st.lastSeq() + 1;
        while (lo < hi) {
            long mid = lo + (hi - lo) / 2;
            StoredMessage m = loadNext(mid, null);
            if (m == null || m.timestamp() >= epochNanos) {
                hi = mid;
            } else {
                lo = m.seq() + 1;
            }
        }
        return lo;
    }

    /**
     * Appends to {@code out}, ascending, the stored messages with sequence in {@code [fromSeq, toSeq]} whose
     * subject matches {@code filter}, up to {@code max} of them and stopping once their headers and payloads
     * reach {@code maxBytes}; returns how many it added. The same messages as repeated
     * {@link #loadNext} calls, in one pass: a consumer's delivery run reads ahead with it.
     */
    default int loadNextBatch(long fromSeq, long toSeq, String filter, int max, long maxBytes,
            List<StoredMessage> out) {
        int n = 0;
        long bytes = 0;
        long seq = fromSeq;
        while (n < max && bytes < maxBytes && seq <= toSeq) {
            StoredMessage m = loadNext(seq, filter);
            if (m == null || m.seq() > toSeq) {
                break;
            }
            out.add(m);
            n++;
            bytes += sizeOf(m);
            seq = m.seq() + 1;
        }
        return n;
    }

    /** Header and payload bytes of {@code m}, as {@link #loadNextBatch} budgets them. */
    static long sizeOf(StoredMessage m) {
        return (m.headers() == null ? 0 : m.headers().length) + (long) m.payload().length;
    }

    /** The stored message with the highest sequence whose subject matches {@code filter}, or null. */
    StoredMessage loadLast(String filter);

    /** {@code state().lastSeq()} without building the rest of the state. */
    default long lastSeq() {
        return state().lastSeq();
    }

    /**
     * A number that changes whenever a stored message goes (remove, purge, skipTo), never on append. Readers
     * that keep counts over a range of sequences (a consumer's {@code num_pending}) recount only when it moved.
     */
    long removals();

    /**
     * The highest sequence removed so far by this store object (0: none); an upper bound is fine. A reader whose
     * counts cover only sequences above it knows that no removal touched them, whatever {@link #removals} did:
     * the acks of a work-queue consumer remove what it already delivered, below its cursor.
     */
    long maxRemovedSeq();

    /** Current counters. Cheap: no scan. */
    StreamState state();

    /** State of one literal subject; {@link SubjectState#EMPTY} when nothing is stored on it. Cheap: no scan. */
    SubjectState subjectState(String subject);

    /** Message count per stored subject matching {@code filter}, ordered by subject. */
    Map<String, Long> subjectCounts(String filter);

    /** Receives one stored subject and how many messages it holds. */
    @FunctionalInterface
    interface SubjectCountVisitor {
        void visit(String subject, long msgs);
    }

    /**
     * Visits what {@link #subjectCounts} would return, one subject at a time, without holding them all: a stream
     * of ten million keys is paged or walked in bounded memory. Subjects come in order (byte order in the RocksDB
     * store, as nats-server sorts them); the visitor may change the store.
     */
    default void forEachSubject(String filter, SubjectCountVisitor visitor) {
        subjectCounts(filter).forEach(visitor::visit);
    }

    /**
     * The stored subjects matching {@code filter}, in no particular order: a copy that a caller may sort on
     * another thread (the KV console pages a bucket's keys this way, so that a writer never sorts millions).
     */
    default String[] subjectsMatching(String filter) {
        return subjectCounts(filter).keySet().toArray(new String[0]);
    }

    /**
     * The last sequence of each stored subject matching {@code filter}, in no particular order: where a
     * deliver-last-per-subject consumer (every KV watch and {@code keys()}) starts. Unlike
     * {@link #subjectCounts} it neither sorts subjects nor builds a map, since a watcher is made per call.
     */
    default long[] lastSeqsMatching(String filter) {
        Map<String, Long> counts = subjectCounts(filter);
        long[] out = new long[counts.size()];
        int n = 0;
        for (String subject : counts.keySet()) {
            long last = subjectState(subject).lastSeq();
            if (last > 0) {
                out[n++] = last;
            }
        }
        return n == out.length ? out : java.util.Arrays.copyOf(out, n);
    }

    /** Number of stored messages matching {@code filter} with sequence &gt;= {@code fromSeq}. */
    long countMatching(long fromSeq, String filter);

    /** The interior deleted sequences (between first and last), ascending. */
    long[] deletedSequences();

    /**
     * At least the highest sequence ever appended with a {@code Nats-Msg-Id} header (0: none was), so that a
     * restart rebuilding the duplicate window need not read the window's messages when no id can be among them;
     * {@code Long.MAX_VALUE} when the store does not know (written by a build that did not keep it). Kept by every
     * append, whatever path the message came by, and made durable with it.
     */
    default long lastMsgIdSeq() {
        return Long.MAX_VALUE;
    }

    /**
     * A store that did not know {@link #lastMsgIdSeq} learns it from a caller that read every message above
     * {@code bound} and found no {@code Nats-Msg-Id} there. No effect when the store knows.
     */
    default void msgIdsScanned(long bound) {
    }

    /**
     * The earliest deadline (epoch nanos) of a message stored with a finite {@code Nats-TTL}
     * ({@link MessageTtl#deadline}), or {@code Long.MAX_VALUE} when none is indexed. Every store indexes those
     * deadlines on append, whatever the stream's configuration, in the same flush as the message. The answer may
     * be earlier than any message still stored (an entry outlives a message removed another way until it comes
     * due) but never later. Cheap: no scan.
     */
    default long nextTtlDeadline() {
        return Long.MAX_VALUE;
    }

    /**
     * Takes from the TTL index, earliest deadline first, up to {@code max} stored messages whose deadline is at or
     * before {@code now}; entries of messages no longer stored are dropped on the way. Their entries are gone
     * afterwards, staged like every change: the caller removes the messages (or rolls them up) in the same batch.
     * Reads only index entries that are due, never the whole stream.
     */
    default List<StoredMessage> takeExpiredTtl(long now, int max) {
        return List.of();
    }

    /**
     * Stages an entry of the schedule index (2.12 message schedules): the message at {@code seq} holds a schedule
     * due at {@code deadline} (epoch nanos). Made durable by the same {@link #flush} as the changes staged with it,
     * so a schedule and the message that fired it, or its next deadline, are never torn apart by a crash. The store
     * does not read the message; an entry outlives a message removed another way until it comes due.
     */
    default void indexSchedule(long seq, long deadline) {
        throw new UnsupportedOperationException("indexSchedule");
    }

    /**
     * The earliest deadline in the schedule index, or {@code Long.MAX_VALUE} when it is empty. It may be earlier than
     * any schedule still stored, never later. Cheap: no scan.
     */
    default long nextScheduleDeadline() {
        return Long.MAX_VALUE;
    }

    /**
     * Takes from the schedule index, earliest deadline first, up to {@code max} entries due at or before {@code now},
     * each {@code {deadline, seq}}; they are gone afterwards (staged). Whether each message is still stored and
     * still a schedule is the caller's to check. Reads only entries that are due, never the whole stream.
     */
    default List<long[]> takeDueSchedules(long now, int max) {
        return List.of();
    }

    /** Removes everything this store holds, on disk too; the store is closed afterwards. */
    void destroy();

    /** Releases resources; staged changes not flushed are dropped. */
    @Override
    void close();
}
