package io.jetkv.protocol.codec;

/** Byte-level helpers the op decoders share: their control lines are ASCII tokens. Stateless. */
final class Ascii {
    private Ascii() {}

    /**
     * The decimal number in {@code line[from, to)}, or -1 when the token is empty, has more than {@code maxDigits}
     * digits (so the value cannot overflow) or holds anything but digits.
     */
    static long parseDecimal(byte[] line, int from, int to, int maxDigits) {
        if (to == from || to - from > maxDigits) {
            return -1;
        }
        long v = 0;
        for (int k = from; k < to; k++) {
            int d = line[k] - '0';
            if (d < 0 || d > 9) {
                return -1;
            }
            v = v * 10 + d;
        }
        return v;
    }

    /** A blank between tokens: space or tab. */
    static boolean isSpace(byte b) {
        return b == ' ' || b == '\t';
    }
}
