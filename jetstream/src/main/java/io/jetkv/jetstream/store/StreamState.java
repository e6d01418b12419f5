package io.jetkv.jetstream.store;

/**
 * Counters of a stream's store, as reported in stream info {@code state}.
 *
 * @param msgs           messages stored
 * @param bytes          sum of {@link StoredMessage#storedSize()}
 * @param firstSeq       first sequence stored (lastSeq + 1 when empty)
 * @param firstTimestamp epoch nanos of the first message; when empty 0, or {@link #EMPTIED_BY_REMOVAL}
 * @param lastSeq        last sequence ever assigned (kept when the stream is emptied)
 * @param lastTimestamp  epoch nanos of the last message, 0 when none was ever stored
 * @param numSubjects    distinct subjects stored
 * @param numDeleted     sequences between firstSeq and lastSeq that are gone (interior deletes)
 */
public record StreamState(
        long msgs, long bytes, long firstSeq, long firstTimestamp, long lastSeq, long lastTimestamp,
        long numSubjects, long numDeleted) {

    /**
     * The first timestamp of a file stream whose last message was removed (deleted, expired, acknowledged) rather
     * than purged: nats-server's file store then reports the Unix epoch as {@code first_ts}, not the zero time.
     */
    public static final long EMPTIED_BY_REMOVAL = Long.MIN_VALUE;
}
