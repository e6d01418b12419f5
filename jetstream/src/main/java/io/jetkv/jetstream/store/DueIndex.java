package io.jetkv.jetstream.store;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatchWithIndex;

/**
 * One deadline index of a {@link RocksStreamStore}: rows {@code kind deadline(8) seq(8) -> empty}, staged in the
 * store's batch, that hand out the sequences whose deadline has come, earliest first. The store keeps two, for
 * per-message TTLs ({@code Nats-TTL}) and for message schedules. Confined to the stream's writer thread, as its
 * store is.
 *
 * <p>A TTL row is written with its message and deleted when {@link #takeDue} hands it out. A message removed
 * another way leaves its row behind until the row comes due, when the store drops it: removals need not know about
 * TTLs, and purges by floor stay range deletes. Taking seeks from the earliest live deadline ({@link #next}), so the
 * tombstones of rows taken earlier are never walked again.
 */
final class DueIndex {
    private static final byte[] EMPTY = new byte[0];

    private final byte[] kind;
    private final ColumnFamilyHandle cf;
    private final WriteBatchWithIndex batch;
    /** No row, staged or stored, has an earlier deadline (Long.MAX_VALUE: none is known). */
    private long next = Long.MAX_VALUE;

    /** @param kind the stream prefix and the row kind, which every row of this index starts with */
    DueIndex(byte[] kind, ColumnFamilyHandle cf, WriteBatchWithIndex batch) {
        this.kind = kind;
        this.cf = cf;
        this.batch = batch;
    }

    /** Finds the earliest stored deadline, as the store opens. */
    void recover(RocksIterator it) {
        it.seek(kind);
        next = deadlineAt(it);
    }

    /** The earliest deadline of a row, staged or stored, or Long.MAX_VALUE when there is none. */
    long next() {
        return next;
    }

    /** Stages a row for {@code seq}; {@code deadline} is not negative. */
    void add(long deadline, long seq) throws RocksDBException {
        batch.put(cf, key(deadline, seq), EMPTY);
        next = Math.min(next, deadline);
    }

    /**
     * Deletes (in the batch) up to {@code max} rows due by {@code now}, earliest first, and returns them as
     * {@code {deadline, seq}}; {@code iterators} gives an iterator that sees the batch.
     */
    List<long[]> takeDue(Supplier<RocksIterator> iterators, long now, int max) throws RocksDBException {
        if (next > now) {
            return List.of();
        }
        List<byte[]> due = new ArrayList<>();
        long after;
        try (RocksIterator it = iterators.get()) {
            // from the earliest live deadline: the tombstones of rows taken before lie below it and are skipped
            it.seek(key(next, 0));
            while (due.size() < max && deadlineAt(it) <= now) {
                due.add(it.key());
                it.next();
            }
            after = deadlineAt(it);
        }
        // deleted after the iterator is gone: a batch must not change under an iterator reading it
        List<long[]> out = new ArrayList<>(due.size());
        for (byte[] key : due) {
            batch.delete(cf, key);
            out.add(new long[] {MessageCodec.getLong(key, kind.length), MessageCodec.getLong(key, kind.length + 8)});
        }
        next = after;
        return out;
    }

    /** The deadline of the iterator's row of this index, or Long.MAX_VALUE past them. */
    private long deadlineAt(RocksIterator it) {
        if (!it.isValid()) {
            return Long.MAX_VALUE;
        }
        byte[] key = it.key();
        if (key.length != kind.length + 16 || !RocksStorage.startsWith(key, kind)) {
            return Long.MAX_VALUE;
        }
        return MessageCodec.getLong(key, kind.length);
    }

    /** A row's key; deadlines are never negative here, so big-endian bytes sort as the numbers do. */
    private byte[] key(long deadline, long seq) {
        byte[] k = Arrays.copyOf(kind, kind.length + 16);
        MessageCodec.putLong(k, kind.length, deadline);
        MessageCodec.putLong(k, kind.length + 8, seq);
        return k;
    }
}
