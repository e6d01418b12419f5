package io.jetkv.jetstream.snapshot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SnappyBlockTest {

    private static byte[] decode(byte[] block) throws IOException {
        return SnappyBlock.decompress(block, 0, block.length, S2Framing.MAX_BLOCK);
    }

    @Test
    void roundTripsRandomAndRepetitiveData() throws IOException {
        Random r = new Random(7);
        for (int size : new int[] {0, 1, 15, 16, 17, 100, 4096, 65535, 65536}) {
            byte[] random = new byte[size];
            r.nextBytes(random);
            assertArrayEquals(random, decode(SnappyBlock.compress(random, 0, size)), "random " + size);
            byte[] text = new byte[size];
            for (int i = 0; i < size; i++) {
                text[i] = (byte) ("payload " + (i / 37) % 5).charAt(i % 9);
            }
            byte[] compressed = SnappyBlock.compress(text, 0, size);
            assertArrayEquals(text, decode(compressed), "text " + size);
            if (size >= 4096) {
                assertTrue(compressed.length < size / 4, "repetitive data compresses: " + compressed.length);
            }
        }
    }

    @Test
    void compressesASliceOfALargerArray() throws IOException {
        byte[] all = "xxxxhello hello hello hello hello yyyy".getBytes(StandardCharsets.US_ASCII);
        byte[] compressed = SnappyBlock.compress(all, 4, all.length - 9);
        assertArrayEquals("hello hello hello hello hello".getBytes(StandardCharsets.US_ASCII), decode(compressed));
    }

    /** S2's repeat: copy1 with offset 0 reuses the last offset, its length in the tag or 1 to 3 more bytes. */
    @Test
    void decodesS2RepeatOffsets() throws IOException {
        int total = 4 + 4 + 6 + (3 + 8) + (0x0102 + 260) + (0x010203 + 65540);
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        varint(b, total);
        b.writeBytes(new byte[] {(3 << 2), 'a', 'b', 'c', 'd'}); // literal "abcd"
        b.writeBytes(new byte[] {1, 4}); // copy1: length 4, offset 4
        b.writeBytes(new byte[] {(2 << 2) | 1, 0}); // repeat, length 2 + 4
        b.writeBytes(new byte[] {(5 << 2) | 1, 0, 3}); // repeat, length 3 + 8
        b.writeBytes(new byte[] {(6 << 2) | 1, 0, 0x02, 0x01}); // repeat, length 0x0102 + 260
        b.writeBytes(new byte[] {(7 << 2) | 1, 0, 0x03, 0x02, 0x01}); // repeat, length 0x010203 + 65540
        byte[] want = new byte[total];
        for (int i = 0; i < total; i++) {
            want[i] = (byte) "abcd".charAt(i % 4);
        }
        assertArrayEquals(want, decode(b.toByteArray()));
    }

    @Test
    void decodesCopy2AndCopy4AndLongLiterals() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        byte[] lit = new byte[300];
        new Random(3).nextBytes(lit);
        varint(b, 300 + 10 + 7);
        b.writeBytes(new byte[] {(byte) (61 << 2), (byte) 299, (byte) (299 >> 8)});
        b.writeBytes(lit);
        b.writeBytes(new byte[] {(byte) ((10 - 1) << 2 | 2), (byte) 300, (byte) (300 >> 8)}); // copy2
        b.writeBytes(new byte[] {(byte) ((7 - 1) << 2 | 3), 5, 0, 0, 0}); // copy4, overlapping
        byte[] got = decode(b.toByteArray());
        byte[] want = new byte[317];
        System.arraycopy(lit, 0, want, 0, 300);
        System.arraycopy(lit, 0, want, 300, 10);
        for (int i = 310; i < 317; i++) {
            want[i] = want[i - 5];
        }
        assertArrayEquals(want, got);
    }

    @Test
    void refusesCorruptBlocks() {
        // a repeat before any offset was set
        assertThrows(IOException.class, () -> decode(new byte[] {8, 0, 'a', (1 << 2) | 1, 0}));
        // an offset reaching before the start
        assertThrows(IOException.class, () -> decode(new byte[] {8, 0, 'a', 1, 2}));
        // fewer bytes than the length promised
        assertThrows(IOException.class, () -> decode(new byte[] {5, 0, 'a'}));
        // more bytes than the length promised
        assertThrows(IOException.class, () -> decode(new byte[] {1, 4, 'a', 'b'}));
        // a literal running past the input
        assertThrows(IOException.class, () -> decode(new byte[] {9, (byte) (8 << 2), 'a'}));
        // a length over the limit
        assertThrows(IOException.class, () -> SnappyBlock.decompress(new byte[] {(byte) 0x81, 0x08}, 0, 2, 1000));
        // a cut-off length varint
        assertThrows(IOException.class, () -> decode(new byte[] {(byte) 0x80}));
    }

    private static void varint(ByteArrayOutputStream b, int v) {
        while (v >= 0x80) {
            b.write(v & 0x7f | 0x80);
            v >>>= 7;
        }
        b.write(v);
    }
}
