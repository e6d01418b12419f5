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
 */
public record JetStreamOptions(Path storeDir, long maxMemory, long maxStore, boolean syncAlways, String domain) {}
