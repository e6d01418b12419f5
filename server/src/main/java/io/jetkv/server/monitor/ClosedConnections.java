package io.jetkv.server.monitor;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The last closed client connections, as nats-server keeps them for {@code /connz?state=closed}
 * ({@code max_closed_clients}): a fixed ring, the oldest overwritten first.
 *
 * <p>Threading: lock-free. Each closing connection's event loop adds its own last snapshot; the monitoring
 * thread and the {@code sys-requests} thread read. A read racing a burst of closes may miss the newest entry
 * or see one twice; it drops duplicates by cid.
 */
public final class ClosedConnections {
    private final AtomicReferenceArray<ConnectionInfo> ring;
    /** How many were ever added; the next one goes to {@code next % capacity}. */
    private final AtomicLong next = new AtomicLong();

    public ClosedConnections(int capacity) {
        this.ring = new AtomicReferenceArray<>(capacity);
    }

    /** Any thread: remembers a closed connection, forgetting the oldest when full. */
    public void add(ConnectionInfo closed) {
        int capacity = ring.length();
        if (capacity == 0) {
            return;
        }
        long i = next.getAndIncrement();
        ring.set((int) (i % capacity), closed);
    }

    /** The kept connections, oldest first. */
    public List<ConnectionInfo> snapshot() {
        int capacity = ring.length();
        long end = next.get();
        long start = Math.max(0, end - capacity);
        List<ConnectionInfo> out = new ArrayList<>((int) (end - start));
        Set<Long> seen = new HashSet<>();
        for (long i = start; i < end; i++) {
            ConnectionInfo c = ring.get((int) (i % capacity));
            if (c != null && seen.add(c.cid())) {
                out.add(c);
            }
        }
        return out;
    }
}
