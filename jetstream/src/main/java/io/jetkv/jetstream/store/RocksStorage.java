package io.jetkv.jetstream.store;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.CompressionType;
import org.rocksdb.DBOptions;
import org.rocksdb.InfoLogLevel;
import org.rocksdb.LRUCache;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one RocksDB instance of a server: every file-storage stream plus a small metadata map (stream
 * configs, consumer state) for the layers above.
 *
 * <p>On-disk layout, all in the default column family, keys ordered bytewise:
 *
 * <pre>
 * 00 'I'                     -> next stream id (8 bytes)
 * 00 'N' name(UTF-8)         -> stream id (8 bytes)
 * 01 key(UTF-8)              -> meta value (opaque)
 * 02 id(8) kind(1) ...       -> stream rows, see {@link RocksStreamStore}
 * </pre>
 *
 * A stream's rows share the prefix {@code 02 id}, so deleting a stream is one range delete. Ids are never
 * reused, so a half-finished delete can never leak rows into a later stream of the same name.
 *
 * <p>Threading: every method may be called from any thread (stream writers, API workers). RocksDB is
 * thread-safe; opening and deleting streams is serialised here. A {@link RocksStreamStore} it hands out is
 * confined to one thread. {@link #close} must come after the stream writers are drained.
 */
public final class RocksStorage implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RocksStorage.class);

    static final byte SPACE_REGISTRY = 0;
    static final byte SPACE_META = 1;
    static final byte SPACE_STREAM = 2;
    /** {@code 02 id(8)}: what every row of one stream starts with, see {@link #streamPrefix}. */
    static final int STREAM_PREFIX_BYTES = 1 + 8;
    private static final byte[] NEXT_ID_KEY = {SPACE_REGISTRY, 'I'};
    private static final byte[] NAME_PREFIX = {SPACE_REGISTRY, 'N'};

    // Sized for a small server (2 cores): one flush and one compaction at a time, a modest cache.
    private static final long BLOCK_CACHE_BYTES = 32L << 20;
    private static final long WRITE_BUFFER_BYTES = 16L << 20;
    private static final long MAX_WAL_BYTES = 64L << 20;
    // Small table files. Every flush writes one L0 file spanning all streams, so a compaction into the next level
    // rewrites every file there in that key range. With small files, the cold part of an append-only stream sits
    // in files of its own that no new key overlaps, and is not rewritten. Measured with 64 MB files and a 256 MB
    // level base (RocksDB's defaults): async JS publishes and KV puts (1.6M each) made compactions read 13M
    // records and cost 13% more server CPU than with these sizes, which read 7.6M.
    private static final long TARGET_FILE_BYTES = 4L << 20;
    private static final long LEVEL_BASE_BYTES = 16L << 20;
    // Open table files kept (each holds its index and filter blocks, see the table config): 4 GB of 4 MB files.
    private static final int MAX_OPEN_FILES = 1024;
    // The memtable insert hint (one per key prefix) saves re-walking the skip list when a write batch alternates
    // between regions: a publish writes a message row and a subject index row. The prefix is space, stream id and
    // row kind. Measured: 6 to 8% less server CPU for async JS publishes and KV puts.
    private static final int ROW_REGION_PREFIX = STREAM_PREFIX_BYTES + 1;

    static {
        RocksDB.loadLibrary();
    }

    private final Path dir;
    private final LRUCache cache;
    private final BloomFilter bloom;
    private final DBOptions options;
    private final ColumnFamilyOptions cfOptions;
    private final ColumnFamilyHandle defaultColumn;
    private final RocksDB db;
    private final WriteOptions writeNoSync = new WriteOptions();
    private final WriteOptions writeSync = new WriteOptions().setSync(true);
    private final ReadOptions readOptions = new ReadOptions();
    private final Map<String, RocksStreamStore> open = new HashMap<>();
    // Meta calls share the read lock so close() cannot free RocksDB under a running call.
    private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
    private long nextId;
    private volatile boolean closed;
    // Subjects whose state each open stream keeps in memory (about 200 bytes each); the rest stay in RocksDB rows.
    private volatile int subjectCacheEntries = Integer.getInteger("jetkv.subjectCache", 16_384);
    /** Test hook: the next flush of this stream fails as a failed RocksDB write would. */
    private volatile String failNextFlushOf;

    private RocksStorage(Path dir, LRUCache cache, BloomFilter bloom, DBOptions options, ColumnFamilyOptions cfOptions,
            ColumnFamilyHandle defaultColumn, RocksDB db) {
        this.dir = dir;
        this.cache = cache;
        this.bloom = bloom;
        this.options = options;
        this.cfOptions = cfOptions;
        this.defaultColumn = defaultColumn;
        this.db = db;
    }

    /** Opens (creating if needed) the store in {@code dir}. */
    public static RocksStorage open(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new StoreException("cannot create store directory " + dir, e);
        }
        var cache = new LRUCache(BLOCK_CACHE_BYTES);
        var bloom = new BloomFilter(10);
        var table = new BlockBasedTableConfig()
                .setBlockCache(cache)
                .setFilterPolicy(bloom)
                .setBlockSize(16 * 1024)
                // Index and filter blocks stay with their table readers rather than in the block cache: a
                // large bucket's filter block outgrows one cache shard, and was then re-read from the file
                // on every lookup (measured: a 1M-key bucket's keys()/watch slowed to ~1,300 msgs/s).
                .setCacheIndexAndFilterBlocks(false);
        // The memtable insert hint is settable only through RocksDB's option strings in RocksJava.
        var hint = new Properties();
        hint.setProperty("memtable_insert_with_hint_prefix_extractor", "rocksdb.FixedPrefix." + ROW_REGION_PREFIX);
        var cfOptions = ColumnFamilyOptions.getColumnFamilyOptionsFromProps(hint);
        if (cfOptions == null) {
            throw new StoreException("RocksDB refused the column family options " + hint);
        }
        cfOptions
                .setTableFormatConfig(table)
                .setWriteBufferSize(WRITE_BUFFER_BYTES)
                .setMaxWriteBufferNumber(3)
                .setLevelCompactionDynamicLevelBytes(true)
                .setTargetFileSizeBase(TARGET_FILE_BYTES)
                .setMaxBytesForLevelBase(LEVEL_BASE_BYTES)
                .setCompressionType(CompressionType.LZ4_COMPRESSION)
                .setBottommostCompressionType(CompressionType.ZSTD_COMPRESSION);
        var options = new DBOptions()
                .setCreateIfMissing(true)
                .setMaxBackgroundJobs(2)
                .setMaxTotalWalSize(MAX_WAL_BYTES)
                .setBytesPerSync(1L << 20)
                .setMaxOpenFiles(MAX_OPEN_FILES)
                .setInfoLogLevel(InfoLogLevel.WARN_LEVEL)
                .setKeepLogFileNum(3)
                .setMaxLogFileSize(4L << 20);
        RocksDB db = null;
        var handles = new ArrayList<ColumnFamilyHandle>();
        try {
            db = RocksDB.open(options, dir.toString(),
                    List.of(new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, cfOptions)), handles);
            byte[] next = db.get(NEXT_ID_KEY);
            var storage = new RocksStorage(dir, cache, bloom, options, cfOptions, handles.get(0), db);
            storage.nextId = next == null ? 1 : MessageCodec.getLong(next, 0);
            return storage;
        } catch (RocksDBException e) {
            handles.forEach(ColumnFamilyHandle::close);
            if (db != null) {
                db.close();
            }
            options.close();
            cfOptions.close();
            bloom.close();
            cache.close();
            throw new StoreException("cannot open RocksDB in " + dir, e);
        }
    }

    /**
     * Opens the named stream's store, creating an empty one the first time. A stream can be open only once
     * at a time; {@link RocksStreamStore#close} makes it available again.
     */
    public synchronized RocksStreamStore openStream(String streamName) {
        ensureOpen();
        if (open.containsKey(streamName)) {
            throw new IllegalStateException("stream " + streamName + " is already open");
        }
        byte[] nameKey = nameKey(streamName);
        try {
            byte[] idBytes = db.get(readOptions, nameKey);
            long id;
            if (idBytes == null) {
                id = nextId++;
                byte[] v = new byte[8];
                MessageCodec.putLong(v, 0, id);
                byte[] n = new byte[8];
                MessageCodec.putLong(n, 0, nextId);
                try (var batch = new WriteBatch()) {
                    batch.put(nameKey, v);
                    batch.put(NEXT_ID_KEY, n);
                    db.write(writeNoSync, batch);
                }
            } else {
                id = MessageCodec.getLong(idBytes, 0);
            }
            var store = new RocksStreamStore(this, streamName, id);
            open.put(streamName, store);
            return store;
        } catch (RocksDBException e) {
            throw new StoreException("stream " + streamName + ": cannot open store", e);
        }
    }

    /**
     * Replaces the failed store of a stream with a fresh one holding the state of its last completed flush.
     * The new store is opened before {@code failed} is closed, so when opening throws the failed store stays
     * open (its reads still answer) and the caller may try again later.
     */
    public synchronized RocksStreamStore reopenStream(RocksStreamStore failed) {
        ensureOpen();
        String streamName = failed.name();
        if (open.get(streamName) != failed) {
            throw new IllegalStateException("stream " + streamName + " is not open with this store");
        }
        try {
            byte[] idBytes = db.get(readOptions, nameKey(streamName));
            if (idBytes == null) {
                throw new StoreException("stream " + streamName + ": store vanished");
            }
            var store = new RocksStreamStore(this, streamName, MessageCodec.getLong(idBytes, 0));
            open.put(streamName, store);
            failed.close(); // its closed() callback only removes the mapping when it still points at it
            return store;
        } catch (RocksDBException e) {
            throw new StoreException("stream " + streamName + ": cannot reopen store", e);
        }
    }

    /** How many subjects a stream opened from now on caches, see {@link SubjectRows}. */
    int subjectCacheEntries() {
        return subjectCacheEntries;
    }

    /** Test hook: a small cache makes every path read and write subject rows. */
    void subjectCacheEntries(int entries) {
        subjectCacheEntries = entries;
    }

    /** Test hook: makes the next flush of {@code streamName} fail (and the store failed), once. */
    void failNextFlush(String streamName) {
        failNextFlushOf = streamName;
    }

    /** True, once, when a test asked the next flush of {@code streamName} to fail. */
    boolean takeInjectedFlushFailure(String streamName) {
        if (streamName.equals(failNextFlushOf)) {
            failNextFlushOf = null;
            return true;
        }
        return false;
    }

    /** Names of all streams that have a store, open or not, sorted. */
    public synchronized List<String> streamNames() {
        ensureOpen();
        List<String> out = new ArrayList<>();
        try (RocksIterator it = db.newIterator(readOptions)) {
            for (it.seek(NAME_PREFIX); it.isValid() && startsWith(it.key(), NAME_PREFIX); it.next()) {
                byte[] k = it.key();
                out.add(new String(k, NAME_PREFIX.length, k.length - NAME_PREFIX.length, StandardCharsets.UTF_8));
            }
        }
        return out;
    }

    /**
     * Deletes every row of a stream in one atomic write. The stream must not be open (close it, or call
     * {@link RocksStreamStore#destroy}). No-op for an unknown name.
     */
    public synchronized void deleteStream(String name) {
        ensureOpen();
        if (open.containsKey(name)) {
            throw new IllegalStateException("stream " + name + " is open");
        }
        byte[] nameKey = nameKey(name);
        try {
            byte[] idBytes = db.get(readOptions, nameKey);
            if (idBytes == null) {
                return;
            }
            long id = MessageCodec.getLong(idBytes, 0);
            try (var batch = new WriteBatch()) {
                batch.delete(nameKey);
                batch.deleteRange(streamPrefix(id), streamPrefix(id + 1));
                db.write(writeNoSync, batch);
            }
            LOG.debug("stream {}: store deleted (id {})", name, id);
        } catch (RocksDBException e) {
            throw new StoreException("stream " + name + ": cannot delete store", e);
        }
    }

    /** Stores a metadata value; with {@code sync} the write is fsynced before returning. */
    public void putMeta(String key, byte[] value, boolean sync) {
        withDb("write meta " + key, () -> {
            db.put(sync ? writeSync : writeNoSync, metaKey(key), value);
            return null;
        });
    }

    /** The metadata value, or null. */
    public byte[] getMeta(String key) {
        return withDb("read meta " + key, () -> db.get(readOptions, metaKey(key)));
    }

    public void deleteMeta(String key) {
        withDb("delete meta " + key, () -> {
            db.delete(writeNoSync, metaKey(key));
            return null;
        });
    }

    /** Every metadata entry whose key starts with {@code prefix}, ordered by key. */
    public Map<String, byte[]> metaWithPrefix(String prefix) {
        byte[] start = metaKey(prefix);
        return withDb("scan meta " + prefix, () -> {
            var out = new TreeMap<String, byte[]>();
            try (RocksIterator it = db.newIterator(readOptions)) {
                for (it.seek(start); it.isValid() && startsWith(it.key(), start); it.next()) {
                    byte[] k = it.key();
                    out.put(new String(k, 1, k.length - 1, StandardCharsets.UTF_8), it.value());
                }
            }
            return out;
        });
    }

    /** RocksDB properties the metrics endpoint reports, by their RocksDB names. */
    private static final List<String> STAT_PROPERTIES = List.of("rocksdb.cur-size-all-mem-tables",
            "rocksdb.estimate-pending-compaction-bytes", "rocksdb.compaction-pending", "rocksdb.block-cache-usage",
            "rocksdb.live-sst-files-size", "rocksdb.estimate-num-keys");

    /**
     * A few RocksDB figures for monitoring (memtables, pending compaction, block cache, SST size, keys), by
     * property name; empty once closed. Any thread: the read lock keeps RocksDB open meanwhile.
     */
    public Map<String, Long> stats() {
        try {
            return withDb("read statistics", () -> {
                Map<String, Long> out = new java.util.LinkedHashMap<>();
                for (String p : STAT_PROPERTIES) {
                    out.put(p, db.getLongProperty(p));
                }
                return out;
            });
        } catch (StoreException e) {
            return Map.of();
        }
    }

    private interface DbCall<T> {
        T run() throws RocksDBException;
    }

    private <T> T withDb(String what, DbCall<T> call) {
        lifecycle.readLock().lock();
        try {
            ensureOpen();
            return call.run();
        } catch (RocksDBException e) {
            throw new StoreException("cannot " + what, e);
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    /**
     * Closes open streams (dropping their unflushed changes), syncs the WAL and closes RocksDB. Call
     * after the stream writers have stopped.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        for (RocksStreamStore store : new ArrayList<>(open.values())) {
            store.close();
        }
        lifecycle.writeLock().lock();
        try {
            closed = true;
        } finally {
            lifecycle.writeLock().unlock();
        }
        try {
            db.syncWal();
        } catch (RocksDBException e) {
            LOG.warn("store {}: WAL sync at close failed", dir, e);
        }
        defaultColumn.close();
        try {
            db.closeE();
        } catch (RocksDBException e) {
            LOG.warn("store {}: close failed", dir, e);
        }
        writeNoSync.close();
        writeSync.close();
        readOptions.close();
        options.close();
        cfOptions.close();
        bloom.close();
        cache.close();
    }

    RocksDB db() {
        return db;
    }

    WriteOptions writeOptions(boolean sync) {
        return sync ? writeSync : writeNoSync;
    }

    synchronized void closed(String streamName, RocksStreamStore store) {
        open.remove(streamName, store);
    }

    private void ensureOpen() {
        if (closed) {
            throw new StoreException("store " + dir + " is closed");
        }
    }

    static byte[] streamPrefix(long id) {
        byte[] p = new byte[STREAM_PREFIX_BYTES];
        p[0] = SPACE_STREAM;
        MessageCodec.putLong(p, 1, id);
        return p;
    }

    private static byte[] nameKey(String name) {
        return concat(NAME_PREFIX, name.getBytes(StandardCharsets.UTF_8));
    }

    private static byte[] metaKey(String key) {
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[k.length + 1];
        out[0] = SPACE_META;
        System.arraycopy(k, 0, out, 1, k.length);
        return out;
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    static boolean startsWith(byte[] key, byte[] prefix) {
        return key.length >= prefix.length && Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length);
    }
}
