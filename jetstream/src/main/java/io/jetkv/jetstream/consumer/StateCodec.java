package io.jetkv.jetstream.consumer;

import io.jetkv.jetstream.store.Varint;
import java.util.Arrays;

/**
 * Varint ({@link Varint}) writer and reader for a durable consumer's saved delivery and ack state ({@link Consumer#stateBytes}),
 * which is rewritten on every tick while the consumer is busy: a pending list of a thousand entries takes a few
 * kilobytes instead of tens as JSON, and no object tree. Signed values are zigzag-encoded, so the small deltas
 * between neighbouring sequences take one or two bytes whichever way they go.
 *
 * <p>Not thread-safe; one per encoding or decoding, on the stream's writer thread.
 */
final class StateCodec {
    static final byte VERSION = 1;

    private byte[] buf;
    private int pos;

    /** A writer. */
    StateCodec(int capacity) {
        buf = new byte[Math.max(16, capacity)];
    }

    /** A reader of {@code bytes}. */
    StateCodec(byte[] bytes) {
        buf = bytes;
    }

    StateCodec putByte(byte b) {
        ensure(1);
        buf[pos++] = b;
        return this;
    }

    StateCodec putUnsigned(long v) {
        ensure(Varint.size(v));
        pos = Varint.put(buf, pos, v);
        return this;
    }

    StateCodec putSigned(long v) {
        return putUnsigned((v << 1) ^ (v >> 63));
    }

    byte[] toBytes() {
        return Arrays.copyOf(buf, pos);
    }

    byte getByte() {
        if (pos >= buf.length) {
            throw new IllegalArgumentException("consumer state ends early");
        }
        return buf[pos++];
    }

    long getUnsigned() {
        int[] at = {pos};
        long v = Varint.get(buf, at); // IllegalArgumentException on a bad or cut-off one
        pos = at[0];
        return v;
    }

    long getSigned() {
        long v = getUnsigned();
        return (v >>> 1) ^ -(v & 1);
    }

    /** A count read from the state, checked against the bytes left (each entry takes at least one). */
    int getCount() {
        long n = getUnsigned();
        if (n > buf.length - pos) {
            throw new IllegalArgumentException("consumer state count " + n + " exceeds its size");
        }
        return (int) n;
    }

    boolean atEnd() {
        return pos == buf.length;
    }

    private void ensure(int n) {
        if (pos + n > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, pos + n));
        }
    }
}
