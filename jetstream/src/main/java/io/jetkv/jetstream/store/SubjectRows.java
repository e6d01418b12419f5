package io.jetkv.jetstream.store;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatchWithIndex;

/**
 * The per-subject state of one file stream (count, bytes, first and last sequence), kept in RocksDB rows with a
 * bounded cache of recently used subjects in front: memory does not grow with the number of subjects. Every reader
 * of per-subject state in {@link RocksStreamStore} goes through here. Confined to the stream's writer thread.
 *
 * <p>Rows are {@code 08 generation(4) subject -> version, msgs, bytes, first seq, last seq, unindexed flags}
 * (varints). A purge of the whole stream starts a new generation instead of deleting each row; the rows of older
 * generations are range-deleted after the flush (see {@link RocksStreamStore#flush}).
 *
 * <p>A changed subject is <em>dirty</em>: its row is staged into the stream's write batch at the next flush, before a
 * scan (which reads rows through the batch), or when the cache evicts it. A dropped subject's delete is staged at
 * once, so a later lookup never finds its old row. Eviction happens only in {@link #trim}, which callers invoke where
 * they hold no {@link PerSubject} reference: an object evicted while a caller still changed it would lose the change.
 */
final class SubjectRows {
    static final byte K_SUBJECT = 8;
    private static final byte ROW_VERSION = 1;
    static final int UNINDEXED_FIRST = 1;
    static final int UNINDEXED_LAST = 2;
    /** Rows read per iterator in {@link #scan}: the iterator is closed before the visitor runs, so it may write. */
    private static final int SCAN_CHUNK = 512;

    private final RocksDB db;
    private final ColumnFamilyHandle cf;
    private final ReadOptions readOptions;
    private final WriteBatchWithIndex batch;
    private final byte[] streamPrefix;
    private final String stream;
    private final int capacity;
    private final LinkedHashMap<String, PerSubject> cache = new LinkedHashMap<>(64, 0.75f, true);
    private final List<PerSubject> dirty = new ArrayList<>();
    // Wildcard filters that a scan found to match every stored subject, until a subject they miss is added: a KV
    // watcher's or consumer's {@code $KV.b.>} on a bucket's stream, answered from the stream's totals instead
    private final List<String> covering = new ArrayList<>();
    private long count;
    private int generation;
    private byte[] rowPrefix;

    /** One subject's state; {@link RocksStreamStore} changes it in place and reports it with {@link #changed}. */
    static final class PerSubject {
        final String subject;
        /** Key prefix of its index rows; made when first needed. */
        byte[] indexPrefix;
        long msgs;
        long bytes;
        long firstSeq;
        long lastSeq;
        // stored sizes of the messages at firstSeq and lastSeq when known (appended since it was read), else -1
        int firstSize = -1;
        int lastSize = -1;
        // no index row for the message at firstSeq / lastSeq: only while msgs <= 2 (with one message, both flags
        // describe it and are equal); a third message writes the missing rows
        boolean firstUnindexed;
        boolean lastUnindexed;
        boolean isDirty;

        PerSubject(String subject) {
            this.subject = subject;
        }

        int flags() {
            return (firstUnindexed ? UNINDEXED_FIRST : 0) | (lastUnindexed ? UNINDEXED_LAST : 0);
        }
    }

    /** Visits one stored subject's state during a {@link #scan}; a copy, not the cached object. */
    interface Visitor {
        void visit(PerSubject row);
    }

    SubjectRows(RocksDB db, ColumnFamilyHandle cf, ReadOptions readOptions, WriteBatchWithIndex batch,
            byte[] streamPrefix, String stream, int capacity, long count, int generation) {
        this.db = db;
        this.cf = cf;
        this.readOptions = readOptions;
        this.batch = batch;
        this.streamPrefix = streamPrefix;
        this.stream = stream;
        this.capacity = Math.max(1, capacity);
        this.count = count;
        setGeneration(generation);
    }

    private void setGeneration(int generation) {
        this.generation = generation;
        this.rowPrefix = generationPrefix(streamPrefix, K_SUBJECT, generation);
    }

    int generation() {
        return generation;
    }

