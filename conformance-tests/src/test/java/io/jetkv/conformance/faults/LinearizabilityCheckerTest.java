package io.jetkv.conformance.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jetkv.conformance.faults.KvOp.Kind;
import io.jetkv.conformance.faults.KvOp.Outcome;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Hand-written histories, each with its verdict; times are in milliseconds. */
class LinearizabilityCheckerTest {
    private static final long NEVER = Long.MAX_VALUE;

    /** Builds a history; {@code from}/{@code to} in ms. */
    private static final class H {
        final List<KvOp> ops = new ArrayList<>();

        private H add(int c, Kind kind, String value, long expected, long from, long to, Outcome o, String read,
                long rev) {
            ops.add(new KvOp(ops.size(), c, kind, "k", value, expected, from * 1_000_000,
                    to == NEVER ? NEVER : to * 1_000_000, o, read, rev, o == Outcome.OK ? null : "why"));
            return this;
        }

        H put(int c, String v, long from, long to, long rev) {
            return add(c, Kind.PUT, v, 0, from, to, Outcome.OK, null, rev);
        }

        H putUnknown(int c, String v, long from) {
            return add(c, Kind.PUT, v, 0, from, NEVER, Outcome.INDETERMINATE, null, 0);
        }

        H get(int c, long from, long to, String read, long rev) {
            return add(c, Kind.GET, null, 0, from, to, Outcome.OK, read, rev);
        }

        H create(int c, String v, long from, long to, long rev) {
            return add(c, Kind.CREATE, v, 0, from, to, Outcome.OK, null, rev);
        }

        H createFails(int c, String v, long from, long to) {
            return add(c, Kind.CREATE, v, 0, from, to, Outcome.FAILED, null, 0);
        }

        H update(int c, String v, long expected, long from, long to, long rev) {
            return add(c, Kind.UPDATE, v, expected, from, to, Outcome.OK, null, rev);
        }

        H updateFails(int c, String v, long expected, long from, long to) {
            return add(c, Kind.UPDATE, v, expected, from, to, Outcome.FAILED, null, 0);
        }

        H updateUnknown(int c, String v, long expected, long from) {
            return add(c, Kind.UPDATE, v, expected, from, NEVER, Outcome.INDETERMINATE, null, 0);
        }

        H delete(int c, long from, long to) {
            return add(c, Kind.DELETE, null, 0, from, to, Outcome.OK, null, 0);
        }

        LinearizabilityChecker.Report check() {
            return new LinearizabilityChecker().check(ops);
        }
    }

    private static void assertLinearizable(H h) {
        LinearizabilityChecker.Report r = h.check();
        assertTrue(r.linearizable(), r.explanation());
    }

    private static String assertViolation(H h, String... expectedInExplanation) {
        LinearizabilityChecker.Report r = h.check();
        assertFalse(r.linearizable(), r.explanation());
        assertEquals(LinearizabilityChecker.Verdict.NOT_LINEARIZABLE, r.keys().get(0).verdict());
        String text = r.explanation();
        for (String s : expectedInExplanation) {
            assertTrue(text.contains(s), "explanation lacks <" + s + ">:\n" + text);
        }
        return text;
    }

    @Test
    void sequentialHistoryWithEveryOperationIsLinearizable() {
        assertLinearizable(new H()
                .get(0, 0, 1, null, 0)
                .create(0, "a", 2, 3, 1)
                .createFails(1, "b", 4, 5)
                .get(1, 6, 7, "a", 1)
                .update(1, "b", 1, 8, 9, 2)
                .updateFails(0, "c", 1, 10, 11)
                .put(0, "d", 12, 13, 7) // revisions are the bucket's: other keys' writes leave gaps
                .delete(1, 14, 15)
                .get(0, 16, 17, null, 0)
                .updateFails(0, "e", 7, 18, 19)
                .create(1, "f", 20, 21, 9)
                .get(0, 22, 23, "f", 9));
    }

    @Test
    void concurrentOperationsMayTakeEffectInEitherOrder() {
        // the get overlaps both puts and sees the first; the second get, later, sees the second
        assertLinearizable(new H()
                .put(0, "a", 0, 10, 1)
                .put(1, "b", 2, 12, 2)
                .get(2, 1, 11, "a", 1)
                .get(2, 13, 14, "b", 2));
        // two concurrent creates: one wins, and the loser may be reported before the winner returns
        assertLinearizable(new H()
                .create(0, "a", 0, 10, 1)
                .createFails(1, "b", 1, 5)
                .get(2, 11, 12, "a", 1));
        // a read inside a write's interval may see it before the writer hears its ack
        assertLinearizable(new H()
                .put(0, "a", 0, 10, 3)
                .get(1, 2, 3, "a", 3)
                .get(1, 4, 5, "a", 3));
    }

