package io.jetkv.jetstream.stream;

/**
 * Who still wants the messages of a stream whose retention is not {@code limits}: the stream's consumers,
 * attached by the consumer side. The stream asks before storing (interest retention keeps a message only
 * when some consumer's filter takes it); the consumers retire messages through {@link Stream#retire}.
 *
 * <p>Writer thread of the stream only.
 */
public interface Interest {
    /** True when some consumer's filter takes {@code subject}. */
    boolean anyInterest(String subject);

    /**
     * Writer thread: the store was reopened after a failed flush. That flush also lost the removals its batch held
     * (acked messages of interest and work-queue streams), so the messages no consumer needs must go again.
     */
    default void storeReopened() {
    }

    /**
     * Writer thread: the stream changed from {@code limits} to {@code interest} retention; the stored messages no
     * consumer needs go now, as they would have had the stream been an interest stream all along.
     */
    default void becameInterest() {
    }
}
