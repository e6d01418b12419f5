package io.jetkv.jetstream.stream;

import io.jetkv.jetstream.store.StoredMessage;
import io.jetkv.jetstream.store.StreamStore;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The file a replicated stream's snapshot is made of: the Raft index of the last batch the store holds, the
 * last sequence, then every stored message (sequence, timestamp, subject, headers, payload) in sequence order.
 * Gaps between sequences are interior deletes, so a replica that installs it stores the same messages under
 * the same sequences. Written and read by the stream's writer ({@link Stream#snapshotCommitted},
 * {@link Stream#installCommitted}).
 *
 * <pre>
 * "JKSS" version:int index:long lastSeq:long consumers:int len|-1 bytes
 *        { seq:long ts:long subject:utf hdrLen:int hdr payLen:int pay }* -1:long
 * </pre>
 *
 * <p>{@code consumers} (version 2) is the committed consumer state at the same index ({@link ReplicatedConsumers#snapshot}),
 * in the header so that a restart reads it without the messages; version 1 files have none.
 */
final class StreamSnapshot {
    private static final int MAGIC = 0x4a4b5353; // "JKSS"
    private static final int VERSION = 2;

    /** What the file says before its messages; {@code consumers} null when it holds none. */
    record Header(long index, long lastSeq, byte[] consumers) {}

    /** One message read back; the caller consumes them in order. */
    interface Sink {
        void message(StoredMessage m);
    }

    private StreamSnapshot() {}

    /** Writes the whole store as of now (staged changes included: they are committed entries). */
    static void write(Path file, long index, StreamStore store, byte[] consumers) throws IOException {
        try (OutputStream os = Files.newOutputStream(file);
                DataOutputStream out = new DataOutputStream(new BufferedOutputStream(os, 1 << 16))) {
            long lastSeq = store.state().lastSeq();
            out.writeInt(MAGIC);
            out.writeInt(VERSION);
            out.writeLong(index);
            out.writeLong(lastSeq);
            writeBytes(out, consumers);
            for (StoredMessage m = store.loadNext(1, null); m != null && m.seq() <= lastSeq;
                    m = store.loadNext(m.seq() + 1, null)) {
                out.writeLong(m.seq());
                out.writeLong(m.timestamp());
                byte[] subject = m.subject().getBytes(StandardCharsets.UTF_8);
                out.writeInt(subject.length);
                out.write(subject);
                writeBytes(out, m.headers());
                writeBytes(out, m.payload());
            }
            out.writeLong(-1);
        }
    }

    private static void writeBytes(DataOutputStream out, byte[] b) throws IOException {
        if (b == null) {
            out.writeInt(-1);
        } else {
            out.writeInt(b.length);
            out.write(b);
        }
    }

    /** Reads only the header. */
    static Header header(Path file) throws IOException {
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file)))) {
            return readHeader(in);
        }
    }

    /** Reads the header, then hands each message to {@code sink} in sequence order. */
    static Header read(Path file, Sink sink) throws IOException {
        try (InputStream is = Files.newInputStream(file);
                DataInputStream in = new DataInputStream(new BufferedInputStream(is, 1 << 16))) {
            Header h = readHeader(in);
            long previous = 0;
            while (true) {
                long seq = in.readLong();
                if (seq < 0) {
                    return h;
                }
                if (seq <= previous || seq > h.lastSeq()) {
                    throw new IOException("snapshot " + file + ": sequence " + seq + " out of order");
                }
                previous = seq;
                long ts = in.readLong();
                String subject = new String(readBytes(in), StandardCharsets.UTF_8);
                byte[] headers = readBytes(in);
                byte[] payload = readBytes(in);
                sink.message(new StoredMessage(seq, subject, headers, payload == null ? new byte[0] : payload, ts));
            }
        } catch (EOFException e) {
            throw new IOException("snapshot " + file + " is truncated", e);
        }
    }

    private static Header readHeader(DataInputStream in) throws IOException {
        int version = in.readInt() == MAGIC ? in.readInt() : -1;
        if (version != 1 && version != VERSION) {
            throw new IOException("not a stream snapshot of version 1 or " + VERSION);
        }
        long index = in.readLong();
        long lastSeq = in.readLong();
        return new Header(index, lastSeq, version >= 2 ? readBytes(in) : null);
    }

    private static byte[] readBytes(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0) {
            return null;
        }
        byte[] b = new byte[n];
        in.readFully(b);
        return b;
    }
}
