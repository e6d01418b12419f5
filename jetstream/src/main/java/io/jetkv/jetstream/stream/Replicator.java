package io.jetkv.jetstream.stream;

import java.util.concurrent.CompletionStage;

/**
 * Where a replicated stream's writer hands a batch to be committed; implemented by the cluster layer
 * ({@code io.jetkv.jetstream.cluster}), which keeps every consensus type on its side of this interface. The
 * committed batch comes back to every replica through {@link Stream#applyCommitted}.
 */
public interface Replicator {
    /**
     * Writer thread: proposes one encoded batch. Must not block; the stage completes on some other thread when
     * the batch is committed, or fails when it cannot be (not the leader any more, no quorum).
     */
    CompletionStage<?> propose(byte[] entry);

    /**
     * Whether this replica leads the group and may propose now (its leadership's first entry is applied). Only the
     * leader fires message schedules. Any thread.
     */
    default boolean leads() {
        return true;
    }
}
