package io.jetkv.jetstream.store;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Memory storage ({@code storage: memory}): messages in a map by sequence, plus the sequences of each
 * subject in a sorted set so per-subject reads and purges never scan the stream. Nothing survives a
 * restart, so {@link #flush} has nothing to do.
 *
 * <p>Messages are kept by reference: callers hand over arrays they no longer mutate, and must not mutate
 * what {@link #load} returns. Confined to the stream's writer thread like every {@link StreamStore}.
 */
public final class MemoryStreamStore implements StreamStore {
    private final TreeMap<Long, StoredMessage> messages = new TreeMap<>();
    private final Map<String, PerSubject> subjects = new HashMap<>();
    private long bytes;
    private long lastSeq;
    private long lastTimestamp;
    /** At least the highest sequence appended with a Nats-Msg-Id (see StreamStore#lastMsgIdSeq); a new store knows. */
    private long lastMsgIdSeq;
    /** Grows with every removal, see {@link #removals}. */
    private long removals;
    /** See {@link #maxRemovedSeq}. */
    private long maxRemovedSeq;
    private boolean closed;
    private final Map<String, byte[]> aux = new HashMap<>();
    /**
     * Messages with a finite {@code Nats-TTL} by deadline, then sequence: {deadline, seq}. An entry outlives a
     * message removed another way until it comes due ({@link #takeExpiredTtl} drops it then).
     */
    private final TreeSet<long[]> ttlIndex = new TreeSet<>(MemoryStreamStore::compareTtl);
    /** The schedule index, {deadline, seq} as {@link #ttlIndex}; see {@link #indexSchedule}. */
    private final TreeSet<long[]> scheduleIndex = new TreeSet<>(MemoryStreamStore::compareTtl);

    private static final class PerSubject {
        final TreeSet<Long> seqs = new TreeSet<>();
        long bytes;
    }

    @Override
    public long append(String subject, byte[] headers, byte[] payload, long timestamp) {
        ensureOpen();
        long seq = lastSeq + 1;
        var msg = new StoredMessage(seq, subject, headers, payload == null ? new byte[0] : payload, timestamp);
        messages.put(seq, msg);
        PerSubject ps = subjects.computeIfAbsent(subject, k -> new PerSubject());
        ps.seqs.add(seq);
        long size = msg.storedSize();
        ps.bytes += size;
        bytes += size;
        lastSeq = seq;
        lastTimestamp = timestamp;
        if (MessageCodec.mayHoldMsgId(headers)) {
            lastMsgIdSeq = seq;
        }
        long deadline = MessageTtl.deadline(headers, timestamp);
        if (deadline != 0) {
            ttlIndex.add(new long[] {deadline, seq});
        }
        return seq;
    }

    @Override
    public long lastMsgIdSeq() {
        ensureOpen();
        return lastMsgIdSeq;
    }

    @Override
    public long nextTtlDeadline() {
        ensureOpen();
        return ttlIndex.isEmpty() ? Long.MAX_VALUE : ttlIndex.first()[0];
    }

    @Override
    public List<StoredMessage> takeExpiredTtl(long now, int max) {
        ensureOpen();
        List<StoredMessage> out = new ArrayList<>();
        while (out.size() < max && !ttlIndex.isEmpty() && ttlIndex.first()[0] <= now) {
            StoredMessage m = messages.get(ttlIndex.pollFirst()[1]);
            if (m != null) {
                out.add(m);
            }
        }
        return out;
    }

    @Override
    public void indexSchedule(long seq, long deadline) {
        ensureOpen();
        scheduleIndex.add(new long[] {deadline, seq});
    }

    @Override
    public long nextScheduleDeadline() {
        ensureOpen();
        return scheduleIndex.isEmpty() ? Long.MAX_VALUE : scheduleIndex.first()[0];
    }

    @Override
    public List<long[]> takeDueSchedules(long now, int max) {
        ensureOpen();
        List<long[]> out = new ArrayList<>();
        while (out.size() < max && !scheduleIndex.isEmpty() && scheduleIndex.first()[0] <= now) {
            out.add(scheduleIndex.pollFirst());
        }
        return out;
    }

    private static int compareTtl(long[] a, long[] b) {
        int c = Long.compare(a[0], b[0]);
        return c != 0 ? c : Long.compare(a[1], b[1]);
    }

    @Override
    public void skipTo(long nextSeq) {
        ensureOpen();
        purgeBelow(nextSeq);
        // last_seq never decreases: skipping backwards over an emptied range only drops messages
        lastSeq = Math.max(lastSeq, nextSeq - 1);
    }

    @Override
    public void advanceTo(long nextSeq) {
        ensureOpen();
        if (messages.isEmpty()) {
            skipTo(nextSeq);
        } else {
            lastSeq = Math.max(lastSeq, nextSeq - 1);
        }
    }

    @Override
    public void putAux(String key, byte[] value) {
        ensureOpen();
        if (value == null) {
            aux.remove(key);
        } else {
            aux.put(key, value);
        }
    }

    @Override
    public byte[] getAux(String key) {
        ensureOpen();
        return aux.get(key);
    }

    @Override
    public boolean remove(long seq, boolean erase) {
        ensureOpen();
        // erase: dropping the only reference is all memory storage can do; the bytes may be shared with
        // a delivery in flight, so they are not overwritten
        return removeMessage(seq) != null;
    }

    @Override
    public long purge(String filter, long upToSeq, long keep) {
        ensureOpen();
        long bound = upToSeq <= 0 ? Long.MAX_VALUE : upToSeq;
        keep = Math.max(0, keep);
        if (Filters.isAll(filter)) {
            return purgeAll(bound, keep);
        }
        if (!Filters.isWildcard(filter)) {
            return purgeSubject(filter, bound, keep);
        }
        List<String> matching = matchingSubjects(filter);
        if (keep == 0) {
            long removed = 0;
            for (String s : matching) {
                removed += purgeSubject(s, bound, 0);
            }
            return removed;
        }
        // keep counts over all matching messages together, so walk them in sequence order
        long total = 0;
        for (String s : matching) {
            total += subjects.get(s).seqs.size();
        }
        long toRemove = total - keep;
        List<Long> victims = new ArrayList<>();
        for (StoredMessage m : messages.headMap(bound, false).values()) {
            if (victims.size() >= toRemove) {
                break;
            }
            if (Filters.matches(filter, m.subject())) {
                victims.add(m.seq());
            }
        }
        victims.forEach(this::removeMessage);
        return victims.size();
    }

    private long purgeAll(long bound, long keep) {
        if (keep > 0) {
            if (keep >= messages.size()) {
                return 0;
            }
            // the keep-th newest message and everything after it survive
            Iterator<Long> newest = messages.descendingKeySet().iterator();
            long kept = newest.next();
            for (long i = 1; i < keep; i++) {
                kept = newest.next();
            }
            bound = Math.min(bound, kept);
        }
        return purgeBelow(bound);
    }

    private long purgeBelow(long bound) {
        if (messages.isEmpty() || bound <= messages.firstKey()) {
            return 0;
        }
        if (bound > messages.lastKey()) {
            long removed = messages.size();
            removals += removed;
            maxRemovedSeq = Math.max(maxRemovedSeq, messages.lastKey());
            messages.clear();
            subjects.clear();
            bytes = 0;
            return removed;
        }
        var head = messages.headMap(bound, false);
        long removed = head.size();
        removals += removed;
        maxRemovedSeq = Math.max(maxRemovedSeq, bound - 1);
        for (StoredMessage m : head.values()) {
            PerSubject ps = subjects.get(m.subject());
            ps.seqs.remove(m.seq());
            long size = m.storedSize();
            ps.bytes -= size;
            bytes -= size;
            if (ps.seqs.isEmpty()) {
                subjects.remove(m.subject());
            }
        }
        head.clear();
        return removed;
    }

    private long purgeSubject(String subject, long bound, long keep) {
        PerSubject ps = subjects.get(subject);
        if (ps == null) {
            return 0;
        }
        long max = ps.seqs.size() - keep;
        List<Long> victims = new ArrayList<>();
        for (Long seq : ps.seqs.headSet(bound, false)) {
            if (victims.size() >= max) {
                break;
            }
            victims.add(seq);
        }
        victims.forEach(this::removeMessage);
        return victims.size();
    }

    private StoredMessage removeMessage(long seq) {
        StoredMessage m = messages.remove(seq);
        if (m == null) {
            return null;
        }
        removals++;
        maxRemovedSeq = Math.max(maxRemovedSeq, seq);
        long size = m.storedSize();
        bytes -= size;
        PerSubject ps = subjects.get(m.subject());
        ps.seqs.remove(seq);
        ps.bytes -= size;
        if (ps.seqs.isEmpty()) {
            subjects.remove(m.subject());
        }
        return m;
    }

    @Override
    public void flush(boolean sync) {
        ensureOpen();
    }

    @Override
    public StoredMessage load(long seq) {
        ensureOpen();
        return messages.get(seq);
    }

    @Override
    public StoredMessage loadNext(long fromSeq, String filter) {
        ensureOpen();
        if (Filters.isAll(filter)) {
            var e = messages.ceilingEntry(fromSeq);
            return e == null ? null : e.getValue();
        }
        if (!Filters.isWildcard(filter)) {
            PerSubject ps = subjects.get(filter);
            Long seq = ps == null ? null : ps.seqs.ceiling(fromSeq);
            return seq == null ? null : messages.get(seq);
        }
        for (StoredMessage m : messages.tailMap(fromSeq, true).values()) {
            if (Filters.matches(filter, m.subject())) {
                return m;
            }
        }
        return null;
    }

    @Override
    public StoredMessage loadLast(String filter) {
        ensureOpen();
        if (Filters.isAll(filter)) {
            return messages.isEmpty() ? null : messages.lastEntry().getValue();
        }
        long best = 0;
        for (var e : subjects.entrySet()) {
            if (Filters.matches(filter, e.getKey())) {
                best = Math.max(best, e.getValue().seqs.last());
            }
        }
        return best == 0 ? null : messages.get(best);
    }

    @Override
    public int loadNextBatch(long fromSeq, long toSeq, String filter, int max, long maxBytes,
            List<StoredMessage> out) {
        ensureOpen();
        if (fromSeq > toSeq || max <= 0 || maxBytes <= 0) {
            return 0;
        }
        Iterable<StoredMessage> candidates;
        if (!Filters.isAll(filter) && !Filters.isWildcard(filter)) {
            PerSubject ps = subjects.get(filter);
            if (ps == null) {
                return 0;
            }
            List<StoredMessage> bySubject = new ArrayList<>();
            for (Long seq : ps.seqs.subSet(fromSeq, true, toSeq, true)) {
                if (bySubject.size() == max) {
                    break;
                }
                bySubject.add(messages.get(seq));
            }
            candidates = bySubject;
        } else {
            candidates = messages.subMap(fromSeq, true, toSeq, true).values();
        }
        int n = 0;
        long bytes = 0;
        for (StoredMessage m : candidates) {
            if (n == max || bytes >= maxBytes) {
                break;
            }
            if (Filters.matches(filter, m.subject())) {
                out.add(m);
                n++;
                bytes += StreamStore.sizeOf(m);
            }
        }
        return n;
    }

    @Override
    public long lastSeq() {
        ensureOpen();
        return lastSeq;
    }

    @Override
    public long removals() {
        return removals;
    }

    @Override
    public long maxRemovedSeq() {
        return maxRemovedSeq;
    }

    @Override
    public StreamState state() {
        ensureOpen();
        long msgs = messages.size();
        if (msgs == 0) {
            return new StreamState(0, 0, lastSeq + 1, 0, lastSeq, lastTimestamp, 0, 0);
        }
        var first = messages.firstEntry().getValue();
        long numDeleted = lastSeq - first.seq() + 1 - msgs;
        return new StreamState(msgs, bytes, first.seq(), first.timestamp(), lastSeq, lastTimestamp,
                subjects.size(), numDeleted);
    }

    @Override
    public SubjectState subjectState(String subject) {
        ensureOpen();
        PerSubject ps = subjects.get(subject);
        return ps == null ? SubjectState.EMPTY : new SubjectState(ps.seqs.size(), ps.seqs.first(), ps.seqs.last());
    }

    @Override
    public Map<String, Long> subjectCounts(String filter) {
        ensureOpen();
        var out = new TreeMap<String, Long>();
        for (var e : subjects.entrySet()) {
            if (Filters.matches(filter, e.getKey())) {
                out.put(e.getKey(), (long) e.getValue().seqs.size());
            }
        }
        return out;
    }

    @Override
    public String[] subjectsMatching(String filter) {
        ensureOpen();
        String[] out = new String[subjects.size()];
        int n = 0;
        boolean all = Filters.isAll(filter);
        for (var e : subjects.entrySet()) {
            if (!e.getValue().seqs.isEmpty() && (all || Filters.matches(filter, e.getKey()))) {
                out[n++] = e.getKey();
            }
        }
        return n == out.length ? out : Arrays.copyOf(out, n);
    }

    @Override
    public long[] lastSeqsMatching(String filter) {
        ensureOpen();
        long[] out = new long[subjects.size()];
        int n = 0;
        for (var e : subjects.entrySet()) {
            if (!e.getValue().seqs.isEmpty() && Filters.matches(filter, e.getKey())) {
                out[n++] = e.getValue().seqs.last();
            }
        }
        return n == out.length ? out : java.util.Arrays.copyOf(out, n);
    }

    @Override
    public long countMatching(long fromSeq, String filter) {
        ensureOpen();
        if (Filters.isAll(filter)) {
            return messages.isEmpty() || fromSeq <= messages.firstKey() ? messages.size()
                    : messages.tailMap(fromSeq, true).size();
        }
        if (messages.isEmpty() || fromSeq > messages.lastKey()) {
            return 0;
        }
        long n = 0;
        if (messages.lastKey() - fromSeq < subjects.size()) {
            // fewer messages to walk than subjects to match (a consumer near the end of a large bucket)
            for (var m : messages.tailMap(fromSeq, true).values()) {
                if (Filters.matches(filter, m.subject())) {
                    n++;
                }
            }
            return n;
        }
        for (var e : subjects.entrySet()) {
            if (Filters.matches(filter, e.getKey())) {
                NavigableSet<Long> seqs = e.getValue().seqs;
                n += fromSeq <= seqs.first() ? seqs.size() : seqs.tailSet(fromSeq, true).size();
            }
        }
        return n;
    }

    @Override
    public long[] deletedSequences() {
        ensureOpen();
        if (messages.isEmpty()) {
            return new long[0];
        }
        long first = messages.firstKey();
        // toIntExact: more gaps than an array holds is refused, not truncated
        long[] out = new long[Math.toIntExact(lastSeq - first + 1 - messages.size())];
        int i = 0;
        long expect = first;
        for (long seq : messages.keySet()) {
            while (expect < seq) {
                out[i++] = expect++;
            }
            expect = seq + 1;
        }
        while (expect <= lastSeq) {
            out[i++] = expect++;
        }
        return i == out.length ? out : Arrays.copyOf(out, i);
    }

    @Override
    public void destroy() {
        close();
    }

    @Override
    public void close() {
        closed = true;
        messages.clear();
        subjects.clear();
        ttlIndex.clear();
        scheduleIndex.clear();
        bytes = 0;
    }

    private List<String> matchingSubjects(String filter) {
        List<String> out = new ArrayList<>();
        for (String s : subjects.keySet()) {
            if (Filters.matches(filter, s)) {
                out.add(s);
            }
        }
        return out;
    }

    private void ensureOpen() {
        if (closed) {
            throw new StoreException("memory store is closed");
        }
    }
}
