package io.jetkv.jetstream.snapshot;

import io.jetkv.jetstream.schedule.MessageSchedule;
import io.jetkv.jetstream.store.StreamStore;
import java.io.IOException;

/**
 * Writes restored messages into a new stream's store at their original sequences: a gap before a message becomes
 * deleted sequences ({@link StreamStore#advanceTo}), so first, last and interior deletes come back as they were.
 * Flushes every few megabytes, so that a large restore does not stage everything in memory. A message holding a
 * schedule gets its entry in the schedule index, as if just published: the archive does not carry the index, and a
 * restored schedule must fire (once, if its time passed while it was in the archive).
 *
 * <p>Restore thread only (the store is not live yet).
 */
final class MessageSink {
    private static final long FLUSH_BYTES = 8L << 20;

    private final StreamStore store;
    private long staged;
    private long count;

    MessageSink(StreamStore store) {
        this.store = store;
    }

    void put(long seq, String subject, byte[] headers, byte[] payload, long timestamp) throws IOException {
        if (Thread.currentThread().isInterrupted()) {
            throw new IOException("the server is shutting down");
        }
        long last = store.lastSeq();
        if (seq <= last) {
            throw new IOException("message sequence " + seq + " does not follow " + last);
        }
        if (seq > last + 1) {
            store.advanceTo(seq);
        }
        store.append(subject, headers == null || headers.length == 0 ? null : headers, payload, timestamp);
        long due = headers == null ? -1 : MessageSchedule.firstDeadline(headers, timestamp);
        if (due >= 0) {
            store.indexSchedule(seq, due);
        }
        count++;
        staged += subject.length() + payload.length + (headers == null ? 0 : headers.length);
        if (staged >= FLUSH_BYTES) {
            store.flush(false);
            staged = 0;
        }
    }

    /** After the last message: a deleted tail (or an emptied stream) keeps its last sequence. */
    void finish(long lastSeq) {
        if (store.lastSeq() < lastSeq) {
            store.advanceTo(lastSeq + 1);
        }
    }

    long count() {
        return count;
    }
}
