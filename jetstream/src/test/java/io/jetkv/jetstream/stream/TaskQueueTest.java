package io.jetkv.jetstream.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayDeque;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TaskQueueTest {
    @Test
    void refusesBeyondCapacityAndKeepsOrderAcrossGrowth() {
        var q = new TaskQueue<Integer>(100);
        assertTrue(q.isEmpty());
        for (int i = 0; i < 100; i++) {
            assertTrue(q.offer(i));
        }
        assertFalse(q.offer(100));
        assertEquals(100, q.size());
        for (int i = 0; i < 100; i++) {
            assertEquals(i, q.poll());
        }
        assertNull(q.poll());
        assertTrue(q.isEmpty());
    }

    /** Random offers and polls against ArrayDeque, so the ring wraps at every size it grows through. */
    @Test
    void behavesAsABoundedFifo() {
        var rnd = new Random(7);
        var q = new TaskQueue<Integer>(1000);
        var model = new ArrayDeque<Integer>();
        for (int step = 0; step < 200_000; step++) {
            if (rnd.nextInt(100) < 55) {
                boolean accepted = q.offer(step);
                assertEquals(model.size() < 1000, accepted, "step " + step);
                if (accepted) {
                    model.add(step);
                }
            } else {
                assertEquals(model.poll(), q.poll(), "step " + step);
            }
            assertEquals(model.size(), q.size());
        }
    }
}
