package io.jetkv.jetstream.snapshot;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * Reads the regular files of a tar archive one after the other: ustar and old-style headers, PAX extended
 * headers ({@code path}, {@code size}), GNU long names, and base-256 sizes. Go's {@code archive/tar}, which
 * writes nats-server's snapshots, may use any of these. Directories, links and other entry kinds are skipped.
 *
 * <p>Not thread-safe: one reader thread.
 */
public final class TarReader {
    /** One regular file of the archive. */
    public record Entry(String name, byte[] data) {}

    private final InputStream in;
    private final long maxEntry;
    private boolean ended;

    /** @param maxEntry the largest entry accepted (they are read into memory) */
    public TarReader(InputStream in, long maxEntry) {
        this.in = in;
        this.maxEntry = maxEntry;
    }

    /** The next regular file, or null at the end of the archive. */
    public Entry next() throws IOException {
        String longName = null;
        Long paxSize = null;
        byte[] h = new byte[TarWriter.BLOCK];
        while (!ended) {
            if (!readBlock(h)) {
                ended = true; // no end blocks: tolerated, as Go's reader does
                return null;
            }
            if (isZero(h)) {
                ended = true;
                return null;
            }
            checkSum(h);
            char type = (char) h[156];
            long size = paxSize != null ? paxSize : number(h, 124, 12);
            if (size < 0 || size > maxEntry) {
                throw new IOException("tar: entry of " + size + " bytes");
            }
            byte[] data = new byte[(int) size];
            readFully(data);
            skip((TarWriter.BLOCK - size % TarWriter.BLOCK) % TarWriter.BLOCK);
            switch (type) {
                case 'x' -> {
                    String[] pax = parsePax(data);
                    if (pax[0] != null) {
                        longName = pax[0];
                    }
                    if (pax[1] != null) {
                        paxSize = Long.parseLong(pax[1]);
                    }
                    continue;
                }
                case 'L' -> {
                    longName = cString(data, 0, data.length);
                    continue;
                }
                case '0', '\0', '7' -> {
                    String name = longName != null ? longName : headerName(h);
                    return new Entry(name, data);
                }
                default -> {
                    // directories, links, global PAX headers: nothing to restore
                    longName = null;
                    paxSize = null;
                }
            }
        }
        return null;
    }

    private static String headerName(byte[] h) {
        String name = cString(h, 0, 100);
        boolean ustar = h[257] == 'u' && h[258] == 's' && h[259] == 't' && h[260] == 'a' && h[261] == 'r';
        if (ustar) {
            String prefix = cString(h, 345, 155);
            if (!prefix.isEmpty()) {
                name = prefix + "/" + name;
            }
        }
        return name;
    }

    /** {path, size} from PAX records {@code "<len> <key>=<value>\n"}; either may be null. */
    private static String[] parsePax(byte[] data) throws IOException {
        String[] out = new String[2];
        int i = 0;
        while (i < data.length) {
            int sp = i;
            while (sp < data.length && data[sp] != ' ') {
                sp++;
            }
            int len;
            try {
                len = Integer.parseInt(new String(data, i, sp - i, StandardCharsets.US_ASCII));
            } catch (NumberFormatException e) {
                throw new IOException("tar: bad PAX record");
            }
            if (len <= sp - i || i + len > data.length) {
                throw new IOException("tar: bad PAX record");
            }
            String rec = new String(data, sp + 1, i + len - sp - 2, StandardCharsets.UTF_8);
            int eq = rec.indexOf('=');
            if (eq > 0) {
                String key = rec.substring(0, eq);
                if (key.equals("path")) {
                    out[0] = rec.substring(eq + 1);
                } else if (key.equals("size")) {
                    out[1] = rec.substring(eq + 1);
                }
            }
            i += len;
        }
        return out;
    }

    private static void checkSum(byte[] h) throws IOException {
        long want = number(h, 148, 8);
        long sum = 0;
        for (int i = 0; i < h.length; i++) {
            sum += (i >= 148 && i < 156) ? ' ' : h[i] & 0xff;
        }
        if (sum != want) {
            throw new IOException("tar: header checksum mismatch");
        }
    }

    /** An octal field (NUL or space terminated), or base-256 when its first byte has the high bit set. */
    private static long number(byte[] h, int at, int width) throws IOException {
        if ((h[at] & 0x80) != 0) {
            long v = h[at] & 0x7f;
            for (int i = 1; i < width; i++) {
                v = (v << 8) | (h[at + i] & 0xff);
            }
            return v;
        }
        long v = 0;
        int i = at;
        int end = at + width;
        while (i < end && (h[i] == ' ' || h[i] == 0)) {
            i++;
        }
        for (; i < end && h[i] != 0 && h[i] != ' '; i++) {
            if (h[i] < '0' || h[i] > '7') {
                throw new IOException("tar: bad number field");
            }
            v = (v << 3) | (h[i] - '0');
        }
        return v;
    }

    private static String cString(byte[] b, int at, int width) {
        int end = at;
        while (end < at + width && b[end] != 0) {
            end++;
        }
        return new String(b, at, end - at, StandardCharsets.UTF_8);
    }

    private static boolean isZero(byte[] b) {
        for (byte x : b) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }

    private boolean readBlock(byte[] h) throws IOException {
        int got = 0;
        while (got < h.length) {
            int n = in.read(h, got, h.length - got);
            if (n < 0) {
                if (got == 0) {
                    return false;
                }
                throw new EOFException("tar: archive ends inside a header");
            }
            got += n;
        }
        return true;
    }

    private void readFully(byte[] b) throws IOException {
        int got = 0;
        while (got < b.length) {
            int n = in.read(b, got, b.length - got);
            if (n < 0) {
                throw new EOFException("tar: archive ends inside an entry");
            }
            got += n;
        }
    }

    private void skip(long n) throws IOException {
        byte[] buf = new byte[TarWriter.BLOCK];
        while (n > 0) {
            int r = in.read(buf, 0, (int) Math.min(n, buf.length));
            if (r < 0) {
                throw new EOFException("tar: archive ends inside an entry");
            }
            n -= r;
        }
    }
}
