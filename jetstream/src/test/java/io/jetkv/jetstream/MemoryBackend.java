package io.jetkv.jetstream;

import io.jetkv.jetstream.store.MemoryStreamStore;
import io.jetkv.jetstream.store.StreamStore;
import io.jetkv.jetstream.stream.StorageBackend;
import io.jetkv.jetstream.stream.StreamEnums.Storage;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/** Test storage: every stream in memory, metadata in a map (so restore of configs can be exercised). */
public final class MemoryBackend implements StorageBackend {
    final Map<String, byte[]> metas = new ConcurrentHashMap<>();

    @Override
    public StreamStore openStore(String stream, Storage storage) {
        return new MemoryStreamStore();
    }

    @Override
    public void putStreamMeta(String stream, byte[] json) {
        metas.put(stream, json);
    }

    @Override
    public void deleteStreamMeta(String stream) {
        metas.remove(stream);
    }

    @Override
    public Map<String, byte[]> streamMetas() {
        Map<String, byte[]> out = new TreeMap<>();
        metas.forEach((k, v) -> {
            if (!k.startsWith("\u0000")) {
                out.put(k, v);
            }
        });
        return out;
    }

    @Override
    public void putMeta(String key, byte[] value) {
        metas.put("\u0000" + key, value);
    }

    @Override
    public void deleteMeta(String key) {
        metas.remove("\u0000" + key);
    }

    @Override
    public Map<String, byte[]> metaWithPrefix(String prefix) {
        Map<String, byte[]> out = new TreeMap<>();
        metas.forEach((k, v) -> {
            if (k.startsWith("\u0000" + prefix)) {
                out.put(k.substring(1), v);
            }
        });
        return out;
    }

    @Override
    public void close() {}
}
