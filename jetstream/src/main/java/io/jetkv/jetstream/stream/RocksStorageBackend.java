package io.jetkv.jetstream.stream;

import io.jetkv.jetstream.store.MemoryStreamStore;
import io.jetkv.jetstream.store.RocksStorage;
import io.jetkv.jetstream.store.RocksStreamStore;
import io.jetkv.jetstream.store.StreamStore;
import io.jetkv.jetstream.stream.StreamEnums.Storage;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The server's {@link StorageBackend}: file streams in the one {@link RocksStorage} under
 * {@code <storeDir>/jetstream}, their configurations in its metadata map under {@code stream/<name>};
 * memory streams in a {@link MemoryStreamStore} each.
 *
 * <p>Thread-safe (RocksStorage is).
 */
public final class RocksStorageBackend implements StorageBackend {
    private static final String META_PREFIX = "stream/";

    private final RocksStorage rocks;
    /** What this view puts before stream names and metadata keys: empty for the global account. */
    private final String storePrefix;
    private final String metaPrefix;
    /** False for an account's view: the RocksDB belongs to the global backend. */
    private final boolean owner;

    private RocksStorageBackend(RocksStorage rocks, String storePrefix, String metaPrefix, boolean owner) {
        this.rocks = rocks;
        this.storePrefix = storePrefix;
        this.metaPrefix = metaPrefix;
        this.owner = owner;
    }

    /**
     * An account's view: its stores are named {@code <account>\0<stream>} and its metadata lives under
     * {@code acc/<account>\0}, outside the global account's {@code stream/} and {@code consumer/} keys (a NUL is
     * in no account or stream name, so no two accounts share a prefix).
     */
    @Override
    public StorageBackend forAccount(String account) {
        if (account == null) {
            return this;
        }
        return new RocksStorageBackend(rocks, account + "\0", "acc/" + account + "\0", false);
    }

    public static RocksStorageBackend open(Path storeDir) {
        return new RocksStorageBackend(RocksStorage.open(storeDir.resolve("jetstream")), "", "", true);
    }

    @Override
    public java.util.Map<String, Long> storeStats() {
        return rocks.stats();
    }

    @Override
    public StreamStore openStore(String stream, Storage storage) {
        return storage == Storage.MEMORY ? new MemoryStreamStore() : rocks.openStream(storePrefix + stream);
    }

    @Override
    public StreamStore reopenStore(String stream, StreamStore failed) {
        return rocks.reopenStream((RocksStreamStore) failed);
    }

    @Override
    public void putStreamMeta(String stream, byte[] json) {
        // configuration changes are rare and must survive a crash right after the API reply
        rocks.putMeta(metaPrefix + META_PREFIX + stream, json, true);
    }

    @Override
    public void deleteStreamMeta(String stream) {
        rocks.deleteMeta(metaPrefix + META_PREFIX + stream);
    }

    @Override
    public Map<String, byte[]> streamMetas() {
        Map<String, byte[]> out = new LinkedHashMap<>();
        String prefix = metaPrefix + META_PREFIX;
        rocks.metaWithPrefix(prefix).forEach((k, v) -> out.put(k.substring(prefix.length()), v));
        return out;
    }

    @Override
    public void putMeta(String key, byte[] value) {
        rocks.putMeta(metaPrefix + key, value, false);
    }

    @Override
    public void deleteMeta(String key) {
        rocks.deleteMeta(metaPrefix + key);
    }

    @Override
    public Map<String, byte[]> metaWithPrefix(String prefix) {
        if (metaPrefix.isEmpty()) {
            return rocks.metaWithPrefix(prefix);
        }
        Map<String, byte[]> out = new LinkedHashMap<>();
        rocks.metaWithPrefix(metaPrefix + prefix).forEach((k, v) -> out.put(k.substring(metaPrefix.length()), v));
        return out;
    }

    @Override
    public void close() {
        if (owner) {
            rocks.close();
        }
    }
}
