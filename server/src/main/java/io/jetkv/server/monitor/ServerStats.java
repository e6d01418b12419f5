package io.jetkv.server.monitor;

import java.util.concurrent.atomic.LongAdder;

/**
 * Server-wide counters for the monitoring port. Event loops add to them (a {@link LongAdder} add is a
 * contention-free write on the hot path); the HTTP thread only sums them.
 */
public final class ServerStats {
    private final LongAdder inMsgs = new LongAdder();
    private final LongAdder inBytes = new LongAdder();
    private final LongAdder outMsgs = new LongAdder();
    private final LongAdder outBytes = new LongAdder();
    private final LongAdder slowConsumers = new LongAdder();
    private final LongAdder totalConnections = new LongAdder();
    // not in /varz (nats-server has no such figures): they show that writes are batched per read, not per message
    private final LongAdder clientReadBatches = new LongAdder();
    private final LongAdder outboundFlushes = new LongAdder();

    /** A client published a message of {@code bytes} (headers and payload). */
    public void published(int bytes) {
        inMsgs.increment();
        inBytes.add(bytes);
    }

    /** A message of {@code bytes} was queued for a client (from a client or from JetStream). */
    public void delivered(int bytes) {
        outMsgs.increment();
        outBytes.add(bytes);
    }

    public void slowConsumer() {
        slowConsumers.increment();
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

    public long inMsgs() {
        return inMsgs.sum();
    }

    public long inBytes() {
        return inBytes.sum();
    }

    public long outMsgs() {
        return outMsgs.sum();
    }

    public long outBytes() {
        return outBytes.sum();
    }

    public long slowConsumers() {
        return slowConsumers.sum();
    }

    public long totalConnections() {
        return totalConnections.sum();
    }
}
