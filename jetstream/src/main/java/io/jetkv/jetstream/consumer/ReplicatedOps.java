package io.jetkv.jetstream.consumer;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * The bytes of one consumer entry in a replicated stream's Raft group: the consumer changes of one leader
 * writer batch. {@code PUT} carries a consumer's whole delivery and ack state ({@link Consumer#stateBytes}) and,
 * when it changed, its saved configuration; {@code DELETE} removes one; {@code DONE} lists the stream sequences
 * some consumer finished with (acked, terminated, delivered without acks), which every replica removes when no
 * committed consumer needs them any more (interest and work-queue retention).
 *
 * <pre>
 * version:1 { op:byte ... }* 0
 *   PUT(1)    name:utf  config:int len|-1  bytes  state:int len  bytes
 *   DELETE(2) name:utf
 *   DONE(3)   count:int  seq:long*
 * </pre>
 *
 * <p>Stateless; the writer thread of the stream encodes and decodes.
 */
final class ReplicatedOps {
    private static final byte VERSION = 1;
    private static final byte END = 0;
    private static final byte PUT = 1;
    private static final byte DELETE = 2;
    private static final byte DONE = 3;

    private ReplicatedOps() {}

    /** What an entry says, op by op, in order. */
    interface Handler {
        void put(String name, byte[] config, byte[] state);

        void delete(String name);

        void done(long seq);
    }

    /** Builds one entry. */
    static final class Writer {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream(128);
        private final DataOutputStream out = new DataOutputStream(bytes);
        private boolean empty = true;

        Writer() {
            write(() -> out.writeByte(VERSION));
        }

        void put(String name, byte[] config, byte[] state) {
            empty = false;
            write(() -> {
                out.writeByte(PUT);
                out.writeUTF(name);
                if (config == null) {
                    out.writeInt(-1);
                } else {
                    out.writeInt(config.length);
                    out.write(config);
                }
                out.writeInt(state.length);
                out.write(state);
            });
        }

        void delete(String name) {
            empty = false;
            write(() -> {
                out.writeByte(DELETE);
                out.writeUTF(name);
            });
        }

        void done(List<Long> seqs) {
            if (seqs.isEmpty()) {
                return;
            }
            empty = false;
            write(() -> {
                out.writeByte(DONE);
                out.writeInt(seqs.size());
                for (long s : seqs) {
                    out.writeLong(s);
                }
            });
        }

        boolean isEmpty() {
            return empty;
        }

        byte[] toBytes() {
            write(() -> out.writeByte(END));
            return bytes.toByteArray();
        }

        private interface Step {
            void run() throws IOException;
        }

        private static void write(Step s) {
            try {
                s.run();
            } catch (IOException e) {
                throw new UncheckedIOException(e); // a byte array stream does not fail
            }
        }
    }

    /**
     * Hands every op of {@code entry} to {@code h} in order.
     *
     * @return true when the entry deleted a consumer
     */
    static boolean read(byte[] entry, Handler h) {
        boolean deleted = false;
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(entry))) {
            byte v = in.readByte();
            if (v != VERSION) {
                throw new IllegalStateException("unknown consumer entry version " + v);
            }
            while (true) {
                byte op = in.readByte();
                switch (op) {
                    case END -> {
                        return deleted;
                    }
                    case PUT -> {
                        String name = in.readUTF();
                        int cl = in.readInt();
                        byte[] config = null;
                        if (cl >= 0) {
                            config = new byte[cl];
                            in.readFully(config);
                        }
                        byte[] state = new byte[in.readInt()];
                        in.readFully(state);
                        h.put(name, config, state);
                    }
                    case DELETE -> {
                        h.delete(in.readUTF());
                        deleted = true;
                    }
                    case DONE -> {
                        int n = in.readInt();
                        for (int i = 0; i < n; i++) {
                            h.done(in.readLong());
                        }
                    }
                    default -> throw new IllegalStateException("unknown consumer entry op " + op);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
