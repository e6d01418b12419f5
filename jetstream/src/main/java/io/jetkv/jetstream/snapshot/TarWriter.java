package io.jetkv.jetstream.snapshot;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Writes a ustar archive of regular files, as nats-server's snapshots are (each a 512-byte header, the data
 * padded to 512 bytes, two zero blocks at the end). Names must fit the 100-byte name field.
 *
 * <p>Not thread-safe: one writer thread.
 */
public final class TarWriter implements AutoCloseable {
    static final int BLOCK = 512;

    private final OutputStream out;
    private final long mtimeSeconds;

    /** @param mtimeSeconds the modification time stamped on every entry */
    public TarWriter(OutputStream out, long mtimeSeconds) {
        this.out = out;
        this.mtimeSeconds = mtimeSeconds;
    }

    /** Adds one regular file. */
    public void add(String name, byte[] data) throws IOException {
        add(name, data, data.length);
    }

    /** Adds one regular file holding the first {@code length} bytes of {@code data}. */
    public void add(String name, byte[] data, int length) throws IOException {
        byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
        if (nameBytes.length > 100 || nameBytes.length == 0) {
            throw new IllegalArgumentException("tar entry name must take 1 to 100 bytes: " + name);
        }
        byte[] h = new byte[BLOCK];
        System.arraycopy(nameBytes, 0, h, 0, nameBytes.length);
        octal(h, 100, 8, 0600);
        octal(h, 108, 8, 0);
        octal(h, 116, 8, 0);
        octal(h, 124, 12, length);
        octal(h, 136, 12, mtimeSeconds);
        h[156] = '0';
        byte[] magic = "ustar\u000000".getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(magic, 0, h, 257, magic.length);
        byte[] user = "jetkv".getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(user, 0, h, 265, user.length);
        System.arraycopy(user, 0, h, 297, user.length);
        // the checksum is summed with its own field read as spaces
        for (int i = 148; i < 156; i++) {
            h[i] = ' ';
        }
        long sum = 0;
        for (byte b : h) {
            sum += b & 0xff;
        }
        octal(h, 148, 7, sum);
        h[155] = ' ';
        out.write(h);
        out.write(data, 0, length);
        int pad = (BLOCK - length % BLOCK) % BLOCK;
        if (pad > 0) {
            out.write(new byte[pad]);
        }
    }

    /** Writes the end-of-archive blocks and closes the sink. */
    @Override
    public void close() throws IOException {
        out.write(new byte[2 * BLOCK]);
        out.close();
    }

    /** Zero-padded octal digits and a terminating NUL filling {@code width} bytes. */
    private static void octal(byte[] h, int at, int width, long v) {
        String s = Long.toOctalString(v);
        if (s.length() > width - 1) {
            throw new IllegalArgumentException("tar field overflow: " + v);
        }
        int pad = width - 1 - s.length();
        for (int i = 0; i < pad; i++) {
            h[at + i] = '0';
        }
        for (int i = 0; i < s.length(); i++) {
            h[at + pad + i] = (byte) s.charAt(i);
        }
        h[at + width - 1] = 0;
    }
}
