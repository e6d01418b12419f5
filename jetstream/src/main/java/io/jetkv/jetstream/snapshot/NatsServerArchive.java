package io.jetkv.jetstream.snapshot;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jetkv.jetstream.api.JsApiException;
import io.jetkv.jetstream.api.JsJson;
import io.jetkv.jetstream.store.StreamStore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A snapshot made by nats-server 2.9 (its file store directory, tarred): read so that a nats-server stream can
 * move to JetKV. Entries:
 *
 * <pre>
 * meta.inf               {"Created": time, ...stream config}       first
 * meta.sum               checksum of meta.inf                       ignored
 * msgs/&lt;n&gt;.idx           the block's index: counts, first/last, deleted sequences
 * msgs/&lt;n&gt;.fss           per-subject state                          ignored (rebuilt by our store)
 * msgs/&lt;n&gt;.blk           message records
 * obs/&lt;name&gt;/meta.inf    {"Created": time, "Name": name, ...consumer config}
 * obs/&lt;name&gt;/o.dat       the consumer's delivery and ack state
 * </pre>
 *
 * A block is a run of records, all numbers little endian:
 *
 * <pre>
 * record length(4, bit 31: has headers) | seq(8, bit 63: erased) | timestamp ns(8) | subject length(2) | subject
 *   | [header length(4) | headers] | payload | hash(8)
 * </pre>
 *
 * The index is {@code 0x16 | version 1 | uvarint msgs, bytes, first seq | varint first ts | uvarint last seq |
 * varint last ts | uvarint deleted count | last hash(8) | uvarint (deleted seq - first seq)...}. A record is a
 * message unless it is erased, below its block's first sequence (removed from the front) or in the deleted set.
 * The records' hashes (HighwayHash) are not checked.
 *
 * <p>Restore thread only.
 */
final class NatsServerArchive {
    static final String META = "meta.inf";
    private static final String MSGS = "msgs/";
    private static final String OBS = "obs/";
    private static final int MAGIC = 0x16;
    private static final long HEADER_BIT = 1L << 31;
    private static final long ERASED_BIT = 1L << 63;
    private static final int RECORD_HEADER = 22;
    private static final int HASH = 8;

    private NatsServerArchive() {}

    /** What a block's index says; {@code null} fields when the snapshot had no index for the block. */
    private record Index(long firstSeq, long lastSeq, Set<Long> deleted) {}

    private static final class ConsumerParts {
        ObjectNode meta;
        byte[] state;
    }

    static Archive reader(TarReader.Entry meta, TarReader tar) throws IOException {
        ObjectNode config = parse(meta);
        long created = time(config.remove("Created"));
        return new Archive(config, created) {
            private final Map<String, ConsumerParts> parts = new TreeMap<>();
            @Override
            void fill(StreamStore store) throws IOException {
                MessageSink sink = new MessageSink(store);
                Map<String, Index> indexes = new TreeMap<>();
                long lastSeq = 0;
                for (TarReader.Entry e = tar.next(); e != null; e = tar.next()) {
                    String name = e.name();
                    if (name.startsWith(MSGS) && name.endsWith(".idx")) {
                        Index idx = index(e);
                        indexes.put(blockId(name), idx);
                        lastSeq = Math.max(lastSeq, idx.lastSeq());
                    } else if (name.startsWith(MSGS) && name.endsWith(".blk")) {
                        // the index comes before its block in nats-server's snapshots; without one, no deletes known
                        Index idx = indexes.remove(blockId(name));
                        lastSeq = Math.max(lastSeq, block(e, idx, sink));
                    } else if (name.startsWith(OBS)) {
                        consumerPart(e);
                    }
                }
                sink.finish(lastSeq);
                for (Map.Entry<String, ConsumerParts> c : parts.entrySet()) {
                    consumers.add(consumer(c.getKey(), c.getValue()));
                }
            }

            private void consumerPart(TarReader.Entry e) throws IOException {
                String rest = e.name().substring(OBS.length());
                int slash = rest.indexOf('/');
                if (slash <= 0) {
                    return;
                }
                ConsumerParts p = parts.computeIfAbsent(rest.substring(0, slash), k -> new ConsumerParts());
                String file = rest.substring(slash + 1);
                if (file.equals("meta.inf")) {
                    p.meta = parse(e);
                } else if (file.equals("o.dat")) {
                    p.state = e.data();
                }
            }
        };
    }

