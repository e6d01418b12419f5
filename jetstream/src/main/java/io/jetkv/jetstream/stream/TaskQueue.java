package io.jetkv.jetstream.stream;

import java.util.concurrent.locks.ReentrantLock;

/**
 * A stream's bounded queue of tasks for its writer: a FIFO ring that refuses beyond its capacity, like the
 * {@code ArrayBlockingQueue} it replaces, but whose array grows with use instead of being allocated whole. An idle
 * stream holds 16 slots, not 8,192 (32 KB of heap per stream for a server with many small streams); a busy one
 * grows to its high-water mark and keeps that array.
 *
 * <p>Threading: any thread offers (event loops, API workers); the stream's writer polls. One lock, held for a few
 * field updates, as in {@code ArrayBlockingQueue}.
 */
final class TaskQueue<T> {
    private static final int INITIAL = 16;
    private final ReentrantLock lock = new ReentrantLock();
    private final int capacity;
    private Object[] items;
    private int head;
    // written under the lock; read without it by isEmpty()
    private volatile int count;

    TaskQueue(int capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("capacity " + capacity);
        }
        this.capacity = capacity;
        this.items = new Object[Math.min(INITIAL, capacity)];
    }

    /** Appends {@code t}; false when the queue holds its capacity already. */
    boolean offer(T t) {
        if (t == null) {
            throw new NullPointerException();
        }
        lock.lock();
        try {
            int n = count;
            if (n == capacity) {
                return false;
            }
            if (n == items.length) {
                grow();
            }
            items[(head + n) % items.length] = t;
            count = n + 1;
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** The oldest task, removed, or null when empty. */
    @SuppressWarnings("unchecked")
    T poll() {
        if (count == 0) {
            return null;
        }
        lock.lock();
        try {
            int n = count;
            if (n == 0) {
                return null;
            }
            T t = (T) items[head];
            items[head] = null;
            head = (head + 1) % items.length;
            count = n - 1;
            return t;
        } finally {
            lock.unlock();
        }
    }

    boolean isEmpty() {
        return count == 0;
    }

    int size() {
        return count;
    }

    /** Under the lock, full: the same tasks in order, from index 0 of an array twice as long (at most capacity). */
    private void grow() {
        int n = count;
        Object[] bigger = new Object[(int) Math.min(capacity, 2L * items.length)];
        for (int i = 0; i < n; i++) {
            bigger[i] = items[(head + i) % items.length];
        }
        items = bigger;
        head = 0;
    }
}