    @Test
    void indeterminateWritesMayTakeEffectLateOrNever() {
        // a put that timed out shows up later, at a revision only the read tells
        assertLinearizable(new H()
                .put(0, "a", 0, 1, 1)
                .putUnknown(1, "b", 2)
                .get(0, 3, 4, "a", 1)
                .get(0, 50, 51, "b", 4)
                .update(0, "c", 4, 52, 53, 5));
        // or it never does
        assertLinearizable(new H()
                .put(0, "a", 0, 1, 1)
                .putUnknown(1, "b", 2)
                .get(0, 50, 51, "a", 1));
        // an update that timed out may have won its compare-and-set, so the other update on rev 1 lost
        assertLinearizable(new H()
                .put(0, "a", 0, 1, 1)
                .updateUnknown(1, "b", 1, 2)
                .updateFails(0, "c", 1, 10, 11)
                .get(0, 12, 13, "b", 2));
    }

    @Test
    void staleReadIsCaught() {
        String text = assertViolation(new H()
                .put(0, "a", 0, 1, 1)
                .put(1, "b", 2, 3, 2)
                .get(2, 4, 5, "a", 1), "stale read", "read \"a\" @ rev 1", "\"b\" @ rev 2", "written by #1");
        assertTrue(text.contains("#2 c2 get -> \"a\" @ rev 1"), text);
    }

    @Test
    void lostAcknowledgedWriteIsCaught() {
        // the put was acknowledged, yet every read after it finds the key empty
        assertViolation(new H()
                .put(0, "a", 0, 1, 1)
                .get(1, 5, 6, null, 0)
                .get(2, 7, 8, null, 0),
                "read nothing, but the key holds \"a\" @ rev 1", "written by #0 (acknowledged at 0.001s)");
    }

    @Test
    void twoSuccessfulCreatesOfOneKeyAreCaught() {
        assertViolation(new H()
                .create(0, "a", 0, 1, 1)
                .create(1, "b", 2, 3, 2),
                "create succeeded, but the key already holds \"a\" @ rev 1");
        // concurrent ones too: whichever goes first, the other must fail
        assertViolation(new H()
                .create(0, "a", 0, 10, 1)
                .create(1, "b", 1, 9, 2),
                "create succeeded, but the key already holds");
    }

    @Test
    void compareAndSetOnAStaleRevisionIsCaught() {
        assertViolation(new H()
                .put(0, "a", 0, 1, 1)
                .update(1, "b", 1, 2, 3, 2)
                .update(2, "c", 1, 4, 5, 3),
                "update succeeded on rev 1", "a compare-and-set on a stale revision");
    }

    @Test
    void otherViolations() {
        // a create that failed on an absent key
        assertViolation(new H().createFails(0, "a", 0, 1), "create failed, but the key is absent");
        // an update on a deleted key cannot succeed: nobody holds the delete marker's revision
        assertViolation(new H()
                .put(0, "a", 0, 1, 1)
                .delete(0, 2, 3)
                .update(1, "b", 1, 4, 5, 3), "update succeeded on rev 1");
        // a revision that goes backwards
        assertViolation(new H()
                .put(0, "a", 0, 1, 5)
                .put(1, "b", 2, 3, 4), "not above");
        // a read of a value nobody wrote
        assertViolation(new H().get(0, 0, 1, "zz", 3), "no operation in the history");
        // a read of the future: the write began after the read had returned
        assertViolation(new H()
                .get(0, 0, 1, "a", 1)
                .put(1, "a", 2, 3, 1), "read \"a\" @ rev 1, but the key is absent");
    }

    @Test
    void keysAreCheckedApart() {
        List<KvOp> ops = new ArrayList<>();
        ops.add(new KvOp(0, 0, Kind.PUT, "x", "a", 0, 0, 10, Outcome.OK, null, 1, null));
        ops.add(new KvOp(1, 1, Kind.PUT, "y", "b", 0, 20, 30, Outcome.OK, null, 2, null));
        ops.add(new KvOp(2, 2, Kind.GET, "y", null, 0, 40, 50, Outcome.OK, "b", 2, null));
        ops.add(new KvOp(3, 2, Kind.GET, "x", null, 0, 60, 70, Outcome.OK, null, 0, null));
        LinearizabilityChecker.Report r = new LinearizabilityChecker().check(ops);
        assertFalse(r.linearizable());
        assertEquals(1, r.violations().size());
        assertEquals("x", r.violations().get(0).key());
    }

