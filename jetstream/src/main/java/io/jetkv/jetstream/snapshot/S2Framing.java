package io.jetkv.jetstream.snapshot;

import java.util.zip.CRC32C;

/**
 * Constants of the Snappy framing format, which S2 streams share: every chunk is a type byte, a three-byte
 * little-endian length and its data; data chunks start with the masked CRC-32C of their uncompressed bytes.
 */
final class S2Framing {
    private S2Framing() {}

    static final int CHUNK_COMPRESSED = 0x00;
    static final int CHUNK_UNCOMPRESSED = 0x01;
    static final int CHUNK_PADDING = 0xfe;
    static final int CHUNK_STREAM_ID = 0xff;
    /** Types 0x80..0xfd may be skipped by a reader that does not know them (S2 puts its seek index at 0x99). */
    static final int SKIPPABLE_FIRST = 0x80;

    /** The identifier S2 writers put first; Snappy's {@code sNaPpY} is accepted as well. */
    static final byte[] S2_MAGIC = {'S', '2', 's', 'T', 'w', 'O'};
    static final byte[] SNAPPY_MAGIC = {'s', 'N', 'a', 'P', 'p', 'Y'};

    /** S2 blocks hold up to 4 MiB uncompressed (Snappy's 64 KiB fit in that). */
    static final int MAX_BLOCK = 4 << 20;

    /** The framing format's checksum: CRC-32C rotated and offset, so that checksums of checksums differ. */
    static int maskedCrc(byte[] b, int off, int len) {
        CRC32C crc = new CRC32C();
        crc.update(b, off, len);
        int c = (int) crc.getValue();
        return ((c >>> 15) | (c << 17)) + 0xa282ead8;
    }
}
