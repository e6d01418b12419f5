package io.jetkv.conformance.faults;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Records a concurrent KV history: each client calls {@link #invoke} just before it sends a request and one
 * of the {@link Pending} methods as soon as it has the answer (or has given up). Thread-safe; any thread.
 * Operations never completed count as indeterminate.
 */
public final class History {
    private final List<Pending> pending = new ArrayList<>();

    /** Starts an operation; {@code value} and {@code expectedRevision} as in {@link KvOp}. */
    public Pending invoke(int client, KvOp.Kind kind, String key, String value, long expectedRevision) {
        Pending p = new Pending(client, kind, key, value, expectedRevision, System.nanoTime());
        synchronized (pending) {
            pending.add(p);
        }
        return p;
    }

    /** The history so far, in invocation order, ids assigned in that order. */
    public List<KvOp> operations() {
        List<Pending> copy;
        synchronized (pending) {
            copy = new ArrayList<>(pending);
        }
        copy.sort(Comparator.comparingLong(p -> p.invokedAt));
        List<KvOp> ops = new ArrayList<>(copy.size());
        for (Pending p : copy) {
            ops.add(p.toOp(ops.size()));
        }
        return ops;
    }

    public int size() {
        synchronized (pending) {
            return pending.size();
        }
    }

    /** An invoked operation waiting for its outcome. Completed once; later calls are ignored. */
    public static final class Pending {
        private final int client;
        private final KvOp.Kind kind;
        private final String key;
        private final String value;
        private final long expectedRevision;
        private final long invokedAt;
        private long completedAt = Long.MAX_VALUE;
        private KvOp.Outcome outcome = KvOp.Outcome.INDETERMINATE;
        private String readValue;
        private long revision;
        private String note = "never completed";
        private boolean done;

        private Pending(int client, KvOp.Kind kind, String key, String value, long expectedRevision, long at) {
            this.client = client;
            this.kind = kind;
            this.key = key;
            this.value = value;
            this.expectedRevision = expectedRevision;
            this.invokedAt = at;
        }

        /** A write acknowledged at {@code revision}, or a delete acknowledged (revision 0). */
        public synchronized void ok(long revision) {
            complete(KvOp.Outcome.OK, null, revision, null, System.nanoTime());
        }

        /** A get that found {@code value} at {@code revision}; {@code value == null}: no entry. */
        public synchronized void read(String value, long revision) {
            complete(KvOp.Outcome.OK, value, value == null ? 0 : revision, null, System.nanoTime());
        }

        /** The server said the operation did not take effect (wrong last sequence). */
        public synchronized void failed(String why) {
            complete(KvOp.Outcome.FAILED, null, 0, why, System.nanoTime());
        }

        /** Cannot have taken effect, for a reason unrelated to the key (no server got the request). */
        public synchronized void notApplied(String why) {
            complete(KvOp.Outcome.NOT_APPLIED, null, 0, why, System.nanoTime());
        }

        /** No answer that says whether it took effect: a timeout, a lost connection, an unexpected error. */
        public synchronized void indeterminate(String why) {
            complete(KvOp.Outcome.INDETERMINATE, null, 0, why, Long.MAX_VALUE);
        }

        private void complete(KvOp.Outcome o, String read, long rev, String why, long at) {
            if (done) {
                return;
            }
            done = true;
            outcome = o;
            readValue = read;
            revision = rev;
            note = why;
            completedAt = at;
        }

        private synchronized KvOp toOp(int id) {
            return new KvOp(id, client, kind, key, value, expectedRevision, invokedAt, completedAt, outcome,
                    readValue, revision, note);
        }
    }
}
