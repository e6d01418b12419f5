package io.jetkv.jetstream.snapshot;

import java.io.IOException;
import java.io.OutputStream;

/**
 * Writes an S2 stream (Snappy framing) that any S2 or Snappy framed reader decodes: a stream identifier,
 * then each block of up to 64 KiB compressed with {@link SnappyBlock} or, when that does not save anything,
 * stored as it is. The {@code nats} CLI decompresses backups this way to count their size.
 *
 * <p>Not thread-safe: one writer thread.
 */
public final class S2OutputStream extends OutputStream {
    /** Snappy's block size: readers of plain Snappy framing refuse larger ones. */
    private static final int BLOCK = 64 * 1024;

    private final OutputStream out;
    private final byte[] block = new byte[BLOCK];
    private final byte[] header = new byte[8];
    private int used;
    private boolean started;
    private boolean closed;

    public S2OutputStream(OutputStream out) {
        this.out = out;
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        while (len > 0) {
            int n = Math.min(len, BLOCK - used);
            System.arraycopy(b, off, block, used, n);
            used += n;
            off += n;
            len -= n;
            if (used == BLOCK) {
                emitBlock();
            }
        }
    }

    /** Writes the pending block as a chunk (a short one) and flushes the sink. */
    @Override
    public void flush() throws IOException {
        if (used > 0) {
            emitBlock();
        }
        out.flush();
    }

    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        if (!started) {
            emitStreamId(); // an empty stream is still a stream
        }
        flush();
        out.close();
    }

    private void emitStreamId() throws IOException {
        out.write(S2Framing.CHUNK_STREAM_ID);
        out.write(new byte[] {6, 0, 0});
        out.write(S2Framing.S2_MAGIC);
        started = true;
    }

    private void emitBlock() throws IOException {
        if (!started) {
            emitStreamId();
        }
        int crc = S2Framing.maskedCrc(block, 0, used);
        byte[] compressed = SnappyBlock.compress(block, 0, used);
        boolean keep = compressed.length < used - used / 8; // a small saving is not worth the reader's time
        int dataLen = (keep ? compressed.length : used) + 4;
        header[0] = (byte) (keep ? S2Framing.CHUNK_COMPRESSED : S2Framing.CHUNK_UNCOMPRESSED);
        header[1] = (byte) dataLen;
        header[2] = (byte) (dataLen >>> 8);
        header[3] = (byte) (dataLen >>> 16);
        header[4] = (byte) crc;
        header[5] = (byte) (crc >>> 8);
        header[6] = (byte) (crc >>> 16);
        header[7] = (byte) (crc >>> 24);
        out.write(header, 0, 8);
        if (keep) {
            out.write(compressed);
        } else {
            out.write(block, 0, used);
        }
        used = 0;
    }
}