    private static String blockId(String name) {
        return name.substring(MSGS.length(), name.lastIndexOf('.'));
    }

    private static Index index(TarReader.Entry e) throws IOException {
        byte[] b = e.data();
        if (b.length < 2 || (b[0] & 0xff) != MAGIC || b[1] != 1) {
            throw new IOException(e.name() + " is not a nats-server 2.9 block index");
        }
        int[] at = {2};
        uvarint(b, at); // msgs
        uvarint(b, at); // bytes
        long first = uvarint(b, at) & ~ERASED_BIT;
        varint(b, at);
        long last = uvarint(b, at) & ~ERASED_BIT;
        varint(b, at);
        long deletedCount = uvarint(b, at);
        at[0] += HASH;
        if (at[0] > b.length || deletedCount > b.length) {
            throw new IOException(e.name() + " is cut short");
        }
        Set<Long> deleted = new HashSet<>();
        for (long i = 0; i < deletedCount; i++) {
            deleted.add(first + uvarint(b, at));
        }
        return new Index(first, last, deleted);
    }

    /** Puts the block's live messages in {@code sink}; returns the highest sequence it holds (deleted or not). */
    private static long block(TarReader.Entry e, Index idx, MessageSink sink) throws IOException {
        byte[] b = e.data();
        long highest = 0;
        int at = 0;
        while (at < b.length) {
            if (b.length - at < RECORD_HEADER + HASH) {
                throw new IOException(e.name() + ": record cut short at " + at);
            }
            long rl = le(b, at, 4);
            boolean hasHeaders = (rl & HEADER_BIT) != 0;
            int length = (int) (rl & ~HEADER_BIT);
            if (length < RECORD_HEADER + HASH || length > b.length - at) {
                throw new IOException(e.name() + ": bad record length " + length + " at " + at);
            }
            long rawSeq = le(b, at + 4, 8);
            long seq = rawSeq & ~ERASED_BIT;
            long ts = le(b, at + 12, 8);
            int subjectLen = (int) le(b, at + 20, 2);
            int p = at + RECORD_HEADER;
            int end = at + length - HASH;
            highest = Math.max(highest, seq);
            boolean live = (rawSeq & ERASED_BIT) == 0 && seq > 0
                    && (idx == null || (seq >= idx.firstSeq() && seq <= idx.lastSeq() && !idx.deleted().contains(seq)));
            if (live) {
                if (p + subjectLen > end) {
                    throw new IOException(e.name() + ": bad subject length at " + at);
                }
                String subject = new String(b, p, subjectLen, StandardCharsets.UTF_8);
                p += subjectLen;
                byte[] headers = null;
                if (hasHeaders) {
                    if (p + 4 > end) {
                        throw new IOException(e.name() + ": bad header length at " + at);
                    }
                    int hl = (int) le(b, p, 4);
                    p += 4;
                    if (hl < 0 || p + hl > end) {
                        throw new IOException(e.name() + ": bad header length at " + at);
                    }
                    headers = java.util.Arrays.copyOfRange(b, p, p + hl);
                    p += hl;
                }
                sink.put(seq, subject, headers, java.util.Arrays.copyOfRange(b, p, end), ts);
            }
            at += length;
        }
        return idx == null ? highest : Math.max(highest, idx.lastSeq());
    }

    /** An {@code exportDurables}-style entry from a nats-server consumer's meta.inf and o.dat. */
    private static ObjectNode consumer(String dir, ConsumerParts p) throws IOException {
        if (p.meta == null) {
            throw new IOException("consumer " + dir + " has no meta.inf");
        }
        ObjectNode cfg = p.meta.deepCopy();
        long created = time(cfg.remove("Created"));
        var nameNode = cfg.remove("Name");
        String name = nameNode != null && nameNode.isTextual() ? nameNode.asText() : dir;
        ObjectNode out = JsJson.object();
        out.put("name", name);
        out.put("created", created);
        out.set("config", cfg);
        if (p.state != null && p.state.length > 0) {
            out.set("state", consumerState(p.state, dir));
        }
        return out;
    }

