package io.jetkv.jetstream.stream;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jetkv.jetstream.api.JsJson;
import io.jetkv.jetstream.store.StoredMessage;
import io.jetkv.jetstream.store.StreamState;
import io.jetkv.jetstream.store.StreamStore;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a stream's {@code mirror} or {@code sources} copied from their origin streams on this server.
 *
 * <p>nats-server drives each source with an internal consumer on the origin; here, with both streams in
 * one process, a {@link Link} pulls instead, hopping between the two writer threads so each store is only
 * touched by its own writer: on the target's writer it decides to fetch, on the origin's writer it reads a
 * batch from the origin's store, back on the target's writer it stores the batch and, in the same flush,
 * the origin sequence to continue from ({@link StreamStore#putAux}). A restart therefore resumes exactly
 * after the last durable copy: no duplicate, no gap. The origin's {@link StreamListener#afterFlush} wakes
 * the link; the timer retries while the origin is missing or a queue was full.
 *
 * <p>An origin with work-queue or interest retention drops what is consumed, so reading its store would race its
 * consumers and keep nothing from going: there the link copies through a durable consumer the origin makes for it
 * ({@code JS_SRC_<id>}, {@code JS_MIRROR_<id>}, acking by flow control: a {@link DurableSource}), as nats-server
 * 2.14 does (ADR-60). In a cluster, an origin that is not on this server is copied the same way, its request and
 * deliveries crossing the routes (a limits origin makes a direct ephemeral for it). Both keep the same position, so a link can move between the two when the origin's retention
 * changes. The consumer is deleted (best effort) when the entry goes.
 *
 * <p>Threading: {@link #kickAll}, {@link #tick}, {@link #stop} and {@link #info} from any thread; the rest
 * runs on the writers as described.
 */
final class Sourcing {
    private static final Logger LOG = LoggerFactory.getLogger(Sourcing.class);
    /** Most messages copied per hop. */
    static final int FETCH_CAP = 256;
    /** Most bytes copied per hop (at least one message): on a replicated stream a hop is one Raft entry. */
    static final long FETCH_BYTES = 4L << 20;
    /** A round whose answer never came (a lost proposal reply) is given up after this, so the link goes on. */
    private static final long STUCK_NANOS = 60_000_000_000L;
    /** Most origin messages examined per hop when the entry needs a per-message subject check. */
    private static final int SCAN_CAP = 4096;
    /** How often an idle link checks its origin again (lag, origin created, full queue). */
    private static final long RETRY_NANOS = 1_000_000_000L;

    private final Stream target;
    private final List<Link> links = new ArrayList<>();
    /** 2.14 entries that copy through a durable consumer of the origin. */
    private final List<DurableSource> durables = new ArrayList<>();
    /** Every entry's stream info, in configuration order. */
    private final List<java.util.function.LongFunction<ObjectNode>> infos = new ArrayList<>();
    private final boolean mirror;
    private boolean started;

    Sourcing(Stream target, StreamConfig cfg, Function<String, Stream> lookup) {
        this.target = target;
        this.mirror = cfg.mirrorSource() != null;
        for (StreamConfig.CopyEntry e : cfg.copyEntries()) {
            add(e, lookup);
        }
    }

    private void add(StreamConfig.CopyEntry e, Function<String, Stream> lookup) {
        if (e.source().consumer() != null) {
            DurableSource d = new DurableSource(target, e.source(), e.mirror());
            durables.add(d);
            infos.add(d::info);
        } else {
            Link l = new Link(e, lookup);
            links.add(l);
            infos.add(l::info);
        }
    }

    boolean isEmpty() {
        return infos.isEmpty();
    }

    /** Wakes every link (after creation, restore, or when a stream called {@code origin} appeared). */
    void kickAll(String origin) {
        synchronized (this) {
            if (!started) {
                started = true;
                durables.forEach(DurableSource::start);
            }
        }
        for (Link l : links) {
            if (origin == null || l.source.name().equals(origin)) {
                l.kick();
            }
        }
    }

    /** Timer thread: retries idle links now and then. */
    void tick(long now) {
        durables.forEach(DurableSource::tick);
        for (Link l : links) {
            DurableSource m = l.managed;
            if (m != null) {
                m.tick();
            }
            if (l.inFlight.get() && now - l.lastAttempt >= STUCK_NANOS) {
                l.inFlight.set(false); // copies that went out twice meanwhile are skipped on apply
            }
            if (now - l.lastAttempt >= RETRY_NANOS) {
                l.kick();
            }
        }
    }

    /**
     * Target writer, after the target's store was reopened: the positions moved by the lost batch go back
     * to the saved ones, so the copy resumes with no gap (an in-flight fetch from the lost position is
     * refused by {@code apply} and fetched again).
     */
    void storeReopened() {
        for (Link l : links) {
            byte[] saved = target.store().getAux(l.positionKey);
            l.next = saved != null && saved.length == 8 ? java.nio.ByteBuffer.wrap(saved).getLong() : 0;
            DurableSource m = l.managed;
            if (m != null) {
                m.storeReopened();
            }
        }
        durables.forEach(DurableSource::storeReopened);
    }

    /** The stream was deleted, updated or closed: stop listening to origins. */
    void stop() {
        durables.forEach(DurableSource::stop);
        for (Link l : links) {
            l.stopped = true;
            Stream o = l.origin;
            if (o != null) {
                o.removeListener(l);
            }
            DurableSource m = l.managed;
            if (m != null) {
                m.stop();
            }
        }
    }

    /**
     * After an update replaced this copier with {@code next} (null: the stream was deleted): the consumers made for
     * entries that are gone are deleted, best effort, as nats-server does.
     */
    void deleteConsumersNotIn(Sourcing next) {
        java.util.Set<String> kept = new java.util.HashSet<>();
        if (next != null) {
            for (Link l : next.links) {
                kept.add(l.managedName);
            }
        }
        for (Link l : links) {
            DurableSource m = l.lastManaged;
            if (m != null && !kept.contains(l.managedName)) {
                m.deleteConsumer();
            }
        }
    }

    /**
     * The name of the consumer made on the origin for an entry (nats-server's {@code JS_SRC_<id>} and
     * {@code JS_MIRROR_<id>}): stable for the entry, so a restart or an update that keeps it finds it again.
     */
    static String managedName(String account, String stream, StreamSource s, boolean mirror) {
        byte[] digest;
        try {
            digest = java.security.MessageDigest.getInstance("SHA-256").digest(
                    (account + " " + stream + " " + s.positionKey(mirror)).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        String id = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(digest).substring(0, 8);
        return (mirror ? "JS_MIRROR_" : "JS_SRC_") + id;
    }

    /** StreamInfo's {@code mirror} or {@code sources}: name, lag, active and the echoed settings. */
    void info(ObjectNode into, long now) {
        if (infos.isEmpty()) {
            return;
        }
        if (mirror) {
            into.set("mirror", infos.get(0).apply(now));
            return;
        }
        ArrayNode a = into.putArray("sources");
        for (var i : infos) {
            a.add(i.apply(now));
        }
    }

    /** One mirror or source entry. */
    private final class Link implements StreamListener {
        final StreamSource source;
        final boolean isMirror;
        final String positionKey;
        final Function<String, Stream> lookup;
        /** The consumer the origin makes for this entry when its retention drops what is consumed. */
        final String managedName;
        /** Copying through that consumer, or null while reading the origin's store. */
        volatile DurableSource managed;
        /** The last such copier, kept after it stopped so that removing the entry deletes its consumer. */
        volatile DurableSource lastManaged;
        final AtomicBoolean inFlight = new AtomicBoolean();
        final AtomicBoolean wanted = new AtomicBoolean();
        volatile boolean stopped;
        volatile long lastAttempt;
        volatile long lastActive;
        volatile long lag;
        /** The origin stream this link listens to. Written on the target's writer. */
        volatile Stream origin;
        /** Next origin sequence to copy; 0 until read from the store or computed from the start options. */
        private long next;

        Link(StreamConfig.CopyEntry entry, Function<String, Stream> lookup) {
            this.source = entry.source();
            this.isMirror = entry.mirror();
            this.positionKey = entry.positionKey();
            this.lookup = lookup;
            StreamManager m = target.manager;
            this.managedName = managedName(m == null ? "$G" : m.account(), target.name(), source, isMirror);
        }

        @Override
        public void afterFlush(Stream stream) {
            kick();
        }

        @Override
        public void streamClosed(Stream stream) {
            stream.removeListener(this);
        }

        /** Any thread: start a round unless one is under way (then it runs again when that one ends). */
        void kick() {
            if (stopped) {
                return;
            }
            wanted.set(true);
            if (!inFlight.compareAndSet(false, true)) {
                return;
            }
            wanted.set(false);
            lastAttempt = Stream.nowNanos();
            if (!target.execute(b -> {
                try {
                    begin();
                } catch (RuntimeException e) {
                    inFlight.set(false);
                    throw e;
                }
            })) {
                inFlight.set(false); // target queue full or stream gone: the timer retries
            }
        }

        private void done(boolean more) {
            inFlight.set(false);
            if (more || wanted.get()) {
                kick();
            }
        }

        /** Target writer: find the origin and ask its writer for the next batch. */
        private void begin() {
            if (stopped || target.isClosed()) {
                inFlight.set(false);
                return;
            }
            if (!target.leadsCopies()) {
                // a follower of a replicated stream copies nothing: what the leader copies comes through the log
                DurableSource m = managed;
                if (m != null) {
                    m.stop();
                    managed = null;
                }
                if (origin != null) {
                    origin.removeListener(this);
                    origin = null;
                }
                next = 0; // read again from the store when leading: the leader's copies moved it
                inFlight.set(false);
                return;
            }
            Stream o = lookup.apply(source.name());
            boolean consumed = o != null && source.externalApi() == null
                    && o.config().retention() != StreamEnums.Retention.LIMITS;
            // in a cluster an origin not on this server is on another: its store cannot be read from here
            boolean elsewhere = o == null && source.externalApi() == null && target.manager != null
                    && target.manager.clustered();
            if (consumed || elsewhere) {
                // a work-queue or interest origin, or one on another server: copy through a consumer the origin
                // makes for this entry (a durable acking what is stored, or a direct ephemeral on a limits origin)
                if (origin != null) {
                    origin.removeListener(this);
                    origin = null;
                }
                if (managed == null) {
                    StreamManager mgr = target.manager;
                    DurableSource d = DurableSource.serverMade(target, source, isMirror, managedName,
                            mgr == null ? "$G" : mgr.account());
                    managed = d;
                    lastManaged = d;
                    d.start();
                }
                inFlight.set(false);
                return;
            }
            DurableSource m = managed;
            if (m != null) {
                // back to reading the store (the origin went, or became a limits stream) from the shared position
                m.stop();
                managed = null;
                next = 0;
            }
            if (o != origin) {
                Stream old = origin;
                if (old != null) {
                    old.removeListener(this);
                }
                origin = o;
                if (o != null) {
                    o.addListener(this);
                }
            }
            if (o == null) {
                inFlight.set(false); // origin missing (not created yet, or deleted): the copy stays as it is
                return;
            }
            if (next == 0) {
                byte[] saved = target.store().getAux(positionKey);
                next = saved != null && saved.length == 8 ? java.nio.ByteBuffer.wrap(saved).getLong() : 0;
            }
            long from = next;
            Stream.Task fetch = new Stream.Task() {
                @Override
                public void run(Stream.Batch b) {
                    try {
                        fetch(o, from);
                    } catch (RuntimeException e) {
                        inFlight.set(false);
                        throw e;
                    }
                }

                @Override
                public void rejected(Stream.Batch b) {
                    inFlight.set(false); // the origin went away before reading: a later round looks again
                }
            };
            if (!o.execute(fetch)) {
                inFlight.set(false);
            }
        }

        /** Origin writer: read up to {@link #FETCH_CAP} messages from {@code from} (0: where the options say). */
        private void fetch(Stream o, long from) {
            StreamStore store = o.store();
            StreamState st = store.state();
            // only what the origin flushed: a batch whose flush fails takes its messages back (and its sequences
            // go to the next ones); its afterFlush wakes this link for the rest
            long durable = o.durableLastSeq();
            long start = from > 0 ? from : startSeq(store, st);
            String filter = source.storeFilter();
            List<StoredMessage> out = new ArrayList<>();
            long pos = start;
            int scanned = 0;
            long bytes = 0;
            boolean more = false;
            while (true) {
                if (out.size() >= FETCH_CAP || scanned >= SCAN_CAP || bytes >= FETCH_BYTES) {
                    more = true;
                    break;
                }
                StoredMessage m = pos <= durable ? store.loadNext(pos, filter) : null;
                if (m == null || m.seq() > durable) {
                    pos = Math.max(pos, durable + 1); // nothing (more) to copy up to the flushed end
                    break;
                }
                scanned++;
                pos = m.seq() + 1;
                if (source.mapSubject(m.subject()) != null) {
                    out.add(m);
                    bytes += m.payload().length + (m.headers() == null ? 0 : m.headers().length);
                }
            }
            long newNext = pos;
            long originLast = st.lastSeq();
            boolean hasMore = more;
            if (!target.execute(b -> apply(b, out, start, newNext, originLast, hasMore))) {
                inFlight.set(false); // nothing was applied; the position did not move
            }
        }

        /** Where a link without a saved position starts: {@code opt_start_seq}, {@code opt_start_time}, or 1. */
        private long startSeq(StreamStore store, StreamState st) {
            if (source.optStartSeq() > 0) {
                return source.optStartSeq();
            }
            if (source.optStartTime() > 0 && st.msgs() > 0) {
                // timestamps grow with sequences: binary search the first message at or after the time
                long lo = st.firstSeq();
                long hi = st.lastSeq() + 1;
                while (lo < hi) {
                    long mid = lo + (hi - lo) / 2;
                    StoredMessage m = store.loadNext(mid, null);
                    if (m == null || m.timestamp() >= source.optStartTime()) {
                        hi = mid;
                    } else {
                        lo = m.seq() + 1;
                    }
                }
                return Math.max(lo, 1);
            }
            return 1;
        }

        /** Target writer: store the batch and the new position together. */
        private void apply(Stream.Batch batch, List<StoredMessage> msgs, long from, long newNext, long originLast,
                boolean more) {
            if (stopped || target.isClosed()) {
                inFlight.set(false);
                return;
            }
            if (next != 0 && next != from) {
                done(true); // the position moved meanwhile (should not happen): fetch again from it
                return;
            }
            if (target.isReplicated()) {
                proposeCopy(msgs, newNext, originLast, more);
                return;
            }
            try {
                for (StoredMessage m : msgs) {
                    if (isMirror) {
                        target.storeMirrored(source.mapSubject(m.subject()), m, batch);
                    } else {
                        target.storeSourced(source, m, batch);
                    }
                }
                if (newNext != next) {
                    target.store().putAux(positionKey, java.nio.ByteBuffer.allocate(8).putLong(newNext).array());
                    batch.markDirty();
                    next = newNext;
                }
            } catch (RuntimeException e) {
                LOG.error("stream {}: copying from {} failed", target.name(), source.name(), e);
                inFlight.set(false);
                throw e;
            }
            lag = Math.max(0, originLast - (newNext - 1));
            lastActive = Stream.nowNanos();
            done(more);
        }

        /**
         * Target writer, leader of a replicated stream: proposes the batch with the new position; every replica stores
         * both when committed ({@link Stream#storeCopied}), and the next round starts after that, from there.
         */
        private void proposeCopy(List<StoredMessage> msgs, long newNext, long originLast, boolean more) {
            if (msgs.isEmpty() && newNext == next) {
                lag = Math.max(0, originLast - (newNext - 1));
                lastActive = Stream.nowNanos();
                done(more);
                return;
            }
            boolean proposed = target.proposeCopy(positionKey, next, newNext, 1, msgs, new Stream.OpReply() {
                @Override
                public void applied(Stream.Batch batch, ObjectNode body, io.jetkv.jetstream.api.JsApiException error) {
                    if (error != null) {
                        next = 0; // refused (out of order) or failed part-way: read the position again
                        inFlight.set(false);
                        return;
                    }
                    next = newNext;
                    lag = Math.max(0, originLast - (newNext - 1));
                    lastActive = Stream.nowNanos();
                    done(more);
                }

                @Override
                public void failed(io.jetkv.jetstream.api.JsApiException error) {
                    // not the leader any more, or no quorum; the position did not move here (whatever committed
                    // anyway is skipped on apply when copied again)
                    inFlight.set(false);
                }
            });
            if (!proposed) {
                inFlight.set(false);
            }
        }

        ObjectNode info(long now) {
            DurableSource m = managed;
            if (m != null) {
                return m.info(now);
            }
            ObjectNode o = source.infoJson();
            o.put("lag", lag);
            long active = lastActive;
            o.put("active", active == 0 ? -1 : Math.max(0, now - active));
            return o;
        }
    }
}
