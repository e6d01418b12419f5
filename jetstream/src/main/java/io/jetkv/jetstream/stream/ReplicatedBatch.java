package io.jetkv.jetstream.stream;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.ToLongFunction;

/**
 * The bytes of one proposal of a replicated stream: the publishes a leader's writer collected in one batch,
 * each with the timestamp the leader gave it. Every replica decodes the same bytes and stores them through
 * the same checks, so replicas hold identical messages under identical sequences.
 *
 * <pre>
 * version:1  count:int  { ts:long  subject:utf  reply:utf|""(none)  headers:int len|-1  bytes  payload:int len  bytes }*
 * </pre>
 *
 * <p>Stateless; any thread.
 */
final class ReplicatedBatch {
    private static final byte VERSION = 1;

    private ReplicatedBatch() {}

    /** Builds a decoded publish. */
    @FunctionalInterface
    interface Factory<T> {
        T make(String subject, String reply, byte[] headers, byte[] payload, long timestamp);
    }

    static <T> byte[] encode(List<T> items, Function<T, String> subject, Function<T, String> reply,
            Function<T, byte[]> headers, Function<T, byte[]> payload, ToLongFunction<T> timestamp) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(VERSION);
            out.writeInt(items.size());
            for (T t : items) {
                out.writeLong(timestamp.applyAsLong(t));
                out.writeUTF(subject.apply(t));
                String r = reply.apply(t);
                out.writeUTF(r == null ? "" : r);
                byte[] h = headers.apply(t);
                if (h == null) {
                    out.writeInt(-1);
                } else {
                    out.writeInt(h.length);
                    out.write(h);
                }
                byte[] p = payload.apply(t);
                out.writeInt(p.length);
                out.write(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    static <T> List<T> decode(byte[] entry, Factory<T> factory) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(entry))) {
            byte v = in.readByte();
            if (v != VERSION) {
                throw new IllegalStateException("unknown replicated batch version " + v);
            }
            int n = in.readInt();
            List<T> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                long ts = in.readLong();
                String subject = in.readUTF();
                String reply = in.readUTF();
                int hl = in.readInt();
                byte[] h = null;
                if (hl >= 0) {
                    h = new byte[hl];
                    in.readFully(h);
                }
                byte[] p = new byte[in.readInt()];
                in.readFully(p);
                out.add(factory.make(subject, reply.isEmpty() ? null : reply, h, p, ts));
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static byte[] longBytes(long v) {
        byte[] b = new byte[8];
        for (int i = 7; i >= 0; i--) {
            b[i] = (byte) v;
            v >>>= 8;
        }
        return b;
    }

    static long readLong(byte[] b) {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = (v << 8) | (b[i] & 0xff);
        }
        return v;
    }
}
