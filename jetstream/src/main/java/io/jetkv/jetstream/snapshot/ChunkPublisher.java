package io.jetkv.jetstream.snapshot;

import io.jetkv.jetstream.MessageBus;
import java.io.IOException;
import java.io.OutputStream;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Cuts a snapshot into chunks published to the client's deliver subject, as nats-server does: each chunk's reply
 * subject is {@code <ack prefix>.<chunk bytes>.<chunk index>} and the client answers it once the chunk is
 * written. No more than {@link #WINDOW} bytes stay unacknowledged; past that the sender waits for acks, and gives
 * up when nobody listens on the deliver subject any more or no ack came for {@link #STALL_NANOS}. {@link #close}
 * sends the end: an empty message without reply.
 *
 * <p>Written by the snapshot thread; {@link #acked} is called on an event loop and only counts and wakes.
 */
final class ChunkPublisher extends OutputStream {
    /** Unacknowledged bytes allowed in flight (the reference allows 32 MiB; less spares the client's buffers). */
    static final long WINDOW = 8L << 20;
    private static final long STALL_NANOS = TimeUnit.SECONDS.toNanos(30);

    private final MessageBus bus;
    private final String deliverSubject;
    private final String ackPrefix;
    private final byte[] buf;
    private final AtomicLong outstanding = new AtomicLong();
    private volatile long lastAck = System.nanoTime();
    private volatile Thread sender;
    private int used;
    private int index;
    private long sent;

    ChunkPublisher(MessageBus bus, String deliverSubject, String ackPrefix, int chunkSize) {
        this.bus = bus;
        this.deliverSubject = deliverSubject;
        this.ackPrefix = ackPrefix;
        this.buf = new byte[chunkSize];
    }

    /** Event loop: the client acknowledged a chunk of {@code bytes}. */
    void acked(long bytes) {
        outstanding.addAndGet(-bytes);
        lastAck = System.nanoTime();
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
                sendChunk();
            }
        }
    }

    /** Sends what is buffered, then the end-of-snapshot message. */
    @Override
    public void close() throws IOException {
        if (used > 0) {
            sendChunk();
        }
        bus.publish(deliverSubject, null, null, new byte[0]);
    }

    private void sendChunk() throws IOException {
        sender = Thread.currentThread();
        while (outstanding.get() > WINDOW) {
            if (Thread.currentThread().isInterrupted()) {
                throw new IOException("the server is shutting down");
            }
            if (!bus.hasInterest(deliverSubject)) {
                throw new IOException("the client stopped listening");
            }
            if (System.nanoTime() - lastAck > STALL_NANOS) {
                throw new IOException("the client stopped acknowledging chunks");
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
        byte[] chunk = java.util.Arrays.copyOf(buf, used);
        index++;
        outstanding.addAndGet(chunk.length);
        bus.publish(deliverSubject, ackPrefix + "." + chunk.length + "." + index, null, chunk);
        sent += chunk.length;
        used = 0;
    }
}
