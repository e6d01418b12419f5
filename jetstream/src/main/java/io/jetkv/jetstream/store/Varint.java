package io.jetkv.jetstream.store;

/**
 * Unsigned LEB128 varints: seven bits per byte, low bits first, the high bit set on every byte but the last. The
 * message rows ({@link MessageCodec}) and a consumer's saved state use them.
 */
public final class Varint {
    private Varint() {}

    /** Bytes {@code v} takes. */
    public static int size(long v) {
        int n = 1;
        while ((v & ~0x7FL) != 0) {
            v >>>= 7;
            n++;
        }
        return n;
    }

    /** Writes {@code v} at {@code off}; returns the position after it. {@code b} must have room for it. */
    public static int put(byte[] b, int off, long v) {
        while ((v & ~0x7FL) != 0) {
            b[off++] = (byte) ((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        b[off++] = (byte) v;
        return off;
    }

    /**
     * Reads a varint at {@code pos[0]} and advances it.
     *
     * @throws IllegalArgumentException when the bytes end inside it or it runs past 64 bits
     */
    public static long get(byte[] b, int[] pos) {
        long v = 0;
        int shift = 0;
        int p = pos[0];
        while (true) {
            if (p >= b.length || shift > 63) {
                throw new IllegalArgumentException("corrupt varint");
            }
            byte x = b[p++];
            v |= (long) (x & 0x7F) << shift;
            if ((x & 0x80) == 0) {
                break;
            }
            shift += 7;
        }
        pos[0] = p;
        return v;
    }
}
