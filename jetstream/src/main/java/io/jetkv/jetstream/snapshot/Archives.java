package io.jetkv.jetstream.snapshot;

import java.io.IOException;

/** Tells a JetKV snapshot from a nats-server one by its first entry. Restore thread only. */
final class Archives {
    private Archives() {}

    /** Largest tar entry read into memory: nats-server's message blocks are at most 16 MiB (plus slack). */
    static final long MAX_ENTRY = 64L << 20;

    static Archive open(TarReader tar) throws IOException {
        TarReader.Entry first = tar.next();
        if (first == null) {
            throw new IOException("the snapshot is empty");
        }
        if (first.name().equals(JetKvArchive.META)) {
            return JetKvArchive.reader(first, tar);
        }
        if (first.name().equals(NatsServerArchive.META)) {
            return NatsServerArchive.reader(first, tar);
        }
        throw new IOException("not a stream snapshot: it starts with " + first.name());
    }
}
