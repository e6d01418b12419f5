package io.jetkv.conformance.faults;

import java.util.ArrayList;
import java.util.List;

/**
 * The sequential specification of one KV key, as NATS KV defines it: a register whose every write (put,
 * create, update, delete marker) gets a revision above all earlier ones of the key; {@code create} succeeds
 * only while the key is absent (never written, or deleted), {@code update} only while its revision equals the
 * expected one. Pure functions; used by {@link LinearizabilityChecker} on the checking thread.
 *
 * <p>Two things a client cannot see are modelled as unknowns: the revision a delete marker got (jnats'
 * {@code delete} returns nothing), and the revision of a write whose outcome is indeterminate. Such a state
 * keeps the old revision as a lower bound; a later read that names the revision pins it down. The workload
 * updates only with revisions it was told, never a delete marker's, so an update cannot succeed on a deleted
 * key.
 */
public final class KvRegisterModel {
    private KvRegisterModel() {}

    /**
     * The register: {@code revision} is exact when {@code revisionKnown}, else a strict lower bound.
     * {@code value} is null when the key is absent.
     */
    public record State(boolean exists, String value, long revision, boolean revisionKnown) {
        public static final State INITIAL = new State(false, null, 0, true);

        @Override
        public String toString() {
            String rev = revisionKnown ? "rev " + revision : "rev > " + revision;
            return exists ? "\"" + value + "\" @ " + rev : "absent (" + rev + ")";
        }
    }

    /**
     * What applying an operation to a state may yield: the possible next states (more than one for an
     * indeterminate write, which may or may not have happened), or none and the reason.
     */
    public record Step(List<State> next, String whyNot) {
        static Step to(State... states) {
            return new Step(List.of(states), null);
        }

        static Step illegal(String why) {
            return new Step(List.of(), why);
        }

        public boolean legal() {
            return !next.isEmpty();
        }
    }

    /** True when the operation constrains nothing and can be left out of the check. */
    public static boolean irrelevant(KvOp op) {
        return switch (op.outcome()) {
            case OK -> false;
            // a get that got no answer read nothing; a failed put or delete did nothing
            case FAILED -> op.kind() == KvOp.Kind.GET || op.kind() == KvOp.Kind.PUT || op.kind() == KvOp.Kind.DELETE;
            case INDETERMINATE -> op.kind() == KvOp.Kind.GET;
            case NOT_APPLIED -> true;
        };
    }

    public static Step step(State s, KvOp op) {
        return switch (op.outcome()) {
            case OK -> ok(s, op);
            case FAILED -> failed(s, op);
            case INDETERMINATE -> maybe(s, op);
            case NOT_APPLIED -> Step.to(s);
        };
    }

    private static Step ok(State s, KvOp op) {
        switch (op.kind()) {
            case GET -> {
                if (op.readValue() == null) {
                    return s.exists() ? Step.illegal("read nothing, but the key holds " + s) : Step.to(s);
                }
                if (!s.exists()) {
                    return Step.illegal("read \"" + op.readValue() + "\" @ rev " + op.revision() + ", but the key is "
                            + s);
                }
                if (!s.value().equals(op.readValue())) {
                    boolean older = op.revision() <= s.revision();
                    return Step.illegal((older ? "stale read: " : "") + "read \"" + op.readValue() + "\" @ rev "
                            + op.revision() + ", but the key holds " + s);
                }
                if (s.revisionKnown() ? op.revision() != s.revision() : op.revision() <= s.revision()) {
                    return Step.illegal("read the right value at rev " + op.revision() + ", but the key holds " + s);
                }
                return Step.to(new State(true, s.value(), op.revision(), true));
            }
            case PUT -> {
                return above(s, op) ? Step.to(written(op)) : Step.illegal(notAbove(s, op));
            }
            case CREATE -> {
                if (s.exists()) {
                    return Step.illegal("create succeeded, but the key already holds " + s);
                }
                return above(s, op) ? Step.to(written(op)) : Step.illegal(notAbove(s, op));
            }
            case UPDATE -> {
                if (!casMatches(s, op)) {
                    return Step.illegal("update succeeded on rev " + op.expectedRevision() + ", but the key is " + s
                            + (s.revisionKnown() && s.revision() > op.expectedRevision()
                                    ? ": a compare-and-set on a stale revision" : ""));
                }
                return above(s, op) ? Step.to(written(op)) : Step.illegal(notAbove(s, op));
            }
            case DELETE -> {
                return Step.to(deleted(s));
            }
        }
        throw new IllegalArgumentException(op.toString());
    }

    private static Step failed(State s, KvOp op) {
        switch (op.kind()) {
            case CREATE -> {
                return s.exists() ? Step.to(s) : Step.illegal("create failed, but the key is " + s);
            }
            case UPDATE -> {
                boolean mustMatch = s.revisionKnown() && s.revision() == op.expectedRevision();
                return mustMatch ? Step.illegal("update on rev " + op.expectedRevision()
                        + " failed, but the key is " + s) : Step.to(s);
            }
            default -> {
                return Step.to(s);
            }
        }
    }

    /**
     * Indeterminate: the write happened here (revision unknown), or never. The checker offers "never" only once
     * every operation with a known return is placed (it changes nothing, so the end is as good a place as
     * any), which keeps the search from dropping the write early and then backtracking over everything after.
     */
    private static Step maybe(State s, KvOp op) {
        List<State> next = new ArrayList<>(2);
        switch (op.kind()) {
            case PUT -> next.add(new State(true, op.value(), s.revision(), false));
            case CREATE -> {
                if (!s.exists()) {
                    next.add(new State(true, op.value(), s.revision(), false));
                }
            }
            case UPDATE -> {
                if (casMatches(s, op)) {
                    next.add(new State(true, op.value(), Math.max(s.revision(), op.expectedRevision()), false));
                }
            }
            case DELETE -> next.add(deleted(s));
            case GET -> {}
        }
        next.add(s);
        return new Step(next, next.size() > 1 ? null : "cannot take effect on " + s);
    }

    /** Whether an update expecting {@code op.expectedRevision()} can succeed on {@code s}. */
    private static boolean casMatches(State s, KvOp op) {
        if (s.revisionKnown()) {
            return s.revision() == op.expectedRevision();
        }
        // an indeterminate write's revision is above the bound; a delete marker's is never one a client holds
        return s.exists() && op.expectedRevision() > s.revision();
    }

    private static boolean above(State s, KvOp op) {
        return op.revision() > s.revision();
    }

    private static String notAbove(State s, KvOp op) {
        return "stored at rev " + op.revision() + ", not above the key's " + s;
    }

    private static State written(KvOp op) {
        return new State(true, op.value(), op.revision(), true);
    }

    private static State deleted(State s) {
        return new State(false, null, s.revision(), false);
    }
}
