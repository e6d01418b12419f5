package io.jetkv.jetstream.store;

/** Messages stored on one literal subject: how many, and the first and last sequence among them. */
public record SubjectState(long msgs, long firstSeq, long lastSeq) {
    public static final SubjectState EMPTY = new SubjectState(0, 0, 0);
}
