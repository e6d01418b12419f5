package io.jetkv.jetstream.snapshot;

import io.jetkv.jetstream.stream.Stream;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/**
 * Runs work on a stream's writer from a snapshot or restore thread and waits for its result: those threads are
 * their own, so they may wait, while the store stays confined to its writer.
 */
final class OnWriter {
    private OnWriter() {}

    private static final long TIMEOUT_SECONDS = 60;

    /** @throws IOException when the stream went away, its queue stayed full, or the work failed */
    static <T> T call(Stream stream, Supplier<T> work) throws IOException {
        CompletableFuture<T> result = new CompletableFuture<>();
        Stream.Task task = new Stream.Task() {
            @Override
            public void run(Stream.Batch batch) {
                batch.read(() -> {
                    try {
                        result.complete(work.get());
                    } catch (RuntimeException e) {
                        result.completeExceptionally(e);
                    }
                });
            }

            @Override
            public void rejected(Stream.Batch batch) {
                result.completeExceptionally(new IOException("stream " + stream.name() + " was deleted"));
            }
        };
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
        // a full queue is the publishers' burst: wait for room rather than fail a long snapshot
        while (!stream.execute(task)) {
            if (stream.isClosed()) {
                throw new IOException("stream " + stream.name() + " was deleted");
            }
            if (System.nanoTime() > deadline) {
                throw new IOException("stream " + stream.name() + " is too busy");
            }
            if (Thread.currentThread().isInterrupted()) {
                throw new IOException("interrupted");
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
        try {
            return result.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        } catch (TimeoutException e) {
            throw new IOException("stream " + stream.name() + " did not answer");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) {
                throw io;
            }
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            throw new IOException(cause);
        }
    }
}
