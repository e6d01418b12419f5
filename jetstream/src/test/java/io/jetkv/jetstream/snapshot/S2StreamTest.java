package io.jetkv.jetstream.snapshot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

class S2StreamTest {

    private static byte[] readAll(byte[] stream) throws IOException {
        try (S2InputStream in = new S2InputStream(new ByteArrayInputStream(stream))) {
            return in.readAllBytes();
        }
    }

    private static byte[] write(byte[] data, int writeSize) throws IOException {
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        try (S2OutputStream out = new S2OutputStream(sink)) {
            for (int at = 0; at < data.length; at += writeSize) {
                out.write(data, at, Math.min(writeSize, data.length - at));
            }
        }
        return sink.toByteArray();
    }

    @Test
    void roundTripsAcrossBlocks() throws IOException {
        byte[] data = new byte[300_000];
        Random r = new Random(1);
        for (int i = 0; i < data.length; i++) {
            data[i] = i % 1000 < 500 ? (byte) r.nextInt() : (byte) (i % 13); // random and repetitive stretches
        }
        for (int writeSize : new int[] {1, 777, 65536, data.length}) {
            if (writeSize == 1) {
                byte[] small = java.util.Arrays.copyOf(data, 3000);
                assertArrayEquals(small, readAll(write(small, 1)));
                continue;
            }
            assertArrayEquals(data, readAll(write(data, writeSize)), "writes of " + writeSize);
        }
    }

    @Test
    void emptyStreamIsJustTheIdentifier() throws IOException {
        byte[] s = write(new byte[0], 1);
        assertEquals(10, s.length);
        assertEquals(0, readAll(s).length);
    }

    @Test
    void skipsPaddingAndSkippableChunksAndTakesTheSnappyIdentifier() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        chunk(b, 0xff, "sNaPpY".getBytes(StandardCharsets.US_ASCII));
        chunk(b, 0xfe, new byte[7]);
        chunk(b, 0x99, new byte[] {1, 2, 3}); // S2's seek index
        uncompressed(b, "hello ".getBytes(StandardCharsets.US_ASCII));
        chunk(b, 0xff, "S2sTwO".getBytes(StandardCharsets.US_ASCII)); // concatenated streams repeat it
        byte[] world = "world".getBytes(StandardCharsets.US_ASCII);
        byte[] block = SnappyBlock.compress(world, 0, world.length);
        byte[] data = new byte[4 + block.length];
        crc(data, world);
        System.arraycopy(block, 0, data, 4, block.length);
        chunk(b, 0x00, data);
        assertEquals("hello world", new String(readAll(b.toByteArray()), StandardCharsets.US_ASCII));
    }

    @Test
    void refusesBadStreams() {
        ByteArrayOutputStream noId = new ByteArrayOutputStream();
        uncompressed(noId, new byte[] {1});
        assertThrows(IOException.class, () -> readAll(noId.toByteArray()));

        ByteArrayOutputStream badCrc = new ByteArrayOutputStream();
        chunk(badCrc, 0xff, S2Framing.S2_MAGIC);
        uncompressed(badCrc, new byte[] {1, 2, 3});
        byte[] bytes = badCrc.toByteArray();
        bytes[bytes.length - 1] ^= 1;
        assertThrows(IOException.class, () -> readAll(bytes));

        ByteArrayOutputStream reserved = new ByteArrayOutputStream();
        chunk(reserved, 0xff, S2Framing.S2_MAGIC);
        chunk(reserved, 0x02, new byte[] {0});
        assertThrows(IOException.class, () -> readAll(reserved.toByteArray()));

        ByteArrayOutputStream badId = new ByteArrayOutputStream();
        chunk(badId, 0xff, "nOtIt!".getBytes(StandardCharsets.US_ASCII));
        assertThrows(IOException.class, () -> readAll(badId.toByteArray()));

        ByteArrayOutputStream cut = new ByteArrayOutputStream();
        chunk(cut, 0xff, S2Framing.S2_MAGIC);
        uncompressed(cut, new byte[100]);
        byte[] cutBytes = java.util.Arrays.copyOf(cut.toByteArray(), cut.size() - 10);
        assertThrows(IOException.class, () -> readAll(cutBytes));
    }

    private static void uncompressed(ByteArrayOutputStream b, byte[] payload) {
        byte[] data = new byte[4 + payload.length];
        crc(data, payload);
        System.arraycopy(payload, 0, data, 4, payload.length);
        chunk(b, 0x01, data);
    }

    private static void crc(byte[] into, byte[] of) {
        int c = S2Framing.maskedCrc(of, 0, of.length);
        into[0] = (byte) c;
        into[1] = (byte) (c >>> 8);
        into[2] = (byte) (c >>> 16);
        into[3] = (byte) (c >>> 24);
    }

    private static void chunk(ByteArrayOutputStream b, int type, byte[] data) {
        b.write(type);
        b.write(data.length);
        b.write(data.length >>> 8);
        b.write(data.length >>> 16);
        b.writeBytes(data);
    }
}
