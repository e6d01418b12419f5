package io.jetkv.jetstream.store;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Binary encoding of a stored message (the value of a message row in {@link RocksStreamStore}):
 *
 * <pre>
 * version(1)=1 | timestamp(8, big-endian) | subjectLen(varint) subject(UTF-8)
 *              | headersLen+1(varint; 0 = no headers) headers | payload(rest)
 * </pre>
 *
 * The sequence is the row key and is not repeated. Pure functions; safe from any thread.
 */
final class MessageCodec {
    static final byte VERSION = 1;

    private MessageCodec() {}

    private static final byte[] MSG_ID = "nats-msg-id".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    /**
     * True when the header block may hold a {@code Nats-Msg-Id} (its name anywhere, in any case): false only when it
     * surely does not, which is what {@link StreamStore#lastMsgIdSeq} needs.
     */
    static boolean mayHoldMsgId(byte[] headers) {
        return headers != null && indexOf(headers, MSG_ID, true) >= 0;
    }

    /**
     * Where {@code needle} first occurs in {@code hay}, or -1. With {@code ignoreCase}, ASCII letters of {@code hay}
     * match in either case ({@code needle} is given in lower case).
     */
    static int indexOf(byte[] hay, byte[] needle, boolean ignoreCase) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int k = 0; k < needle.length; k++) {
                int c = hay[i + k];
                if (ignoreCase && c >= 'A' && c <= 'Z') {
                    c += 'a' - 'A';
                }
                if (c != needle[k]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    static byte[] encode(String subject, byte[] headers, byte[] payload, long timestamp) {
        byte[] subj = subject.getBytes(StandardCharsets.UTF_8);
        int hdrLen = headers == null ? 0 : headers.length;
        long hdrField = headers == null ? 0 : hdrLen + 1L;
        int size = 1 + 8 + Varint.size(subj.length) + subj.length + Varint.size(hdrField) + hdrLen + payload.length;
        byte[] out = new byte[size];
        out[0] = VERSION;
        putLong(out, 1, timestamp);
        int pos = Varint.put(out, 9, subj.length);
        System.arraycopy(subj, 0, out, pos, subj.length);
        pos = Varint.put(out, pos + subj.length, hdrField);
        if (headers != null) {
            System.arraycopy(headers, 0, out, pos, hdrLen);
            pos += hdrLen;
        }
        System.arraycopy(payload, 0, out, pos, payload.length);
        return out;
    }

    static StoredMessage decode(long seq, byte[] v) {
        checkVersion(v, seq);
        long ts = getLong(v, 1);
        int[] pos = {9};
        int subjLen = (int) getVarint(v, pos);
        String subject = new String(v, pos[0], subjLen, StandardCharsets.UTF_8);
        pos[0] += subjLen;
        long hdrField = getVarint(v, pos);
        byte[] headers = null;
        if (hdrField > 0) {
            int hdrLen = (int) (hdrField - 1);
            headers = Arrays.copyOfRange(v, pos[0], pos[0] + hdrLen);
            pos[0] += hdrLen;
        }
        byte[] payload = Arrays.copyOfRange(v, pos[0], v.length);
        return new StoredMessage(seq, subject, headers, payload, ts);
    }

    /** The subject alone, for wildcard scans that skip most rows. */
    static String decodeSubject(long seq, byte[] v) {
        checkVersion(v, seq);
        int[] pos = {9};
        int subjLen = (int) getVarint(v, pos);
        return new String(v, pos[0], subjLen, StandardCharsets.UTF_8);
    }

    /** {@link StoredMessage#fileStoredSize()} without copying headers and payload; {@code subject} as decoded. */
    static long storedSize(long seq, byte[] v, String subject) {
        checkVersion(v, seq);
        int[] pos = {9};
        int subjLen = (int) getVarint(v, pos);
        pos[0] += subjLen;
        long hdrField = getVarint(v, pos);
        long hdrLen = hdrField == 0 ? 0 : hdrField - 1;
        long payloadLen = v.length - pos[0] - hdrLen;
        return StoredMessage.fileSize(subject.length(), hdrLen, payloadLen);
    }

    static long decodeTimestamp(long seq, byte[] v) {
        checkVersion(v, seq);
        return getLong(v, 1);
    }

    private static void checkVersion(byte[] v, long seq) {
        if (v.length < 10 || v[0] != VERSION) {
            throw new StoreException("corrupt message record at seq " + seq);
        }
    }

    static void putLong(byte[] b, int off, long v) {
        for (int i = 7; i >= 0; i--) {
            b[off + i] = (byte) v;
            v >>>= 8;
        }
    }

    static long getLong(byte[] b, int off) {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = (v << 8) | (b[off + i] & 0xFF);
        }
        return v;
    }

    /** Reads a varint at {@code pos[0]} and advances it; a corrupt one is a store failure. */
    static long getVarint(byte[] b, int[] pos) {
        try {
            return Varint.get(b, pos);
        } catch (IllegalArgumentException e) {
            throw new StoreException("corrupt varint");
        }
    }

    static byte[] varints(long... values) {
        int size = 0;
        for (long v : values) {
            size += Varint.size(v);
        }
        byte[] out = new byte[size];
        int pos = 0;
        for (long v : values) {
            pos = Varint.put(out, pos, v);
        }
        return out;
    }
}