    /** Number of stored subjects. */
    long count() {
        return count;
    }

    /** Subjects held in memory (tests and metrics). */
    int cached() {
        return cache.size();
    }

    /** The subject's state, or null when nothing is stored on it. */
    PerSubject get(String subject) {
        PerSubject ps = cache.get(subject);
        if (ps != null) {
            return ps;
        }
        byte[] v;
        try {
            v = batch.getFromBatchAndDB(db, cf, readOptions, key(subject));
        } catch (RocksDBException e) {
            throw new StoreException("stream " + stream + ": reading subject " + subject + " failed", e);
        }
        if (v == null) {
            return null;
        }
        ps = decode(subject, v);
        cache.put(subject, ps);
        return ps;
    }

    /** A new subject, already counted; its row is staged later. */
    void add(PerSubject ps) {
        cache.put(ps.subject, ps);
        count++;
        if (!covering.isEmpty()) {
            covering.removeIf(f -> !Filters.matches(f, ps.subject));
        }
        changed(ps);
    }

    void changed(PerSubject ps) {
        if (!ps.isDirty) {
            ps.isDirty = true;
            dirty.add(ps);
        }
    }

    /** The subject holds nothing any more: uncounted, uncached, and its row's delete staged now. */
    void drop(PerSubject ps) {
        cache.remove(ps.subject);
        ps.isDirty = false;
        count--;
        try {
            batch.delete(cf, key(ps.subject));
        } catch (RocksDBException e) {
            throw new StoreException("stream " + stream + ": dropping subject " + ps.subject + " failed", e);
        }
    }

    /** Every subject is gone (the stream was purged whole): a new generation; the old rows are garbage. */
    void dropAll() {
        cache.clear();
        dirty.clear();
        count = 0;
        setGeneration(generation + 1);
    }

    /** True when {@code filter} is known to match every stored subject (removals never change that). */
    boolean covers(String filter) {
        return Filters.isAll(filter) || covering.contains(filter);
    }

    /** Stages the rows of all dirty subjects into the batch. */
    void stage() throws RocksDBException {
        for (PerSubject ps : dirty) {
            if (ps.isDirty) {
                batch.put(cf, key(ps.subject), encode(ps));
                ps.isDirty = false;
            }
        }
        dirty.clear();
    }

    /** Evicts the least recently used subjects beyond the capacity. Only where no caller holds a PerSubject. */
    void trim() {
        if (cache.size() <= capacity) {
            return;
        }
        try {
            for (Iterator<PerSubject> i = cache.values().iterator(); cache.size() > capacity && i.hasNext(); ) {
                PerSubject ps = i.next();
                if (ps.isDirty) {
                    batch.put(cf, key(ps.subject), encode(ps));
                    ps.isDirty = false;
                }
                i.remove();
            }
        } catch (RocksDBException e) {
            throw new StoreException("stream " + stream + ": staging a subject row failed", e);
        }
        if (dirty.size() > capacity) {
            dirty.removeIf(ps -> !ps.isDirty);
        }
    }

    /** Forgets every cached subject (the store is closing). */
    void clear() {
        cache.clear();
        dirty.clear();
    }

    /**
     * Visits the stored subjects matching {@code filter} in subject (byte) order, seeking to the filter's literal
     * prefix. The visitor may change the store: rows are read a chunk at a time with no iterator open while it runs.
     */
    void scan(String filter, Visitor visitor) {
        String literal = literalPrefix(filter);
        byte[] start = concat(rowPrefix, literal.getBytes(StandardCharsets.UTF_8));
        byte[] from = start;
        List<PerSubject> chunk = new ArrayList<>(SCAN_CHUNK);
        long matched = 0;
        long total = count;
        try {
            stage();
            while (true) {
                chunk.clear();
                boolean more = false;
                try (RocksIterator it = batch.newIteratorWithBase(cf, db.newIterator(cf, readOptions), readOptions)) {
                    for (it.seek(from); it.isValid(); it.next()) {
                        byte[] k = it.key();
                        if (!RocksStorage.startsWith(k, start)) {
                            break;
                        }
                        if (chunk.size() == SCAN_CHUNK) {
                            more = true;
                            from = k; // resumed here once the chunk is visited
                            break;
                        }
                        String subject = new String(k, rowPrefix.length, k.length - rowPrefix.length,
                                StandardCharsets.UTF_8);
                        if (Filters.matches(filter, subject)) {
                            chunk.add(decode(subject, it.value()));
                        }
                    }
                }
                matched += chunk.size();
                for (PerSubject row : chunk) {
                    visitor.visit(row);
                }
                trim();
                if (!more) {
                    if (matched == total && total > 0 && covering.size() < 8 && !covering.contains(filter)
                            && !Filters.isAll(filter)) {
                        covering.add(filter);
                    }
                    return;
                }
                stage();
            }
        } catch (RocksDBException e) {
            throw new StoreException("stream " + stream + ": scanning subjects failed", e);
        }
    }

