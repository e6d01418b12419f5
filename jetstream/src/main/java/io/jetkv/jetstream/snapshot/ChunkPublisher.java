package io.jetkv.jetstream.snapshot;

import io.jetkv.jetstream.MessageBus;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Cuts a snapshot into chunks published to the client's deliver subject, with nats-server 2.12.5's flow control
 * (API level 3): the window holds {@code window / chunk} slots; each full chunk takes one, is sent with the reply
 * subject {@code <ack prefix>.<chunk bytes>.<chunk index>}, and any message on the ack subjects gives one back.
 * With no free slot the sender waits, and ends the snapshot with {@code 408 No Flow Response} when no slot came
 * back within {@link #ACK_TIMEOUT_NANOS} of the last chunk sent, or {@code 408 No Interest} when the client stopped
 * listening. {@link #close} takes a slot too, sends the last, partial chunk without a reply subject (nothing acks
 * it), then the end: an empty message whose header is {@code NATS/1.0 204} once a full chunk went, none otherwise.
 *
 * <p>Written by the snapshot thread; {@link #acked} is called on an event loop and only counts and wakes.
 */
final class ChunkPublisher extends OutputStream {
    static final int DEFAULT_CHUNK = 128 * 1024;
    static final int MIN_CHUNK = 1024;
    static final int MAX_CHUNK = 1024 * 1024;
    static final int DEFAULT_WINDOW = 8 * 1024 * 1024;
    static final int MIN_WINDOW = 1024;
    static final int MAX_WINDOW = 32 * 1024 * 1024;
    /** The end header after a snapshot of at least one full chunk: a bare status, no description. */
    private static final byte[] END_204 = "NATS/1.0 204\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    /** How long a sender with no free slot waits after its last chunk (nats-server 2.12.5+: 5 s). */
    static final long ACK_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(5);

    /** An end of the snapshot that the client is told about with a status, rather than a failure. */
    static final class Abort extends IOException {
        final int code;

        Abort(int code, String text) {
            super(text);
            this.code = code;
        }
    }

    private final MessageBus bus;
    private final String deliverSubject;
    private final String ackPrefix;
    private final byte[] buf;
    private final int maxInflight;
    private final AtomicInteger freeSlots;
    private volatile Thread sender;
    private long lastSent = System.nanoTime();
    private int used;
    private int index;
    private long sent;
    private boolean fullChunkSent;

    /**
     * @param chunkSize   as the client asked, 0 for the default: clamped to 1 KiB .. 1 MiB
     * @param windowSize  as the client asked, 0 for the default: clamped to 1 KiB .. 32 MiB, and at least a chunk
     */
    ChunkPublisher(MessageBus bus, String deliverSubject, String ackPrefix, long chunkSize, long windowSize) {
        this.bus = bus;
        this.deliverSubject = deliverSubject;
        this.ackPrefix = ackPrefix;
        int chunk = (int) clamp(chunkSize == 0 ? DEFAULT_CHUNK : chunkSize, MIN_CHUNK, MAX_CHUNK);
        int window = (int) clamp(windowSize == 0 ? DEFAULT_WINDOW : windowSize, MIN_WINDOW, MAX_WINDOW);
        this.buf = new byte[chunk];
        this.maxInflight = Math.max(window, chunk) / chunk; // 1 .. 32768
        this.freeSlots = new AtomicInteger(maxInflight);
    }

    private static long clamp(long v, long min, long max) {
        return Math.min(Math.max(v, min), max);
    }

    int chunkSize() {
        return buf.length;
    }

    int maxInflight() {
        return maxInflight;
    }

    /** Event loop: a message on the ack subjects gives back one slot, whatever it says. */
    void acked() {
        // never more slots than the window has: a client acking twice does not widen it
        freeSlots.getAndUpdate(n -> Math.min(n + 1, maxInflight));
        Thread t = sender;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    long bytesSent() {
        return sent;
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        while (len > 0) {
            int n = Math.min(len, buf.length - used);
            System.arraycopy(b, off, buf, used, n);
            used += n;
            off += n;
            len -= n;
            if (used == buf.length) {
                takeSlot();
                index++;
                publish(ackPrefix + "." + used + "." + index);
                fullChunkSent = true;
            }
        }
    }

    /** Sends what is buffered (without a reply subject), then the end-of-snapshot message. */
    @Override
    public void close() throws IOException {
        takeSlot();
        if (used > 0) {
            publish(null);
        }
        bus.publish(deliverSubject, null, fullChunkSent ? END_204.clone() : null, new byte[0]);
    }

    private void publish(String reply) {
        byte[] chunk = Arrays.copyOf(buf, used);
        bus.publish(deliverSubject, reply, null, chunk);
        sent += chunk.length;
        used = 0;
        lastSent = System.nanoTime();
    }

    private void takeSlot() throws IOException {
        sender = Thread.currentThread();
        while (true) {
            int n = freeSlots.get();
            if (n > 0) {
                if (freeSlots.compareAndSet(n, n - 1)) {
                    return;
                }
                continue;
            }
            if (Thread.currentThread().isInterrupted()) {
                throw new IOException("the server is shutting down");
            }
            if (!bus.hasInterest(deliverSubject)) {
                throw new Abort(408, "No Interest");
            }
            long waited = System.nanoTime() - lastSent;
            if (waited > ACK_TIMEOUT_NANOS) {
                throw new Abort(408, "No Flow Response");
            }
            LockSupport.parkNanos(Math.min(TimeUnit.MILLISECONDS.toNanos(10), ACK_TIMEOUT_NANOS - waited + 1));
        }
    }
}
