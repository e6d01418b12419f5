package io.jetkv.jetstream.stream;

/**
 * The consumers of a replicated stream, as its writer sees them: their delivery and ack state travels in the
 * stream's own Raft group, as entries of their own kind beside the publish batches, so that an ack and the
 * removal it causes (interest and work-queue retention) are ordered with the messages on every replica.
 * Implemented by the consumer side; the stream only moves opaque bytes between it and the {@link Replicator}.
 *
 * <p>Writer thread of the stream for every method.
 */
public interface ReplicatedConsumers {
    /**
     * The consumer changes of one writer batch (one proposal, group commit) and what to do once it is
     * committed ({@code true}) or could not be ({@code false}; some other thread).
     */
    record Changes(byte[] ops, java.util.function.Consumer<Boolean> done) {}

    /** Leader, at the end of a writer batch: the changes made since the last call, or null for none. */
    Changes takeChanges();

    /** Every replica: a committed consumer entry, applied in log order with the publishes around it. */
    void applyCommitted(byte[] ops, Stream.Batch batch);

    /** This replica now leads the stream (true) or no longer does; in log order with the applied entries. */
    void leading(boolean leader);

    /** The names of the committed consumers. */
    java.util.Collection<String> committedNames();

    /** The committed consumer state, for a snapshot of the stream's group. */
    byte[] snapshot();

    /** Replaces the committed consumer state with a snapshot's ({@link #snapshot}). */
    void installSnapshot(byte[] state);
}
