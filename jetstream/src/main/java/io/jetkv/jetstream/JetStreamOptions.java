package io.jetkv.jetstream;

import java.nio.file.Path;

/**
 * What the server tells JetStream at start.
 *
 * @param storeDir   base store directory; RocksDB lives in {@code storeDir/jetstream}
 * @param maxMemory  bytes of memory storage allowed, -1 (or 0) for no limit
 * @param maxStore   bytes of file storage allowed, -1 (or 0) for no limit
 * @param syncAlways true: each group commit fsyncs before its acks; false: acks follow the write to
 *                   RocksDB's write-ahead log, which survives a process crash but not a power loss
 * @param domain     JetStream domain ({@code $JS.<domain>.API} is answered too), or null
 * @param strict     unknown fields in {@code $JS.API} request bodies are 10025 (nats-server 2.12's default)
 */
public record JetStreamOptions(Path storeDir, long maxMemory, long maxStore, boolean syncAlways, String domain,
        boolean strict) {

    /** Strict request decoding on, as nats-server 2.12's default. */
    public JetStreamOptions(Path storeDir, long maxMemory, long maxStore, boolean syncAlways, String domain) {
        this(storeDir, maxMemory, maxStore, syncAlways, domain, true);
    }
}
