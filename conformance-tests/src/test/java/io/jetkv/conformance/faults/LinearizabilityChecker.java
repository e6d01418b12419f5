package io.jetkv.conformance.faults;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checks a recorded KV history for linearizability against {@link KvRegisterModel}, one key at a time (a
 * history of independent objects is linearizable when each object's is). The search is Wing and Gong's, with
 * Lowe's memoisation of (set of operations linearized, model state) as Knossos and Porcupine do: it walks the
 * invocations and returns in time order, tentatively linearizing each call whose model step is legal, and
 * backtracks when it meets the return of an operation not yet linearized. Indeterminate operations return
 * at infinity and may also never take effect. Runs on the caller's thread.
 *
 * <p>When a key fails, the report explains the deepest point the search reached: the operations linearized
 * up to there, the state they left, and the operation that had to take effect next but could not, with the
 * model's reason for each candidate.
 */
public final class LinearizabilityChecker {
    /** Per-key search budget (memo entries); past it the key is reported as undecided rather than run forever. */
    private final long maxStates;

    public LinearizabilityChecker() {
        this(5_000_000);
    }

    public LinearizabilityChecker(long maxStates) {
        this.maxStates = maxStates;
    }

    /** The verdict on a whole history. */
    public record Report(List<KeyResult> keys) {
        public boolean linearizable() {
            return keys.stream().allMatch(k -> k.verdict() == Verdict.LINEARIZABLE);
        }

        /** Every key's verdict, and the explanation of each that is not linearizable. */
        public String explanation() {
            StringBuilder sb = new StringBuilder();
            for (KeyResult k : keys) {
                sb.append(k.explanation()).append('\n');
            }
            return sb.toString();
        }

        public List<KeyResult> violations() {
            return keys.stream().filter(k -> k.verdict() == Verdict.NOT_LINEARIZABLE).toList();
        }
    }

    public enum Verdict {
        LINEARIZABLE,
        NOT_LINEARIZABLE,
        /** The search budget ran out (too much concurrency); neither proved nor refuted. */
        UNKNOWN
    }

    public record KeyResult(String key, int operations, Verdict verdict, long statesExplored, String explanation) {}

    public Report check(List<KvOp> history) {
        Map<String, List<KvOp>> byKey = new LinkedHashMap<>();
        for (KvOp op : history) {
            byKey.computeIfAbsent(op.key(), k -> new ArrayList<>()).add(op);
        }
        long origin = history.stream().mapToLong(KvOp::invokedAt).min().orElse(0);
        List<KeyResult> results = new ArrayList<>();
        for (Map.Entry<String, List<KvOp>> e : byKey.entrySet()) {
            results.add(checkKey(e.getKey(), e.getValue(), origin));
        }
        return new Report(results);
    }

    /** One call or return in the time-ordered doubly linked list the search lifts entries out of. */
    private static final class Entry {
        final KvOp op;
        final int index; // the op's bit in the linearized set
        final boolean call;
        final long time;
        Entry match; // a call's return
        Entry prev;
        Entry next;

        Entry(KvOp op, int index, boolean call, long time) {
            this.op = op;
            this.index = index;
            this.call = call;
            this.time = time;
        }
    }

    private record Frame(Entry call, KvRegisterModel.State before, List<KvRegisterModel.State> choices, int chosen) {}

    private record Memo(BitSet linearized, KvRegisterModel.State state) {}

    private KeyResult checkKey(String key, List<KvOp> all, long origin) {
        List<KvOp> ops = all.stream().filter(op -> !KvRegisterModel.irrelevant(op)).toList();
        List<Entry> entries = new ArrayList<>(ops.size() * 2);
        for (int i = 0; i < ops.size(); i++) {
            KvOp op = ops.get(i);
            Entry call = new Entry(op, i, true, op.invokedAt());
            Entry ret = new Entry(op, i, false, op.completedAt());
            call.match = ret;
            entries.add(call);
            entries.add(ret);
        }
        // at equal times calls come first: touching operations count as concurrent, the lenient reading
        entries.sort(Comparator.comparingLong((Entry en) -> en.time).thenComparing(en -> !en.call));
        Entry head = new Entry(null, -1, false, Long.MIN_VALUE);
        Entry last = head;
        for (Entry en : entries) {
            last.next = en;
            en.prev = last;
            last = en;
        }

        KvRegisterModel.State state = KvRegisterModel.State.INITIAL;
        BitSet linearized = new BitSet(ops.size());
        Set<Memo> memo = new HashSet<>();
        Deque<Frame> stack = new ArrayDeque<>();
        Stuck deepest = null;
        // operations not linearized yet whose return is known
        int finiteLeft = (int) ops.stream().filter(op -> op.completedAt() != Long.MAX_VALUE).count();
        Entry entry = head.next;
        while (head.next != null) {
            if (memo.size() > maxStates) {
                // each operation pending forever (indeterminate) doubles what a refutation must rule out
                return new KeyResult(key, ops.size(), Verdict.UNKNOWN, memo.size(),
                        "key \"" + key + "\": undecided after " + memo.size() + " states (" + ops.size()
                                + " operations); raise the budget or lower the concurrency"
                                + (deepest == null ? "" : ". So far the search is stuck here:\n"
                                        + explain(key, ops, deepest, origin)));
            }
            if (entry.call) {
                KvRegisterModel.Step step = KvRegisterModel.step(state, entry.op);
                List<KvRegisterModel.State> choices = step.next();
                if (entry.op.completedAt() == Long.MAX_VALUE && finiteLeft > 0) {
                    choices = choices.subList(0, choices.size() - 1); // "never" comes last (see the model)
                }
                Frame pushed = tryChoices(entry, state, choices, 0, linearized, memo);
                if (pushed != null) {
                    stack.push(pushed);
                    state = pushed.choices().get(pushed.chosen());
                    finiteLeft -= finite(entry);
                    lift(entry);
                    entry = head.next;
                } else {
                    entry = entry.next;
                }
            } else {
                // the return of an operation not linearized yet: nothing before it can be, so back up
                if (deepest == null || stack.size() > deepest.linearized().size()) {
                    deepest = stuckAt(entry, head, state, stack);
                }
                if (stack.isEmpty()) {
                    return new KeyResult(key, ops.size(), Verdict.NOT_LINEARIZABLE, memo.size(),
                            explain(key, ops, deepest, origin));
                }
                Frame top = stack.pop();
                state = top.before();
                linearized.clear(top.call().index);
                unlift(top.call());
                finiteLeft += finite(top.call());
                Frame again = tryChoices(top.call(), state, top.choices(), top.chosen() + 1, linearized, memo);
                if (again != null) {
                    stack.push(again);
                    state = again.choices().get(again.chosen());
                    finiteLeft -= finite(top.call());
                    lift(top.call());
                    entry = head.next;
                } else {
                    entry = top.call().next;
                }
            }
        }
        return new KeyResult(key, ops.size(), Verdict.LINEARIZABLE, memo.size(),
                "key \"" + key + "\": " + ops.size() + " operations linearizable (" + memo.size() + " states)");
    }

    /** Linearizes {@code call} into the first choice from {@code from} on not already explored; null if none. */
    private static Frame tryChoices(Entry call, KvRegisterModel.State before, List<KvRegisterModel.State> choices,
            int from, BitSet linearized, Set<Memo> memo) {
        for (int i = from; i < choices.size(); i++) {
            BitSet next = (BitSet) linearized.clone();
            next.set(call.index);
            if (memo.add(new Memo(next, choices.get(i)))) {
                linearized.set(call.index);
                return new Frame(call, before, choices, i);
            }
        }
        return null;
    }

    private static int finite(Entry call) {
        return call.op.completedAt() == Long.MAX_VALUE ? 0 : 1;
    }

    private static void lift(Entry call) {
        call.prev.next = call.next;
        call.next.prev = call.prev; // a call always has its return after it
        Entry ret = call.match;
        ret.prev.next = ret.next;
        if (ret.next != null) {
            ret.next.prev = ret.prev;
        }
    }

    private static void unlift(Entry call) {
        Entry ret = call.match;
        ret.prev.next = ret;
        if (ret.next != null) {
            ret.next.prev = ret;
        }
        call.prev.next = call;
        call.next.prev = call;
    }

    /** Where the search got stuck: the order so far, the state, the op that must go next, and the candidates. */
    private record Stuck(List<KvOp> linearized, KvRegisterModel.State state, KvOp blocked,
            Map<KvOp, String> candidates) {}

    private static Stuck stuckAt(Entry ret, Entry head, KvRegisterModel.State state, Deque<Frame> stack) {
        List<KvOp> order = new ArrayList<>();
        stack.descendingIterator().forEachRemaining(f -> order.add(f.call().op));
        Map<KvOp, String> candidates = new LinkedHashMap<>();
        for (Entry e = head.next; e != null && e != ret; e = e.next) {
            if (e.call) {
                KvRegisterModel.Step step = KvRegisterModel.step(state, e.op);
                candidates.put(e.op, step.legal() ? "legal here, but no order after it works" : step.whyNot());
            }
        }
        return new Stuck(order, state, ret.op, candidates);
    }

    private static String explain(String key, List<KvOp> ops, Stuck s, long origin) {
        Map<String, KvOp> writerOf = new HashMap<>();
        for (KvOp op : ops) {
            if (op.value() != null) {
                writerOf.put(op.value(), op);
            }
        }
        StringBuilder sb = new StringBuilder();
        sb.append("key \"").append(key).append("\": NOT linearizable (").append(ops.size()).append(" operations)\n");
        sb.append("  the longest linearizable prefix has ").append(s.linearized().size()).append(" operations");
        int shown = Math.min(8, s.linearized().size());
        sb.append(shown < s.linearized().size() ? ", the last " + shown + ":\n" : ":\n");
        for (KvOp op : s.linearized().subList(s.linearized().size() - shown, s.linearized().size())) {
            sb.append("    ").append(line(op, origin)).append('\n');
        }
        sb.append("  after which the key is ").append(s.state());
        KvOp writer = s.state().value() == null ? null : writerOf.get(s.state().value());
        if (writer != null) {
            sb.append(", written by #").append(writer.id());
            if (writer.outcome() == KvOp.Outcome.OK) {
                sb.append(" (acknowledged at ").append(time(writer.completedAt(), origin)).append(')');
            }
        }
        sb.append('\n');
        sb.append("  then ").append(line(s.blocked(), origin)).append(" must take effect before it returns, but:\n");
        String own = s.candidates().get(s.blocked());
        sb.append("    ").append(own == null ? "its call was already passed" : own).append('\n');
        if (s.blocked().kind() == KvOp.Kind.GET && s.blocked().readValue() != null) {
            KvOp source = writerOf.get(s.blocked().readValue());
            sb.append("    the value read was written by ")
                    .append(source == null ? "no operation in the history" : line(source, origin)).append('\n');
        }
        if (s.candidates().size() > 1) {
            sb.append("  nor can any other pending operation take effect first:\n");
            s.candidates().forEach((op, why) -> {
                if (op != s.blocked()) {
                    sb.append("    ").append(line(op, origin)).append(": ").append(why).append('\n');
                }
            });
        }
        return sb.toString();
    }

    private static String line(KvOp op, long origin) {
        return op.describe() + "  [" + time(op.invokedAt(), origin) + " .. "
                + (op.completedAt() == Long.MAX_VALUE ? "?" : time(op.completedAt(), origin)) + "]";
    }

    private static String time(long nanos, long origin) {
        return String.format("%.3fs", (nanos - origin) / 1e9);
    }
}
