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
 * "JKSS" version:int index:long lastSeq:long (version 2) consumersLen:int consumers
 *   { seq:long ts:long subject:utf hdrLen:int hdr payLen:int pay }* -1:long
 *   (version 2) configRevision:long configLen:int config-json  schedules:int { deadline:long seq:long }*
 *   (version 3) fastBatchesLen:int fast-batches  positions:int { key:utf position:long }*
 * </pre>
 *
 * Version 2 adds the replica state that is not in the messages: in the header the committed consumer state at the
 * same index ({@link ReplicatedConsumers#snapshot}, -1 length: none), so that a restart reads it without the
 * messages; after the messages the configuration with the revision of the last replicated update
 * ({@code StreamOp.Config}), and the schedule index (due times cannot be derived from the messages once a repeating
 * schedule has fired), so a replica that installs the file fires what the others fire.
 *
 * <p>Version 3 adds the open fast-ingest batches ({@code FastBatch#encode}, -1 length: none). Every replica runs the
 * batch logic on apply, so a replica that installed a snapshot without them would refuse the next message of a batch
 * the others store (an unknown batch), and the stores would part. It also adds the positions of the mirror and source
 * entries (what each copied of its origin), so a replica that installs the file and then leads copies on from there,
 * not again from the start.
 */
final class StreamSnapshot {
    private static final int MAGIC = 0x4a4b5353; // "JKSS"
    private static final int VERSION = 3;

    /** What the file says before its messages; {@code consumers} null when it holds none. */
    record Header(long index, long lastSeq, byte[] consumers) {}

    /**
     * The replica state after the messages (version 2): the configuration as JSON (null: unknown) with the revision of
     * its last replicated update, the schedule index as {deadline, seq} pairs, and (version 3; null and empty in an
     * older file) the open fast-ingest batches and the mirror and source entries' positions by key.
     */
    record State(long configRevision, byte[] config, java.util.List<long[]> schedules, byte[] fastBatches,
            java.util.Map<String, Long> positions) {}

    /** One message read back; the caller consumes them in order. */
    interface Sink {
        void message(StoredMessage m);
    }

    private StreamSnapshot() {}

    /** Writes the whole store as of now (staged changes included: they are committed entries), then {@code state}. */
    static void write(Path file, long index, StreamStore store, byte[] consumers, State state) throws IOException {
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
            out.writeLong(state.configRevision());
            writeBytes(out, state.config());
            out.writeInt(state.schedules().size());
            for (long[] e : state.schedules()) {
                out.writeLong(e[0]);
                out.writeLong(e[1]);
            }
            writeBytes(out, state.fastBatches());
            out.writeInt(state.positions().size());
            for (java.util.Map.Entry<String, Long> e : state.positions().entrySet()) {
                out.writeUTF(e.getKey());
                out.writeLong(e.getValue());
            }
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
        return read(file, sink, state -> {});
    }

    /** As {@link #read(Path, Sink)}, then hands the replica state to {@code stateSink} (version 2 files only). */
    static Header read(Path file, Sink sink, java.util.function.Consumer<State> stateSink) throws IOException {
        try (InputStream is = Files.newInputStream(file);
                DataInputStream in = new DataInputStream(new BufferedInputStream(is, 1 << 16))) {
            in.mark(8);
            in.readInt();
            int version = in.readInt();
            in.reset();
            Header h = readHeader(in);
            long previous = 0;
            while (true) {
                long seq = in.readLong();
                if (seq < 0) {
                    if (version >= 2) {
                        long revision = in.readLong();
                        byte[] config = readBytes(in);
                        int n = in.readInt();
                        java.util.List<long[]> schedules = new java.util.ArrayList<>(n);
                        for (int i = 0; i < n; i++) {
                            schedules.add(new long[] {in.readLong(), in.readLong()});
                        }
                        byte[] fastBatches = version >= 3 ? readBytes(in) : null;
                        java.util.Map<String, Long> positions = new java.util.LinkedHashMap<>();
                        int p = version >= 3 ? in.readInt() : 0;
                        for (int i = 0; i < p; i++) {
                            positions.put(in.readUTF(), in.readLong());
                        }
                        stateSink.accept(new State(revision, config, schedules, fastBatches, positions));
                    }
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
        int version;
        if (in.readInt() != MAGIC || (version = in.readInt()) < 1 || version > VERSION) {
            throw new IOException("not a stream snapshot of version 1 to " + VERSION);
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
