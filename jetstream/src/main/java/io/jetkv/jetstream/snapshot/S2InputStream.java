package io.jetkv.jetstream.snapshot;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * Reads an S2 stream (Snappy framing, S2 block extensions): what nats-server's snapshots and ours are. Checks
 * every chunk's CRC, skips padding, the S2 seek index and other skippable chunks, and refuses unknown
 * unskippable ones.
 *
 * <p>Not thread-safe: one reader thread.
 */
public final class S2InputStream extends InputStream {
    private final InputStream in;
    private final byte[] header = new byte[4];
    private byte[] block = new byte[0];
    private int pos;
    private boolean sawStreamId;
    private boolean eof;

    public S2InputStream(InputStream in) {
        this.in = in;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        while (pos == block.length) {
            if (eof || !nextChunk()) {
                eof = true;
                return -1;
            }
        }
        int n = Math.min(len, block.length - pos);
        System.arraycopy(block, pos, b, off, n);
        pos += n;
        return n;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }

    /** Reads chunks until one carries data; false at a clean end of the stream. */
    private boolean nextChunk() throws IOException {
        int first = in.read();
        if (first < 0) {
            return false;
        }
        header[0] = (byte) first;
        readFully(header, 1, 3);
        int type = first & 0xff;
        int length = (header[1] & 0xff) | (header[2] & 0xff) << 8 | (header[3] & 0xff) << 16;
        if (type == S2Framing.CHUNK_STREAM_ID) {
            byte[] magic = new byte[length];
            readFully(magic, 0, length);
            if (!Arrays.equals(magic, S2Framing.S2_MAGIC) && !Arrays.equals(magic, S2Framing.SNAPPY_MAGIC)) {
                throw new IOException("s2: unknown stream identifier");
            }
            sawStreamId = true;
            return true;
        }
        if (!sawStreamId) {
            throw new IOException("s2: stream does not start with a stream identifier");
        }
        if (type == S2Framing.CHUNK_COMPRESSED || type == S2Framing.CHUNK_UNCOMPRESSED) {
            // a compressed block may come out a little longer than the data (Snappy's bound: n + n/6 + 32)
            if (length < 4 || length > 4 + S2Framing.MAX_BLOCK + S2Framing.MAX_BLOCK / 6 + 32) {
                throw new IOException("s2: chunk of " + length + " bytes");
            }
            byte[] data = new byte[length];
            readFully(data, 0, length);
            int crc = (data[0] & 0xff) | (data[1] & 0xff) << 8 | (data[2] & 0xff) << 16 | (data[3] & 0xff) << 24;
            byte[] out = type == S2Framing.CHUNK_COMPRESSED
                    ? SnappyBlock.decompress(data, 4, length - 4, S2Framing.MAX_BLOCK)
                    : Arrays.copyOfRange(data, 4, length);
            if (S2Framing.maskedCrc(out, 0, out.length) != crc) {
                throw new IOException("s2: checksum mismatch");
            }
            block = out;
            pos = 0;
            return true;
        }
        if (type >= S2Framing.SKIPPABLE_FIRST) { // padding (0xfe) and the seek index (0x99) included
            skipFully(length);
            return true;
        }
        throw new IOException("s2: unsupported chunk type " + type);
    }

    private void readFully(byte[] b, int off, int len) throws IOException {
        while (len > 0) {
            int n = in.read(b, off, len);
            if (n < 0) {
                throw new EOFException("s2: stream ends inside a chunk");
            }
            off += n;
            len -= n;
        }
    }

    private void skipFully(long n) throws IOException {
        byte[] buf = new byte[(int) Math.min(n, 8192)];
        while (n > 0) {
            int r = in.read(buf, 0, (int) Math.min(n, buf.length));
            if (r < 0) {
                throw new EOFException("s2: stream ends inside a chunk");
            }
            n -= r;
        }
    }
}
