package io.jetkv.jetstream.snapshot;

import java.io.IOException;

/** A snapshot made by nats-server. */
final class NatsServerArchive {
    static final String META = "meta.inf";

    private NatsServerArchive() {}

    static Archive reader(TarReader.Entry meta, TarReader tar) throws IOException {
        throw new IOException("nats-server snapshots are not supported yet");
    }
}
