package io.jetkv.jetstream.consumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReplicatedOpsTest {
    /** Records the ops of an entry as text, in order. */
    private static List<String> ops(byte[] entry, boolean[] deleted) {
        List<String> out = new ArrayList<>();
        deleted[0] = ReplicatedOps.read(entry, new ReplicatedOps.Handler() {
            @Override
            public void put(String name, byte[] config, byte[] state) {
                out.add("put " + name + " " + (config == null ? "-" : new String(config, StandardCharsets.UTF_8))
                        + " " + state.length);
            }

            @Override
            public void delete(String name) {
                out.add("delete " + name);
            }

            @Override
            public void done(long seq) {
                out.add("done " + seq);
            }
        });
        return out;
    }

    @Test
    void entryRoundTripsEveryOpInOrder() {
        ReplicatedOps.Writer w = new ReplicatedOps.Writer();
        assertTrue(w.isEmpty());
        w.put("DUR", "{\"config\":{}}".getBytes(StandardCharsets.UTF_8), new byte[] {1, 2, 3});
        w.put("OTHER", null, new byte[0]);
        w.delete("GONE");
        w.done(List.of(5L, 7L, Long.MAX_VALUE));
        assertFalse(w.isEmpty());
        boolean[] deleted = {false};
        assertEquals(List.of("put DUR {\"config\":{}} 3", "put OTHER - 0", "delete GONE", "done 5", "done 7",
                "done " + Long.MAX_VALUE), ops(w.toBytes(), deleted));
        assertTrue(deleted[0]);
    }

    @Test
    void emptyDoneListAddsNothing() {
        ReplicatedOps.Writer w = new ReplicatedOps.Writer();
        w.done(List.of());
        assertTrue(w.isEmpty());
        boolean[] deleted = {true};
        assertEquals(List.of(), ops(w.toBytes(), deleted));
        assertFalse(deleted[0]);
        assertArrayEquals(new byte[] {1, 0}, new ReplicatedOps.Writer().toBytes());
    }

    @Test
    void unknownVersionOrOpIsRefused() {
        boolean[] d = {false};
        assertThrows(IllegalStateException.class, () -> ops(new byte[] {9, 0}, d));
        assertThrows(IllegalStateException.class, () -> ops(new byte[] {1, 42}, d));
    }
}
