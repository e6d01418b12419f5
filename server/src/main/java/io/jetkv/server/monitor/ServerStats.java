package io.jetkv.server.monitor;

import java.util.concurrent.atomic.LongAdder;

/**
 * Server-wide counters for the monitoring port. Event loops add to them (a {@link LongAdder} add is a
 * contention-free write on the hot path); the HTTP thread only sums them.
 */
public final class ServerStats extends MessageTotals {
    private final LongAdder totalConnections = new LongAdder();
    // not in /varz (nats-server has no such figures): they show that writes are batched per read, not per message
    private final LongAdder clientReadBatches = new LongAdder();
    private final LongAdder outboundFlushes = new LongAdder();

    public ServerStats() {}

    /** A client published a message of {@code bytes} (headers and payload). */
    public void published(int bytes) {
        addIn(1, bytes);
    }

    /** A message of {@code bytes} was queued for a client (from a client or from JetStream). */
    public void delivered(int bytes) {
        addOut(1, bytes);
    }

    public void connectionAccepted() {
        totalConnections.increment();
    }

    /** A client connection finished one batch of reads (Netty's read-complete): its deliveries get flushed. */
    public void clientReadBatch() {
        clientReadBatches.increment();
    }

    /** One connection's queued bytes (client or route) were handed to the socket in one write. */
    public void outboundFlush() {
        outboundFlushes.increment();
    }

    public long clientReadBatches() {
        return clientReadBatches.sum();
    }

    public long outboundFlushes() {
        return outboundFlushes.sum();
    }

    public long totalConnections() {
        return totalConnections.sum();
    }
}