    /**
     * A long simulated history: five clients on one atomic register, each operation taking effect at a random
     * point inside its random interval, one in a hundred writes timing out. Checked in well under the budget; a
     * single corrupted read in it is found. Refuting takes an exhaustive search, and each operation pending
     * forever multiplies it, so that part has fewer timeouts.
     */
    @Test
    void thousandsOfConcurrentOperationsAreCheckedQuickly() {
        List<KvOp> ops = simulate(new Random(42), 4000, 100);
        long start = System.nanoTime();
        LinearizabilityChecker.Report r = new LinearizabilityChecker().check(ops);
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertTrue(r.linearizable(), r.explanation());
        assertTrue(ms < 20_000, "took " + ms + " ms");

        ops = simulate(new Random(7), 4000, 2000);

        // corrupt one read in the middle: it returns the value two writes back
        List<KvOp> bad = new ArrayList<>(ops);
        for (int i = ops.size() / 2; i < ops.size(); i++) {
            KvOp op = ops.get(i);
            if (op.kind() == Kind.GET && op.readValue() != null && op.outcome() == Outcome.OK) {
                KvOp older = olderWrite(ops, op);
                if (older != null) {
                    bad.set(i, new KvOp(op.id(), op.client(), op.kind(), op.key(), null, 0, op.invokedAt(),
                            op.completedAt(), Outcome.OK, older.value(), older.revision(), null));
                    break;
                }
            }
        }
        LinearizabilityChecker.Report r2 = new LinearizabilityChecker().check(bad);
        assertFalse(r2.linearizable(), "the corrupted history passed");
        assertTrue(r2.explanation().contains("stale read"), r2.explanation());
    }

    /** An acknowledged write that completed well before {@code read} began, other than the one it read. */
    private static KvOp olderWrite(List<KvOp> ops, KvOp read) {
        KvOp best = null;
        for (KvOp op : ops) {
            if (op.kind() == Kind.PUT && op.outcome() == Outcome.OK && op.completedAt() < read.invokedAt() - 200
                    && !op.value().equals(read.readValue()) && op.revision() < read.revision()) {
                best = op;
            }
        }
        return best;
    }

    static List<KvOp> simulate(Random rnd, int n, int timeoutOneIn) {
        List<KvOp> ops = new ArrayList<>();
        int clients = 5;
        long[] free = new long[clients]; // each client runs one operation at a time
        KvRegisterModel.State s = KvRegisterModel.State.INITIAL;
        long rev = 0;
        long t = 0;
        for (int i = 0; i < n; i++) {
            t += 1 + rnd.nextInt(10);
            // the operation takes effect at t, on a client that is idle by then
            int c = rnd.nextInt(clients);
            while (free[c] > t) {
                c = (c + 1) % clients;
                if (c == 0) {
                    t++;
                }
            }
            long invoke = Math.max(free[c], t - rnd.nextInt(30));
            long complete = t + rnd.nextInt(30);
            free[c] = complete + 1;
            int pick = rnd.nextInt(10);
            String v = "c" + c + "-" + i;
            KvOp op;
            boolean timeout = rnd.nextInt(timeoutOneIn) == 0;
            if (pick < 4) {
                op = new KvOp(i, c, Kind.GET, "k", null, 0, invoke, complete, Outcome.OK, s.value(),
                        s.exists() ? s.revision() : 0, null);
            } else if (pick < 6) {
                rev++;
                op = new KvOp(i, c, Kind.PUT, "k", v, 0, invoke, complete, Outcome.OK, null, rev, null);
                s = new KvRegisterModel.State(true, v, rev, true);
            } else if (pick < 7) {
                boolean ok = !s.exists();
                if (ok) {
                    rev++;
                    s = new KvRegisterModel.State(true, v, rev, true);
                }
                op = new KvOp(i, c, Kind.CREATE, "k", v, 0, invoke, complete, ok ? Outcome.OK : Outcome.FAILED,
                        null, ok ? rev : 0, null);
            } else if (pick < 9) {
                long expected = s.exists() && rnd.nextBoolean() ? s.revision() : Math.max(1, rev - rnd.nextInt(3));
                boolean ok = s.exists() && s.revisionKnown() && s.revision() == expected;
                if (ok) {
                    rev++;
                    s = new KvRegisterModel.State(true, v, rev, true);
                }
                op = new KvOp(i, c, Kind.UPDATE, "k", v, expected, invoke, complete,
                        ok ? Outcome.OK : Outcome.FAILED, null, ok ? rev : 0, null);
            } else {
                rev++;
                s = new KvRegisterModel.State(false, null, rev, true);
                op = new KvOp(i, c, Kind.DELETE, "k", null, 0, invoke, complete, Outcome.OK, null, 0, null);
            }
            if (timeout && op.kind() != Kind.GET) {
                op = new KvOp(op.id(), c, op.kind(), "k", op.value(), op.expectedRevision(), invoke, Long.MAX_VALUE,
                        Outcome.INDETERMINATE, null, 0, "timeout");
            }
            ops.add(op);
        }
        return ops;
    }
}
