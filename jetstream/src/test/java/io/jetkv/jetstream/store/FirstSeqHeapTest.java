package io.jetkv.jetstream.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class FirstSeqHeapTest {
    private static FirstSeqHeap.Entry entry(long firstSeq) {
        var e = new FirstSeqHeap.Entry();
        e.firstSeq = firstSeq;
        return e;
    }

    @Test
    void emptyHeapHasNoTop() {
        assertNull(new FirstSeqHeap<>().top());
    }

    /** Removing from one subtree moves the last entry, from another subtree, under a larger parent. */
    @Test
    void removedSlotFilledFromAnotherSubtreeMovesUp() {
        var heap = new FirstSeqHeap<FirstSeqHeap.Entry>();
        List<FirstSeqHeap.Entry> e = new ArrayList<>();
        for (int i = 1; i <= 6; i++) {
            e.add(entry(i));
            heap.add(e.get(i - 1));
        }
        // slots: 1 2 3 4 5 6, then 4->11, 5->12, 2->10 (stays above 11 and 12)
        heap.firstRaised(e.get(3), 11);
        heap.firstRaised(e.get(4), 12);
        heap.firstRaised(e.get(1), 10);
        heap.remove(e.get(4)); // 6 fills the slot under 10
        heap.firstRaised(e.get(0), 100);
        heap.firstRaised(e.get(2), 50);
        assertEquals(6, heap.top().firstSeq);
    }

    @Test
    void firstNeverMovesBack() {
        var heap = new FirstSeqHeap<FirstSeqHeap.Entry>();
        var e = entry(5);
        heap.add(e);
        assertThrows(IllegalArgumentException.class, () -> heap.firstRaised(e, 4));
        assertThrows(IllegalStateException.class, () -> heap.add(e));
    }

    /** Random adds, raises and removes against a plain list's minimum. */
    @Test
    void topIsAlwaysTheSmallestFirst() {
        var rnd = new Random(3);
        var heap = new FirstSeqHeap<FirstSeqHeap.Entry>();
        List<FirstSeqHeap.Entry> model = new ArrayList<>();
        long next = 1;
        for (int step = 0; step < 20_000; step++) {
            // small heaps hide a misplaced minimum less deeply; large ones make the array grow and shrink
            int cap = step / 2000 % 2 == 0 ? 20 : 500;
            int op = rnd.nextInt(10);
            if (model.isEmpty() || (op < 4 && model.size() < cap)) {
                var e = entry(next++);
                heap.add(e);
                model.add(e);
            } else if (op < 7) {
                var e = model.get(rnd.nextInt(model.size()));
                heap.firstRaised(e, e.firstSeq + 1 + rnd.nextInt(rnd.nextBoolean() ? 10 : 100_000));
            } else {
                var e = model.remove(rnd.nextInt(model.size()));
                heap.remove(e);
            }
            assertEquals(model.size(), heap.size());
            if (model.isEmpty()) {
                assertNull(heap.top());
            } else {
                long min = model.stream().min(Comparator.comparingLong(x -> x.firstSeq)).orElseThrow().firstSeq;
                assertEquals(min, heap.top().firstSeq, "step " + step);
            }
        }
        heap.clear();
        assertNull(heap.top());
        // entries leave with the clear, so they can be added again
        for (var e : model) {
            heap.add(e);
        }
        assertEquals(model.size(), heap.size());
    }
}