    /**
     * o.dat: {@code 0x16 | version (1, 2) | uvarint ack floor cseq, sseq, delivered cseq, sseq | uvarint pending
     * count [varint base ts | per pending: uvarint sseq - floor, (v2) uvarint cseq - floor, varint ts] | uvarint
     * redelivered count | per redelivered: uvarint sseq, uvarint count}. Version 1 stored delivered as the next
     * to deliver.
     */
    private static ObjectNode consumerState(byte[] b, String dir) throws IOException {
        if (b.length < 2 || (b[0] & 0xff) != MAGIC || (b[1] != 1 && b[1] != 2)) {
            throw new IOException("consumer " + dir + ": unknown o.dat format");
        }
        int version = b[1];
        int[] at = {2};
        long floorC = uvarint(b, at);
        long floorS = uvarint(b, at);
        long dC = uvarint(b, at);
        long dS = uvarint(b, at);
        if (version == 1) {
            dC += floorC - 1;
            dS += floorS - 1;
        }
        long n = uvarint(b, at);
        if (n > b.length) {
            throw new IOException("consumer " + dir + ": o.dat is corrupt");
        }
        long[][] pending = new long[(int) n][];
        if (n > 0) {
            varint(b, at); // base timestamp: ack deadlines restart from the restore
            for (int i = 0; i < n; i++) {
                long sseq = uvarint(b, at) + floorS;
                long cseq = version == 2 ? uvarint(b, at) + floorC : floorC + (sseq - floorS);
                varint(b, at);
                pending[i] = new long[] {sseq, cseq, 1};
            }
        }
        long r = at[0] < b.length ? uvarint(b, at) : 0;
        Map<Long, Long> redelivered = new TreeMap<>();
        for (long i = 0; i < r; i++) {
            long seq = uvarint(b, at);
            redelivered.put(seq, uvarint(b, at));
        }
        java.util.Arrays.sort(pending, (x, y) -> Long.compare(x[0], y[0]));
        ObjectNode s = JsJson.object();
        s.put("dseq", dC);
        s.put("next_seq", dS + 1);
        s.put("last_sseq", dS);
        s.put("ack_floor_cseq", floorC);
        s.put("ack_floor_sseq", floorS);
        s.putArray("initial");
        ArrayNode rows = s.putArray("pending");
        for (long[] row : pending) {
            rows.addArray().add(row[0]).add(row[1]).add(1 + redelivered.getOrDefault(row[0], 0L));
        }
        return s;
    }

    private static long le(byte[] b, int at, int n) {
        long v = 0;
        for (int i = n - 1; i >= 0; i--) {
            v = (v << 8) | (b[at + i] & 0xff);
        }
        return v;
    }

    private static long uvarint(byte[] b, int[] at) throws IOException {
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (at[0] >= b.length) {
                throw new IOException("varint cut short");
            }
            int x = b[at[0]++] & 0xff;
            v |= (long) (x & 0x7f) << shift;
            if (x < 0x80) {
                return v;
            }
        }
        throw new IOException("varint too long");
    }

    private static long varint(byte[] b, int[] at) throws IOException {
        long u = uvarint(b, at);
        return (u >>> 1) ^ -(u & 1);
    }

    private static long time(com.fasterxml.jackson.databind.JsonNode node) {
        if (node == null || !node.isTextual()) {
            return 0;
        }
        try {
            return JsJson.parseTime(node.asText());
        } catch (JsApiException e) {
            return 0;
        }
    }

    private static ObjectNode parse(TarReader.Entry e) throws IOException {
        try {
            return JsJson.parseObject(e.data());
        } catch (JsApiException bad) {
            throw new IOException(e.name() + " is not a JSON object");
        }
    }
}
