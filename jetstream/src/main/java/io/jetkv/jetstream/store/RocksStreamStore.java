package io.jetkv.jetstream.store;

import io.jetkv.jetstream.store.SubjectRows.PerSubject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteBatchWithIndex;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * File storage for one stream, inside the server's {@link RocksStorage}. Opened with
 * {@link RocksStorage#openStream}; confined to the stream's writer thread.
 *
 * <p>Rows, all under the stream prefix {@code 02 id(8)}:
 *
 * <pre>
 * 01                              -> state: version 2, last_seq, last_ts, floor, msgs, bytes, first_seq, first_ts,
 *                                    num_subjects (8 bytes each), generation (4)
 * 05 seq(8)                       -> message, see {@link MessageCodec}
 * 06 name                         -> auxiliary value ({@link #putAux}), e.g. a source's position
 * 07 deadline(8) seq(8)           -> empty; the TTL index: messages with a finite {@code Nats-TTL} by deadline
 * 08 gen(4) subject               -> per-subject state, see {@link SubjectRows}
 * 09 gen(4) len(4) subject seq(8) -> stored size (varint); the subject index, seeked by literal filters
 * 0A gen(4) subject               -> index floor: index rows of subject below it are garbage to range-delete
 * 0B deadline(8) seq(8)           -> empty; the schedule index ({@link #indexSchedule}), kept like the TTL index
 * </pre>
 *
 * <p>The two deadline indexes (kinds 07 and 0B) are each a {@link DueIndex}.
 *
 * <p>Per-subject state lives in RocksDB, not on the heap: {@link SubjectRows} keeps a bounded cache of recently used
 * subjects and stages their rows into the same batch as the messages. Opening reads the state row, never one row per
 * subject or message. A store written by a build before these rows (state version 1, rows of kinds 02 to 04) is
 * converted once when opened.
 *
 * <p>Staged changes go into a {@link WriteBatchWithIndex}; reads merge it over the database, so they see
 * staged changes. {@link #flush} adds the changed per-subject rows and the state row to the batch and
 * writes it once (WAL on), so the database always holds the state of a completed flush.
 *
 * <p>Removing everything below a sequence (full purge, purge up to a sequence, {@link #skipTo}) does not
 * delete message rows one by one: it raises the <em>floor</em> in the state row, below which message rows are
 * dead, and records an index floor per affected subject. Removing every message also starts a new
 * <em>generation</em> of subject and index rows instead of deleting them. After the flush has been written, those
 * ranges are deleted with range tombstones; if that second write is lost, opening redoes it.
 *
 * <p>A subject with one or two messages needs no index: its messages are its first and last, which the
 * per-subject state holds. Their index rows are written only when a third message arrives (the subject row
 * records which of the two have none). A KV bucket with history 1 therefore writes no index rows at all: each
 * put appends the new revision and removes the old one, and neither ever had a row.
 *
 * <p>Interior deletes are not stored: {@code num_deleted} follows from the counters
 * ({@code last_seq - first_seq + 1 - msgs}) and {@link #deletedSequences} finds the gaps by walking the
 * message rows between first and last sequence, which only {@code deleted_details} asks for.
 *
 * <p>Erasing a message ({@code erase=true}) deletes its row like a plain remove; RocksDB drops the bytes
 * from disk when compaction reaches them.
 *
 * <p>Removing the oldest message must stay cheap: with a per-subject limit (a KV bucket's history) every
 * append removes one. When the stream's first message goes, the next is found by seeking the message rows from
 * it: the first sequence only grows, so each removed row is stepped over once. A subject left with one or two
 * messages needs no seek either; other seeks on the write path share one iterator until the next flush.
 *
 * <p>If a flush (or staging a change) fails, the store is <em>failed</em>, see {@link StreamStore}: the
 * batch is kept so reads stay consistent with the counters, but it is never written.
 */
public final class RocksStreamStore implements StreamStore {
    private static final Logger LOG = LoggerFactory.getLogger(RocksStreamStore.class);
    private static final byte K_STATE = 1;
    private static final byte K_MSG = 5;
    private static final byte K_AUX = 6;
    private static final byte K_TTL = 7;
    static final byte K_INDEX = 9;
    private static final byte K_INDEX_FLOOR = 10;
    private static final byte K_SCHEDULE = 11;
    private static final byte K_MSG_ID_MARK = 12;
    // kinds of a version-1 store, converted when opened
    private static final byte V1_SUBJECT = 2;
    private static final byte V1_INDEX_FLOOR = 3;
    private static final byte V1_INDEX = 4;
    private static final byte STATE_V1 = 1;
    private static final byte STATE_V2 = 2;
    private static final int STATE_V1_BYTES = 57;
    private static final int STATE_V2_BYTES = 69;

    private final RocksStorage storage;
    private final RocksDB db;
    private final ColumnFamilyHandle cf;
    private final String name;
    private final byte[] prefix;
    private final byte[] stateKey;
    private final byte[] msgIdMarkKey;
    private final byte[] msgPrefix;
    private final ReadOptions readOptions = new ReadOptions();
    private final WriteBatchWithIndex batch = new WriteBatchWithIndex(true);
    private final DueIndex ttls;
    private final DueIndex schedules;

    private SubjectRows subjects;
    /** Subjects whose index rows below the given sequence become garbage once the next flush is written. */
    private final Map<String, Long> indexFloors = new HashMap<>();

    private long msgs;
    private long bytes;
    private long firstSeq;
    /** Valid only while {@link #firstTimestampKnown}; read it through {@link #firstTimestamp()}. */
    private long firstTimestamp;
    private boolean firstTimestampKnown = true;
    private long lastSeq;
    private long lastTimestamp;
    /** Message rows below this sequence are dead even if still present; firstSeq >= floor always. */
    private long floor;
    private boolean floorRaised;
    /** Subject, index and index-floor rows of generations below the current one are garbage. */
    private boolean generationRaised;
    /** Grows with every removal, see {@link #removals}. */
    private long removals;
    /** See {@link #maxRemovedSeq}. */
    private long maxRemovedSeq;
    // The row the last load() read, while no removal happened since (a row never changes otherwise): an ack on
    // an interest or work-queue stream loads the message to see who still needs it, then removes it.
    private long loadedSeq = -1;
    private byte[] loadedRow;
    private long loadedAtRemovals;
    private boolean dirty;
    /** See {@link #lastMsgIdSeq}; its row is written with the next flush when {@link #msgIdMarkChanged}. */
    private long lastMsgIdSeq;
    private boolean msgIdMarkChanged;
    private boolean closed;
    /** A flush or a batch write failed: memory and batch may disagree with disk, so nothing more is written. */
    private boolean failed;
    /** Shared by the write paths' seeks, closed at flush: sees the batch as it grows (re-seek after changes). */
    private RocksIterator cursor;

    private record Victim(long seq, String subject, long size) {}

    RocksStreamStore(RocksStorage storage, String name, long id) throws RocksDBException {
        this.storage = storage;
        this.db = storage.db();
        this.cf = db.getDefaultColumnFamily();
        this.name = name;
        this.prefix = RocksStorage.streamPrefix(id);
        this.stateKey = kindKey(K_STATE);
        this.msgIdMarkKey = kindKey(K_MSG_ID_MARK);
        this.msgPrefix = kindKey(K_MSG);
        this.ttls = new DueIndex(kindKey(K_TTL), cf, batch);
        this.schedules = new DueIndex(kindKey(K_SCHEDULE), cf, batch);
        try {
            recover();
        } catch (RuntimeException | RocksDBException e) {
            batch.close();
            readOptions.close();
            throw e;
        }
    }

    /** Reads the state row and the few index floors left by an unfinished clean-up: nothing per subject. */
    private void recover() throws RocksDBException {
        byte[] state = db.get(readOptions, stateKey);
        long numSubjects = 0;
        int generation = 0;
        byte[] mark = db.get(readOptions, msgIdMarkKey);
        if (state == null) {
            firstSeq = 1;
            floor = 1;
            lastMsgIdSeq = 0; // a new store: nothing was appended, with an id or without
            msgIdMarkChanged = true;
        } else {
            // a store written before the mark was kept does not know
            lastMsgIdSeq = mark == null ? Long.MAX_VALUE : MessageCodec.getLong(mark, 0);
            boolean v1 = state.length == STATE_V1_BYTES && state[0] == STATE_V1;
            if (!v1 && (state.length != STATE_V2_BYTES || state[0] != STATE_V2)) {
                throw new StoreException("stream " + name + ": corrupt state row");
            }
            lastSeq = MessageCodec.getLong(state, 1);
            lastTimestamp = MessageCodec.getLong(state, 9);
            floor = MessageCodec.getLong(state, 17);
            msgs = MessageCodec.getLong(state, 25);
            bytes = MessageCodec.getLong(state, 33);
            firstSeq = MessageCodec.getLong(state, 41);
            firstTimestamp = MessageCodec.getLong(state, 49);
            if (v1) {
                numSubjects = convertVersion1();
            } else {
                numSubjects = MessageCodec.getLong(state, 57);
                generation = getInt(state, 65);
            }
        }
        subjects = new SubjectRows(db, cf, readOptions, batch, prefix, name, storage.subjectCacheEntries(),
                numSubjects, generation);
        // finish a range cleanup the previous run may have lost
        byte[] floorPrefix = SubjectRows.generationPrefix(prefix, K_INDEX_FLOOR, generation);
        try (RocksIterator it = db.newIterator(readOptions)) {
            for (it.seek(floorPrefix); it.isValid() && RocksStorage.startsWith(it.key(), floorPrefix); it.next()) {
                indexFloors.put(subjectOf(it.key(), floorPrefix.length), MessageCodec.getLong(it.value(), 0));
            }
        }
        floorRaised = floor > 1;
        generationRaised = generation > 0;
        collectGarbage();
        try (RocksIterator it = db.newIterator(readOptions)) {
            ttls.recover(it);
            schedules.recover(it);
        }
    }

    /**
     * Rewrites a version-1 store's subject and index rows in the current layout (generation 0), then its state row,
     * and deletes the old rows: once, proportional to subjects and index rows. Until the last write lands the state
     * row stays version 1, so a crash before it converts again from the untouched old rows.
     */
    private long convertVersion1() throws RocksDBException {
        Map<String, Long> oldFloors = new HashMap<>();
        byte[] oldFloorPrefix = kindKey(V1_INDEX_FLOOR);
        try (RocksIterator it = db.newIterator(readOptions)) {
            for (it.seek(oldFloorPrefix); it.isValid() && RocksStorage.startsWith(it.key(), oldFloorPrefix);
                    it.next()) {
                oldFloors.put(subjectOf(it.key(), oldFloorPrefix.length), MessageCodec.getLong(it.value(), 0));
            }
        }
        var rows = new SubjectRows(db, cf, readOptions, batch, prefix, name, 1, 0, 0);
        long count = 0;
        try (var wb = new WriteBatch(); RocksIterator it = db.newIterator(readOptions)) {
            byte[] oldSubjects = kindKey(V1_SUBJECT);
            for (it.seek(oldSubjects); it.isValid() && RocksStorage.startsWith(it.key(), oldSubjects); it.next()) {
                String subject = subjectOf(it.key(), oldSubjects.length);
                byte[] v = it.value();
                if (v.length == 0 || (v[0] != 1 && v[0] != 2)) {
                    throw new StoreException("stream " + name + ": corrupt subject row " + subject);
                }
                int[] pos = {1};
                var ps = new SubjectRows.PerSubject(subject);
                ps.msgs = MessageCodec.getVarint(v, pos);
                ps.bytes = MessageCodec.getVarint(v, pos);
                ps.firstSeq = MessageCodec.getVarint(v, pos);
                ps.lastSeq = MessageCodec.getVarint(v, pos);
                int flags = v[0] == 2 ? (int) MessageCodec.getVarint(v, pos) : 0;
                ps.firstUnindexed = (flags & SubjectRows.UNINDEXED_FIRST) != 0;
                ps.lastUnindexed = (flags & SubjectRows.UNINDEXED_LAST) != 0;
                wb.put(cf, rows.key(subject), SubjectRows.encode(ps));
                count++;
                writeFull(wb);
            }
            byte[] oldIndex = kindKey(V1_INDEX);
            for (it.seek(oldIndex); it.isValid() && RocksStorage.startsWith(it.key(), oldIndex); it.next()) {
                byte[] k = it.key();
                int at = oldIndex.length;
                int len = getInt(k, at);
                String subject = new String(k, at + 4, len, StandardCharsets.UTF_8);
                long seq = MessageCodec.getLong(k, at + 4 + len);
                if (seq >= floor && seq >= oldFloors.getOrDefault(subject, 0L)) {
                    wb.put(cf, seqKey(rows.indexPrefix(subject), seq), it.value());
                    writeFull(wb);
                }
            }
            subjects = rows;
            wb.deleteRange(cf, oldSubjects, kindKey((byte) (V1_INDEX + 1)));
            wb.put(cf, stateKey, stateRow(count, 0));
            db.write(storage.writeOptions(true), wb);
        }
        LOG.info("stream {}: converted {} subjects to the version 2 layout", name, count);
        return count;
    }

    private void writeFull(WriteBatch wb) throws RocksDBException {
        if (wb.count() >= 10_000) {
            db.write(storage.writeOptions(false), wb);
            wb.clear();
        }
    }

    @Override
    public long append(String subject, byte[] headers, byte[] payload, long timestamp) {
        ensureWritable();
        subjects.trim();
        if (payload == null) {
            payload = new byte[0];
        }
        long seq = lastSeq + 1;
        long size = new StoredMessage(seq, subject, headers, payload, timestamp).fileStoredSize();
        PerSubject ps = subjects.get(subject);
        boolean newSubject = ps == null;
        if (newSubject) {
            ps = new PerSubject(subject);
            ps.firstSeq = seq;
        }
        // the third message on: every message of the subject has its index row (sizes read before staging anything)
        long firstRowSize = ps.msgs >= 2 && ps.firstUnindexed ? sizeOfFirst(ps) : -1;
        long lastRowSize = ps.msgs >= 2 && ps.lastUnindexed ? sizeOfLast(ps) : -1;
        try {
            batch.put(cf, msgKey(seq), MessageCodec.encode(subject, headers, payload, timestamp));
            if (MessageCodec.mayHoldMsgId(headers)) {
                lastMsgIdSeq = seq;
                msgIdMarkChanged = true;
            }
            long deadline = MessageTtl.deadline(headers, timestamp);
            if (deadline != 0) {
                ttls.add(deadline, seq);
            }
            if (ps.msgs >= 2) {
                if (firstRowSize >= 0) {
                    putIndexRow(ps, ps.firstSeq, firstRowSize);
                    ps.firstUnindexed = false;
                }
                if (lastRowSize >= 0) {
                    putIndexRow(ps, ps.lastSeq, lastRowSize);
                    ps.lastUnindexed = false;
                }
                putIndexRow(ps, seq, size);
            }
        } catch (RocksDBException e) {
            throw writeFailure("append", seq, e);
        }
        if (ps.msgs < 2) {
            ps.lastUnindexed = true;
            if (newSubject) {
                ps.firstUnindexed = true;
            }
        }
        if (ps.msgs == 1 && ps.firstSize < 0) {
            // its one message is its first: bytes is its size
            ps.firstSize = ps.bytes <= Integer.MAX_VALUE ? (int) ps.bytes : -1;
        }
        ps.msgs++;
        ps.bytes += size;
        ps.lastSeq = seq;
        ps.lastSize = size <= Integer.MAX_VALUE ? (int) size : -1;
        if (newSubject) {
            ps.firstSize = ps.lastSize;
            subjects.add(ps);
        } else {
            subjects.changed(ps);
        }
        if (msgs == 0) {
            firstSeq = seq;
            firstTimestamp = timestamp;
            firstTimestampKnown = true;
        }
        msgs++;
        bytes += size;
        lastSeq = seq;
        lastTimestamp = timestamp;
        dirty = true;
        return seq;
    }

    @Override
    public void skipTo(long nextSeq) {
        ensureWritable();
        purgeBelow(nextSeq);
        if (nextSeq - 1 > lastSeq) {
            lastSeq = nextSeq - 1;
        }
        if (nextSeq > floor) {
            floor = nextSeq;
            floorRaised = true;
        }
        if (msgs == 0) {
            firstSeq = lastSeq + 1;
            firstTimestamp = 0;
            firstTimestampKnown = true;
        }
        dirty = true;
    }

    @Override
    public void advanceTo(long nextSeq) {
        ensureWritable();
        if (msgs == 0) {
            skipTo(nextSeq);
            return;
        }
        if (nextSeq - 1 > lastSeq) {
            // interior deletes are not stored: the counters alone make the gap (num_deleted)
            lastSeq = nextSeq - 1;
            dirty = true;
        }
    }

    @Override
    public long lastMsgIdSeq() {
        ensureOpen();
        return lastMsgIdSeq;
    }

    @Override
    public void msgIdsScanned(long bound) {
        ensureOpen(); // a failed store keeps it in memory only: its next writer reopens and asks again
        if (lastMsgIdSeq == Long.MAX_VALUE) {
            lastMsgIdSeq = bound;
            msgIdMarkChanged = true;
            dirty = true;
        }
    }

    @Override
    public void putAux(String key, byte[] value) {
        ensureWritable();
        byte[] k = RocksStorage.concat(kindKey(K_AUX), key.getBytes(StandardCharsets.UTF_8));
        try {
            if (value == null) {
                batch.delete(cf, k);
            } else {
                batch.put(cf, k, value);
            }
        } catch (RocksDBException e) {
            throw writeFailure("aux write", lastSeq, e);
        }
        dirty = true;
    }

    @Override
    public byte[] getAux(String key) {
        ensureOpen();
        return get(RocksStorage.concat(kindKey(K_AUX), key.getBytes(StandardCharsets.UTF_8)), lastSeq);
    }

    @Override
    public boolean remove(long seq, boolean erase) {
        ensureWritable();
        subjects.trim();
        if (msgs == 0 || seq < firstSeq || seq > lastSeq) {
            return false;
        }
        byte[] v = seq == loadedSeq && removals == loadedAtRemovals ? loadedRow : get(msgKey(seq), seq);
        if (v == null) {
            return false;
        }
        loadedRow = null;
        loadedSeq = -1;
        String subject = MessageCodec.decodeSubject(seq, v);
        PerSubject ps = subjects.get(subject);
        if (ps == null) {
            failed = true;
            throw new StoreException("stream " + name + ": message " + seq + " on " + subject + " has no subject row");
        }
        removeStored(ps, seq, MessageCodec.storedSize(seq, v, subject));
        return true;
    }

    @Override
    public boolean remove(long seq, String subject, long size, boolean erase) {
        ensureWritable();
        subjects.trim();
        PerSubject ps = subjects.get(subject);
        if (ps == null || seq < ps.firstSeq || seq > ps.lastSeq) {
            return false;
        }
        if (seq != ps.firstSeq && seq != ps.lastSeq) {
            return remove(seq, erase); // in between, it may be gone already: only reading tells
        }
        // a subject's first and last are always stored, and a sequence only ever holds one message
        removeStored(ps, seq, size);
        return true;
    }

    @Override
    public boolean removeFirst(String subject) {
        ensureWritable();
        subjects.trim();
        PerSubject ps = subjects.get(subject);
        if (ps == null) {
            return false;
        }
        long size = knownSizeOfFirst(ps);
        if (size < 0) {
            return remove(ps.firstSeq, false);
        }
        removeStored(ps, ps.firstSeq, size);
        return true;
    }

    @Override
    public long storedSize(StoredMessage m) {
        return m.fileStoredSize();
    }

    /** Removes {@code seq}, stored on {@code ps}'s subject with {@code size}, and moves firsts and lasts. */
    private void removeStored(PerSubject ps, long seq, long size) {
        deleteRows(ps, seq, size);
        if (ps.msgs == 0) {
            dropSubject(ps);
        } else if (ps.msgs == 1) {
            // it had two, each first or last, so the one left is both: no seek (KV history 1 lands here)
            if (seq == ps.firstSeq) {
                firstBecomesLast(ps);
            } else {
                ps.lastSeq = ps.firstSeq;
                ps.lastSize = ps.firstSize;
                ps.lastUnindexed = ps.firstUnindexed;
            }
        } else {
            if (seq == ps.firstSeq) {
                // as many left as sequences up to its last: all of them are there (a work queue acked in order)
                raiseFirst(ps, ps.msgs == ps.lastSeq - seq ? seq + 1 : seqAtOrAfter(cursor(), prefixOf(ps), seq + 1));
            }
            if (seq == ps.lastSeq) {
                ps.lastSeq = seqAtOrBefore(cursor(), prefixOf(ps), seq - 1);
                ps.lastSize = -1;
            }
        }
        if (seq == firstSeq) {
            refreshFirst(seq + 1);
            if (msgs == 0) {
                firstTimestamp = StreamState.EMPTIED_BY_REMOVAL;
            }
        }
    }

    @Override
    public long purge(String filter, long upToSeq, long keep) {
        ensureWritable();
        long bound = upToSeq <= 0 ? Long.MAX_VALUE : upToSeq;
        keep = Math.max(0, keep);
        if (subjects.covers(filter)) {
            return purgeAll(bound, keep);
        }
        if (!Filters.isWildcard(filter)) {
            return purgeSubject(filter, bound, keep);
        }
        long[] matching = new long[2]; // subjects, messages
        subjects.scan(filter, row -> {
            matching[0]++;
            matching[1] += row.msgs;
        });
        if (matching[0] == subjects.count()) {
            // the filter covers every stored subject: same as an unfiltered purge, without per-row deletes
            return purgeAll(bound, keep);
        }
        if (keep == 0 || matching[0] == 1) {
            long finalKeep = keep;
            long[] removed = {0};
            subjects.scan(filter, row -> removed[0] += purgeSubject(row.subject, bound, finalKeep));
            return removed[0];
        }
        return purgeMatchingKeep(filter, bound, matching[1] - keep);
    }

    private long purgeAll(long bound, long keep) {
        if (msgs == 0) {
            return 0;
        }
        if (keep > 0) {
            if (keep >= msgs) {
                return 0;
            }
            bound = Math.min(bound, keptFrom(keep));
        }
        return purgeBelow(bound);
    }

    /** The sequence of the {@code keep}-th newest message, walking from whichever end is nearer. */
    private long keptFrom(long keep) {
        try (RocksIterator it = iterator()) {
            if (keep <= msgs - keep) {
                it.seekForPrev(msgKey(lastSeq));
                for (long i = 1; i < keep; i++) {
                    it.prev();
                }
            } else {
                it.seek(msgKey(firstSeq));
                for (long i = 0; i < msgs - keep; i++) {
                    it.next();
                }
            }
            long seq = seqAt(it, msgPrefix);
            if (seq < firstSeq) {
                throw new StoreException("stream " + name + ": message count disagrees with rows");
            }
            return seq;
        }
    }

    /** Removes every message below {@code bound} by raising the floor; cost is per subject, not per message. */
    private long purgeBelow(long bound) {
        if (msgs == 0 || bound <= firstSeq) {
            return 0;
        }
        bound = Math.min(bound, lastSeq + 1);
        long removed;
        long removedBytes;
        if (bound > lastSeq) {
            // everything: a new generation of subject and index rows, the old ones range-deleted after the flush
            removed = msgs;
            removedBytes = bytes;
            subjects.dropAll();
            indexFloors.clear();
            generationRaised = true;
        } else {
            long[] counted = new long[2]; // messages, bytes
            long b = bound;
            subjects.scan(null, row -> {
                if (row.firstSeq < b) {
                    purgeSubjectBelow(subjects.get(row.subject), b, counted);
                }
            });
            removed = counted[0];
            removedBytes = counted[1];
        }
        msgs -= removed;
        bytes -= removedBytes;
        removals += removed;
        maxRemovedSeq = Math.max(maxRemovedSeq, bound - 1);
        if (bound > floor) {
            floor = bound;
            floorRaised = true;
        }
        dirty = true;
        refreshFirst(bound);
        return removed;
    }

    /** The part of {@code ps} below {@code bound}, removed by a raised floor; adds messages and bytes to counted. */
    private void purgeSubjectBelow(PerSubject ps, long bound, long[] counted) {
        boolean indexed = ps.msgs > 2 || !ps.firstUnindexed || !ps.lastUnindexed;
        if (ps.lastSeq < bound) {
            counted[0] += ps.msgs;
            counted[1] += ps.bytes;
            subjects.drop(ps);
        } else if (ps.msgs == 2) {
            // partly below the floor with two messages: the first goes, the last stays
            long b = sizeOfFirst(ps);
            ps.msgs--;
            ps.bytes -= b;
            firstBecomesLast(ps);
            counted[0]++;
            counted[1] += b;
            subjects.changed(ps);
        } else {
            // partly below the floor: sum the sizes from the index, which holds them for this purpose
            long n = 0;
            long b = 0;
            long next = 0;
            try (RocksIterator it = iterator()) {
                byte[] indexPrefix = prefixOf(ps);
                for (it.seek(seqKey(indexPrefix, ps.firstSeq)); ; it.next()) {
                    long seq = seqAt(it, indexPrefix);
                    if (seq < 0) {
                        throw new StoreException("stream " + name + ": index of " + ps.subject + " ends early");
                    }
                    if (seq >= bound) {
                        next = seq;
                        break;
                    }
                    n++;
                    b += MessageCodec.getVarint(it.value(), new int[] {0});
                }
            }
            ps.msgs -= n;
            ps.bytes -= b;
            raiseFirst(ps, next);
            counted[0] += n;
            counted[1] += b;
            subjects.changed(ps);
        }
        if (indexed) {
            indexFloors.merge(ps.subject, bound, Math::max);
        }
    }

    /** Removes the oldest messages of one subject below {@code bound}, keeping its newest {@code keep}. */
    private long purgeSubject(String subject, long bound, long keep) {
        PerSubject ps = subjects.get(subject);
        if (ps == null || ps.msgs <= keep || ps.firstSeq >= bound) {
            return 0;
        }
        long max = ps.msgs - keep;
        // collect first: changing the batch under an iterator invalidates it
        long[] seqs = new long[(int) Math.min(max, 1024)];
        long[] sizes = new long[seqs.length];
        int n = 0;
        long next = 0;
        if (ps.msgs <= 2) {
            // no index needed: the messages are the first and the last; max >= 1 and firstSeq < bound here
            seqs[n] = ps.firstSeq;
            sizes[n++] = sizeOfFirst(ps);
            if (ps.msgs == 2 && n < max && ps.lastSeq < bound) {
                seqs[n] = ps.lastSeq;
                sizes[n++] = sizeOfLast(ps);
            }
        } else {
            try (RocksIterator it = iterator()) {
                byte[] indexPrefix = prefixOf(ps);
                for (it.seek(seqKey(indexPrefix, ps.firstSeq)); ; it.next()) {
                    long seq = seqAt(it, indexPrefix);
                    if (seq < 0 || seq >= bound || n == max) {
                        next = seq;
                        break;
                    }
                    if (n == seqs.length) {
                        seqs = Arrays.copyOf(seqs, Math.max(n * 2, 16));
                        sizes = Arrays.copyOf(sizes, seqs.length);
                    }
                    seqs[n] = seq;
                    sizes[n] = MessageCodec.getVarint(it.value(), new int[] {0});
                    n++;
                }
            }
        }
        for (int i = 0; i < n; i++) {
            deleteRows(ps, seqs[i], sizes[i]);
        }
        if (ps.msgs == 0) {
            dropSubject(ps);
        } else if (ps.msgs == 1) {
            firstBecomesLast(ps); // only the oldest went, so the one left is the last
        } else {
            raiseFirst(ps, next); // two or more left of three or more: the index walk found the next
        }
        if (n > 0 && seqs[0] == firstSeq) {
            refreshFirst(firstSeq + 1);
        }
        return n;
    }

    /** Wildcard purge with keep: the oldest {@code toRemove} matching messages below {@code bound}, in order. */
    private long purgeMatchingKeep(String filter, long bound, long toRemove) {
        if (toRemove <= 0) {
            return 0;
        }
        List<Victim> victims = new ArrayList<>();
        try (RocksIterator it = iterator()) {
            for (it.seek(msgKey(firstSeq)); victims.size() < toRemove; it.next()) {
                long seq = seqAt(it, msgPrefix);
                if (seq < 0 || seq >= bound) {
                    break;
                }
                byte[] v = it.value();
                String subject = MessageCodec.decodeSubject(seq, v);
                if (Filters.matches(filter, subject)) {
                    victims.add(new Victim(seq, subject, MessageCodec.storedSize(seq, v, subject)));
                }
            }
        }
        Set<String> touched = new HashSet<>();
        for (Victim m : victims) {
            deleteRows(subjects.get(m.subject()), m.seq(), m.size());
            touched.add(m.subject());
        }
        for (String s : touched) {
            PerSubject ps = subjects.get(s);
            if (ps.msgs == 0) {
                dropSubject(ps);
            } else if (ps.msgs == 1) {
                firstBecomesLast(ps); // only the oldest were removed, so the last is unchanged
            } else {
                // two or more left of three or more: all indexed
                raiseFirst(ps, seqAtOrAfter(cursor(), prefixOf(ps), ps.firstSeq));
            }
        }
        if (!victims.isEmpty() && victims.get(0).seq() == firstSeq) {
            refreshFirst(firstSeq + 1);
        }
        return victims.size();
    }

    /** Stages the deletion of one message and its index row and updates the counters (not first/last). */
    private void deleteRows(PerSubject ps, long seq, long size) {
        try {
            batch.delete(cf, msgKey(seq));
            boolean unindexed = seq == ps.firstSeq ? ps.firstUnindexed : seq == ps.lastSeq && ps.lastUnindexed;
            if (!unindexed) {
                // not kept: a subject that drops to one or two messages may not need it again
                batch.delete(cf, seqKey(prefixOf(ps), seq));
            }
        } catch (RocksDBException e) {
            throw writeFailure("remove", seq, e);
        }
        ps.msgs--;
        ps.bytes -= size;
        msgs--;
        bytes -= size;
        removals++;
        maxRemovedSeq = Math.max(maxRemovedSeq, seq);
        if (ps.msgs > 0) {
            subjects.changed(ps);
        }
        dirty = true;
    }

    private void dropSubject(PerSubject ps) {
        subjects.drop(ps);
    }

    private void raiseFirst(PerSubject ps, long first) {
        if (first < 0) {
            throw new StoreException("stream " + name + ": index of " + ps.subject + " ends early");
        }
        ps.firstSeq = first;
        ps.firstSize = -1;
    }

    /** The subject's first went and one message is left: its last is its first now. */
    private void firstBecomesLast(PerSubject ps) {
        raiseFirst(ps, ps.lastSeq);
        ps.firstSize = ps.lastSize;
        ps.firstUnindexed = ps.lastUnindexed;
    }

    private long sizeOfFirst(PerSubject ps) {
        long known = knownSizeOfFirst(ps);
        return known >= 0 ? known : readStoredSize(ps, ps.firstSeq);
    }

    /** The first message's stored size without reading it, or -1: a KV put with history 1 lands in the first case. */
    private static long knownSizeOfFirst(PerSubject ps) {
        if (ps.msgs == 1) {
            return ps.bytes;
        }
        if (ps.firstSize >= 0) {
            return ps.firstSize;
        }
        return ps.msgs == 2 && ps.lastSize >= 0 ? ps.bytes - ps.lastSize : -1;
    }

    private long sizeOfLast(PerSubject ps) {
        if (ps.msgs == 1) {
            return ps.bytes;
        }
        if (ps.lastSize >= 0) {
            return ps.lastSize;
        }
        return ps.msgs == 2 && ps.firstSize >= 0 ? ps.bytes - ps.firstSize : readStoredSize(ps, ps.lastSeq);
    }

    /**
     * Write paths only: the stored size of a message read from its row. A failure fails the store, since the caller
     * may have staged part of its change already.
     */
    private long readStoredSize(PerSubject ps, long seq) {
        try {
            byte[] v = get(msgKey(seq), seq);
            if (v == null) {
                throw new StoreException("stream " + name + ": message " + seq + " of " + ps.subject + " not found");
            }
            return MessageCodec.storedSize(seq, v, ps.subject);
        } catch (RuntimeException e) {
            failed = true;
            throw e;
        }
    }

    /** Stages a message's index row. */
    private void putIndexRow(PerSubject ps, long seq, long size) throws RocksDBException {
        batch.put(cf, seqKey(prefixOf(ps), seq), MessageCodec.varints(size));
    }

    /**
     * Re-derives the first sequence after messages went away: the first message row at or after {@code from} (and the
     * floor), which also gives its timestamp. The first sequence only grows, so over time each removed row is
     * stepped over by one seek at most.
     */
    private void refreshFirst(long from) {
        if (msgs == 0) {
            firstSeq = lastSeq + 1;
            firstTimestamp = 0;
            firstTimestampKnown = true;
            return;
        }
        RocksIterator it = cursor();
        it.seek(msgKey(Math.max(from, floor)));
        long seq = seqAt(it, msgPrefix);
        if (seq < 0) {
            failed = true;
            throw new StoreException("stream " + name + ": " + msgs + " messages counted but none from " + from);
        }
        firstSeq = seq;
        firstTimestamp = MessageCodec.decodeTimestamp(seq, it.value());
        firstTimestampKnown = true;
    }

    private long firstTimestamp() {
        if (!firstTimestampKnown) {
            byte[] v = get(msgKey(firstSeq), firstSeq);
            if (v == null) {
                throw new StoreException("stream " + name + ": " + msgs + " messages counted but first " + firstSeq
                        + " not found");
            }
            firstTimestamp = MessageCodec.decodeTimestamp(firstSeq, v);
            firstTimestampKnown = true;
        }
        return firstTimestamp;
    }

    @Override
    public long nextTtlDeadline() {
        ensureOpen();
        return ttls.next();
    }

    @Override
    public List<StoredMessage> takeExpiredTtl(long now, int max) {
        ensureWritable();
        List<long[]> due;
        try {
            due = ttls.takeDue(this::iterator, now, max);
        } catch (RocksDBException e) {
            throw writeFailure("ttl expiry", lastSeq, e);
        }
        // a row left behind by a message removed another way hands out nothing
        List<StoredMessage> out = new ArrayList<>(due.size());
        for (long[] row : due) {
            StoredMessage m = load(row[1]);
            if (m != null) {
                out.add(m);
            }
        }
        if (!due.isEmpty()) {
            dirty = true;
        }
        return out;
    }

    @Override
    public void indexSchedule(long seq, long deadline) {
        ensureWritable();
        try {
            schedules.add(Math.max(0, deadline), seq);
        } catch (RocksDBException e) {
            throw writeFailure("schedule index", seq, e);
        }
        dirty = true;
    }

    @Override
    public long nextScheduleDeadline() {
        ensureOpen();
        return schedules.next();
    }

    @Override
    public List<long[]> takeDueSchedules(long now, int max) {
        ensureWritable();
        List<long[]> due;
        try {
            due = schedules.takeDue(this::iterator, now, max);
        } catch (RocksDBException e) {
            throw writeFailure("schedule index", lastSeq, e);
        }
        if (!due.isEmpty()) {
            dirty = true;
        }
        return due;
    }

    /**
     * Writes the batch, then range-deletes what the floors made garbage. If the write fails, memory is
     * ahead of disk and the store is failed until it is closed and opened again.
     */
    @Override
    public void flush(boolean sync) {
        ensureWritable();
        if (!dirty && batch.count() == 0) {
            return;
        }
        // the cursor reads the batch's index, which clear() frees; its database view also ends with this write
        closeCursor();
        try {
            byte[] state = stateRow(subjects.count(), subjects.generation());
            subjects.stage();
            for (var e : indexFloors.entrySet()) {
                byte[] v = new byte[8];
                MessageCodec.putLong(v, 0, e.getValue());
                batch.put(cf, indexFloorKey(e.getKey()), v);
            }
            batch.put(cf, stateKey, state);
            if (msgIdMarkChanged) {
                byte[] v = new byte[8];
                MessageCodec.putLong(v, 0, lastMsgIdSeq);
                batch.put(cf, msgIdMarkKey, v);
            }
            if (storage.takeInjectedFlushFailure(name)) {
                throw new RocksDBException("injected flush failure");
            }
            // last_seq rides in the same batch as the messages, so sequences stay gap-free across a crash
            db.write(storage.writeOptions(sync), batch);
        } catch (RocksDBException e) {
            throw writeFailure("flush", lastSeq, e);
        } catch (RuntimeException e) {
            failed = true;
            throw e;
        }
        batch.clear();
        dirty = false;
        msgIdMarkChanged = false;
        subjects.trim();
        collectGarbage();
    }

    /**
     * Range-deletes rows below the floors. Safe to lose: the floors are persisted, so a failure is only
     * logged and the next flush (or open) tries again.
     */
    private void collectGarbage() {
        if (!floorRaised && !generationRaised && indexFloors.isEmpty()) {
            return;
        }
        try (var gc = new WriteBatch()) {
            if (floorRaised) {
                gc.deleteRange(cf, msgKey(0), msgKey(floor));
            }
            if (generationRaised) {
                int g = subjects.generation();
                for (byte kind : new byte[] {SubjectRows.K_SUBJECT, K_INDEX, K_INDEX_FLOOR}) {
                    gc.deleteRange(cf, SubjectRows.generationPrefix(prefix, kind, 0),
                            SubjectRows.generationPrefix(prefix, kind, g));
                }
            }
            for (var e : indexFloors.entrySet()) {
                byte[] indexPrefix = subjects.indexPrefix(e.getKey());
                gc.deleteRange(cf, seqKey(indexPrefix, 0), seqKey(indexPrefix, e.getValue()));
                gc.delete(cf, indexFloorKey(e.getKey()));
            }
            db.write(storage.writeOptions(false), gc);
        } catch (RocksDBException e) {
            LOG.warn("stream {}: clean-up below seq {} failed, will retry", name, floor, e);
            return;
        }
        floorRaised = false;
        generationRaised = false;
        indexFloors.clear();
    }

    private byte[] stateRow(long numSubjects, int generation) {
        byte[] v = new byte[STATE_V2_BYTES];
        v[0] = STATE_V2;
        MessageCodec.putLong(v, 1, lastSeq);
        MessageCodec.putLong(v, 9, lastTimestamp);
        MessageCodec.putLong(v, 17, floor);
        MessageCodec.putLong(v, 25, msgs);
        MessageCodec.putLong(v, 33, bytes);
        MessageCodec.putLong(v, 41, firstSeq);
        MessageCodec.putLong(v, 49, firstTimestamp());
        MessageCodec.putLong(v, 57, numSubjects);
        putInt(v, 65, generation);
        return v;
    }

    private static void putInt(byte[] b, int off, int v) {
        b[off] = (byte) (v >>> 24);
        b[off + 1] = (byte) (v >>> 16);
        b[off + 2] = (byte) (v >>> 8);
        b[off + 3] = (byte) v;
    }

    private static int getInt(byte[] b, int off) {
        return ((b[off] & 0xff) << 24) | ((b[off + 1] & 0xff) << 16) | ((b[off + 2] & 0xff) << 8) | (b[off + 3] & 0xff);
    }

    @Override
    public StoredMessage load(long seq) {
        ensureOpen();
        if (msgs == 0 || seq < firstSeq || seq > lastSeq) {
            return null;
        }
        byte[] v = get(msgKey(seq), seq);
        if (v == null) {
            return null;
        }
        loadedSeq = seq;
        loadedRow = v;
        loadedAtRemovals = removals;
        return MessageCodec.decode(seq, v);
    }

    @Override
    public StoredMessage loadNext(long fromSeq, String filter) {
        ensureOpen();
        subjects.trim();
        long start = Math.max(fromSeq, firstSeq);
        if (msgs == 0 || start > lastSeq) {
            return null;
        }
        if (Filters.isAll(filter)) {
            try (RocksIterator it = iterator()) {
                it.seek(msgKey(start));
                long seq = seqAt(it, msgPrefix);
                return seq < 0 ? null : MessageCodec.decode(seq, it.value());
            }
        }
        if (!Filters.isWildcard(filter)) {
            PerSubject ps = subjects.get(filter);
            if (ps == null || ps.lastSeq < start) {
                return null;
            }
            if (ps.msgs <= 2) {
                return load(ps.firstSeq >= start ? ps.firstSeq : ps.lastSeq); // its only two: no index
            }
            long seq;
            try (RocksIterator it = iterator()) {
                seq = seqAtOrAfter(it, prefixOf(ps), Math.max(start, ps.firstSeq));
            }
            return seq < 0 ? null : load(seq);
        }
        // wildcards walk by sequence, decoding only the subject of rows that do not match
        try (RocksIterator it = iterator()) {
            for (it.seek(msgKey(start)); ; it.next()) {
                long seq = seqAt(it, msgPrefix);
                if (seq < 0) {
                    return null;
                }
                byte[] v = it.value();
                if (Filters.matches(filter, MessageCodec.decodeSubject(seq, v))) {
                    return MessageCodec.decode(seq, v);
                }
            }
        }
    }

    @Override
    public int loadNextBatch(long fromSeq, long toSeq, String filter, int max, long maxBytes,
            List<StoredMessage> out) {
        ensureOpen();
        subjects.trim();
        long start = Math.max(fromSeq, firstSeq);
        long end = Math.min(toSeq, lastSeq);
        if (msgs == 0 || start > end || max <= 0 || maxBytes <= 0) {
            return 0;
        }
        String only = null;
        if (!Filters.isAll(filter)) {
            if (!Filters.isWildcard(filter)) {
                PerSubject ps = subjects.get(filter);
                if (ps == null || ps.lastSeq < start) {
                    return 0;
                }
                if (ps.msgs < msgs) {
                    return loadBatchByIndex(ps, Math.max(start, ps.firstSeq), end, max, maxBytes, out);
                }
                // the stream's only subject: walk the message rows, no index
            } else {
                only = filter;
            }
        }
        // one iterator for the whole run: creating one costs more than the seek and all the next() calls
        int n = 0;
        long bytes = 0;
        try (RocksIterator it = iterator()) {
            for (it.seek(msgKey(start)); n < max && bytes < maxBytes; it.next()) {
                long seq = seqAt(it, msgPrefix);
                if (seq < 0 || seq > end) {
                    break;
                }
                byte[] v = it.value();
                if (only == null || Filters.matches(only, MessageCodec.decodeSubject(seq, v))) {
                    StoredMessage m = MessageCodec.decode(seq, v);
                    out.add(m);
                    n++;
                    bytes += StreamStore.sizeOf(m);
                }
            }
        }
        return n;
    }

    /** A literal subject among others: its index rows give the sequences, then one get per message. */
    private int loadBatchByIndex(PerSubject ps, long start, long end, int max, long maxBytes,
            List<StoredMessage> out) {
        long[] seqs = new long[Math.min(max, 64)];
        int found = 0;
        if (ps.msgs <= 2) {
            // its first and last are all it has: no index
            for (long seq : new long[] {ps.firstSeq, ps.lastSeq}) {
                if (seq >= start && seq <= end && found < max && (found == 0 || seqs[found - 1] != seq)) {
                    seqs[found++] = seq;
                }
            }
            return loadSeqs(seqs, found, maxBytes, out);
        }
        try (RocksIterator it = iterator()) {
            byte[] indexPrefix = prefixOf(ps);
            for (it.seek(seqKey(indexPrefix, start)); found < max; it.next()) {
                long seq = seqAt(it, indexPrefix);
                if (seq < 0 || seq > end) {
                    break;
                }
                if (found == seqs.length) {
                    seqs = Arrays.copyOf(seqs, Math.min(max, found * 2));
                }
                seqs[found++] = seq;
            }
        }
        return loadSeqs(seqs, found, maxBytes, out);
    }

    private int loadSeqs(long[] seqs, int found, long maxBytes, List<StoredMessage> out) {
        int n = 0;
        long bytes = 0;
        for (int i = 0; i < found && bytes < maxBytes; i++) {
            byte[] v = get(msgKey(seqs[i]), seqs[i]);
            if (v != null) {
                StoredMessage m = MessageCodec.decode(seqs[i], v);
                out.add(m);
                n++;
                bytes += StreamStore.sizeOf(m);
            }
        }
        return n;
    }

    @Override
    public StoredMessage loadLast(String filter) {
        ensureOpen();
        if (msgs == 0) {
            return null;
        }
        if (subjects.covers(filter)) {
            try (RocksIterator it = iterator()) {
                it.seekForPrev(msgKey(lastSeq));
                long seq = seqAt(it, msgPrefix);
                return seq < firstSeq ? null : MessageCodec.decode(seq, it.value());
            }
        }
        long best = 0;
        if (!Filters.isWildcard(filter)) {
            subjects.trim();
            PerSubject ps = subjects.get(filter);
            best = ps == null ? 0 : ps.lastSeq;
        } else {
            long[] max = {0};
            subjects.scan(filter, row -> max[0] = Math.max(max[0], row.lastSeq));
            best = max[0];
        }
        return best == 0 ? null : load(best);
    }

    @Override
    public long lastSeq() {
        ensureOpen();
        return lastSeq;
    }

    @Override
    public long removals() {
        return removals;
    }

    @Override
    public long maxRemovedSeq() {
        return maxRemovedSeq;
    }

    @Override
    public StreamState state() {
        ensureOpen();
        long numDeleted = msgs == 0 ? 0 : lastSeq - firstSeq + 1 - msgs;
        return new StreamState(msgs, bytes, firstSeq, firstTimestamp(), lastSeq, lastTimestamp, subjects.count(),
                numDeleted);
    }

    @Override
    public SubjectState subjectState(String subject) {
        ensureOpen();
        subjects.trim();
        PerSubject ps = subjects.get(subject);
        return ps == null ? SubjectState.EMPTY : new SubjectState(ps.msgs, ps.firstSeq, ps.lastSeq);
    }

    @Override
    public Map<String, Long> subjectCounts(String filter) {
        ensureOpen();
        var out = new TreeMap<String, Long>();
        subjects.scan(filter, row -> out.put(row.subject, row.msgs));
        return out;
    }

    @Override
    public void forEachSubject(String filter, SubjectCountVisitor visitor) {
        ensureOpen();
        subjects.scan(filter, row -> {
            if (row.msgs > 0) {
                visitor.visit(row.subject, row.msgs);
            }
        });
    }

    @Override
    public String[] subjectsMatching(String filter) {
        ensureOpen();
        var out = new ArrayList<String>();
        subjects.scan(filter, row -> {
            if (row.msgs > 0) {
                out.add(row.subject);
            }
        });
        return out.toArray(new String[0]);
    }

    @Override
    public long[] lastSeqsMatching(String filter) {
        ensureOpen();
        if (!Filters.isAll(filter) && !Filters.isWildcard(filter)) {
            subjects.trim();
            PerSubject ps = subjects.get(filter);
            return ps == null || ps.msgs == 0 ? new long[0] : new long[] {ps.lastSeq};
        }
        long[][] out = {new long[(int) Math.min(subjects.count(), 1 << 20)]};
        int[] n = {0};
        subjects.scan(filter, row -> {
            if (n[0] == out[0].length) {
                out[0] = Arrays.copyOf(out[0], Math.max(16, n[0] * 2));
            }
            out[0][n[0]++] = row.lastSeq;
        });
        return n[0] == out[0].length ? out[0] : Arrays.copyOf(out[0], n[0]);
    }

    @Override
    public long countMatching(long fromSeq, String filter) {
        ensureOpen();
        if (subjects.covers(filter)) {
            return count(msgPrefix, msgs, firstSeq, lastSeq, fromSeq);
        }
        if (!Filters.isWildcard(filter)) {
            subjects.trim();
            PerSubject ps = subjects.get(filter);
            return ps == null ? 0 : countSubject(ps, fromSeq);
        }
        if (msgs == 0 || fromSeq > lastSeq) {
            return 0;
        }
        long start = Math.max(fromSeq, firstSeq);
        if (lastSeq - start < subjects.count()) {
            // fewer sequences to walk than subjects to match (a consumer near the end of a large bucket)
            return countWalking(start, filter);
        }
        long[] n = {0};
        subjects.scan(filter, row -> n[0] += countSubject(row, fromSeq));
        return n[0];
    }

    /** Messages from {@code start} on whose subject matches the wildcard {@code filter}, walking by sequence. */
    private long countWalking(long start, String filter) {
        long n = 0;
        try (RocksIterator it = iterator()) {
            for (it.seek(msgKey(start)); ; it.next()) {
                long seq = seqAt(it, msgPrefix);
                if (seq < 0) {
                    return n;
                }
                if (Filters.matches(filter, MessageCodec.decodeSubject(seq, it.value()))) {
                    n++;
                }
            }
        }
    }

    /** The subject's messages with seq >= from; its index only when it has three or more. */
    private long countSubject(PerSubject ps, long from) {
        if (from > ps.lastSeq) {
            return 0;
        }
        if (from <= ps.firstSeq) {
            return ps.msgs;
        }
        return ps.msgs <= 2 ? 1 : count(prefixOf(ps), ps.msgs, ps.firstSeq, ps.lastSeq, from);
    }

    /** Rows under {@code keyPrefix} with seq >= from, counting whichever side of {@code from} is shorter. */
    private long count(byte[] keyPrefix, long total, long first, long last, long from) {
        if (total == 0 || from > last) {
            return 0;
        }
        if (from <= first) {
            return total;
        }
        if (from - first <= last - from) {
            return total - countRange(keyPrefix, first, from);
        }
        return countRange(keyPrefix, from, last + 1);
    }

    private long countRange(byte[] keyPrefix, long from, long toExclusive) {
        long n = 0;
        try (RocksIterator it = iterator()) {
            for (it.seek(seqKey(keyPrefix, from)); ; it.next()) {
                long seq = seqAt(it, keyPrefix);
                if (seq < 0 || seq >= toExclusive) {
                    return n;
                }
                n++;
            }
        }
    }

    @Override
    public long[] deletedSequences() {
        ensureOpen();
        long numDeleted = msgs == 0 ? 0 : lastSeq - firstSeq + 1 - msgs;
        if (numDeleted > Integer.MAX_VALUE - 8) {
            throw new StoreException("stream " + name + ": too many deleted sequences to list: " + numDeleted);
        }
        long[] out = new long[(int) numDeleted];
        if (numDeleted == 0) {
            return out;
        }
        int i = 0;
        long expect = firstSeq;
        try (RocksIterator it = iterator()) {
            for (it.seek(msgKey(firstSeq)); i < out.length; it.next()) {
                long seq = seqAt(it, msgPrefix);
                long upTo = seq < 0 ? lastSeq + 1 : seq;
                while (expect < upTo && i < out.length) {
                    out[i++] = expect++;
                }
                if (seq < 0) {
                    break;
                }
                expect = seq + 1;
            }
        }
        return i == out.length ? out : Arrays.copyOf(out, i);
    }

    /** Subjects whose state is held in memory now (tests): at most the cache's capacity after a flush. */
    int cachedSubjects() {
        return subjects.cached();
    }

    /** The stream this store belongs to. */
    String name() {
        return name;
    }

    @Override
    public void destroy() {
        close();
        storage.deleteStream(name);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        closeCursor();
        batch.close();
        readOptions.close();
        subjects.clear();
        storage.closed(name, this);
    }

    // ---- keys and reads

    private byte[] kindKey(byte kind) {
        byte[] k = Arrays.copyOf(prefix, prefix.length + 1);
        k[prefix.length] = kind;
        return k;
    }

    private byte[] msgKey(long seq) {
        return seqKey(msgPrefix, seq);
    }

    /**
     * The key prefix of a subject's index rows, kept once made. Most subjects of a large KV bucket hold one or two
     * messages and never need it, which saves its bytes for each of them.
     */
    private byte[] prefixOf(PerSubject ps) {
        if (ps.indexPrefix == null) {
            ps.indexPrefix = subjects.indexPrefix(ps.subject);
        }
        return ps.indexPrefix;
    }

    private byte[] indexFloorKey(String subject) {
        return RocksStorage.concat(SubjectRows.generationPrefix(prefix, K_INDEX_FLOOR, subjects.generation()),
                subject.getBytes(StandardCharsets.UTF_8));
    }

    private static byte[] seqKey(byte[] keyPrefix, long seq) {
        byte[] k = Arrays.copyOf(keyPrefix, keyPrefix.length + 8);
        MessageCodec.putLong(k, keyPrefix.length, seq);
        return k;
    }

    private static String subjectOf(byte[] key, int offset) {
        return new String(key, offset, key.length - offset, StandardCharsets.UTF_8);
    }

    /** The sequence of the iterator's row if it is {@code keyPrefix + seq(8)}, else -1. */
    private static long seqAt(RocksIterator it, byte[] keyPrefix) {
        if (!it.isValid()) {
            return -1;
        }
        byte[] key = it.key();
        if (key.length != keyPrefix.length + 8 || !RocksStorage.startsWith(key, keyPrefix)) {
            return -1;
        }
        return MessageCodec.getLong(key, keyPrefix.length);
    }

    private static long seqAtOrAfter(RocksIterator it, byte[] keyPrefix, long from) {
        it.seek(seqKey(keyPrefix, from));
        return seqAt(it, keyPrefix);
    }

    private static long seqAtOrBefore(RocksIterator it, byte[] keyPrefix, long at) {
        it.seekForPrev(seqKey(keyPrefix, at));
        return seqAt(it, keyPrefix);
    }

    /** Staged changes over the database. Rows below the floor may still show; callers start at or above it. */
    private RocksIterator iterator() {
        return batch.newIteratorWithBase(cf, db.newIterator(cf, readOptions), readOptions);
    }

    /**
     * The iterator shared by seeks on the write paths, which stage changes (so a flush follows and closes
     * it): creating an iterator costs more than the seek. Each use starts with a seek, since the batch
     * changes between uses; reads that may run without a following flush take their own {@link #iterator}.
     */
    private RocksIterator cursor() {
        if (cursor == null) {
            cursor = iterator();
        }
        return cursor;
    }

    private void closeCursor() {
        if (cursor != null) {
            cursor.close();
            cursor = null;
        }
    }

    private byte[] get(byte[] key, long seq) {
        try {
            return batch.getFromBatchAndDB(db, cf, readOptions, key);
        } catch (RocksDBException e) {
            throw failure("read", seq, e);
        }
    }

    private StoreException failure(String what, long seq, RocksDBException e) {
        return new StoreException("stream " + name + ": " + what + " failed at seq " + seq, e);
    }

    /** A failed write to the batch or the database: what is staged can no longer be trusted to match memory. */
    private StoreException writeFailure(String what, long seq, RocksDBException e) {
        failed = true;
        return failure(what, seq, e);
    }

    private void ensureOpen() {
        if (closed) {
            throw new StoreException("stream " + name + ": store is closed");
        }
    }

    private void ensureWritable() {
        ensureOpen();
        if (failed) {
            throw new StoreException("stream " + name + ": an earlier write failed; close and reopen the store");
        }
    }
}
