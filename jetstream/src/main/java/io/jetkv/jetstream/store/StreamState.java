package io.jetkv.jetstream.store;

/**
 * Counters of a stream's store, as reported in stream info {@code state}.
 *
 * @param msgs           messages stored
 * @param bytes          sum of {@link StoredMessage#storedSize()}
 * @param firstSeq       first sequence stored (lastSeq + 1 when empty)
 * @param firstTimestamp epoch nanos of the first message, 0 when empty
 * @param lastSeq        last sequence ever assigned (kept when the stream is emptied)
 * @param lastTimestamp  epoch nanos of the last message, 0 when none was ever stored
 * @param numSubjects    distinct subjects stored
 * @param numDeleted     sequences between firstSeq and lastSeq that are gone (interior deletes)
 */
public record StreamState(
        long msgs, long bytes, long firstSeq, long firstTimestamp, long lastSeq, long lastTimestamp,
        long numSubjects, long numDeleted) {}
