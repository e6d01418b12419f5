package io.jetkv.jetstream.stream;

import io.jetkv.jetstream.api.JsApiException;
import io.jetkv.jetstream.api.JsError;
import io.jetkv.jetstream.schedule.MessageSchedule;
import io.jetkv.jetstream.store.MessageTtl;
import io.jetkv.jetstream.store.StoredMessage;
import io.jetkv.jetstream.store.StreamStore;
import io.jetkv.jetstream.store.SubjectState;
import io.jetkv.protocol.Subject;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A stream's message schedules (nats-server 2.12/2.14, ADR-51). The last message on a subject may hold a schedule
 * ({@code Nats-Schedule} and its companion headers); at each due time the stream stores, on the schedule's target,
 * the schedule's body (or the last message of its source subject) marked with {@code Nats-Scheduler} and
 * {@code Nats-Schedule-Next}. A one-shot's produced message carries {@code Nats-Schedule-Next: purge}, and storing
 * it purges the schedule; a client cancels a schedule the same way.
 *
 * <p>Due times live in the store's schedule index ({@link StreamStore#indexSchedule}), staged with the messages, so
 * firing reads only the entries that are due, and a firing, its produced message and the schedule's next entry are
 * flushed together: a restart neither loses a schedule nor fires one twice.
 *
 * <p>Threading: the stream's writer only, like the store.
 */
final class MessageScheduler {
    private static final Logger LOG = LoggerFactory.getLogger(MessageScheduler.class);
    /** Most schedules one maintenance run fires; the timer comes back for the rest. */
    private static final int FIRE_CAP = 1_000;
    /** A one-shot whose produced message was refused tries again after this long. */
    private static final long RETRY_NANOS = 1_000_000_000L;

    private final Stream stream;
    /** A produced message is being stored: the checks of what clients may send do not apply to it. */
    private boolean firing;

    MessageScheduler(Stream stream) {
        this.stream = stream;
    }

    /**
     * The publish checks of schedule and cancel headers, in nats-server's order (10188, 10189, 10223, 10191,
     * 10192, 10166, 10190, 10203, then 10212/10188 for {@code Nats-Scheduler}/{@code Nats-Schedule-Next}).
     * Returns the header block to store: a schedule without {@code Nats-Rollup} gets {@code Nats-Rollup: sub}, so
     * that it replaces the subject's previous schedule. Sourced messages are stored as they came.
     */
    byte[] checkPublish(StreamConfig cfg, String subject, byte[] hdr, Map<String, String> h, boolean sourced) {
        if (h.isEmpty() || sourced) {
            return hdr;
        }
        boolean allowed = cfg.allowMsgSchedules();
        String pattern = h.get(MessageSchedule.PATTERN);
        if (pattern != null && !pattern.isEmpty()) {
            if (!allowed) {
                throw new JsApiException(JsError.MESSAGE_SCHEDULES_DISABLED);
            }
            String tz = h.get(MessageSchedule.TIME_ZONE);
            if (MessageSchedule.parse(pattern, tz) == null) {
                throw new JsApiException(JsError.MESSAGE_SCHEDULES_PATTERN_INVALID);
            }
            if (tz != null && MessageSchedule.zone(tz) == null) {
                throw new JsApiException(JsError.MESSAGE_SCHEDULES_TIME_ZONE_INVALID);
            }
            String ttl = h.get(MessageSchedule.TTL);
            long ttlSecs = ttl == null || ttl.isEmpty() ? 0 : MessageTtl.parse(ttl);
            if (ttlSecs == MessageTtl.INVALID) {
                throw new JsApiException(JsError.MESSAGE_SCHEDULES_TTL_INVALID);
            }
            String scheduleRollup = h.get(MessageSchedule.ROLLUP);
            if (scheduleRollup != null && !scheduleRollup.isEmpty() && !scheduleRollup.equals("sub")) {
                throw new JsApiException(JsError.MESSAGE_SCHEDULES_ROLLUP_INVALID);
            }
            if (ttlSecs != 0 && !cfg.allowMsgTtl()) {
                throw new JsApiException(JsError.MESSAGE_TTL_DISABLED);
            }
            String target = h.get(MessageSchedule.TARGET);
            if (target == null || !Subject.isValidLiteral(target) || target.equals(subject) || !inStream(cfg, target)) {
                throw new JsApiException(JsError.MESSAGE_SCHEDULES_TARGET_INVALID);
            }
            String source = h.get(MessageSchedule.SOURCE);
            if (source != null && !source.isEmpty() && (!Subject.isValidLiteral(source) || source.equals(target)
                    || source.equals(subject) || !inStream(cfg, source))) {
                throw new JsApiException(JsError.MESSAGE_SCHEDULES_SOURCE_INVALID);
            }
            String rollup = h.get("Nats-Rollup");
            if (rollup == null || rollup.isEmpty()) {
                hdr = HeaderBlock.append(HeaderBlock.without(hdr, "Nats-Rollup:"), "Nats-Rollup", "sub");
            } else if (!rollup.toLowerCase(Locale.ROOT).equals("sub")) {
                throw new JsApiException(JsError.MESSAGE_SCHEDULES_ROLLUP_INVALID);
            }
        }
        if (!firing) {
            checkCancel(cfg, subject, h, allowed);
        }
        return hdr;
    }

