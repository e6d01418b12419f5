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

    private RocksStorageBackend(RocksStorage rocks) {
        this.rocks = rocks;
    }

    public static RocksStorageBackend open(Path storeDir) {
        return new RocksStorageBackend(RocksStorage.open(storeDir.resolve("jetstream")));
    }

    @Override
    public java.util.Map<String, Long> storeStats() {
        return rocks.stats();
    }

    @Override
    public StreamStore openStore(String stream, Storage storage) {
        return storage == Storage.MEMORY ? new MemoryStreamStore() : rocks.openStream(stream);
    }

    @Override
    public StreamStore reopenStore(String stream, StreamStore failed) {
        return rocks.reopenStream((RocksStreamStore) failed);
    }

    @Override
    public void putStreamMeta(String stream, byte[] json) {
        // configuration changes are rare and must survive a crash right after the API reply
        rocks.putMeta(META_PREFIX + stream, json, true);
    }

    @Override
    public void deleteStreamMeta(String stream) {
        rocks.deleteMeta(META_PREFIX + stream);
    }

    @Override
    public Map<String, byte[]> streamMetas() {
        Map<String, byte[]> out = new LinkedHashMap<>();
        rocks.metaWithPrefix(META_PREFIX).forEach((k, v) -> out.put(k.substring(META_PREFIX.length()), v));
        return out;
    }

    @Override
    public void putMeta(String key, byte[] value) {
        rocks.putMeta(key, value, false);
    }

    @Override
    public void deleteMeta(String key) {
        rocks.deleteMeta(key);
    }

    @Override
    public Map<String, byte[]> metaWithPrefix(String prefix) {
        return rocks.metaWithPrefix(prefix);
    }

    @Override
    public void close() {
        rocks.close();
    }
}
