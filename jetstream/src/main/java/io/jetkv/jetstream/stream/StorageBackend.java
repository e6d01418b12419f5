package io.jetkv.jetstream.stream;

import io.jetkv.jetstream.store.StreamStore;
import io.jetkv.jetstream.stream.StreamEnums.Storage;
import java.util.Map;

/**
 * Where streams keep their messages and their persisted configuration: memory streams get a fresh
 * in-memory store and are not persisted; file streams live in RocksDB and their configuration is saved
 * so they come back at start.
 *
 * <p>Threading: called from API workers (open, metadata) and at start/shutdown; implementations are
 * thread-safe. The returned store then belongs to the stream's writer.
 */
public interface StorageBackend extends AutoCloseable {

    /**
     * The storage of one account: the same engine, with the account's stream names and metadata keys in a
     * namespace of their own, so two accounts may each have a stream of the same name. {@code null} is the
     * global account, stored without a namespace; its view is this backend itself. Closing a view closes nothing.
     */
    default StorageBackend forAccount(String account) {
        if (account == null) {
            return this;
        }
        throw new UnsupportedOperationException("this storage has no account namespaces");
    }

    /** Opens (or creates) the store of {@code stream}. */
    StreamStore openStore(String stream, Storage storage);

    /**
     * Writer thread of a file stream whose flush failed: returns a store holding the state of the last
     * completed flush and closes {@code failed}. When this throws, {@code failed} may still be open and
     * belongs to the caller, who may try again. Memory stores never fail a flush.
     */
    default StreamStore reopenStore(String stream, StreamStore failed) {
        failed.close();
        return openStore(stream, Storage.FILE);
    }

    /** Storage engine figures for monitoring, by name (RocksDB property names); empty when there are none. */
    default Map<String, Long> storeStats() {
        return Map.of();
    }

    /** Saves the persisted form of a file stream (config and creation time). */
    void putStreamMeta(String stream, byte[] json);

    void deleteStreamMeta(String stream);

    /** Every persisted stream: name to its saved form. */
    Map<String, byte[]> streamMetas();

    /**
     * Generic persisted metadata for layers above streams (consumer configs and state). Keys are free-form;
     * {@code stream/} is taken by the stream configurations.
     */
    void putMeta(String key, byte[] value);

    void deleteMeta(String key);

    /** Every metadata entry whose key starts with {@code prefix}: full key to value, ordered by key. */
    Map<String, byte[]> metaWithPrefix(String prefix);

    @Override
    void close();
}
