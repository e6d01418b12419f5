package io.jetkv.jetstream.stream;

import io.jetkv.jetstream.api.JsJson;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A change to a stream other than a batch of single publishes: purge, message delete, a configuration update, an
 * atomic batch commit, firing the message schedules due at a time, expiring what is due at a time, or messages a
 * mirror or source entry copied. On a replicated stream it is one Raft entry, applied by every replica's writer in log
 * order ({@link Stream#perform}); on a single server the writer applies it
 * at once. Every check whose outcome depends on the stream's contents runs at apply, so replicas agree.
 *
 * <pre>
 * kind:byte  opId:long  fields (per kind, below)
 *   'P' purge      filter:utf|"" seq:long keep:long
 *   'D' delete     seq:long erase:bool
 *   'U' config     revision:long config:utf-json (as int length + UTF-8 bytes)
 *   'A' atomic     id:utf count:int { ts:long subject:utf headers:int len|-1 bytes payload:int len bytes }*
 *   'S' schedules  now:long
 *   'E' expire     now:long
 *   'M' copy       key:utf from:long position:long bias:byte time:long count:int
 *                  { seq:long ts:long subject:utf headers:int len|-1 bytes payload:int len bytes }*
 * </pre>
 *
 * The kind bytes never equal {@link ReplicatedBatch}'s version byte (1), which opens a batch of publishes, nor 'C',
 * which opens a batch of consumer changes.
 * Stateless codec; any thread.
 */
public sealed interface StreamOp {
    byte PURGE = 'P';
    byte DELETE = 'D';
    byte CONFIG = 'U';
    byte ATOMIC = 'A';
    byte SCHEDULES = 'S';
    byte EXPIRE = 'E';
    byte COPY = 'M'; // not 'C' (0x43): that byte opens a consumer entry (Stream#proposeConsumerChanges)

    /** {@code STREAM.PURGE}; {@code filter} null for all subjects. */
    record Purge(String filter, long seq, long keep) implements StreamOp {}

    /** {@code STREAM.MSG.DELETE}; {@code erase} overwrites the message (no {@code no_erase}). */
    record Delete(long seq, boolean erase) implements StreamOp {}

    /**
     * A configuration the meta group accepted ({@code STREAM.UPDATE}), at meta log index {@code revision}: a replica
     * applies only a revision newer than the one it holds, so a late duplicate never rolls it back.
     */
    record Config(long revision, StreamConfig config) implements StreamOp {}

    /** An atomic batch's messages, each with the time the leader gave it, stored all or nothing. */
    record Atomic(String id, List<Message> messages) implements StreamOp {}

    /** One message of an atomic batch (its batch headers still on: they are removed as it is stored). */
    record Message(long timestamp, String subject, byte[] headers, byte[] payload) {}

    /** Fire the message schedules due at {@code now} (the leader's clock). */
    record Schedules(long now) implements StreamOp {}

    /**
     * Expire what is due at {@code now} (the leader's clock): {@code max_age}, per-message TTLs with the subject delete
     * markers they write, and idle fast-ingest batches, at most {@code limit} messages. Replicas never expire on
     * their own clock, and each removes the same number, so that markers take the same sequences everywhere. An
     * entry written before the limit was part of the op holds none; such entries apply with
     * {@link #UNRECORDED_LIMIT}, what every replica removed per op then.
     */
    record Expire(long now, int limit) implements StreamOp {
        /** The fixed limit of the entries that do not carry one. */
        static final int UNRECORDED_LIMIT = 10_000;
    }

    /**
     * What the leader's copier of one mirror or source entry (named by its position key) took from the origin, with
     * the entry's position after it: stored, and the position saved, together on every replica. The saved position
     * is an origin sequence plus {@code bias} (1 where it names the next sequence to copy, 0 the last copied): a
     * message whose sequence plus bias is not above the position a replica holds was copied before (by an earlier
     * leader whose proposal committed late) and is skipped, so replicas never store a copy twice. {@code from} is
     * the position the copier read before this copy: a replica holding less refuses the whole copy (an earlier one
     * was lost: storing this would leave a gap), and the copier starts again from what is held. A source's copies
     * are stored at {@code time} (the leader's clock; the next ones a nanosecond apart), a mirror's at the origin's.
     */
    record Copy(String positionKey, long from, long position, int bias, long time,
            List<io.jetkv.jetstream.store.StoredMessage> messages) implements StreamOp {}

    /** True when {@code entry} holds an op rather than a batch of publishes. */
    static boolean isOp(byte[] entry) {
        if (entry.length == 0) {
            return false;
        }
        byte k = entry[0];
        return k == PURGE || k == DELETE || k == CONFIG || k == ATOMIC || k == SCHEDULES || k == EXPIRE
                || k == COPY;
    }

    static byte[] encode(long opId, StreamOp op) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            if (op instanceof Purge p) {
                out.writeByte(PURGE);
                out.writeLong(opId);
                out.writeUTF(p.filter() == null ? "" : p.filter());
                out.writeLong(p.seq());
                out.writeLong(p.keep());
            } else if (op instanceof Delete d) {
                out.writeByte(DELETE);
                out.writeLong(opId);
                out.writeLong(d.seq());
                out.writeBoolean(d.erase());
            } else if (op instanceof Config c) {
                out.writeByte(CONFIG);
                out.writeLong(opId);
                out.writeLong(c.revision());
                writeBytes(out, JsJson.bytes(c.config().toJson()));
            } else if (op instanceof Atomic a) {
                out.writeByte(ATOMIC);
                out.writeLong(opId);
                out.writeUTF(a.id());
                out.writeInt(a.messages().size());
                for (Message m : a.messages()) {
                    out.writeLong(m.timestamp());
                    out.writeUTF(m.subject());
                    writeBytes(out, m.headers());
                    writeBytes(out, m.payload());
                }
            } else if (op instanceof Schedules s) {
                out.writeByte(SCHEDULES);
                out.writeLong(opId);
                out.writeLong(s.now());
            } else if (op instanceof Copy c) {
                out.writeByte(COPY);
                out.writeLong(opId);
                out.writeUTF(c.positionKey());
                out.writeLong(c.from());
                out.writeLong(c.position());
                out.writeByte(c.bias());
                out.writeLong(c.time());
                out.writeInt(c.messages().size());
                for (io.jetkv.jetstream.store.StoredMessage m : c.messages()) {
                    out.writeLong(m.seq());
                    out.writeLong(m.timestamp());
                    out.writeUTF(m.subject());
                    writeBytes(out, m.headers());
                    writeBytes(out, m.payload());
                }
            } else if (op instanceof Expire e) {
                out.writeByte(EXPIRE);
                out.writeLong(opId);
                out.writeLong(e.now());
                out.writeInt(e.limit());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** The op id of an encoded op. */
    static long opId(byte[] entry) {
        return ReplicatedBatch.readLong(java.util.Arrays.copyOfRange(entry, 1, 9));
    }

    static StreamOp decode(byte[] entry) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(entry))) {
            byte kind = in.readByte();
            in.readLong(); // op id
            switch (kind) {
                case PURGE -> {
                    String filter = in.readUTF();
                    return new Purge(filter.isEmpty() ? null : filter, in.readLong(), in.readLong());
                }
                case DELETE -> {
                    return new Delete(in.readLong(), in.readBoolean());
                }
                case CONFIG -> {
                    long revision = in.readLong();
                    byte[] json = readBytes(in);
                    return new Config(revision, StreamConfig.fromJson(JsJson.decode(json)));
                }
                case ATOMIC -> {
                    String id = in.readUTF();
                    int n = in.readInt();
                    List<Message> messages = new ArrayList<>(n);
                    for (int i = 0; i < n; i++) {
                        long ts = in.readLong();
                        String subject = in.readUTF();
                        byte[] h = readBytes(in);
                        byte[] p = readBytes(in);
                        messages.add(new Message(ts, subject, h, p == null ? new byte[0] : p));
                    }
                    return new Atomic(id, messages);
                }
                case SCHEDULES -> {
                    return new Schedules(in.readLong());
                }
                case COPY -> {
                    String key = in.readUTF();
                    long from = in.readLong();
                    long position = in.readLong();
                    int bias = in.readByte();
                    long time = in.readLong();
                    int n = in.readInt();
                    List<io.jetkv.jetstream.store.StoredMessage> messages = new ArrayList<>(n);
                    for (int i = 0; i < n; i++) {
                        long seq = in.readLong();
                        long ts = in.readLong();
                        String subject = in.readUTF();
                        byte[] h = readBytes(in);
                        byte[] p = readBytes(in);
                        messages.add(new io.jetkv.jetstream.store.StoredMessage(seq, subject, h,
                                p == null ? new byte[0] : p, ts));
                    }
                    return new Copy(key, from, position, bias, time, messages);
                }
                case EXPIRE -> {
                    long now = in.readLong();
                    return new Expire(now, in.available() >= 4 ? in.readInt() : Expire.UNRECORDED_LIMIT);
                }
                default -> throw new IllegalStateException("unknown stream op " + kind);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
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