    /** The part of {@code filter} before its first wildcard token: every matching subject starts with it. */
    static String literalPrefix(String filter) {
        if (Filters.isAll(filter)) {
            return "";
        }
        if (!Filters.isWildcard(filter)) {
            return filter;
        }
        int end = 0;
        int tokenStart = 0;
        for (int i = 0; i <= filter.length(); i++) {
            if (i == filter.length() || filter.charAt(i) == '.') {
                String token = filter.substring(tokenStart, i);
                if (token.equals("*") || token.equals(">")) {
                    break;
                }
                end = Math.min(i + 1, filter.length());
                tokenStart = i + 1;
            }
        }
        return filter.substring(0, end);
    }

    /** Key prefix of the subject's index rows: {@code 09 generation(4) len(4) subject}. */
    byte[] indexPrefix(String subject) {
        byte[] g = generationPrefix(streamPrefix, RocksStreamStore.K_INDEX, generation);
        byte[] s = subject.getBytes(StandardCharsets.UTF_8);
        byte[] k = Arrays.copyOf(g, g.length + 4 + s.length);
        k[g.length] = (byte) (s.length >>> 24);
        k[g.length + 1] = (byte) (s.length >>> 16);
        k[g.length + 2] = (byte) (s.length >>> 8);
        k[g.length + 3] = (byte) s.length;
        System.arraycopy(s, 0, k, g.length + 4, s.length);
        return k;
    }

    /** {@code prefix kind generation(4)}: rows of one kind and generation. */
    static byte[] generationPrefix(byte[] streamPrefix, byte kind, int generation) {
        byte[] k = Arrays.copyOf(streamPrefix, streamPrefix.length + 5);
        k[streamPrefix.length] = kind;
        k[streamPrefix.length + 1] = (byte) (generation >>> 24);
        k[streamPrefix.length + 2] = (byte) (generation >>> 16);
        k[streamPrefix.length + 3] = (byte) (generation >>> 8);
        k[streamPrefix.length + 4] = (byte) generation;
        return k;
    }

    byte[] key(String subject) {
        return concat(rowPrefix, subject.getBytes(StandardCharsets.UTF_8));
    }

    static byte[] encode(PerSubject ps) {
        byte[] counts = MessageCodec.varints(ps.msgs, ps.bytes, ps.firstSeq, ps.lastSeq, ps.flags());
        byte[] v = new byte[counts.length + 1];
        v[0] = ROW_VERSION;
        System.arraycopy(counts, 0, v, 1, counts.length);
        return v;
    }

    private PerSubject decode(String subject, byte[] v) {
        if (v.length == 0 || v[0] != ROW_VERSION) {
            throw new StoreException("stream " + stream + ": corrupt subject row " + subject);
        }
        int[] pos = {1};
        var ps = new PerSubject(subject);
        ps.msgs = MessageCodec.getVarint(v, pos);
        ps.bytes = MessageCodec.getVarint(v, pos);
        ps.firstSeq = MessageCodec.getVarint(v, pos);
        ps.lastSeq = MessageCodec.getVarint(v, pos);
        int flags = (int) MessageCodec.getVarint(v, pos);
        ps.firstUnindexed = (flags & UNINDEXED_FIRST) != 0;
        ps.lastUnindexed = (flags & UNINDEXED_LAST) != 0;
        return ps;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        return RocksStorage.concat(a, b);
    }
}
