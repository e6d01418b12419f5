package io.jetkv.jetstream.consumer;

import io.jetkv.jetstream.MessageBus;
import io.jetkv.jetstream.api.JsApiException;
import io.jetkv.jetstream.api.JsError;
import io.jetkv.jetstream.store.StoredMessage;
import io.jetkv.jetstream.store.StreamStore;
import io.jetkv.jetstream.stream.Interest;
import io.jetkv.jetstream.stream.Stream;
import io.jetkv.jetstream.stream.StreamEnums.Retention;
import io.jetkv.jetstream.stream.StreamListener;
import io.jetkv.protocol.Subject;
import java.util.ArrayList;
import java.util.List;
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
 * <p>Threading: the map is read from any thread (names, lookups for acks and pull requests); consumers
 * are added, removed and run only on the stream's writer thread.
 */
final class ConsumerSet implements StreamListener, Interest {
    private static final Logger LOG = LoggerFactory.getLogger(ConsumerSet.class);

    private final ConsumerManager manager;
    private final Stream stream;
    private final ConcurrentSkipListMap<String, Consumer> consumers = new ConcurrentSkipListMap<>();
    final AtomicBoolean tickQueued = new AtomicBoolean();

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

    /** Writer thread. */
    void add(Consumer c) {
        consumers.put(c.name(), c);
        stream.consumerCount().incrementAndGet();
    }

    /** Writer thread: deletes the consumer and its persisted state. */
    boolean remove(String name) {
        Consumer c = consumers.remove(name);
        if (c == null) {
            return false;
        }
        stream.consumerCount().decrementAndGet();
        c.delete();
        manager.forget(stream.name(), name);
        if (stream.config().retention() == Retention.INTEREST) {
            // what only the deleted consumer still needed goes with it (work queues keep theirs)
            retireDoneThrough(Long.MAX_VALUE);
        }
        return true;
    }

    @Override
    public boolean anyInterest(String subject) {
        for (Consumer c : consumers.values()) {
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
        if (!retiresMessages() || consumers.isEmpty()) {
            return;
        }
        long through = 0;
        for (Consumer c : consumers.values()) {
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

    private void retireIfDone(long seq, String subject, long size) {
        for (Consumer c : consumers.values()) {
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
        if (stream.config().retention() != Retention.WORKQUEUE || cfg.direct()) {
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
}
