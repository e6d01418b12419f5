package io.jetkv.jetstream.stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jetkv.jetstream.api.JsApiException;
import io.jetkv.jetstream.api.JsError;
import io.jetkv.jetstream.api.JsJson;
import io.jetkv.jetstream.store.StoredMessage;
import io.jetkv.jetstream.store.StreamState;
import io.jetkv.jetstream.store.StreamStore;
import io.jetkv.protocol.Subject;
import java.util.ArrayList;
import java.util.List;

/**
 * 2.11's batch and multi-last direct gets (ADR-31): the request fields beyond a single get ({@code batch},
 * {@code max_bytes}, {@code multi_last}, {@code up_to_seq}, {@code up_to_time}, 2.12's {@code no_hdr}), and the reply,
 * a run of messages each carrying {@code Nats-Num-Pending} and {@code Nats-Last-Sequence}, ended by a
 * {@code 204 EOB} status (nats-server's {@code getDirectRequest}, {@code getDirectMulti}).
 *
 * <p>Immutable; parsed on the stream's writer, where {@link #serve} reads the store.
 *
 * @param upToSeq   multi-last ceiling (0: none given)
 * @param upToTime  multi-last ceiling as a time, epoch nanos ({@code hasUpToTime} says whether given)
 */
record DirectBatchGet(int batch, long maxBytes, List<String> multiLast, long upToSeq, boolean hasUpToTime,
        long upToTime, boolean noHdr) {

    /** Default byte budget of a batch: the reference's default max pending of a client. */
    static final long DEFAULT_MAX_BYTES = 64L << 20;
    /** Most subjects a multi-last get may match (nats-server's {@code maxAllowedResults}). */
    static final int MAX_RESULTS = 1024;

    /**
     * Reads the fields beyond a single get; 10025 ({@link JsApiException}) when one has the wrong type, which the
     * caller answers as a malformed request.
     */
    static DirectBatchGet parse(ObjectNode body) {
        List<String> multi = null;
        JsonNode m = JsJson.field(body, "multi_last");
        if (m != null && !m.isNull()) {
            if (!m.isArray()) {
                throw new JsApiException(JsError.INVALID_JSON);
            }
            multi = new ArrayList<>();
            for (JsonNode v : m) {
                if (!v.isTextual()) {
                    throw new JsApiException(JsError.INVALID_JSON);
                }
                multi.add(v.textValue());
            }
            if (multi.isEmpty()) {
                multi = null; // Go's omitempty: an empty list is no list
            }
        }
        String upTo = JsJson.getString(body, "up_to_time");
        return new DirectBatchGet(JsJson.getInt(body, "batch", 0), JsJson.getInt(body, "max_bytes", 0), multi,
                JsJson.getUnsigned(body, "up_to_seq", 0), upTo != null, upTo == null ? 0 : JsJson.parseTime(upTo),
                JsJson.getBool(body, "no_hdr"));
    }

    boolean isMulti() {
        return multiLast != null;
    }

    /** Batch mode: an EOB ends the reply and each message carries the pending count. */
    boolean isBatch() {
        return batch > 0 || isMulti();
    }

    /**
     * The {@code 408} the reference answers for this request together with the single-get fields, or null: nothing
     * to look for, or a forbidden pair of fields.
     */
    byte[] refusal(StreamApi.MsgGet get) {
        if (get.seq() == 0 && get.last() == null && get.next() == null && !get.byTime() && !isMulti()) {
            return HeaderBlock.status(408, "Empty Request");
        }
        boolean bad = (get.seq() > 0 && (get.last() != null || get.byTime()))
                || (get.last() != null && (get.next() != null || get.byTime() || batch > 0 || isMulti()))
                || (get.next() != null && isMulti())
                || (upToSeq > 0 && hasUpToTime);
        return bad ? HeaderBlock.status(408, "Bad Request") : null;
    }

    /** Writer thread: sends the whole reply to {@code reply}. */
    void serve(StreamStore store, String stream, StreamApi.MsgGet get, String reply, Stream.Batch out) {
        if (isMulti()) {
            serveMulti(store, stream, get, reply, out);
        } else {
            serveRange(store, stream, get, reply, out);
        }
    }

    /** {@code batch} messages from {@code seq} (or {@code start_time}), of {@code next_by_subj} when given. */
    private void serveRange(StreamStore store, String stream, StreamApi.MsgGet get, String reply, Stream.Batch out) {
        String filter = get.next() == null || get.next().equals(">") ? null : get.next();
        long from = get.byTime() ? store.firstSeqAtOrAfter(get.startTime()) : Math.max(1, get.seq());
        StoredMessage m = store.loadNext(from, filter);
        if (m == null) {
            out.send(reply, HeaderBlock.status(404, "Message Not Found"), new byte[0]); // no EOB
            return;
        }
        // what matches from the first message on, so each message's pending count is a subtraction
        long matching = store.countMatching(m.seq(), filter);
        long budget = maxBytes > 0 ? maxBytes : DEFAULT_MAX_BYTES;
        long sentBytes = 0;
        int sent = 0;
        long last = 0;
        while (m != null) {
            long pending = Math.max(0, matching - sent - 1);
            send(out, reply, stream, m, pending, last, false);
            sent++;
            last = m.seq();
            sentBytes += m.subject().length() + StreamStore.sizeOf(m);
            if (sent >= batch || sentBytes >= budget) {
                break;
            }
            m = store.loadNext(m.seq() + 1, filter);
        }
        out.send(reply, eob(Math.max(0, matching - sent), last, -1), new byte[0]);
    }

    /** The last message of each subject matching {@code multi_last}, up to the ceiling, ascending. */
    private void serveMulti(StreamStore store, String stream, StreamApi.MsgGet get, String reply, Stream.Batch out) {
        StreamState st = store.state();
        long ceiling = upToSeq > 0 ? Math.min(upToSeq, st.lastSeq()) : st.lastSeq();
        if (hasUpToTime) {
            long at = store.firstSeqAtOrAfter(upToTime);
            if (at <= Math.max(1, st.firstSeq())) {
                out.send(reply, HeaderBlock.status(404, "No Results"), new byte[0]);
                return;
            }
            ceiling = Math.min(ceiling, at - 1);
        }
        // the subjects and how many messages each holds decide how to find their last messages: counted by walking
        // the subject rows (a bucket of ten million keys is never held as a map), and the walks stop as soon as more
        // subjects have a message at or below the ceiling than one reply may carry
        List<String> filters = new ArrayList<>();
        long[] subjectsAndMsgs = new long[2];
        for (String f : multiLast) {
            if (Subject.isValid(f)) {
                filters.add(f);
                store.forEachSubject(f, (subject, msgs) -> {
                    subjectsAndMsgs[0]++;
                    subjectsAndMsgs[1] += msgs;
                });
            }
        }
        java.util.TreeMap<Long, StoredMessage> found = new java.util.TreeMap<>();
        boolean tooMany = false;
        try {
            if (subjectsAndMsgs[1] <= SCAN_FACTOR * subjectsAndMsgs[0]) {
                // shallow history (a KV bucket): one sequential pass per filter, keeping each subject's latest
                java.util.Map<String, StoredMessage> latest = new java.util.HashMap<>();
                for (String f : filters) {
                    scan(store, f.equals(">") ? null : f, ceiling, latest);
                }
                for (StoredMessage m : latest.values()) {
                    found.put(m.seq(), m);
                }
            } else {
                final long top = ceiling;
                for (String f : filters) {
                    store.forEachSubject(f, (subject, msgs) -> {
                        long s = lastAtOrBelow(store, subject, top);
                        if (s > 0 && found.put(s, null) == null && found.size() > MAX_RESULTS) {
                            throw TooMany.INSTANCE;
                        }
                    });
                }
            }
        } catch (TooMany e) {
            tooMany = true;
        }
        if (tooMany || found.size() > MAX_RESULTS) {
            out.send(reply, HeaderBlock.status(413, "Too Many Results"), new byte[0]);
            return;
        }
        // seq is a cursor for paging: entries below it were sent before
        List<StoredMessage> results = new ArrayList<>();
        for (var e : found.tailMap(get.seq(), true).entrySet()) {
            StoredMessage m = e.getValue() != null ? e.getValue() : store.load(e.getKey());
            if (m != null) {
                results.add(m);
            }
        }
        if (results.isEmpty()) {
            out.send(reply, HeaderBlock.status(404, "No Results"), new byte[0]);
            return;
        }
        int max = batch > 0 ? batch : Integer.MAX_VALUE;
        long budget = maxBytes > 0 ? maxBytes : DEFAULT_MAX_BYTES;
        long sentBytes = 0;
        int sent = 0;
        long last = 0;
        for (StoredMessage m : results) {
            send(out, reply, stream, m, results.size() - sent - 1, last, true);
            sent++;
            last = m.seq();
            sentBytes += m.subject().length() + StreamStore.sizeOf(m);
            if (sent >= max || sentBytes >= budget) {
                break;
            }
        }
        out.send(reply, eob(results.size() - sent, last, ceiling), new byte[0]);
    }

    /** Thrown out of a walk once a multi-last request has more results than one reply may carry; no stack trace. */
    private static final class TooMany extends RuntimeException {
        static final TooMany INSTANCE = new TooMany();

        private TooMany() {
            super("too many results", null, false, false);
        }
    }

    /** Multi-last reads the stream in order when it holds at most this many messages per matching subject. */
    private static final long SCAN_FACTOR = 8;

    /** Every message of {@code filter} up to {@code ceiling}, in order; the latest per subject stays in {@code latest}. */
    private static void scan(StreamStore store, String filter, long ceiling, java.util.Map<String, StoredMessage> latest) {
        long from = Math.max(1, store.state().firstSeq());
        List<StoredMessage> chunk = new ArrayList<>(1024);
        while (from <= ceiling) {
            chunk.clear();
            store.loadNextBatch(from, ceiling, filter, 1024, 4L << 20, chunk);
            if (chunk.isEmpty()) {
                return;
            }
            for (StoredMessage m : chunk) {
                if (latest.put(m.subject(), m) == null && latest.size() > MAX_RESULTS) {
                    throw TooMany.INSTANCE; // every subject seen has a message at or below the ceiling
                }
            }
            from = chunk.get(chunk.size() - 1).seq() + 1;
        }
    }

    /** The last sequence of {@code subject} at or below {@code ceiling}, 0 when none. */
    private static long lastAtOrBelow(StreamStore store, String subject, long ceiling) {
        var ss = store.subjectState(subject);
        if (ss.msgs() == 0 || ss.firstSeq() > ceiling) {
            return 0;
        }
        if (ss.lastSeq() <= ceiling) {
            return ss.lastSeq();
        }
        // a ceiling inside the subject's history: walk its messages up to it
        long found = 0;
        StoredMessage m = store.loadNext(ss.firstSeq(), subject);
        while (m != null && m.seq() <= ceiling) {
            found = m.seq();
            m = store.loadNext(m.seq() + 1, subject);
        }
        return found;
    }

    private void send(Stream.Batch out, String reply, String stream, StoredMessage m, long pending, long last,
            boolean multi) {
        if (noHdr && !multi) {
            out.send(reply, null, m.payload()); // no header block at all
            return;
        }
        byte[] headers = HeaderBlock.append(m.headers(),
                "Nats-Stream", stream,
                "Nats-Subject", m.subject(),
                "Nats-Sequence", Long.toString(m.seq()),
                "Nats-Time-Stamp", JsJson.time(m.timestamp()),
                "Nats-Num-Pending", Long.toString(pending),
                "Nats-Last-Sequence", Long.toString(last));
        out.send(reply, headers, m.payload());
    }

    /** {@code 204 EOB} with what is left and the last sequence sent; multi-last adds its ceiling. */
    private static byte[] eob(long pending, long last, long upTo) {
        byte[] h = HeaderBlock.append(HeaderBlock.status(204, "EOB"),
                "Nats-Num-Pending", Long.toString(pending),
                "Nats-Last-Sequence", Long.toString(last));
        return upTo < 0 ? h : HeaderBlock.append(h, "Nats-UpTo-Sequence", Long.toString(upTo));
    }
}
