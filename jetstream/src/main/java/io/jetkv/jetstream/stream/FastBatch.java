package io.jetkv.jetstream.stream;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jetkv.jetstream.api.ApiLevel;
import io.jetkv.jetstream.api.JsApiException;
import io.jetkv.jetstream.api.JsError;
import io.jetkv.jetstream.api.JsJson;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The fast-ingest batches of one stream (nats-server 2.14, ADR-50, {@code allow_batched}). Unlike an atomic batch
 * nothing is staged: each message is checked and stored as it comes, like a single publish, and the client is paced
 * by flow acks instead of a pub ack per message. The control data rides in the reply subject:
 *
 * <pre>
 *   &lt;inbox&gt;.&lt;batch id&gt;.&lt;flow&gt;.&lt;ok|fail&gt;.&lt;batch seq&gt;.&lt;op&gt;.$FI
 *   op: 0 start, 1 append, 2 commit with this message, 3 commit without it (end of batch), 4 ping
 * </pre>
 *
 * <p>Replies go to the reply subject of the message they are about: {@code {"type":"ack","seq","msgs"}} on the
 * first message and every {@code flow}th (and on a ping), {@code {"type":"gap","last_seq","seq"}} when batch
 * sequences are missing, {@code {"type":"err","seq","error"}} when a message fails its checks, and the batch's pub
 * ack {@code {"stream","seq","batch","count"}} at the end. With gap mode {@code fail} a gap or an error ends the
 * batch at once (the pub ack counts up to the last message before the gap, or carries the error); with {@code ok}
 * the batch goes on.
 *
 * <p>On a replicated stream the leader proposes each batch message as it does a single publish, reply subject and
 * all, and every replica runs the batch logic here when the message is committed, with the leader's time: the batches'
 * state is then the same on every replica (a new leader continues an open batch), and only the proposer answers, after
 * the apply, as a single server answers after its flush. The per-server limit is checked by the leader before it
 * proposes a batch's first message, since other streams' batches differ between servers; idle batches end when an
 * expiry op says so.
 *
 * <p>Writer thread only, like the rest of a stream's publish state; the server-wide count is shared.
 */
final class FastBatch {
    static final String SUFFIX = ".$FI";
    static final int MAX_ID_LENGTH = 64;
    static final int MAX_FLOW = 65535;
    /** nats-server's limits: open fast batches per stream and per server, and the idle time before one is dropped. */
    static final int MAX_PER_STREAM = 1000;
    static final int MAX_PER_SERVER = 50_000;
    static final long IDLE_TIMEOUT_NANOS = 10_000_000_000L;

    static final int OP_START = 0;
    static final int OP_APPEND = 1;
    static final int OP_COMMIT = 2;
    static final int OP_EOB = 3;
    static final int OP_PING = 4;

    /** The control data of a fast-batch reply subject. */
    record Control(String id, int flow, boolean gapOk, long seq, int op) {
        /**
         * Parses the last six tokens of {@code reply} (which ends in {@code .$FI}); 10206 when a token is out of
         * range or the prefix is missing, 10207 when the batch id is longer than 64 characters.
         */
        static Control parse(String reply) {
            String[] t = reply.split("\\.", -1);
            int n = t.length;
            // at least one prefix token before the id
            if (n < 7) {
                throw new JsApiException(JsError.BATCH_PUBLISH_INVALID_PATTERN);
            }
            for (int i = 0; i < n - 6; i++) {
                if (t[i].isEmpty()) {
                    throw new JsApiException(JsError.BATCH_PUBLISH_INVALID_PATTERN);
                }
            }
            long op = number(t[n - 2]);
            long seq = number(t[n - 3]);
            String gap = t[n - 4];
            long flow = number(t[n - 5]);
            String id = t[n - 6];
            if (op < OP_START || op > OP_PING || seq < 1 || flow < 1 || flow > MAX_FLOW
                    || !(gap.equals("ok") || gap.equals("fail")) || id.isEmpty()) {
                throw new JsApiException(JsError.BATCH_PUBLISH_INVALID_PATTERN);
            }
            if (id.length() > MAX_ID_LENGTH) {
                throw new JsApiException(JsError.BATCH_PUBLISH_INVALID_BATCH_ID);
            }
            return new Control(id, (int) flow, gap.equals("ok"), seq, (int) op);
        }

