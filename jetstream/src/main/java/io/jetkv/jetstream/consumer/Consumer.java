package io.jetkv.jetstream.consumer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jetkv.jetstream.MessageBus;
import io.jetkv.jetstream.api.ApiLevel;
import io.jetkv.jetstream.api.JsJson;
import io.jetkv.jetstream.consumer.ConsumerConfig.AckPolicy;
import io.jetkv.jetstream.consumer.ConsumerConfig.DeliverPolicy;
import io.jetkv.jetstream.store.StoredMessage;
import io.jetkv.jetstream.store.StreamState;
import io.jetkv.jetstream.store.StreamStore;
import io.jetkv.jetstream.stream.HeaderBlock;
import io.jetkv.jetstream.stream.Stream;
import io.jetkv.protocol.Subject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One consumer of a stream (nats-server's {@code consumer.go}): its delivery cursor, pending acks,
 * redeliveries, waiting pull requests, heartbeats and flow control.
 *
 * <p>Threading: confined to its stream's writer thread. Every method except {@link #name()} and
 * {@link #config()} runs there; deliveries go straight to the {@link MessageBus} from that thread, so
 * messages, heartbeats and flow-control requests reach a client in the order they were produced.
 */
final class Consumer {
    /** Flow-control window: a request when half of it was delivered unanswered, a pause when all of it. */
    private static final long FC_INITIAL_WINDOW = 1L << 20;
    private static final long FC_MAX_WINDOW = 32L << 20;
    /** Replay policy original: gaps between stored messages up to this long are not reproduced. */
    private static final long REPLAY_MIN_GAP = 1_000_000L;
    /** Most messages one delivery run sends before other work queued on the writer gets its turn. */
    static final int DELIVERY_SLICE = 512;
    /** Payload and header bytes one read-ahead takes from the store (it stops after the message reaching it). */
    private static final long READ_AHEAD_BYTES = 1L << 20;

    /** A delivered message awaiting its ack. */
    private static final class Pending {
        long cseq;
        int deliveries;
        long deadline;
        // the message's subject and stored size when delivered (null after a restart), so that retiring it from
        // an interest or work-queue stream needs no read
        String subject;
        long size;
    }

    /** A waiting pull request. */
    private static final class PullRequest {
        final String reply;
        int remaining;
        long bytesLeft; // 0: no byte limit
        final boolean maxBytesSet;
        final boolean noWait;
        final long expiresAt; // 0: never
        final long heartbeat;
        long lastSent;
        int delivered;
        // priority groups: the overflow limits, the pin the client holds, and the rank (prioritized; lower first)
        long minPending;
        long minAckPending;
        String pinId;
        int priority = NO_PRIORITY;

        PullRequest(String reply, int batch, long maxBytes, boolean noWait, long expiresAt, long heartbeat, long now) {
            this.reply = reply;
            this.remaining = batch;
            this.bytesLeft = maxBytes;
            this.maxBytesSet = maxBytes > 0;
            this.noWait = noWait;
            this.expiresAt = expiresAt;
            this.heartbeat = heartbeat;
            this.lastSent = now;
        }
    }

    /** The rank of a pull request without a JSON body on a prioritized consumer: after every ranked one. */
    private static final int NO_PRIORITY = 10;

    /** What the delivery loop would send next. */
    private record Candidate(StoredMessage msg, boolean redelivery) {}

    private final ConsumerSet set;
    private final Stream stream;
    private final MessageBus bus;
    private final String name;
    /** {@code $JS.ACK.<stream>.<consumer>.}: the constant start of every ack subject. */
    private final String ackPrefix;
    private final long created;
    private volatile ConsumerConfig config;

    // Delivery cursor.
    private long dseq;
    private long nextSeq;
    private long lastDeliveredSseq;
    private long lastDelivery;
    /** When the last ack arrived (0: none since start): consumer info's {@code ack_floor.last_active}. */
    private long lastAck;
    private long[] initial; // last_per_subject: the initial set still to send
    /** The stream sequence before the deliver policy's start: the floor a reset without a sequence goes back to. */
    private long startFloor;
    private int initialIdx;

    // num_pending, kept incrementally: the initial set left plus the matching messages from nextSeq through
    // countedThrough; appends extend it, a removal at or above the cursor of the last call (or a new store)
    // recounts it. Removals below it (a work queue's acks remove what was delivered) cannot touch it.
    private long pendingCount = -1; // -1: count on next use
    private long countedThrough;
    private long countedRemovals;
    private long countedFrom; // nextSeq at the last call
    private StreamStore countedStore;

    // Read-ahead of one delivery run, one per filter (merged by sequence when there are several): the next
    // matching messages from nextSeq on. Emptied when the run ends, since the store may change before the next one.
    private ReadAhead[] ahead = {};

    /** One filter's read-ahead within a delivery run. */
    private static final class ReadAhead {
        final ArrayDeque<StoredMessage> msgs = new ArrayDeque<>();
        long readThrough; // every match up to this sequence was read (into msgs, or delivered already)

        /** The first message read ahead at or after {@code from}; null when this read-ahead ran out. */
        StoredMessage head(long from) {
            while (!msgs.isEmpty() && msgs.peekFirst().seq() < from) {
                msgs.pollFirst();
            }
            return msgs.peekFirst();
        }

        /** Reads the next batch of matches from {@code from} through {@code to}, unless all were read. */
        void refill(StreamStore store, String filter, long from, long to, int wanted, long maxBytes) {
            if (readThrough >= to) {
                return;
            }
            List<StoredMessage> batch = new ArrayList<>(wanted);
            store.loadNextBatch(Math.max(from, readThrough + 1), to, filter, wanted, maxBytes, batch);
            msgs.addAll(batch);
            long bytes = 0;
            for (StoredMessage m : batch) {
                bytes += StreamStore.sizeOf(m); // the measure loadNextBatch stops at
            }
            // a short batch that stopped neither at the count nor at the bytes found everything up to the end
            boolean complete = batch.size() < wanted && bytes < maxBytes;
            readThrough = complete ? to : batch.get(batch.size() - 1).seq();
        }

        void clear() {
            msgs.clear();
            readThrough = 0;
        }
    }

    // Acks.
    private final TreeMap<Long, Pending> pending = new TreeMap<>();
    private final TreeSet<Long> redeliver = new TreeSet<>();
    private long ackFloorCseq;
    private long ackFloorSseq;

    // Pull. A linked list: priority groups take requests from the middle and re-rank them.
    private final java.util.LinkedList<PullRequest> waiting = new java.util.LinkedList<>();

    // Pause (2.11): whether the last pause advisory said paused, so that reaching the deadline is announced once.
    private boolean pauseAnnounced;

    // Priority policy pinned_client (2.11): the pin of the first group, when it was given, and when it lapses
    // unless its holder pulls again. Not saved: a restart unpins, as a leader change does in the reference.
    private String pinId;
    private long pinnedAt;
    private long pinExpiresAt;

    // Push.
    private boolean interest;
    private long lastHeartbeat;
    private String fcSubject;
    private long fcBytes;
    private long fcBytesAtRequest;
    /** The stream sequence delivered before the outstanding flow-control request: what its answer acks. */
    private long fcAckSseq;
    private long fcWindow = FC_INITIAL_WINDOW;

    // Delivery slices: one run sends at most DELIVERY_SLICE messages, then yields the writer.
    private int sliceLeft;
    private boolean sliceCut;
    private boolean continuationQueued;

    // Replay policy original: paced like the stored timestamps until caught up with replayEnd.
    private boolean replaying;
    private long replayEnd;
    private long replayLastTs;
    private long replayDueAt;

    private long inactiveSince;
    private boolean dirty;
    /** The state changed since the last replicated proposal (replicated streams only). */
    private boolean replicaDirty;
    private boolean deleted;
    /**
     * Resets (replicated streams) whose consumer entry is not committed yet: nothing is delivered meanwhile, so
     * that a leader change cannot bring back the position a reply already moved, and the reply comes before
     * deliveries from the new position. Raised on the writer; lowered by the commit, on whichever thread completes it.
     */
    private final java.util.concurrent.atomic.AtomicInteger uncommittedResets =
            new java.util.concurrent.atomic.AtomicInteger();

    /** Writer thread: a new consumer positioned at its deliver policy's start. */
    Consumer(ConsumerSet set, String name, ConsumerConfig config, long created, long now) {
        this.set = set;
        this.stream = set.stream();
        this.bus = set.bus();
        this.name = name;
        this.ackPrefix = "$JS.ACK." + stream.name() + "." + name + ".";
        this.config = config;
        this.created = created;
        this.inactiveSince = now;
        this.lastHeartbeat = now;
        position();
        // as nats-server: paced up to what the stream holds when the consumer starts (again after a restart)
        this.replaying = config.replayPolicy() == ConsumerConfig.ReplayPolicy.ORIGINAL;
        this.replayEnd = store().state().lastSeq();
        // a consumer created or restored paused resumes (and says so) at its deadline
        this.pauseAnnounced = paused(now);
    }

    String name() {
        return name;
    }

    ConsumerConfig config() {
        return config;
    }

    long created() {
        return created;
    }

    boolean isDeleted() {
        return deleted;
    }

    private StreamStore store() {
        return stream.store();
    }

    /** Sets the cursor from the deliver policy (nats-server's {@code selectStartingSeqNo}). */
    private void position() {
        StreamStore store = store();
        StreamState st = store.state();
        List<String> filters = config.filters();
        long last = st.lastSeq();
        switch (config.deliverPolicy()) {
            case ALL -> nextSeq = st.firstSeq();
            case NEW -> nextSeq = last + 1;
            case LAST -> {
                long max = 0;
                if (filters.isEmpty()) {
                    max = st.msgs() > 0 ? last : 0;
                } else {
                    for (String f : filters) {
                        StoredMessage m = store.loadLast(f);
                        if (m != null) {
                            max = Math.max(max, m.seq());
                        }
                    }
                }
                nextSeq = max > 0 ? max : last + 1;
            }
            // a start beyond the stream is lowered to the next sequence, as nats-server does
            case BY_START_SEQUENCE -> nextSeq = Math.min(config.optStartSeq(), last + 1);
            case BY_START_TIME -> nextSeq = store.firstSeqAtOrAfter(config.optStartTime());
            case LAST_PER_SUBJECT -> {
                // in sequence order, once each (filters may overlap)
                long[] seqs;
                if (filters.size() == 1) {
                    seqs = store.lastSeqsMatching(filters.get(0));
                } else {
                    long[][] parts = new long[filters.size()][];
                    int total = 0;
                    for (int i = 0; i < parts.length; i++) {
                        parts[i] = store.lastSeqsMatching(filters.get(i));
                        total += parts[i].length;
                    }
                    seqs = new long[total];
                    int at = 0;
                    for (long[] part : parts) {
                        System.arraycopy(part, 0, seqs, at, part.length);
                        at += part.length;
                    }
                }
                java.util.Arrays.sort(seqs);
                int n = 0;
                for (int i = 0; i < seqs.length; i++) {
                    if (seqs[i] > 0 && (n == 0 || seqs[n - 1] != seqs[i])) {
                        seqs[n++] = seqs[i];
                    }
                }
                initial = n == seqs.length ? seqs : java.util.Arrays.copyOf(seqs, n);
                initialIdx = 0;
                nextSeq = last + 1;
            }
        }
        // never before the first stored message (a start sequence that was purged or expired)
        nextSeq = Math.max(nextSeq, Math.max(1, st.firstSeq()));
        long first = initial != null && initial.length > 0 ? initial[0] : nextSeq;
        // delivered.stream_seq before anything is sent: the sequence just before the first to deliver
        lastDeliveredSseq = Math.max(0, Math.min(first, last + 1) - 1);
        startFloor = lastDeliveredSseq;
        // the ack floor starts at zero wherever delivery starts: nats-server reads it from the consumer's
        // (empty) stored state, and only acks (or deliveries, with ack none) move it
        ackFloorSseq = 0;
    }

    // ---- retention ----

    /** True when this consumer's filters take {@code subject}. */
    boolean takes(String subject) {
        if (deleted) {
            return false;
        }
        List<String> filters = config.filters();
        if (filters.isEmpty()) {
            return true;
        }
        for (String f : filters) {
            if (Subject.matches(f, subject)) {
                return true;
            }
        }
        return false;
    }

    /** Writer thread: the next stream sequence this consumer looks at for new deliveries. */
    long nextSeq() {
        return nextSeq;
    }

    /**
     * True while this consumer may still deliver {@code seq} or waits for its ack: interest and work-queue
     * retention keep the message until no consumer needs it. Messages before its start are not its business.
     */
    boolean needs(long seq, String subject) {
        if (!takes(subject)) {
            return false;
        }
        if (pending.containsKey(seq) || seq >= nextSeq) {
            return true;
        }
        if (initial != null) {
            for (int k = initialIdx; k < initial.length; k++) {
                if (initial[k] == seq) {
                    return true;
                }
            }
        }
        return false;
    }

    // ---- pending count ----

    /**
     * Messages matching the filters not yet delivered (the ack subject's last token, info's num_pending). Counts
     * only what was appended since the last call, unless something was removed from the store meanwhile.
     */
    long numPending() {
        StreamStore store = store();
        long last = store.lastSeq();
        long removals = store.removals();
        // a message removed at or above the last call's cursor may have been counted and then skipped, never
        // delivered; everything the store ever removed lies below that cursor otherwise
        boolean removedCounted = removals != countedRemovals && store.maxRemovedSeq() >= countedFrom;
        if (pendingCount < 0 || store != countedStore || removedCounted) {
            pendingCount = (initial == null ? 0 : initial.length - initialIdx) + countFrom(nextSeq);
        } else if (last > countedThrough) {
            pendingCount += countFrom(Math.max(nextSeq, countedThrough + 1));
        }
        countedStore = store;
        countedRemovals = removals;
        countedThrough = last;
        countedFrom = nextSeq;
        return pendingCount;
    }

    /** Matching messages stored at or after {@code seq}. */
    private long countFrom(long seq) {
        List<String> filters = config.filters();
        if (filters.isEmpty()) {
            return store().countMatching(seq, null);
        }
        long n = 0;
        for (String f : filters) {
            n += store().countMatching(seq, f);
        }
        return n;
    }

    /** Recount pending on next use (the filters changed). */
    private void invalidatePending() {
        pendingCount = -1;
    }

    // ---- delivery ----

    // ---- pause ----

    /** True while {@code pause_until} lies ahead: nothing is delivered, push or pull. */
    boolean paused(long now) {
        Long until = config.pauseUntil();
        return until != null && until > now;
    }

    /**
     * Writer thread: sets {@code pause_until} (null resumes), sends the advisory and, when delivery may go on,
     * delivers. Callers save the configuration.
     */
    void pause(Long until, long now) {
        // a pause (even one in the past, or nats.js' resume to the epoch) makes the consumer need level 1
        config = config.withPauseUntil(until).withApiMetadata(ApiLevel.SERVER);
        markDirty();
        announcePause(now);
        deliverMore(now);
    }

    /** Sends the pause advisory for the current state (creation with a future deadline, changes, the deadline). */
    void announcePause(long now) {
        pauseAnnounced = paused(now);
        ObjectNode o = advisory("io.nats.jetstream.advisory.v1.consumer_pause", now);
        o.put("paused", pauseAnnounced);
        o.put("pause_until", ConsumerConfig.pauseTime(config.pauseUntil()));
        bus.publish("$JS.EVENT.ADVISORY.CONSUMER.PAUSE." + stream.name() + "." + name, null, null, JsJson.bytes(o));
    }

    private ObjectNode advisory(String type, long now) {
        ObjectNode o = JsJson.object();
        o.put("type", type);
        o.put("id", randomToken(22));
        o.put("timestamp", JsJson.time(now));
        o.put("stream", stream.name());
        o.put("consumer", name);
        return o;
    }

    // ---- priority groups ----

    /**
     * The waiting request the next message goes to under the priority policy, or null when none may take it
     * now (nats-server's {@code nextWaiting}). Pinned: may choose a new pin, and drops requests holding a
     * stale one with {@code 423}.
     */
    private PullRequest nextWaiting(Candidate cand, long now) {
        ConsumerConfig c = config;
        switch (c.priorityPolicy()) {
            case OVERFLOW -> {
                long pendingNow = -1;
                for (PullRequest r : waiting) {
                    if (r.minPending <= 0 && r.minAckPending <= 0) {
                        return r;
                    }
                    if (r.minPending > 0) {
                        if (pendingNow < 0) {
                            // counting the message about to go: a redelivery is no longer in num_pending
                            pendingNow = numPending() + (cand.redelivery ? 1 : 0);
                        }
                        if (pendingNow >= r.minPending) {
                            return r;
                        }
                    }
                    if (r.minAckPending > 0 && pending.size() >= r.minAckPending) {
                        return r;
                    }
                }
                return null;
            }
            case PINNED_CLIENT -> {
                Iterator<PullRequest> it = waiting.iterator();
                while (it.hasNext()) {
                    PullRequest r = it.next();
                    if (pinId == null && r.pinId == null) {
                        pin(now);
                        r.pinId = pinId; // the rest of its batch goes to it too
                        return r;
                    }
                    if (pinId != null && pinId.equals(r.pinId)) {
                        return r;
                    }
                    if (r.pinId != null) {
                        // holds a pin that is no longer (or never was) the consumer's
                        it.remove();
                        sendStatus(r.reply, HeaderBlock.append(HeaderBlock.status(423, "Nats-Wrong-Pin-Id"),
                                "Nats-Pending-Messages", Integer.toString(r.remaining),
                                "Nats-Pending-Bytes", Long.toString(r.maxBytesSet ? r.bytesLeft : 0)));
                    }
                    // a request without an id waits as a standby while another client holds the pin
                }
                return null;
            }
            default -> {
                return waiting.peekFirst();
            }
        }
    }

    /** Prioritized: puts {@code r} behind every waiting request of its rank or a lower one. */
    private void rank(PullRequest r) {
        waiting.remove(r);
        int i = 0;
        for (PullRequest w : waiting) {
            if (w.priority > r.priority) {
                break;
            }
            i++;
        }
        waiting.add(i, r);
    }

    private void pin(long now) {
        pinId = randomToken(22);
        pinnedAt = now;
        pinExpiresAt = now + config.priorityTimeout();
        ObjectNode o = advisory("io.nats.jetstream.advisory.v1.consumer_group_pinned", now);
        o.put("group", config.firstGroup());
        o.put("pinned_id", pinId);
        bus.publish("$JS.EVENT.ADVISORY.CONSUMER.PINNED." + stream.name() + "." + name, null, null, JsJson.bytes(o));
    }

    /**
     * Writer thread: clears the pin ({@code reason} {@code admin} for the unpin API, {@code timeout}), announces
     * it and delivers: the next message pins a standby request.
     */
    void unpin(String reason, long now) {
        if (pinId == null) {
            return;
        }
        clearPin();
        ObjectNode o = advisory("io.nats.jetstream.advisory.v1.consumer_group_unpinned", now);
        o.put("group", config.firstGroup());
        o.put("reason", reason);
        bus.publish("$JS.EVENT.ADVISORY.CONSUMER.UNPINNED." + stream.name() + "." + name, null, null, JsJson.bytes(o));
        deliverMore(now);
    }

    private void clearPin() {
        pinId = null;
        pinnedAt = 0;
        pinExpiresAt = 0;
    }

    /**
     * The status a pull request's priority fields earn before it is queued (the reference's order), or null when
     * it may wait. A pinned request that holds the current pin renews the pin's lease.
     */
    private byte[] checkPriority(PullRequestBody body, long now) {
        ConsumerConfig c = config;
        if (!body.object()) {
            return null;
        }
        if ((body.minPending() > 0 || body.minAckPending() > 0) && c.priorityPolicy() != ConsumerConfig.PriorityPolicy.OVERFLOW) {
            return HeaderBlock.status(400, "Bad Request - Not a Overflow Priority consumer");
        }
        if (body.id() != null && c.priorityPolicy() != ConsumerConfig.PriorityPolicy.PINNED_CLIENT) {
            return HeaderBlock.status(400, "Bad Request - Not a Pinned Client Priority consumer");
        }
        if (body.priority() < 0 || body.priority() > 9) {
            return HeaderBlock.status(400, "Bad Request - Priority must be between 0 and 9");
        }
        if (c.priorityPolicy() == ConsumerConfig.PriorityPolicy.NONE) {
            return null;
        }
        if (body.group() == null) {
            return HeaderBlock.status(400, "Bad Request - Priority Group missing");
        }
        if (!c.priorityGroups().contains(body.group())) {
            return HeaderBlock.status(400, "Bad Request - Invalid Priority Group");
        }
        if (c.priorityPolicy() == ConsumerConfig.PriorityPolicy.PINNED_CLIENT && pinId != null && body.id() != null) {
            if (!pinId.equals(body.id())) {
                return HeaderBlock.status(423, "Nats-Pin-Id mismatch");
            }
            pinExpiresAt = now + c.priorityTimeout();
        }
        return null;
    }

    private Candidate peek() {
        while (!redeliver.isEmpty()) {
            long s = redeliver.first();
            if (!pending.containsKey(s)) {
                redeliver.pollFirst();
                continue;
            }
            StoredMessage m = store().load(s);
            if (m == null) {
                redeliver.pollFirst();
                pending.remove(s);
                updateAckFloor();
                continue;
            }
            return new Candidate(m, true);
        }
        if (initial != null) {
            while (initialIdx < initial.length) {
                if (initial[initialIdx] > stream.durableLastSeq()) {
                    return null; // not flushed yet: after the flush
                }
                StoredMessage m = store().load(initial[initialIdx]);
                if (m != null) {
                    return new Candidate(m, false);
                }
                initialIdx++; // replaced or removed since creation; its successor comes later
                invalidatePending();
            }
            initial = null;
        }
        // only flushed messages: a batch whose flush fails takes its sequences back (see Stream#durableLastSeq)
        long durable = stream.durableLastSeq();
        StoredMessage m = nextSeq <= durable ? nextMatching(durable) : null;
        if (m == null || m.seq() > durable) {
            // nothing matches up to the end: skip the scan next time (wildcard filters walk sequences); the
            // messages passed over count as delivered past, so info's delivered stream sequence is the stream's
            // end, as the reference's cursor shows it
            nextSeq = Math.max(nextSeq, Math.min(store().state().lastSeq(), durable) + 1);
            lastDeliveredSseq = Math.max(lastDeliveredSseq, nextSeq - 1);
            return null;
        }
        return new Candidate(m, false);
    }

    /**
     * The first message matching the filters from {@code nextSeq} through {@code durable}, from the run's
     * read-ahead, which is refilled in one store pass per filter when it runs dry.
     */
    private StoredMessage nextMatching(long durable) {
        List<String> filters = config.filters();
        int n = Math.max(1, filters.size());
        if (ahead.length != n) {
            ahead = new ReadAhead[n];
            for (int i = 0; i < n; i++) {
                ahead[i] = new ReadAhead();
            }
        }
        // several filters share the byte budget; each may still supply the whole run
        long maxBytes = Math.max(READ_AHEAD_BYTES / n, 64 * 1024);
        StoredMessage best = null;
        int wanted = -1; // worked out on the first refill only: most calls take what was read ahead
        for (int i = 0; i < n; i++) {
            ReadAhead a = ahead[i];
            StoredMessage m = a.head(nextSeq);
            if (m == null) {
                wanted = wanted < 0 ? readAheadWanted() : wanted;
                a.refill(store(), filters.isEmpty() ? null : filters.get(i), nextSeq, durable, wanted, maxBytes);
                m = a.head(nextSeq);
            }
            if (m != null && (best == null || m.seq() < best.seq())) {
                best = m; // overlapping filters offer the same message twice: the next call drops the other
            }
        }
        return best;
    }

    /** How many messages this run may still send: its slice, the ack-pending room, pull requests' batches. */
    private int readAheadWanted() {
        long n = sliceLeft + 1L; // the message being picked took its slice token already
        ConsumerConfig c = config;
        if (c.ackPolicy() != AckPolicy.NONE && c.maxAckPending() > 0) {
            n = Math.min(n, Math.max(1, c.maxAckPending() - pending.size()));
        }
        if (!c.isPush()) {
            long asked = 0;
            for (PullRequest r : waiting) {
                asked += r.remaining;
                if (asked >= n) {
                    break;
                }
            }
            n = Math.min(n, Math.max(1, asked));
        }
        return (int) n;
    }

    private void consume(Candidate c) {
        if (c.redelivery) {
            redeliver.pollFirst();
            return;
        }
        if (initial != null) {
            initialIdx++;
        } else {
            nextSeq = c.msg.seq() + 1;
        }
        // what was counted went down by one; a message appended after the count was never in it
        if (pendingCount > 0 && (initial != null || c.msg.seq() <= countedThrough)) {
            pendingCount--;
        }
    }

    private boolean ackPendingFull() {
        ConsumerConfig c = config;
        return c.ackPolicy() != AckPolicy.NONE && c.maxAckPending() > 0 && pending.size() >= c.maxAckPending()
                && redeliver.isEmpty();
    }

    /**
     * Writer thread: sends whatever can be sent now, up to {@link #DELIVERY_SLICE} messages; the rest follows
     * in a task queued behind the work already waiting, so that a large backlog (a KV {@code keys()} over a
     * million keys) does not hold up the stream's publishes and API requests, such as the consumer info a
     * client asks for right after creating the consumer.
     */
    void deliverMore(long now) {
        if (deleted || uncommittedResets.get() > 0) {
            return; // after a commit that lowers the count, its task (or the timer's tick) delivers
        }
        sliceLeft = DELIVERY_SLICE;
        sliceCut = false;
        try {
            if (config.isPush()) {
                deliverPush(now);
            } else {
                deliverPull(now);
            }
        } finally {
            for (ReadAhead a : ahead) {
                a.clear();
            }
        }
    }

    /**
     * Replay policy original: true when {@code m} may go now, which is as long after the previous delivery as
     * it was stored after the previous message (nats-server waits the same gap, from the moment it is due).
     * Otherwise a timer continues delivery when it is time.
     */
    private boolean replayAllows(StoredMessage m, long now) {
        if (!replaying) {
            return true;
        }
        if (replayLastTs != 0) {
            long gap = m.timestamp() - replayLastTs;
            if (gap > REPLAY_MIN_GAP) {
                if (replayDueAt == 0) {
                    replayDueAt = now + gap;
                    scheduleReplay(gap);
                }
                if (now < replayDueAt) {
                    return false;
                }
            }
        }
        replayDueAt = 0;
        replayLastTs = m.timestamp();
        return true;
    }

    /** Nothing left to deliver: once past what the stream held at the start, delivery is instant. */
    private void replayCaughtUp() {
        if (replaying && initial == null && nextSeq > replayEnd) {
            replaying = false;
            replayDueAt = 0;
        }
    }

    /** Continues delivery on the writer after {@code delayNanos}; the timer's tick does it if this is lost. */
    private void scheduleReplay(long delayNanos) {
        set.later(delayNanos, () -> stream.execute(b -> {
            deliverMore(ConsumerManager.nowNanos());
            set.persistIfDirty(this);
        }));
    }

    /** Delivery loop: true when this run may send one more message; otherwise the rest is queued for later. */
    private boolean takeFromSlice() {
        if (sliceLeft > 0) {
            sliceLeft--;
            return true;
        }
        sliceCut = true;
        if (!continuationQueued) {
            // when the queue is full the timer's tick continues instead
            continuationQueued = stream.execute(b -> {
                continuationQueued = false;
                deliverMore(ConsumerManager.nowNanos());
            });
        }
        return false;
    }

    private void deliverPush(long now) {
        ConsumerConfig c = config;
        interest = bus.hasInterest(c.deliverSubject());
        if (!interest) {
            return;
        }
        inactiveSince = 0;
        if (paused(now)) {
            return;
        }
        while (!ackPendingFull()) {
            if (c.flowControl() && fcSubject != null && fcBytes >= fcWindow) {
                return; // stalled until the client answers the flow-control request
            }
            if (!takeFromSlice()) {
                return;
            }
            Candidate cand = peek();
            if (cand == null) {
                replayCaughtUp();
                return;
            }
            if (!replayAllows(cand.msg, now)) {
                return;
            }
            int size = send(c.deliverSubject(), cand, now);
            if (c.flowControl()) {
                fcBytes += size;
                if (fcSubject == null && fcBytes >= fcWindow / 2) {
                    requestFlowControl();
                }
            }
        }
        // acks by flow control: with max_ack_pending reached, ask at once rather than wait for the heartbeat
        if (c.ackPolicy() == AckPolicy.FLOW_CONTROL && fcSubject == null && ackPendingFull()) {
            requestFlowControl();
        }
    }

    private void requestFlowControl() {
        fcSubject = "$JS.FC." + stream.name() + "." + name + "." + randomToken(4);
        fcBytesAtRequest = fcBytes;
        fcAckSseq = lastDeliveredSseq;
        bus.deliver(config.deliverSubject(), config.deliverSubject(), fcSubject,
                HeaderBlock.status(100, "FlowControl Request"), new byte[0]);
    }

    /**
     * Writer thread: the client answered a flow-control request. With {@code ack_policy: "flow_control"} the answer
     * is the ack of everything delivered before the request (a sourcing server says how far it stored with
     * {@code Nats-Last-Stream}, never beyond that).
     */
    void flowControlReply(String subject, byte[] headers, long now) {
        if (!subject.equals(fcSubject)) {
            return; // only the latest request counts
        }
        fcSubject = null;
        if (config.ackPolicy() == AckPolicy.FLOW_CONTROL) {
            long upTo = fcAckSseq;
            String stored = headers == null ? null : HeaderBlock.parse(headers).get("Nats-Last-Stream");
            if (stored != null) {
                try {
                    upTo = Math.min(upTo, Long.parseLong(stored.trim()));
                } catch (NumberFormatException e) {
                    upTo = 0; // an answer that cannot be read acks nothing
                }
            }
            if (upTo > 0) {
                acked(upTo, 0);
            }
        }
        fcBytes = Math.max(0, fcBytes - fcBytesAtRequest);
        fcWindow = Math.min(fcWindow * 2, FC_MAX_WINDOW);
        deliverMore(now);
    }

    private void deliverPull(long now) {
        expireRequests(now);
        // paused: requests wait (and expire, and get their heartbeats); no_wait ones end below
        while (!waiting.isEmpty() && !ackPendingFull() && !paused(now)) {
            if (!takeFromSlice()) {
                return; // no_wait requests are not over yet: the continuation may still fill them
            }
            Candidate cand = peek();
            if (cand == null) {
                replayCaughtUp();
                break;
            }
            if (!replayAllows(cand.msg, now)) {
                return; // the requests wait for the replay timer
            }
            String pinBefore = pinId;
            PullRequest r = nextWaiting(cand, now);
            if (r == null) {
                sliceLeft++; // nothing went out
                break;
            }
            int size = deliveredSize(cand.msg) + (pinId == null ? 0 : PIN_HEADER_SIZE);
            if (r.maxBytesSet && size > r.bytesLeft) {
                waiting.remove(r);
                sendStatus(r.reply, HeaderBlock.append(HeaderBlock.status(409, "Message Size Exceeds MaxBytes"),
                        "Nats-Pending-Messages", Integer.toString(r.remaining),
                        "Nats-Pending-Bytes", Long.toString(r.bytesLeft)));
                if (pinBefore == null && pinId != null) {
                    clearPin(); // the request just pinned cannot take the message: pin someone else
                }
                continue;
            }
            send(r.reply, cand, now);
            r.lastSent = now;
            r.delivered++;
            r.remaining--;
            if (r.maxBytesSet) {
                r.bytesLeft -= size;
            }
            if (r.remaining <= 0 || (r.maxBytesSet && r.bytesLeft <= 0)) {
                waiting.remove(r);
            } else if (config.priorityPolicy() == ConsumerConfig.PriorityPolicy.PRIORITIZED) {
                rank(r); // equal ranks take turns
            }
        }
        // no_wait requests that could not be filled end now
        Iterator<PullRequest> it = waiting.iterator();
        while (it.hasNext()) {
            PullRequest r = it.next();
            if (r.noWait) {
                it.remove();
                if (r.delivered == 0) {
                    sendStatus(r.reply, HeaderBlock.status(404, "No Messages"));
                } else {
                    sendStatus(r.reply, timeoutStatus(r));
                }
            }
        }
        if (waiting.isEmpty() && inactiveSince == 0) {
            inactiveSince = now;
        }
    }

    private static byte[] timeoutStatus(PullRequest r) {
        return HeaderBlock.append(HeaderBlock.status(408, "Request Timeout"),
                "Nats-Pending-Messages", Integer.toString(r.remaining),
                "Nats-Pending-Bytes", Long.toString(r.maxBytesSet ? r.bytesLeft : 0));
    }

    private void expireRequests(long now) {
        Iterator<PullRequest> it = waiting.iterator();
        while (it.hasNext()) {
            PullRequest r = it.next();
            if (r.expiresAt > 0 && now >= r.expiresAt) {
                it.remove();
                sendStatus(r.reply, timeoutStatus(r));
            }
        }
    }

    private void sendStatus(String to, byte[] headers) {
        bus.deliver(to, to, null, headers, new byte[0]);
    }

    private int deliveredSize(StoredMessage m) {
        int h = m.headers() == null ? 0 : m.headers().length;
        return config.headersOnly() ? h + 24 : h + m.payload().length;
    }

    /** {@code Nats-Pin-Id: <22 chars>\r\n}. */
    private static final int PIN_HEADER_SIZE = 13 + 22 + 2;

    /** Sends one message to {@code to} with its ack subject; returns the bytes sent. */
    private int send(String to, Candidate cand, long now) {
        StoredMessage m = cand.msg;
        ConsumerConfig c = config;
        consume(cand);
        dseq++;
        int deliveries = 1;
        if (c.ackPolicy() != AckPolicy.NONE) {
            Pending p = pending.get(m.seq());
            if (p == null) {
                p = new Pending();
                pending.put(m.seq(), p);
            }
            if (p.subject == null && set.retiresMessages()) {
                p.subject = m.subject();
                p.size = store().storedSize(m);
            }
            p.deliveries++;
            p.cseq = dseq;
            // acks by flow control never time out: the next flow-control answer acks or the consumer is reset
            p.deadline = c.ackPolicy() == AckPolicy.FLOW_CONTROL ? Long.MAX_VALUE : now + ackWait(p.deliveries);
            deliveries = p.deliveries;
        } else {
            ackFloorCseq = dseq;
            ackFloorSseq = Math.max(ackFloorSseq, m.seq());
        }
        if (!cand.redelivery) {
            lastDeliveredSseq = Math.max(lastDeliveredSseq, m.seq());
        }
        if (c.ackPolicy() == AckPolicy.NONE) {
            // delivered is done, without acks (it may leave the store, m stays valid)
            set.doneWith(m.seq(), m.subject(), store().storedSize(m));
        }
        lastDelivery = now;
        lastHeartbeat = now;
        markDirty();
        String ack = ackPrefix + deliveries + "." + m.seq() + "." + dseq + "." + m.timestamp() + "." + numPending();
        byte[] headers;
        byte[] payload;
        if (c.headersOnly()) {
            headers = HeaderBlock.append(m.headers(), "Nats-Msg-Size", Integer.toString(m.payload().length));
            payload = new byte[0];
        } else {
            headers = m.headers();
            payload = m.payload();
        }
        if (pinId != null) {
            headers = HeaderBlock.append(headers, "Nats-Pin-Id", pinId); // after the stored headers
        }
        bus.deliver(to, m.subject(), ack, headers, payload);
        return m.subject().length() + ack.length() + (headers == null ? 0 : headers.length) + payload.length;
    }

    private long ackWait(int deliveries) {
        ConsumerConfig c = config;
        List<Long> backoff = c.backoff();
        if (backoff != null && !backoff.isEmpty()) {
            return backoff.get(Math.min(deliveries - 1, backoff.size() - 1));
        }
        return c.ackWait() > 0 ? c.ackWait() : ConsumerConfig.DEFAULT_ACK_WAIT;
    }

    // ---- acks ----

    /**
     * Writer thread: an ack for the delivery of stream sequence {@code sseq}.
     *
     * @return true when the ack's reply (if any) should get the empty confirmation
     */
    boolean ack(long sseq, long cseq, byte[] body, String reply, long now) {
        String text = new String(body, StandardCharsets.UTF_8).trim();
        String verb = text.length() >= 4 ? text.substring(0, 4) : text;
        switch (verb) {
            case "", "+ACK", "+OK" -> {
                acked(sseq, cseq);
                lastAck = now;
                deliverMore(now);
                return true;
            }
            case "-NAK" -> {
                nak(sseq, text.substring(4).trim(), now);
                return true;
            }
            case "+WPI" -> {
                Pending p = pending.get(sseq);
                if (p != null) {
                    p.deadline = now + ackWait(p.deliveries);
                }
                return true;
            }
            case "+NXT" -> {
                acked(sseq, cseq);
                lastAck = now;
                if (reply != null && !config.isPush()) {
                    pullRequest(reply, text.substring(4).trim().getBytes(StandardCharsets.UTF_8), now);
                } else {
                    deliverMore(now);
                }
                return false;
            }
            default -> {
                if (text.startsWith("+TERM")) { // optionally followed by a reason
                    terminated(sseq);
                    deliverMore(now);
                    return true;
                }
                return false;
            }
        }
    }

    private void acked(long sseq, long cseq) {
        switch (config.ackPolicy()) {
            case NONE -> { }
            case EXPLICIT -> {
                Pending p = pending.remove(sseq);
                if (p != null) {
                    redeliver.remove(sseq);
                    updateAckFloor();
                    markDirty();
                    set.doneWith(sseq, p.subject, p.size);
                }
            }
            case ALL, FLOW_CONTROL -> {
                var head = pending.headMap(sseq, true);
                if (!head.isEmpty()) {
                    List<Map.Entry<Long, Pending>> done = new ArrayList<>(head.entrySet());
                    redeliver.removeAll(head.keySet());
                    head.clear();
                    updateAckFloor();
                    markDirty();
                    for (Map.Entry<Long, Pending> e : done) {
                        set.doneWith(e.getKey(), e.getValue().subject, e.getValue().size);
                    }
                }
            }
        }
    }

    private void terminated(long sseq) {
        Pending p = pending.remove(sseq);
        if (p != null) {
            redeliver.remove(sseq);
            updateAckFloor();
            markDirty();
            set.doneWith(sseq, p.subject, p.size);
        }
    }

    private void nak(long sseq, String arg, long now) {
        Pending p = pending.get(sseq);
        if (p == null) {
            return;
        }
        long delay = parseDelay(arg);
        if (maxDeliveredOut(sseq, p)) {
            return;
        }
        if (delay > 0) {
            p.deadline = now + delay;
        } else {
            redeliver.add(sseq);
            deliverMore(now);
        }
    }

    /** {@code {"delay":<ns>}} or a Go duration ({@code 5s}, {@code 100ms}, {@code 1m30s}); 0 when absent. */
    static long parseDelay(String arg) {
        if (arg.isEmpty()) {
            return 0;
        }
        if (arg.startsWith("{")) {
            try {
                JsonNode n = JsJson.MAPPER.readTree(arg);
                return n.path("delay").asLong(0);
            } catch (java.io.IOException e) {
                return 0;
            }
        }
        return GoDuration.parse(arg);
    }

    /** True (and the message dropped) when it was delivered {@code max_deliver} times already. */
    private boolean maxDeliveredOut(long sseq, Pending p) {
        long max = config.maxDeliver();
        if (max > 0 && p.deliveries >= max) {
            pending.remove(sseq);
            redeliver.remove(sseq);
            updateAckFloor();
            markDirty();
            return true;
        }
        return false;
    }

    private void updateAckFloor() {
        if (pending.isEmpty()) {
            ackFloorCseq = dseq;
            ackFloorSseq = Math.max(ackFloorSseq, lastDeliveredSseq);
        } else {
            Map.Entry<Long, Pending> first = pending.firstEntry();
            if (first.getValue().cseq > 1) {
                // nothing acked yet while the first delivery is still pending: the floor stays where it is
                ackFloorSseq = Math.max(ackFloorSseq, first.getKey() - 1);
            }
            ackFloorCseq = Math.max(ackFloorCseq, first.getValue().cseq - 1);
        }
    }

    // ---- pull requests ----

    /** Writer thread: a {@code CONSUMER.MSG.NEXT} request (or the rest of a {@code +NXT} ack). */
    void pullRequest(String reply, byte[] bodyBytes, long now) {
        if (reply == null) {
            return;
        }
        ConsumerConfig c = config;
        if (c.isPush()) {
            sendStatus(reply, HeaderBlock.status(409, "Consumer is push based"));
            return;
        }
        PullRequestBody body = PullRequestBody.parse(bodyBytes);
        if (body.error() != null) {
            sendStatus(reply, HeaderBlock.status(400, "Bad Request - " + body.error()));
            return;
        }
        byte[] refused = checkPriority(body, now);
        if (refused != null) {
            sendStatus(reply, refused);
            return;
        }
        int batch = body.batch();
        long maxBytes = body.maxBytes();
        long expires = body.expires();
        long heartbeat = body.heartbeat();
        boolean noWait = body.noWait();
        if (batch <= 0) {
            batch = 1;
        }
        if (heartbeat > 0 && expires > 0 && heartbeat > expires / 2) {
            sendStatus(reply, HeaderBlock.status(400, "Bad Request - heartbeat value too large"));
            return;
        }
        if (c.maxBatch() > 0 && batch > c.maxBatch()) {
            sendStatus(reply, HeaderBlock.status(409, "Exceeded MaxRequestBatch of " + c.maxBatch()));
            return;
        }
        if (c.maxExpires() > 0 && expires > c.maxExpires()) {
            sendStatus(reply, HeaderBlock.status(409, "Exceeded MaxRequestExpires of " + GoDuration.format(c.maxExpires())));
            return;
        }
        if (c.maxBytes() > 0 && maxBytes > c.maxBytes()) {
            sendStatus(reply, HeaderBlock.status(409, "Exceeded MaxRequestMaxBytes of " + c.maxBytes()));
            return;
        }
        expireRequests(now);
        if (c.maxWaiting() > 0 && waiting.size() >= c.maxWaiting()) {
            sendStatus(reply, HeaderBlock.status(409, "Exceeded MaxWaiting"));
            return;
        }
        inactiveSince = 0;
        if (noWait && expires <= 0 && numPending() == 0 && redeliver.isEmpty()) {
            // nothing to give: answered without looking at the stream, as the reference does (its cursor stays put)
            sendStatus(reply, HeaderBlock.status(404, "No Messages"));
            return;
        }
        PullRequest r = new PullRequest(reply, batch, maxBytes, noWait, expires > 0 ? now + expires : 0, heartbeat, now);
        switch (c.priorityPolicy()) {
            case OVERFLOW -> {
                r.minPending = body.minPending();
                r.minAckPending = body.minAckPending();
            }
            case PINNED_CLIENT -> r.pinId = body.id();
            case PRIORITIZED -> r.priority = body.object() ? body.priority() : NO_PRIORITY;
            default -> { }
        }
        waiting.addLast(r);
        if (c.priorityPolicy() == ConsumerConfig.PriorityPolicy.PRIORITIZED) {
            rank(r);
        }
        deliverMore(now);
    }

    // ---- timers ----

    /** Writer thread: ack deadlines, heartbeats, pull request expiry, interest changes. */
    void tick(long now) {
        if (deleted) {
            return;
        }
        ConsumerConfig c = config;
        if (pauseAnnounced && !paused(now)) {
            announcePause(now); // the deadline passed: resumed (delivery follows below)
            deliverMore(now);
        }
        if (pinId != null && now >= pinExpiresAt) {
            unpin("timeout", now);
        }
        boolean redeliverDue = false;
        if (!pending.isEmpty()) {
            List<Long> expired = null;
            for (Map.Entry<Long, Pending> e : pending.entrySet()) {
                if (e.getValue().deadline <= now) {
                    if (expired == null) {
                        expired = new ArrayList<>();
                    }
                    expired.add(e.getKey());
                }
            }
            if (expired != null) {
                for (Long sseq : expired) {
                    Pending p = pending.get(sseq);
                    p.deadline = Long.MAX_VALUE;
                    if (!maxDeliveredOut(sseq, p)) {
                        redeliver.add(sseq);
                    }
                }
                redeliverDue = true;
            }
        }
        if (c.isPush()) {
            boolean had = interest;
            deliverMore(now); // also refreshes interest
            if (interest) {
                inactiveSince = 0;
                if (c.idleHeartbeat() > 0 && now - lastHeartbeat >= c.idleHeartbeat()) {
                    heartbeat(c.deliverSubject(), fcSubject);
                    lastHeartbeat = now;
                    // acks by flow control: an idle consumer still moves its ack floor up
                    if (c.ackPolicy() == AckPolicy.FLOW_CONTROL && fcSubject == null && !pending.isEmpty()) {
                        requestFlowControl();
                    }
                }
            } else if (had || inactiveSince == 0) {
                inactiveSince = now;
            }
        } else {
            if (redeliverDue || sliceCut || replayDueAt != 0) {
                deliverMore(now);
            } else {
                expireRequests(now);
            }
            for (PullRequest r : waiting) {
                if (r.heartbeat > 0 && now - r.lastSent >= r.heartbeat) {
                    heartbeat(r.reply, null);
                    r.lastSent = now;
                }
            }
            if (waiting.isEmpty() && inactiveSince == 0) {
                inactiveSince = now;
            } else if (!waiting.isEmpty()) {
                inactiveSince = 0;
            }
        }
    }

    private void heartbeat(String to, String stalled) {
        byte[] h = stalled == null
                ? HeaderBlock.append(HeaderBlock.status(100, "Idle Heartbeat"),
                        "Nats-Last-Consumer", Long.toString(dseq), "Nats-Last-Stream", Long.toString(lastDeliveredSseq))
                : HeaderBlock.append(HeaderBlock.status(100, "Idle Heartbeat"),
                        "Nats-Last-Consumer", Long.toString(dseq), "Nats-Last-Stream", Long.toString(lastDeliveredSseq),
                        "Nats-Consumer-Stalled", stalled);
        bus.deliver(to, to, null, h, new byte[0]);
    }

    /** True when the consumer has been without interest (or pull requests) past its inactive threshold. */
    boolean inactiveExpired(long now) {
        long t = config.inactiveThreshold();
        return t > 0 && inactiveSince > 0 && now - inactiveSince >= t;
    }

    // ---- lifecycle ----

    /** Writer thread: applies an allowed configuration update. */
    void update(ConsumerConfig next) {
        if (next.priorityPolicy() != ConsumerConfig.PriorityPolicy.PINNED_CLIENT
                || !java.util.Objects.equals(next.firstGroup(), config.firstGroup())) {
            clearPin(); // the pin belonged to the old policy or group
        }
        config = next;
        invalidatePending();
        markDirty();
    }

    /**
     * Writer thread: 2.14's consumer reset ({@code $JS.API.CONSUMER.RESET}): delivery starts over at stream
     * sequence {@code seq} (0: the ack floor's next) with consumer sequence 1; pending acks and redeliveries are
     * dropped. The caller replies and then delivers.
     *
     * @return the stream sequence delivery restarts at
     * @throws io.jetkv.jetstream.api.JsApiException 10204 when the deliver policy does not allow {@code seq}
     */
    long reset(long seq, long now) {
        ConsumerConfig c = config;
        long target = seq;
        if (seq <= 0) {
            // the reference's in-memory ack floor starts just before the policy's start, not at zero
            target = Math.max(ackFloorSseq, startFloor) + 1;
        } else {
            switch (c.deliverPolicy()) {
                case ALL -> { }
                case BY_START_SEQUENCE -> {
                    if (seq < c.optStartSeq()) {
                        throw invalidReset("below start seq");
                    }
                }
                case BY_START_TIME -> {
                    if (seq < store().firstSeqAtOrAfter(c.optStartTime())) {
                        throw invalidReset("below start time");
                    }
                }
                default -> throw invalidReset("not allowed");
            }
        }
        for (Map.Entry<Long, Pending> e : pending.entrySet()) {
            if (e.getKey() < target) {
                // behind the new start: this consumer will not deliver it again (interest, work queue retention)
                set.doneWith(e.getKey(), e.getValue().subject, e.getValue().size);
            }
        }
        pending.clear();
        redeliver.clear();
        initial = null;
        initialIdx = 0;
        dseq = 0;
        nextSeq = target;
        lastDeliveredSseq = target - 1;
        ackFloorCseq = 0;
        ackFloorSseq = target - 1;
        invalidatePending();
        markDirty();
        return target;
    }

    /** Writer thread: holds delivery until {@link #resetCommitted} (a reset on a replicated stream). */
    void holdUntilResetCommits() {
        uncommittedResets.incrementAndGet();
    }

    /**
     * Any thread: a held reset's entry committed (or could not be); delivery may go on once every held reset did.
     * The caller then has the writer deliver.
     */
    void resetCommitted() {
        uncommittedResets.decrementAndGet();
    }

    private static io.jetkv.jetstream.api.JsApiException invalidReset(String reason) {
        return new io.jetkv.jetstream.api.JsApiException(io.jetkv.jetstream.api.JsError.CONSUMER_INVALID_RESET, reason);
    }

    /** Writer thread: the consumer goes away; waiting pull requests hear about it. */
    void delete() {
        deleted = true;
        for (PullRequest r : waiting) {
            sendStatus(r.reply, HeaderBlock.status(409, "Consumer Deleted"));
        }
        waiting.clear();
    }

    private void markDirty() {
        dirty = true;
        replicaDirty = true;
    }

    /** Writer thread, replicated stream: whether the state changed since the last proposal, clearing it. */
    boolean takeReplicaDirty() {
        boolean d = replicaDirty;
        replicaDirty = false;
        return d;
    }

    /**
     * Writer thread: this replica no longer leads the replicated stream; the consumer goes away here (the new
     * leader's takes over from the committed state) and waiting pull requests hear so, as from nats-server.
     */
    void leadershipLost() {
        deleted = true;
        for (PullRequest r : waiting) {
            sendStatus(r.reply, HeaderBlock.status(409, "Leadership Change"));
        }
        waiting.clear();
    }

    boolean takeDirty() {
        boolean d = dirty;
        dirty = false;
        return d;
    }

    // ---- info and persistence ----

    /** Writer thread: ConsumerInfo as create, info and reset answer it (config with the server's version and level). */
    ObjectNode info(long now) {
        return info(now, true);
    }

    /**
     * Writer thread: ConsumerInfo; {@code serverMetadata} adds {@code _nats.ver} and {@code _nats.level} to the config's
     * metadata (create, info, reset), while lists show the stored config, as nats-server's do.
     */
    ObjectNode info(long now, boolean serverMetadata) {
        ObjectNode o = JsJson.object();
        o.put("stream_name", stream.name());
        o.put("name", name);
        o.put("created", JsJson.time(created));
        o.set("config", serverMetadata ? config.toJsonWithServerMetadata(ApiLevel.SERVER_VERSION, ApiLevel.SERVER)
                : config.toJson());
        ObjectNode d = o.putObject("delivered");
        d.put("consumer_seq", dseq);
        d.put("stream_seq", lastDeliveredSseq);
        if (lastDelivery > 0) {
            d.put("last_active", JsJson.time(lastDelivery));
        }
        ObjectNode a = o.putObject("ack_floor");
        a.put("consumer_seq", ackFloorCseq);
        a.put("stream_seq", ackFloorSseq);
        if (lastAck > 0) {
            a.put("last_active", JsJson.time(lastAck));
        }
        o.put("num_ack_pending", pending.size());
        int redelivered = 0;
        for (Pending p : pending.values()) {
            if (p.deliveries > 1) {
                redelivered++;
            }
        }
        o.put("num_redelivered", redelivered);
        long w = 0;
        for (PullRequest r : waiting) {
            if (r.expiresAt == 0 || r.expiresAt > now) {
                w++;
            }
        }
        o.put("num_waiting", w);
        o.put("num_pending", numPending());
        // the consumer's state lives in its stream's group and it runs on the stream leader: the stream's block
        ObjectNode cluster = stream.clusterInfo();
        if (cluster != null) {
            o.set("cluster", cluster);
        }
        if (config.isPush() && bus.hasInterest(config.deliverSubject())) {
            o.put("push_bound", true);
        }
        if (paused(now)) {
            o.put("paused", true);
            o.put("pause_remaining", config.pauseUntil() - now);
        }
        String group = config.firstGroup();
        if (group != null) {
            ObjectNode g = o.putArray("priority_groups").addObject();
            g.put("group", group);
            if (pinId != null) {
                g.put("pinned_client_id", pinId);
            }
            g.put("pinned_ts", JsJson.time(pinnedAt));
        }
        o.put("ts", JsJson.time(now));
        return o;
    }

    /** Writer thread: the saved configuration ({@code config}, {@code created}); the state is saved apart. */
    ObjectNode savedConfig() {
        ObjectNode o = JsJson.object();
        o.set("config", config.toJson());
        o.put("created", created);
        return o;
    }

    /**
     * Writer thread: the saved delivery and ack state, rewritten on every tick while it changes, so compact:
     *
     * <pre>
     * version(1)=1 | dseq next_seq last_sseq ack_floor_cseq ack_floor_sseq       (unsigned varints)
     *              | n_initial, each initial seq as the delta from the previous   (signed, from 0)
     *              | n_pending, each as sseq delta, cseq delta (signed, from the previous entry; the first
     *                from the ack floor), deliveries (unsigned)
     * </pre>
     */
    byte[] stateBytes() {
        int left = initial == null ? 0 : initial.length - initialIdx;
        StateCodec w = new StateCodec(48 + 3 * left + 6 * pending.size());
        w.putByte(StateCodec.VERSION);
        w.putUnsigned(dseq).putUnsigned(nextSeq).putUnsigned(lastDeliveredSseq);
        w.putUnsigned(ackFloorCseq).putUnsigned(ackFloorSseq);
        w.putUnsigned(left);
        long prev = 0;
        for (int i = initialIdx; initial != null && i < initial.length; i++) {
            w.putSigned(initial[i] - prev);
            prev = initial[i];
        }
        w.putUnsigned(pending.size());
        long prevSseq = ackFloorSseq;
        long prevCseq = ackFloorCseq;
        for (Map.Entry<Long, Pending> e : pending.entrySet()) {
            Pending p = e.getValue();
            w.putSigned(e.getKey() - prevSseq).putSigned(p.cseq - prevCseq).putUnsigned(p.deliveries);
            prevSseq = e.getKey();
            prevCseq = p.cseq;
        }
        return w.toBytes();
    }

    /**
     * Writer thread: the delivery and ack state as JSON, the form {@link #restoreState(JsonNode, long)} reads
     * (snapshots carry it, so that they do not depend on {@link #stateBytes}' version):
     * {@code dseq, next_seq, last_sseq, ack_floor_cseq, ack_floor_sseq, initial: [seq...],
     * pending: [[sseq, cseq, deliveries]...]}.
     */
    ObjectNode stateJson() {
        ObjectNode o = JsJson.object();
        o.put("dseq", dseq);
        o.put("next_seq", nextSeq);
        o.put("last_sseq", lastDeliveredSseq);
        o.put("ack_floor_cseq", ackFloorCseq);
        o.put("ack_floor_sseq", ackFloorSseq);
        var in = o.putArray("initial");
        for (int i = initialIdx; initial != null && i < initial.length; i++) {
            in.add(initial[i]);
        }
        var p = o.putArray("pending");
        for (Map.Entry<Long, Pending> e : pending.entrySet()) {
            p.addArray().add(e.getKey()).add(e.getValue().cseq).add(e.getValue().deliveries);
        }
        return o;
    }

    /**
     * Writer thread, at restore: takes the state {@link #stateBytes} saved; unacked messages are due again after
     * ack_wait.
     *
     * @throws IllegalArgumentException when the bytes are not a saved state
     */
    void restoreState(byte[] saved, long now) {
        StateCodec r = new StateCodec(saved);
        if (r.getByte() != StateCodec.VERSION) {
            throw new IllegalArgumentException("unknown consumer state version");
        }
        long d = r.getUnsigned();
        long next = r.getUnsigned();
        long last = r.getUnsigned();
        long floorCseq = r.getUnsigned();
        long floorSseq = r.getUnsigned();
        long[] in = new long[r.getCount()];
        long prev = 0;
        for (int i = 0; i < in.length; i++) {
            prev += r.getSigned();
            in[i] = prev;
        }
        int n = r.getCount();
        long[] rows = new long[3 * n];
        long sseq = floorSseq;
        long cseq = floorCseq;
        for (int i = 0; i < n; i++) {
            sseq += r.getSigned();
            cseq += r.getSigned();
            rows[3 * i] = sseq;
            rows[3 * i + 1] = cseq;
            rows[3 * i + 2] = r.getUnsigned();
        }
        if (!r.atEnd()) {
            throw new IllegalArgumentException("consumer state has trailing bytes");
        }
        restore(d, next, last, floorCseq, floorSseq, in, rows, now);
    }

    /** Writer thread, at restore: the state as earlier versions saved it, inside the configuration's JSON. */
    void restoreState(JsonNode s, long now) {
        JsonNode in = s.path("initial");
        long[] initialSeqs = new long[in.size()];
        for (int i = 0; i < initialSeqs.length; i++) {
            initialSeqs[i] = in.get(i).asLong();
        }
        JsonNode p = s.path("pending");
        long[] rows = new long[3 * p.size()];
        for (int i = 0; i < p.size(); i++) {
            JsonNode row = p.get(i);
            rows[3 * i] = row.get(0).asLong();
            rows[3 * i + 1] = row.get(1).asLong();
            rows[3 * i + 2] = row.get(2).asLong();
        }
        restore(s.path("dseq").asLong(), s.path("next_seq").asLong(nextSeq), s.path("last_sseq").asLong(),
                s.path("ack_floor_cseq").asLong(), s.path("ack_floor_sseq").asLong(), initialSeqs, rows, now);
    }

    /** {@code pendingRows}: sseq, cseq, deliveries per pending ack. */
    private void restore(long d, long next, long last, long floorCseq, long floorSseq, long[] initialSeqs,
            long[] pendingRows, long now) {
        dseq = d;
        nextSeq = next;
        lastDeliveredSseq = last;
        ackFloorCseq = floorCseq;
        ackFloorSseq = floorSseq;
        initial = initialSeqs.length > 0 ? initialSeqs : null;
        initialIdx = 0;
        pending.clear();
        for (int i = 0; i < pendingRows.length; i += 3) {
            Pending p = new Pending();
            p.cseq = pendingRows[i + 1];
            p.deliveries = (int) pendingRows[i + 2];
            p.deadline = now + ackWait(Math.max(1, p.deliveries));
            pending.put(pendingRows[i], p);
        }
        invalidatePending();
    }

    private static String randomToken(int n) {
        String chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        StringBuilder sb = new StringBuilder(n);
        ThreadLocalRandom r = ThreadLocalRandom.current();
        for (int i = 0; i < n; i++) {
            sb.append(chars.charAt(r.nextInt(chars.length())));
        }
        return sb.toString();
    }

    static String generateName() {
        return randomToken(8);
    }
}
