package io.jetkv.config;

import java.nio.file.Path;

/**
 * The {@code jetstream} block and {@code -js}/{@code -sd}.
 *
 * @param enabled        whether JetStream is on
 * @param storeDir       where RocksDB keeps streams; nats-server's default location when not given
 * @param maxMemoryStore bytes of memory storage allowed; -1 for no limit
 * @param maxFileStore   bytes of file storage allowed; -1 for no limit
 * @param syncAlways     true: every pub ack waits for fsync; false (default): acks wait for the write to
 *                       reach RocksDB's write-ahead log, which survives a process crash ({@code kill -9})
 */
public record JetStreamConfig(boolean enabled, Path storeDir, long maxMemoryStore, long maxFileStore, boolean syncAlways) {

    /** nats-server's default store directory: {@code $TMPDIR/nats} (it keeps {@code jetstream/} under it). */
    public static Path defaultStoreDir() {
        return Path.of(System.getProperty("java.io.tmpdir"), "nats");
    }

    public static final JetStreamConfig DISABLED = new JetStreamConfig(false, defaultStoreDir(), -1, -1, false);

    public JetStreamConfig withEnabled(boolean on) {
        return new JetStreamConfig(on, storeDir, maxMemoryStore, maxFileStore, syncAlways);
    }

    public JetStreamConfig withStoreDir(Path dir) {
        return new JetStreamConfig(enabled, dir, maxMemoryStore, maxFileStore, syncAlways);
    }
}
