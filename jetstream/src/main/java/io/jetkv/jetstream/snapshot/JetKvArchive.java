package io.jetkv.jetstream.snapshot;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jetkv.jetstream.api.JsApiException;
import io.jetkv.jetstream.api.JsJson;
import io.jetkv.jetstream.store.StoredMessage;
import io.jetkv.jetstream.store.StreamStore;
import io.jetkv.jetstream.store.Varint;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * JetKV's own snapshot contents, inside the same S2-compressed tar that nats-server sends:
 *
 * <pre>
 * jetkv.json               {"format":1, "created":&lt;nanos&gt;, "config":{...}, "state":{...},
 *                          "positions":{store key: base64}}    always first; positions: a mirror's or sources'
 *                          next origin sequences, as of the last sequence the snapshot holds
 * msgs/000001.dat ...      message records, ascending sequence, about 1 MiB per entry
 * consumers/000001.json    {"name", "created", "config", "state"} per durable consumer
 * end.json                 {"last_seq", "messages"}: written last, so a cut-off snapshot is refused
 * </pre>
 *
 * A message record is {@code seq | timestamp | subject length | subject | header length | headers | payload
 * length | payload}, numbers as unsigned LEB128 varints, header length 0 for none.
 */
final class JetKvArchive {
    static final String META = "jetkv.json";
    static final String END = "end.json";
    private static final String MSGS = "msgs/";
    private static final String CONSUMERS = "consumers/";
    private static final int FORMAT = 1;
    private static final int BLOCK_TARGET = 1 << 20;

    private JetKvArchive() {}

    /** Writes a snapshot's entries in order. Snapshot thread only. */
    static final class Writer {
        private final TarWriter tar;
        private byte[] block = new byte[BLOCK_TARGET + 1024];
        private int used;
        private int blocks;
        private int consumers;
        private long messages;

        Writer(TarWriter tar) {
            this.tar = tar;
        }

        /** @param positions the mirror's or sources' saved positions, by store key */
        void meta(ObjectNode config, long created, ObjectNode state, Map<String, byte[]> positions)
                throws IOException {
            ObjectNode o = JsJson.object();
            o.put("format", FORMAT);
            o.put("created", created);
            o.set("config", config);
            o.set("state", state);
            if (!positions.isEmpty()) {
                ObjectNode p = o.putObject("positions");
                positions.forEach((k, v) -> p.put(k, Base64.getEncoder().encodeToString(v)));
            }
            tar.add(META, JsJson.bytes(o));
        }

        void message(StoredMessage m) throws IOException {
            byte[] subject = m.subject().getBytes(StandardCharsets.UTF_8);
            byte[] headers = m.headers() == null ? new byte[0] : m.headers();
            int need = 50 + subject.length + headers.length + m.payload().length;
            if (used + need > block.length) {
                block = Arrays.copyOf(block, Math.max(block.length * 2, used + need));
            }
            used = Varint.put(block, used, m.seq());
            used = Varint.put(block, used, m.timestamp());
            used = bytes(subject);
            used = bytes(headers);
            used = bytes(m.payload());
            messages++;
            if (used >= BLOCK_TARGET) {
                flushBlock();
            }
        }

        private int bytes(byte[] b) {
            int at = Varint.put(block, used, b.length);
            System.arraycopy(b, 0, block, at, b.length);
            return at + b.length;
        }

        void consumer(ObjectNode entry) throws IOException {
            flushBlock();
            tar.add(CONSUMERS + String.format("%06d.json", ++consumers), JsJson.bytes(entry));
        }

        void end(long lastSeq) throws IOException {
            flushBlock();
            ObjectNode o = JsJson.object();
            o.put("last_seq", lastSeq);
            o.put("messages", messages);
            tar.add(END, JsJson.bytes(o));
            tar.close();
        }

        private void flushBlock() throws IOException {
            if (used == 0) {
                return;
            }
            tar.add(MSGS + String.format("%06d.dat", ++blocks), block, used);
            used = 0;
        }
    }

    static Archive reader(TarReader.Entry meta, TarReader tar) throws IOException {
        ObjectNode m = parse(meta);
        if (JsJson.getLong(m, "format", 0) != FORMAT) {
            throw new IOException("unknown JetKV snapshot format " + m.path("format"));
        }
        ObjectNode config = JsJson.getObject(m, "config");
        if (config == null) {
            throw new IOException("the snapshot has no stream configuration");
        }
        long created = JsJson.getLong(m, "created", 0);
        ObjectNode positions = JsJson.getObject(m, "positions");
        return new Archive(config, created) {
            @Override
            void fill(StreamStore store) throws IOException {
                MessageSink sink = new MessageSink(store);
                ObjectNode end = null;
                for (TarReader.Entry e = tar.next(); e != null; e = tar.next()) {
                    if (end != null) {
                        throw new IOException("the snapshot has entries after its end: " + e.name());
                    }
                    if (e.name().startsWith(MSGS)) {
                        records(e.data(), sink);
                    } else if (e.name().startsWith(CONSUMERS)) {
                        consumers.add(parse(e));
                    } else if (e.name().equals(END)) {
                        end = parse(e);
                    }
                }
                if (end == null) {
                    throw new IOException("the snapshot is incomplete (no " + END + ")");
                }
                if (JsJson.getLong(end, "messages", -1) != sink.count()) {
                    throw new IOException("the snapshot holds " + sink.count() + " messages, its end says "
                            + end.path("messages"));
                }
                sink.finish(JsJson.getLong(end, "last_seq", 0));
                if (positions != null) {
                    for (var it = positions.fields(); it.hasNext(); ) {
                        var e = it.next();
                        try {
                            store.putAux(e.getKey(), Base64.getDecoder().decode(e.getValue().asText()));
                        } catch (IllegalArgumentException bad) {
                            throw new IOException("bad source position " + e.getKey());
                        }
                    }
                }
            }
        };
    }

    private static void records(byte[] b, MessageSink sink) throws IOException {
        int[] at = {0};
        try {
            while (at[0] < b.length) {
                long seq = Varint.get(b, at);
                long ts = Varint.get(b, at);
                String subject = new String(field(b, at), StandardCharsets.UTF_8);
                byte[] headers = field(b, at);
                byte[] payload = field(b, at);
                sink.put(seq, subject, headers.length == 0 ? null : headers, payload, ts);
            }
        } catch (IllegalArgumentException e) {
            throw new IOException("corrupt message record: " + e.getMessage());
        }
    }

    private static byte[] field(byte[] b, int[] at) {
        long n = Varint.get(b, at);
        if (n < 0 || n > b.length - at[0]) {
            throw new IllegalArgumentException("field of " + n + " bytes");
        }
        byte[] out = Arrays.copyOfRange(b, at[0], at[0] + (int) n);
        at[0] += (int) n;
        return out;
    }

    private static ObjectNode parse(TarReader.Entry e) throws IOException {
        try {
            return JsJson.parseObject(e.data());
        } catch (JsApiException bad) {
            throw new IOException(e.name() + " is not a JSON object");
        }
    }
}
