package io.jetkv.jetstream.snapshot;

import java.io.IOException;
import java.util.Arrays;

/**
 * One Snappy block: a varint of the uncompressed length, then elements, each a tag byte whose low two bits say
 * what follows:
 *
 * <pre>
 * 00 literal  length-1 in the tag's upper 6 bits (60..63: in the next 1..4 bytes), then the bytes
 * 01 copy1    length 4..11 in bits 2-4, offset: bits 5-7 and the next byte (11 bits)
 * 10 copy2    length 1..64 in the upper 6 bits, offset: next 2 bytes little endian
 * 11 copy4    as copy2 with a 4-byte offset
 * </pre>
 *
 * S2 adds the repeat: a copy1 with offset 0 copies again from the previous offset, for a length of 4..8 (bits
 * 2-4 below 5), or read from 1, 2 or 3 following bytes (5, 6, 7). Decoding takes both; encoding writes plain
 * Snappy so that every reader of either kind accepts it.
 */
public final class SnappyBlock {
    private SnappyBlock() {}

    private static final int HASH_BITS = 14;

    /** Decodes one block of at most {@code maxLength} bytes. */
    public static byte[] decompress(byte[] src, int off, int len, int maxLength) throws IOException {
        int end = off + len;
        int s = off;
        long n = 0;
        for (int shift = 0; ; shift += 7) {
            if (s >= end || shift > 28) {
                throw new IOException("s2: corrupt block length");
            }
            int b = src[s++] & 0xff;
            n |= (long) (b & 0x7f) << shift;
            if (b < 0x80) {
                break;
            }
        }
        if (n > maxLength) {
            throw new IOException("s2: block of " + n + " bytes is larger than " + maxLength);
        }
        byte[] dst = new byte[(int) n];
        int d = 0;
        int offset = 0;
        while (s < end) {
            int tag = src[s] & 0xff;
            int length;
            switch (tag & 3) {
                case 0 -> {
                    int x = tag >>> 2;
                    s++;
                    if (x >= 60) {
                        int bytes = x - 59;
                        if (s + bytes > end) {
                            throw corrupt();
                        }
                        x = 0;
                        for (int i = 0; i < bytes; i++) {
                            x |= (src[s + i] & 0xff) << (8 * i);
                        }
                        s += bytes;
                    }
                    length = x + 1;
                    if (length <= 0 || length > dst.length - d || length > end - s) {
                        throw corrupt();
                    }
                    System.arraycopy(src, s, dst, d, length);
                    d += length;
                    s += length;
                    continue;
                }
                case 1 -> {
                    if (s + 2 > end) {
                        throw corrupt();
                    }
                    length = (tag >>> 2) & 7;
                    int o = ((tag & 0xe0) << 3) | (src[s + 1] & 0xff);
                    s += 2;
                    if (o == 0) {
                        // S2 repeat: the offset stays, the length may take more bytes
                        int extra = length >= 5 ? length - 4 : 0;
                        if (s + extra > end) {
                            throw corrupt();
                        }
                        int x = 0;
                        for (int i = 0; i < extra; i++) {
                            x |= (src[s + i] & 0xff) << (8 * i);
                        }
                        s += extra;
                        length = switch (length) {
                            case 5 -> x + 4;
                            case 6 -> x + (1 << 8);
                            case 7 -> x + (1 << 16);
                            default -> length;
                        };
                    } else {
                        offset = o;
                    }
                    length += 4;
                }
                case 2 -> {
                    if (s + 3 > end) {
                        throw corrupt();
                    }
                    length = 1 + (tag >>> 2);
                    offset = (src[s + 1] & 0xff) | (src[s + 2] & 0xff) << 8;
                    s += 3;
                }
                default -> {
                    if (s + 5 > end) {
                        throw corrupt();
                    }
                    length = 1 + (tag >>> 2);
                    offset = (src[s + 1] & 0xff) | (src[s + 2] & 0xff) << 8 | (src[s + 3] & 0xff) << 16
                            | (src[s + 4] & 0xff) << 24;
                    s += 5;
                }
            }
            if (offset <= 0 || d < offset || length > dst.length - d) {
                throw corrupt();
            }
            // forwards, byte by byte where source and target overlap (a run)
            if (offset >= length) {
                System.arraycopy(dst, d - offset, dst, d, length);
            } else {
                for (int i = 0; i < length; i++) {
                    dst[d + i] = dst[d - offset + i];
                }
            }
            d += length;
        }
        if (d != dst.length) {
            throw corrupt();
        }
        return dst;
    }

    /** Encodes {@code len} bytes (at most 64 KiB, so every offset fits a copy2) as a Snappy block. */
    public static byte[] compress(byte[] src, int off, int len) {
        if (len > 65536) {
            throw new IllegalArgumentException("block larger than 64 KiB");
        }
        byte[] out = new byte[32 + len + len / 6];
        int o = putVarint(out, 0, len);
        int end = off + len;
        int lit = off;
        if (len >= 16) {
            int[] table = new int[1 << HASH_BITS];
            Arrays.fill(table, -1);
            int i = off;
            while (i + 4 <= end) {
                int v = readInt(src, i);
                int h = (v * 0x1e35a7bd) >>> (32 - HASH_BITS);
                int cand = table[h];
                table[h] = i;
                if (cand < 0 || readInt(src, cand) != v) {
                    // the longer nothing matched, the bigger the step: incompressible data passes quickly
                    i += 1 + ((i - lit) >> 5);
                    continue;
                }
                int m = 4;
                while (i + m < end && src[cand + m] == src[i + m]) {
                    m++;
                }
                o = literal(src, lit, i - lit, out, o);
                int distance = i - cand;
                for (int left = m; left > 0; ) {
                    int n = Math.min(left, 64);
                    out[o++] = (byte) (((n - 1) << 2) | 2);
                    out[o++] = (byte) distance;
                    out[o++] = (byte) (distance >>> 8);
                    left -= n;
                }
                i += m;
                lit = i;
            }
        }
        o = literal(src, lit, end - lit, out, o);
        return Arrays.copyOf(out, o);
    }

    private static int literal(byte[] src, int from, int n, byte[] out, int o) {
        if (n == 0) {
            return o;
        }
        int x = n - 1;
        if (x < 60) {
            out[o++] = (byte) (x << 2);
        } else if (x < 1 << 8) {
            out[o++] = (byte) (60 << 2);
            out[o++] = (byte) x;
        } else {
            out[o++] = (byte) (61 << 2);
            out[o++] = (byte) x;
            out[o++] = (byte) (x >>> 8);
        }
        System.arraycopy(src, from, out, o, n);
        return o + n;
    }

    private static int readInt(byte[] b, int i) {
        return (b[i] & 0xff) | (b[i + 1] & 0xff) << 8 | (b[i + 2] & 0xff) << 16 | (b[i + 3] & 0xff) << 24;
    }

    private static int putVarint(byte[] out, int o, int v) {
        while (v >= 0x80) {
            out[o++] = (byte) (v | 0x80);
            v >>>= 7;
        }
        out[o++] = (byte) v;
        return o;
    }

    private static IOException corrupt() {
        return new IOException("s2: corrupt input");
    }
}
