package io.jetkv.jetstream.stream;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jetkv.jetstream.api.JsJson;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One open atomic publish batch of nats-server 2.12 (ADR-50): the messages staged under a {@code Nats-Batch-Id},
 * stored all or nothing when the message carrying {@code Nats-Batch-Commit: 1} arrives. Also the running view of
 * what the batch has added so far while its messages are checked at commit ({@link Staged}).
 *
 * <p>Writer thread only: a stream's open batches live in its writer's state.
 */
final class AtomicBatch {
    static final String ID = "Nats-Batch-Id";
    static final String SEQUENCE = "Nats-Batch-Sequence";
    static final String COMMIT = "Nats-Batch-Commit";
    /** 2.14: the commit value that commits the batch without the message carrying it. */
    static final String COMMIT_EOB = "eob";
    /** nats-server's limits: batch id length, messages per batch, open batches per stream and per server, idle time. */
    static final int MAX_ID_LENGTH = 64;
    static final int MAX_MESSAGES = 1000;
    static final int MAX_PER_STREAM = 50;
    static final int MAX_PER_SERVER = 1000;
    static final long IDLE_TIMEOUT_NANOS = 10_000_000_000L;

    /** A staged message: what the client sent, minus nothing yet (headers are cleaned when stored). */
    record Message(String subject, String reply, byte[] headers, byte[] payload) {}

    final String id;
    final List<Message> messages = new ArrayList<>();
    long lastActivity;

    AtomicBatch(String id, long now) {
        this.id = id;
        this.lastActivity = now;
    }

    /** A 22-character random id for an advisory, as nats-server's NUIDs. */
    static String advisoryId() {
        String chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        java.util.concurrent.ThreadLocalRandom r = java.util.concurrent.ThreadLocalRandom.current();
        StringBuilder sb = new StringBuilder(22);
        for (int i = 0; i < 22; i++) {
            sb.append(chars.charAt(r.nextInt(chars.length())));
        }
        return sb.toString();
    }

    /** The next {@code Nats-Batch-Sequence} this batch accepts. */
    long nextSeq() {
        return messages.size() + 1L;
    }

    /** {@code Nats-Batch-Sequence} as a positive number, or -1 when missing or not a number. */
    static long sequenceOf(Map<String, String> h) {
        String v = h.get(SEQUENCE);
        if (v == null) {
            return -1;
        }
        try {
            long n = Long.parseLong(v.trim());
            return n > 0 ? n : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** The commit's pub ack: the last stored sequence, the batch id and its size. */
    static ObjectNode commitAck(String stream, String domain, long lastSeq, String id, int count) {
        ObjectNode o = JsJson.object();
        o.put("stream", stream);
        if (domain != null && !domain.isEmpty()) {
            o.put("domain", domain);
        }
        o.put("seq", lastSeq);
        o.put("batch", id);
        o.put("count", count);
        return o;
    }

    /**
     * What a batch being committed has added so far, so that each of its messages is checked against the stream as
     * the earlier ones leave it: subjects written, message ids, counter totals, messages and bytes added.
     */
    static final class Staged {
        final Set<String> subjects = new HashSet<>();
        final Set<String> msgIds = new HashSet<>();
        /** Counter subject -> the total after the batch's last increment on it, and that message's headers. */
        final Map<String, BigInteger> totals = new HashMap<>();
        final Map<String, byte[]> totalHeaders = new HashMap<>();
        final Map<String, Long> perSubject = new HashMap<>();
        long msgs;
        long bytes;
        boolean first = true;

        void add(String subject, long size) {
            subjects.add(subject);
            perSubject.merge(subject, 1L, Long::sum);
            msgs++;
            bytes += size;
        }
    }
}
