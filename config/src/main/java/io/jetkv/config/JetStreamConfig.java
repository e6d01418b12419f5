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
 * @param strict         true (default, as nats-server 2.12): a {@code $JS.API} request with a field the reference does
 *                       not know is refused with 10025; {@code strict: false} ignores such fields, as 2.10 did
 */
public record JetStreamConfig(boolean enabled, Path storeDir, long maxMemoryStore, long maxFileStore, boolean syncAlways,
        boolean strict) {

    /** With strict request decoding, the default. */
    public JetStreamConfig(boolean enabled, Path storeDir, long maxMemoryStore, long maxFileStore, boolean syncAlways) {
        this(enabled, storeDir, maxMemoryStore, maxFileStore, syncAlways, true);
    }

    /** nats-server's default store directory: {@code $TMPDIR/nats} (it keeps {@code jetstream/} under it). */
    public static Path defaultStoreDir() {
        return Path.of(System.getProperty("java.io.tmpdir"), "nats");
    }

    public static final JetStreamConfig DISABLED = new JetStreamConfig(false, defaultStoreDir(), -1, -1, false);

    public JetStreamConfig withEnabled(boolean on) {
        return new JetStreamConfig(on, storeDir, maxMemoryStore, maxFileStore, syncAlways, strict);
    }

    public JetStreamConfig withStoreDir(Path dir) {
        return new JetStreamConfig(enabled, dir, maxMemoryStore, maxFileStore, syncAlways, strict);
    }

    public JetStreamConfig withStrict(boolean on) {
        return new JetStreamConfig(enabled, storeDir, maxMemoryStore, maxFileStore, syncAlways, on);
    }
}
