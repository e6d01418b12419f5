package io.jetkv.jetstream.stream;

/**
 * Observes a stream from its writer thread; the hook consumers attach to. Called after each group
 * commit (new messages are durable and visible through {@link Stream#store()}) and when the stream goes
 * away. Implementations run on the stream's writer thread and must not block.
 */
public interface StreamListener {
    /**
     * After a batch was flushed: new, removed or purged messages may be visible. Also after the store was
     * reopened following a failed flush (messages of the lost batch are gone again); never after a failure.
     */
    void afterFlush(Stream stream);

    /** The stream was deleted (or the server is shutting down); its store is about to close. */
    default void streamClosed(Stream stream) {}
}