        /** A decimal without sign, or -1. */
        private static long number(String s) {
            if (s.isEmpty() || s.length() > 18) {
                return -1;
            }
            long v = 0;
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (c < '0' || c > '9') {
                    return -1;
                }
                v = v * 10 + (c - '0');
            }
            return v;
        }
    }

    /** One open batch. */
    private static final class Open {
        final String id;
        final int flow;
        final boolean gapOk;
        /** The highest batch sequence received (stored, failed or skipped over in ok mode). */
        long lastSeq;
        /** The stream sequence of the batch's last stored message; 0 while none. */
        long lastStored;
        long lastActivity;

        Open(Control c, long now) {
            this.id = c.id();
            this.flow = c.flow();
            this.gapOk = c.gapOk();
            this.lastActivity = now;
        }
    }

    /** What a batch needs from its stream; all on the writer thread. */
    interface Host {
        String name();

        String domain();

        StreamConfig config();

        /** The stream's last sequence. */
        long lastSeq();

        /**
         * A batch message through the single-publish checks, stored with {@code timestamp} (0: the writer's clock); its
         * sequence, or 0 when dropped (duplicate).
         */
        long store(String subject, byte[] headers, byte[] payload, long timestamp, Stream.Batch batch);

        byte[] pubAckError(JsApiException e);
    }

    private final Host host;
    private final AtomicInteger serverOpen;
    /** Open batches by id, least recently active first. */
    private final LinkedHashMap<String, Open> open = new LinkedHashMap<>();
    /** When the least recently active batch times out; read by the stream's timer. */
    private volatile long nextTimeout = Long.MAX_VALUE;
    /** The open batches changed since {@link #takeChanged}. */
    private boolean changed;

    FastBatch(Host host, AtomicInteger serverOpen) {
        this.host = host;
        this.serverOpen = serverOpen;
    }

    /** Whether {@code reply} marks a fast-batch message. */
    static boolean isFastBatchReply(String reply) {
        return reply != null && reply.endsWith(SUFFIX);
    }

    long nextTimeout() {
        return nextTimeout;
    }

    /**
     * Whether the leader of a replicated stream must refuse {@code reply}'s message before proposing it: it would open
     * a batch while the server holds its maximum of open fast batches (10211). Any other outcome is decided on apply.
     */
    boolean refusedBeforeProposal(String reply, Stream.Batch batch) {
        Control c;
        try {
            c = Control.parse(reply);
        } catch (JsApiException e) {
            return false; // the apply answers it, as every replica sees it
        }
        if (c.seq() != 1 || c.op() == OP_PING || open.containsKey(c.id()) || serverOpen.get() < MAX_PER_SERVER) {
            return false;
        }
        error(reply, new Out(batch, true), new JsApiException(JsError.BATCH_PUBLISH_TOO_MANY_INFLIGHT));
        return true;
    }

    /**
     * A message whose reply subject ends in {@code .$FI}. {@code now} in epoch nanos: the writer's clock on a single
     * server, the committed message's time on a replicated stream. {@code answer}: whether replies go out (false on the
     * replicas that did not propose it). {@code replicated}: the server-wide limit was checked before the proposal.
     */
    void publish(String subject, String reply, byte[] headers, byte[] payload, Stream.Batch batch, long now,
            boolean answer, boolean replicated) {
        Out out = new Out(batch, answer);
        long timestamp = replicated ? now : 0;
        StreamConfig cfg = host.config();
        if (!cfg.allowBatched()) {
            dropAll();
            error(reply, out, new JsApiException(JsError.BATCH_PUBLISH_DISABLED));
            return;
        }
        Control c;
        try {
            c = Control.parse(reply);
        } catch (JsApiException e) {
            error(reply, out, e);
            return;
        }
        Open b = open.get(c.id());
        if (!ApiLevel.satisfied(headers, ApiLevel.SERVER)) {
            if (b != null) {
                close(b);
            }
            error(reply, out, new JsApiException(JsError.REQUIRED_API_LEVEL));
            return;
        }
        if (b == null) {
            // only a message at batch sequence 1 starts a batch, and never a ping
            if (c.seq() != 1 || c.op() == OP_PING) {
                error(reply, out, new JsApiException(JsError.BATCH_PUBLISH_UNKNOWN_BATCH_ID));
                return;
            }
            if (open.size() >= MAX_PER_STREAM || (!replicated && serverOpen.get() >= MAX_PER_SERVER)) {
                error(reply, out, new JsApiException(JsError.BATCH_PUBLISH_TOO_MANY_INFLIGHT));
                return;
            }
            b = new Open(c, now);
            open.put(b.id, b);
            serverOpen.incrementAndGet();
        }
        touch(b, now);
        if (c.op() == OP_PING) {
            // the latest flow state again, after whatever the batch stored before it is flushed
            out.reply(reply, flowAck(b.lastSeq, b.flow), null);
            return;
        }
        if (c.seq() <= b.lastSeq) {
            return; // a sequence already seen: a resend, dropped
        }
        if (c.seq() > b.lastSeq + 1) {
            out.send(reply, null, gap(b.lastSeq + 1, c.seq()));
            if (!b.gapOk) {
                // the batch ends at the last message before the gap
                close(b);
                out.reply(reply, pubAck(b, b.lastSeq), null);
                return;
            }
        }
        b.lastSeq = c.seq();
        if (c.op() == OP_EOB) {
            close(b);
            out.reply(reply, pubAck(b, c.seq() - 1), null);
            return;
        }
        byte[] hdr = headers == null ? null : HeaderBlock.without(headers, ApiLevel.REQUIRED_HEADER);
        if (hdr != null && HeaderBlock.parse(hdr).isEmpty()) {
            hdr = null;
        }
        try {
            long seq = host.store(subject, hdr, payload, timestamp, batch);
            if (seq > 0) {
                b.lastStored = seq;
            }
        } catch (JsApiException e) {
            out.send(reply, null, err(c.seq(), e));
            if (!b.gapOk) {
                close(b);
                out.send(reply, null, host.pubAckError(e));
                return;
            }
        }
        if (c.op() == OP_COMMIT) {
            close(b);
            out.reply(reply, pubAck(b, c.seq()), storeFailed());
        } else if (c.seq() == 1 || c.seq() % b.flow == 0) {
            out.reply(reply, flowAck(c.seq(), b.flow), storeFailed());
        }
    }

    /** Drops the batches idle for longer than the timeout, silently (fast batches raise no advisory). */
    void expire(long now) {
        Iterator<Open> it = open.values().iterator();
        while (it.hasNext()) {
            Open b = it.next();
            if (b.lastActivity + IDLE_TIMEOUT_NANOS > now) {
                break;
            }
            it.remove();
            serverOpen.decrementAndGet();
            changed = true;
        }
        updateTimeout();
    }

    /** Drops every open batch: {@code allow_batched} turned off, or the stream closing. */
    void dropAll() {
        changed |= !open.isEmpty();
        serverOpen.addAndGet(-open.size());
        open.clear();
        nextTimeout = Long.MAX_VALUE;
    }

    /** Whether the open batches changed since the last call (a replicated stream then stores {@link #encode}). */
    boolean takeChanged() {
        boolean c = changed;
        changed = false;
        return c;
    }

    /**
     * The open batches, least recently active first, for a replicated stream's store: flushed with the apply that
     * changed them, so that a replica restarting (which skips the log entries its store already holds) knows the
     * batches the others have open.
     *
     * <pre>count:int { id:utf flow:int gapOk:bool lastSeq:long lastStored:long lastActivity:long }*</pre>
     */
    byte[] encode() {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream(16 + open.size() * 48);
        try (java.io.DataOutputStream out = new java.io.DataOutputStream(bytes)) {
            out.writeInt(open.size());
            for (Open b : open.values()) {
                out.writeUTF(b.id);
                out.writeInt(b.flow);
                out.writeBoolean(b.gapOk);
                out.writeLong(b.lastSeq);
                out.writeLong(b.lastStored);
                out.writeLong(b.lastActivity);
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** Replaces the open batches with those {@link #encode} wrote (null: none). */
    void restore(byte[] encoded) {
        dropAll();
        changed = false;
        if (encoded == null) {
            return;
        }
        try (java.io.DataInputStream in = new java.io.DataInputStream(new java.io.ByteArrayInputStream(encoded))) {
            int n = in.readInt();
            for (int i = 0; i < n; i++) {
                String id = in.readUTF();
                Open b = new Open(new Control(id, in.readInt(), in.readBoolean(), 1, OP_START), 0);
                b.lastSeq = in.readLong();
                b.lastStored = in.readLong();
                b.lastActivity = in.readLong();
                open.put(id, b);
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        serverOpen.addAndGet(open.size());
        updateTimeout();
    }

    private void touch(Open b, long now) {
        changed = true;
        b.lastActivity = now;
        open.remove(b.id); // kept in order of last activity, oldest first
        open.put(b.id, b);
        updateTimeout();
    }

    private void close(Open b) {
        if (open.remove(b.id) != null) {
            serverOpen.decrementAndGet();
            changed = true;
        }
        updateTimeout();
    }

    private void updateTimeout() {
        nextTimeout = open.isEmpty() ? Long.MAX_VALUE
                : open.values().iterator().next().lastActivity + IDLE_TIMEOUT_NANOS;
    }

    private void error(String reply, Out out, JsApiException e) {
        out.send(reply, null, host.pubAckError(e));
    }

    /** Where a message's replies go: the stream batch's replies, or nowhere on a replica that did not propose it. */
    private record Out(Stream.Batch batch, boolean answer) {
        void reply(String subject, byte[] payload, byte[] onFailure) {
            if (answer) {
                batch.reply(subject, payload, onFailure);
            }
        }

        void send(String subject, byte[] headers, byte[] payload) {
            if (answer) {
                batch.send(subject, headers, payload);
            }
        }
    }

    private byte[] storeFailed() {
        return host.pubAckError(new JsApiException(JsError.STREAM_STORE_FAILED, "stream store failed"));
    }

    /** The batch's pub ack: its last stored message (the stream's last when none), the id and the count. */
    private byte[] pubAck(Open b, long count) {
        long seq = b.lastStored > 0 ? b.lastStored : host.lastSeq();
        return JsJson.bytes(AtomicBatch.commitAck(host.name(), host.domain(), seq, b.id, (int) count));
    }

    private static byte[] flowAck(long seq, int msgs) {
        ObjectNode o = JsJson.object();
        o.put("type", "ack");
        o.put("seq", seq);
        o.put("msgs", msgs);
        return JsJson.bytes(o);
    }

    private static byte[] gap(long lastSeq, long seq) {
        ObjectNode o = JsJson.object();
        o.put("type", "gap");
        o.put("last_seq", lastSeq);
        o.put("seq", seq);
        return JsJson.bytes(o);
    }

    private static byte[] err(long seq, JsApiException e) {
        ObjectNode o = JsJson.object();
        o.put("type", "err");
        o.put("seq", seq);
        o.set("error", JsJson.error(e));
        return JsJson.bytes(o);
    }
}