    /** What clients may say with {@code Nats-Scheduler} and {@code Nats-Schedule-Next}: only a cancel. */
    private void checkCancel(StreamConfig cfg, String subject, Map<String, String> h, boolean allowed) {
        String next = h.get(MessageSchedule.NEXT);
        String scheduler = h.get(MessageSchedule.SCHEDULER);
        if (next != null && !next.isEmpty()) {
            if (!next.equals(MessageSchedule.PURGE) || scheduler == null || scheduler.isEmpty()
                    || scheduler.equals(subject) || !Subject.isValidLiteral(scheduler)) {
                throw new JsApiException(JsError.MESSAGE_SCHEDULES_SCHEDULER_INVALID);
            }
            if (!allowed) {
                throw new JsApiException(JsError.MESSAGE_SCHEDULES_DISABLED);
            }
            // lenient, as the reference: nothing stored on that subject is fine, something else than a schedule not
            StoredMessage last = stream.store().loadLast(scheduler);
            if (last != null && !isSchedule(HeaderBlock.parse(last.headers()))) {
                throw new JsApiException(JsError.MESSAGE_SCHEDULES_SCHEDULER_INVALID);
            }
        } else if (scheduler != null && !scheduler.isEmpty()) {
            throw new JsApiException(JsError.MESSAGE_SCHEDULES_SCHEDULER_INVALID);
        }
    }

    /**
     * After a message was stored at {@code seq} and {@code ts}: a schedule gets its first entry in the index; a
     * message marked {@code Nats-Schedule-Next: purge} (a one-shot's produced message, or a client's cancel) purges
     * its {@code Nats-Scheduler} subject; one marked with a time (a repeat's produced message) gives that schedule
     * its next entry. Runs wherever a message is stored, so a replayed or applied message has the same effect.
     */
    void stored(String subject, Map<String, String> h, long seq, long ts) {
        if (h.isEmpty()) {
            return;
        }
        StreamStore store = stream.store();
        String pattern = h.get(MessageSchedule.PATTERN);
        if (pattern != null && !pattern.isEmpty()) {
            MessageSchedule s = MessageSchedule.parse(pattern, h.get(MessageSchedule.TIME_ZONE));
            if (s != null) {
                store.indexSchedule(seq, s.first(ts));
            }
        }
        String next = h.get(MessageSchedule.NEXT);
        String scheduler = h.get(MessageSchedule.SCHEDULER);
        if (next == null || next.isEmpty() || scheduler == null || scheduler.isEmpty() || scheduler.equals(subject)) {
            return;
        }
        if (next.equals(MessageSchedule.PURGE)) {
            store.purge(scheduler, 0, 0);
        } else {
            long t = MessageSchedule.parseNext(next);
            SubjectState ss = store.subjectState(scheduler);
            if (t >= 0 && ss.msgs() > 0) {
                store.indexSchedule(ss.lastSeq(), t);
            }
        }
    }

