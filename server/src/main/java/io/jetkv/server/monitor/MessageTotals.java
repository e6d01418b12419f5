package io.jetkv.server.monitor;

import java.util.concurrent.atomic.LongAdder;

/**
 * Messages and bytes received from clients and sent to them, and slow consumers: the figures the server keeps
 * overall ({@link ServerStats}) and per account over its closed connections ({@link AccountCounters}). Writers add
 * from any thread (a {@link LongAdder} add is a contention-free write on the hot path); readers only sum.
 */
public class MessageTotals {
    private final LongAdder inMsgs = new LongAdder();
    private final LongAdder inBytes = new LongAdder();
    private final LongAdder outMsgs = new LongAdder();
    private final LongAdder outBytes = new LongAdder();
    private final LongAdder slowConsumers = new LongAdder();

    MessageTotals() {}

    void addIn(long msgs, long bytes) {
        inMsgs.add(msgs);
        inBytes.add(bytes);
    }

    void addOut(long msgs, long bytes) {
        outMsgs.add(msgs);
        outBytes.add(bytes);
    }

    public void slowConsumer() {
        slowConsumers.increment();
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
}
