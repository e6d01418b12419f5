package io.jetkv.jetstream.consumer;

import io.jetkv.jetstream.MessageBus;
import io.jetkv.jetstream.api.JsApiException;
import io.jetkv.jetstream.api.JsError;
import io.jetkv.jetstream.api.JsJson;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jetkv.jetstream.store.StoredMessage;
import io.jetkv.jetstream.store.StreamStore;
import io.jetkv.jetstream.stream.Interest;
import io.jetkv.jetstream.stream.ReplicatedConsumers;
import io.jetkv.jetstream.stream.Stream;
import io.jetkv.jetstream.stream.StreamEnums.Retention;
import io.jetkv.jetstream.stream.StreamListener;
import io.jetkv.protocol.Subject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The consumers of one stream, attached to it as a {@link StreamListener}: new messages wake them after
 * each group commit, the timer's ticks run their ack deadlines, heartbeats and inactivity checks.
 *
 * <p>For interest and work-queue retention it is also the stream's {@link Interest}: a message leaves the
 * stream once no consumer needs it any more (acknowledged, terminated, or delivered without acks).
 *
 * <p>On a replicated stream ({@link #replicate}) the consumers above run on the stream leader only, and
 * {@link #committed} holds every replica's view of them as the stream's group committed it (the leader's
 * live consumers are a little ahead). Each writer batch's changes become one consumer entry
 * ({@link ReplicatedOps}); applying it updates the committed view and removes the messages it finished on every
 * replica alike, deciding with the committed view only. A new leader builds its live consumers from that view.
 *
 * <p>Threading: the map is read from any thread (names, lookups for acks and pull requests); consumers
 * are added, removed and run only on the stream's writer thread.
 */
final class ConsumerSet implements StreamListener, Interest, ReplicatedConsumers {
    private static final Logger LOG = LoggerFactory.getLogger(ConsumerSet.class);

    private final ConsumerManager manager;
    private final Stream stream;
    private final ConcurrentSkipListMap<String, Consumer> consumers = new ConcurrentSkipListMap<>();
    final AtomicBoolean tickQueued = new AtomicBoolean();

    // Replicated streams only; writer thread.
    private volatile boolean replicated;
    /** The consumers as the stream's group committed them, by name (every replica). */
    private final java.util.TreeMap<String, Consumer> committed = new java.util.TreeMap<>();
    /** Leader: consumers whose configuration changed since the last proposal (creates, updates, pauses). */
    private final java.util.Set<String> configChanged = new java.util.TreeSet<>();
    /** Leader: consumers deleted since the last proposal. */
    private final java.util.Set<String> deletedSince = new java.util.TreeSet<>();
    /** Leader: stream sequences some consumer finished with since the last proposal. */
    private final List<Long> doneSince = new ArrayList<>();
    /** Leader: replies waiting for the next proposal's commit (acks, creates, deletes). */
    private final List<java.util.function.Consumer<Boolean>> onCommit = new ArrayList<>();

    ConsumerSet(ConsumerManager manager, Stream stream) {
        this.manager = manager;
        this.stream = stream;
    }

    Stream stream() {
        return stream;
    }

    MessageBus bus() {
        return manager.bus();
    }

    Consumer get(String name) {
        return consumers.get(name);
    }

    /** Names in order; any thread. */
    /** Any thread: runs {@code task} on the consumer timer after {@code delayNanos}. */
    void later(long delayNanos, Runnable task) {
        manager.later(delayNanos, task);
    }

    List<String> names() {
        return new ArrayList<>(consumers.keySet());
    }

    List<Consumer> all() {
        return new ArrayList<>(consumers.values());
    }

    /**
     * Names in order of the consumers clients see: all but direct ones (those a sourcing stream asks for on a limits
     * stream), which nats-server leaves out of CONSUMER.NAMES/LIST, the stream's and account's consumer counts and
     * the {@code max_consumers} check, while INFO and DELETE still find them (its {@code getPublicConsumers}).
     * Any thread.
     */
    List<String> publicNames() {
        List<String> out = new ArrayList<>();
        for (Consumer c : consumers.values()) {
            if (isPublic(c)) {
                out.add(c.name());
            }
        }
        return out;
    }

    /** The consumers clients see, in name order; see {@link #publicNames}. */
    List<Consumer> publicConsumers() {
        List<Consumer> out = new ArrayList<>();
        for (Consumer c : consumers.values()) {
            if (isPublic(c)) {
                out.add(c);
            }
        }
        return out;
    }

    private static boolean isPublic(Consumer c) {
        return !c.config().direct();
    }

    /** Any thread, once, before the stream's group applies anything: the consumers' state is replicated. */
    void replicate() {
        replicated = true;
    }

    boolean replicated() {
        return replicated;
    }

    /** Writer thread, leader of a replicated stream: runs {@code reply} once the next proposal committed. */
    void afterCommit(java.util.function.Consumer<Boolean> reply) {
        onCommit.add(reply);
    }

    /** Writer thread, leader: the configuration of {@code c} changed (the next proposal carries it). */
    void configChanged(Consumer c) {
        configChanged.add(c.name());
    }

    /** Writer thread. */
    void add(Consumer c) {
        consumers.put(c.name(), c);
        if (isPublic(c)) {
            stream.consumerCount().incrementAndGet();
        }
    }

    /** Writer thread: deletes the consumer and its persisted state. */
    boolean remove(String name) {
        Consumer c = consumers.remove(name);
        if (c == null) {
            return false;
        }
        if (isPublic(c)) {
            stream.consumerCount().decrementAndGet();
        }
        c.delete();
        if (replicated) {
            // the committed view, and the messages only this consumer kept, go when the delete is committed
            configChanged.remove(name);
            deletedSince.add(name);
            return true;
        }
        manager.forget(stream.name(), name);
        if (stream.config().retention() == Retention.INTEREST) {
            // what only the deleted consumer still needed goes with it (work queues keep theirs)
            retireDoneThrough(Long.MAX_VALUE);
        }
        return true;
    }

    @Override
    public boolean anyInterest(String subject) {
        for (Consumer c : view().values()) {
            if (c.takes(subject)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Writer thread: a consumer is done with {@code seq} (acked, terminated, or delivered without acks); on an
     * interest or work-queue stream the message goes when no other consumer needs it either.
     */
    void doneWith(long seq, String subject, long size) {
        if (!retiresMessages()) {
            return;
        }
        if (replicated) {
            doneSince.add(seq); // removed on every replica when the proposal carrying it is applied
            return;
        }
        if (subject != null) {
            retireIfDone(seq, subject, size);
            return;
        }
        StoredMessage m = stream.store().load(seq); // delivered before a restart: subject and size unknown
        if (m != null) {
            retireIfDone(m);
        }
    }

    /**
     * Writer thread: the failed flush that led to the reopen lost the removals of its acks; every message below the
     * furthest cursor is checked again (a rare path: only after a store failure).
     */
    @Override
    public void storeReopened() {
        if (!retiresMessages() || view().isEmpty()) {
            return;
        }
        long through = 0;
        for (Consumer c : view().values()) {
            through = Math.max(through, c.nextSeq() - 1);
        }
        retireDoneThrough(through);
    }

    @Override
    public void becameInterest() {
        retireDoneThrough(Long.MAX_VALUE);
    }

    /** Writer thread: retires every stored message up to {@code through} that no consumer needs. */
    private void retireDoneThrough(long through) {
        StreamStore store = stream.store();
        long seq = store.state().firstSeq();
        StoredMessage m;
        while (seq <= through && (m = store.loadNext(seq, null)) != null && m.seq() <= through) {
            retireIfDone(m);
            seq = m.seq() + 1;
        }
    }

    /** Writer thread: whether consumers decide when messages go (interest and work-queue retention). */
    boolean retiresMessages() {
        return stream.config().retention() != Retention.LIMITS;
    }

    private void retireIfDone(StoredMessage m) {
        retireIfDone(m.seq(), m.subject(), stream.store().storedSize(m));
    }

    /** The consumers that decide retention: on a replicated stream the committed ones, so replicas agree. */
    private Map<String, Consumer> view() {
        return replicated ? committed : consumers;
    }

    private void retireIfDone(long seq, String subject, long size) {
        for (Consumer c : view().values()) {
            if (c.needs(seq, subject)) {
                return;
            }
        }
        stream.retire(seq, subject, size);
    }

    /**
     * Work-queue rules for a new consumer ({@code addConsumerWithAssignment}): explicit acks, delivery from the
     * start, and filters that no other consumer's overlap, so that each message has exactly one taker.
     */
    void checkWorkQueue(String name, ConsumerConfig cfg) {
        if (stream.config().retention() != Retention.WORKQUEUE || cfg.direct() || cfg.sourcing()) {
            return;
        }
        // 2.14: acks by flow control are explicit enough (ADR-60 sources work queues through such consumers)
        if (cfg.ackPolicy() != ConsumerConfig.AckPolicy.EXPLICIT
                && cfg.ackPolicy() != ConsumerConfig.AckPolicy.FLOW_CONTROL) {
            throw new JsApiException(JsError.CONSUMER_WQ_REQUIRES_EXPLICIT_ACK);
        }
        if (!consumers.isEmpty()) {
            if (cfg.filters().isEmpty()) {
                throw new JsApiException(JsError.CONSUMER_WQ_MULTIPLE_UNFILTERED);
            }
            for (Consumer other : consumers.values()) {
                if (other.name().equals(name)) {
                    continue;
                }
                List<String> theirs = other.config().filters();
                for (String f : cfg.filters()) {
                    if (theirs.isEmpty() || theirs.stream().anyMatch(t -> Subject.collide(f, t))) {
                        throw new JsApiException(JsError.CONSUMER_WQ_NOT_UNIQUE);
                    }
                }
            }
        }
        if (cfg.deliverPolicy() != ConsumerConfig.DeliverPolicy.ALL) {
            throw new JsApiException(JsError.CONSUMER_WQ_NOT_DELIVER_ALL);
        }
    }

    /**
     * Writer thread: saves the consumer's state if it changed. Acks and deliveries only mark it dirty; the
     * timer's tick (and shutdown) saves it, so a busy consumer is written about 20 times a second instead of
     * once per ack. A crash loses at most the last tick's acks and deliveries: those messages come again
     * (at-least-once), and nothing unacknowledged is ever recorded as acknowledged.
     */
    void persistIfDirty(Consumer c) {
        if (c.takeDirty() && !c.isDeleted()) {
            manager.persistState(stream, c);
        }
    }

    @Override
    public void afterFlush(Stream s) {
        long now = ConsumerManager.nowNanos();
        for (Consumer c : consumers.values()) {
            try {
                c.deliverMore(now);
            } catch (RuntimeException e) {
                LOG.error("stream {}: consumer {} failed delivering", s.name(), c.name(), e);
            }
        }
    }

    /** Writer thread: the timer's tick. */
    void tick() {
        tickQueued.set(false);
        long now = ConsumerManager.nowNanos();
        for (Consumer c : consumers.values()) {
            try {
                c.tick(now);
                if (c.inactiveExpired(now)) {
                    LOG.info("stream {}: consumer {} removed after inactivity", stream.name(), c.name());
                    remove(c.name());
                } else {
                    persistIfDirty(c);
                }
            } catch (RuntimeException e) {
                LOG.error("stream {}: consumer {} tick failed", stream.name(), c.name(), e);
            }
        }
    }

    @Override
    public void streamClosed(Stream s) {
        for (Consumer c : consumers.values()) {
            if (s.isDeleted()) {
                c.delete();
                manager.forget(s.name(), c.name());
            } else {
                persistIfDirty(c);
            }
        }
        if (s.isDeleted()) {
            consumers.clear();
        }
        manager.detach(this);
    }

    // ---- replication (see the class comment) ----

    @Override
    public Changes takeChanges() {
        if (!replicated || (consumers.isEmpty() && deletedSince.isEmpty() && onCommit.isEmpty())) {
            return null; // a follower, or a stream without consumers: every publish batch ends here
        }
        ReplicatedOps.Writer w = new ReplicatedOps.Writer();
        for (Consumer c : consumers.values()) {
            boolean cfg = configChanged.contains(c.name());
            if (c.takeReplicaDirty() || cfg) {
                w.put(c.name(), cfg ? JsJson.bytes(c.savedConfig()) : null, c.stateBytes());
            }
        }
        configChanged.clear();
        for (String name : deletedSince) {
            w.delete(name);
        }
        deletedSince.clear();
        w.done(doneSince);
        doneSince.clear();
        List<java.util.function.Consumer<Boolean>> replies = onCommit.isEmpty() ? List.of() : new ArrayList<>(onCommit);
        onCommit.clear();
        if (w.isEmpty()) {
            replies.forEach(r -> r.accept(true)); // nothing changed (an ack of something not pending)
            return null;
        }
        return new Changes(w.toBytes(), ok -> replies.forEach(r -> r.accept(ok)));
    }

    @Override
    public void applyCommitted(byte[] ops, Stream.Batch batch) {
        long now = ConsumerManager.nowNanos();
        boolean deleted = ReplicatedOps.read(ops, new ReplicatedOps.Handler() {
            @Override
            public void put(String name, byte[] config, byte[] state) {
                Consumer c = committed.get(name);
                try {
                    ObjectNode saved = config == null ? null : (ObjectNode) JsJson.MAPPER.readTree(config);
                    ConsumerConfig cfg = saved == null ? null : ConsumerConfig.fromJson((ObjectNode) saved.get("config"));
                    if (c == null) {
                        if (cfg == null) {
                            LOG.error("stream {}: committed state of unknown consumer {} ignored", stream.name(), name);
                            return;
                        }
                        c = new Consumer(ConsumerSet.this, name, cfg, saved.path("created").asLong(now), now);
                        committed.put(name, c);
                    } else if (cfg != null) {
                        c.update(cfg);
                    }
                    c.restoreState(state, now);
                } catch (java.io.IOException | RuntimeException e) {
                    LOG.error("stream {}: committed state of consumer {} could not be applied", stream.name(), name, e);
                }
            }

            @Override
            public void delete(String name) {
                Consumer c = committed.remove(name);
                if (c != null) {
                    c.delete();
                }
            }

            @Override
            public void done(long seq) {
                if (retiresMessages()) {
                    StoredMessage m = stream.store().load(seq);
                    if (m != null) {
                        retireIfDone(m);
                    }
                }
            }
        });
        if (deleted && stream.config().retention() == Retention.INTEREST) {
            retireDoneThrough(Long.MAX_VALUE);
        }
    }

    @Override
    public java.util.Collection<String> committedNames() {
        return List.copyOf(committed.keySet());
    }

    @Override
    public void leading(boolean leader) {
        long now = ConsumerManager.nowNanos();
        if (!leader) {
            for (Consumer c : consumers.values()) {
                c.leadershipLost();
                if (isPublic(c)) {
                    stream.consumerCount().decrementAndGet();
                }
            }
            consumers.clear();
            configChanged.clear();
            deletedSince.clear();
            doneSince.clear();
            List<java.util.function.Consumer<Boolean>> replies = new ArrayList<>(onCommit);
            onCommit.clear();
            replies.forEach(r -> r.accept(false));
            return;
        }
        for (Consumer view : committed.values()) {
            if (consumers.containsKey(view.name())) {
                continue;
            }
            // delivery continues from the committed state: what was acked stays acked, what was pending is
            // delivered again once its ack wait (counted from now) runs out
            Consumer c = new Consumer(this, view.name(), view.config(), view.created(), now);
            c.restoreState(view.stateBytes(), now);
            add(c);
            LOG.info("stream {}: consumer {} leads here from the committed state", stream.name(), c.name());
        }
        for (Consumer c : consumers.values()) {
            // each consumer's "group" (the stream's) has a new leader: nats-server's new consumer leader says so
            stream.announceGroup("LEADER_ELECTED", c.name());
            c.deliverMore(now);
        }
    }

    @Override
    public byte[] snapshot() {
        ReplicatedOps.Writer w = new ReplicatedOps.Writer();
        for (Consumer c : committed.values()) {
            w.put(c.name(), JsJson.bytes(c.savedConfig()), c.stateBytes());
        }
        return w.toBytes();
    }

    @Override
    public void installSnapshot(byte[] state) {
        for (Consumer c : committed.values()) {
            c.delete();
        }
        committed.clear();
        applyCommitted(state, null);
    }
}