    /** Fires every schedule due at {@code now} (up to {@link #FIRE_CAP}), in the order the schedules were stored. */
    void fireDue(long now, Stream.Batch batch) {
        StreamStore store = stream.store();
        if (store.nextScheduleDeadline() > now) {
            return;
        }
        List<long[]> due = new ArrayList<>(store.takeDueSchedules(now, FIRE_CAP));
        batch.markDirty(); // the index changed even when no schedule was left to fire
        due.sort(Comparator.comparingLong(e -> e[1]));
        for (long[] e : due) {
            fire(store, e[0], e[1], now, batch);
        }
    }

    private void fire(StreamStore store, long deadline, long seq, long now, Stream.Batch batch) {
        StoredMessage m = store.load(seq);
        // gone (deleted, purged, expired, replaced by a newer schedule), or no longer its subject's last message
        if (m == null || store.subjectState(m.subject()).lastSeq() != seq) {
            return;
        }
        Map<String, String> h = HeaderBlock.parse(m.headers());
        String pattern = h.get(MessageSchedule.PATTERN);
        MessageSchedule s = pattern == null || pattern.isEmpty()
                ? null : MessageSchedule.parse(pattern, h.get(MessageSchedule.TIME_ZONE));
        String target = h.get(MessageSchedule.TARGET);
        if (s == null || target == null || target.isEmpty()) {
            return;
        }
        byte[] hdr = m.headers();
        byte[] payload = m.payload();
        String source = h.get(MessageSchedule.SOURCE);
        if (source != null && !source.isEmpty()) {
            StoredMessage last = store.loadLast(source);
            if (last != null) { // an empty source sends the schedule's own body
                hdr = last.headers();
                payload = last.payload();
            }
        }
        long next = s.repeats() ? s.next(deadline, now) : 0;
        List<String> extra = new ArrayList<>(8);
        extra.add(MessageSchedule.SCHEDULER);
        extra.add(m.subject());
        extra.add(MessageSchedule.NEXT);
        extra.add(s.repeats() ? s.format(next) : MessageSchedule.PURGE);
        String ttl = h.get(MessageSchedule.TTL);
        if (ttl != null && !ttl.isEmpty()) {
            extra.add(MessageTtl.HEADER);
            extra.add(ttl);
        }
        String rollup = h.get(MessageSchedule.ROLLUP);
        if (rollup != null && !rollup.isEmpty()) {
            extra.add("Nats-Rollup");
            extra.add(rollup);
        }
        // the schedule's own headers go (Nats-Schedule* and Nats-Scheduler share the prefix), the rest ride along
        byte[] out = HeaderBlock.append(HeaderBlock.without(hdr, MessageSchedule.PATTERN, "Nats-Expected-",
                "Nats-Msg-Id:", MessageTtl.HEADER + ":", "Nats-Rollup:"), extra.toArray(new String[0]));
        firing = true;
        try {
            stream.storeProduced(target, out, payload, now, batch);
        } catch (JsApiException e) {
            // nothing was stored, so stored() did not move the schedule on: a repeat waits for its next time
            LOG.warn("stream {}: schedule {} (seq {}) could not store its message on {}: {}", stream.name(),
                    m.subject(), seq, target, e.getMessage());
            store.indexSchedule(seq, s.repeats() ? next : now + RETRY_NANOS);
        } finally {
            firing = false;
        }
    }

    private static boolean isSchedule(Map<String, String> h) {
        String p = h.get(MessageSchedule.PATTERN);
        return p != null && !p.isEmpty();
    }

    private static boolean inStream(StreamConfig cfg, String subject) {
        for (String s : cfg.subjects()) {
            if (Subject.matches(s, subject)) {
                return true;
            }
        }
        return false;
    }
}
