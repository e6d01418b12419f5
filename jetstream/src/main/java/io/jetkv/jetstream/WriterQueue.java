package io.jetkv.jetstream;

import java.util.concurrent.LinkedBlockingQueue;

/**
 * The task queue of a stream writer thread. Before the writer parks on an empty queue, it polls the queue for a
 * short while.
 *
 * <p>Why: waking a parked thread costs tens of microseconds on a small VM. The event loop pays for it when it hands
 * over a publish, and the woken writer pays again before it runs. A client that publishes one message at a time
 * and waits for each ack pays this on every request. Its next request usually arrives within one client round
 * trip, which the poll covers. nats-server avoids the same wake-ups because Go's scheduler lets an idle thread spin
 * for work before it sleeps.
 *
 * <p>Bounded: the poll only follows work, so an idle server does not spin, and under load the queue is rarely
 * empty. The poll does not use {@link Thread#onSpinWait}: a VM guest issuing PAUSE in a loop is made to exit to the
 * hypervisor (pause-loop exiting), which is what the poll avoids.
 */
final class WriterQueue extends LinkedBlockingQueue<Runnable> {
    private final long pollNanos;

    /** @param pollNanos how long an emptied writer polls before it parks; 0 parks at once */
    WriterQueue(long pollNanos) {
        this.pollNanos = pollNanos;
    }

    @Override
    public Runnable take() throws InterruptedException {
        if (pollNanos > 0 && isEmpty()) {
            long end = System.nanoTime() + pollNanos;
            Thread me = Thread.currentThread();
            while (isEmpty() && System.nanoTime() - end < 0 && !me.isInterrupted()) {
                // polling: see the class comment; an interrupt (shutdown) ends it, and the take below throws
            }
        }
        Runnable r = poll();
        return r != null ? r : super.take();
    }
}
