package io.jetkv.jetstream.store;

import java.util.Arrays;

/**
 * A binary min-heap of entries ordered by first sequence: {@link RocksStreamStore} keeps its subjects here,
 * so the stream's first message is the top subject's first, found without reading RocksDB. Each entry
 * knows its slot, so every change costs O(log n) and allocates nothing. Confined to the stream's writer
 * thread, like the store.
 */
final class FirstSeqHeap<E extends FirstSeqHeap.Entry> {

    /** Something with a first sequence; change {@code firstSeq} of an entry in the heap only via the heap. */
    static class Entry {
        long firstSeq;
        int heapIndex = -1;
    }

    private Entry[] heap = new Entry[16];
    private int size;

    /** The entry with the smallest first sequence, or null when empty. */
    @SuppressWarnings("unchecked")
    E top() {
        return size == 0 ? null : (E) heap[0];
    }

    int size() {
        return size;
    }

    void add(E e) {
        if (e.heapIndex >= 0) {
            throw new IllegalStateException("already in the heap");
        }
        if (size == heap.length) {
            heap = Arrays.copyOf(heap, size * 2);
        }
        set(size++, e);
        siftUp(e.heapIndex);
    }

    void remove(E e) {
        int i = e.heapIndex;
        e.heapIndex = -1;
        Entry last = heap[--size];
        heap[size] = null;
        if (last != e) {
            // the last entry may come from another subtree: it can belong below slot i or above it
            set(i, last);
            siftDown(i);
            siftUp(last.heapIndex);
        }
        if (heap.length > 64 && size < heap.length / 4) {
            heap = Arrays.copyOf(heap, heap.length / 2);
        }
    }

    /** Sets a larger first sequence (a subject's first only grows) and restores the order. */
    void firstRaised(E e, long firstSeq) {
        if (firstSeq < e.firstSeq) {
            throw new IllegalArgumentException("first sequence moved back: " + e.firstSeq + " -> " + firstSeq);
        }
        e.firstSeq = firstSeq;
        siftDown(e.heapIndex);
    }

    void clear() {
        for (int i = 0; i < size; i++) {
            heap[i].heapIndex = -1;
        }
        heap = new Entry[16];
        size = 0;
    }

    private void siftUp(int i) {
        Entry e = heap[i];
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (heap[parent].firstSeq <= e.firstSeq) {
                break;
            }
            set(i, heap[parent]);
            i = parent;
        }
        set(i, e);
    }

    private void siftDown(int i) {
        Entry e = heap[i];
        while (true) {
            int child = 2 * i + 1;
            if (child >= size) {
                break;
            }
            if (child + 1 < size && heap[child + 1].firstSeq < heap[child].firstSeq) {
                child++;
            }
            if (e.firstSeq <= heap[child].firstSeq) {
                break;
            }
            set(i, heap[child]);
            i = child;
        }
        set(i, e);
    }

    private void set(int i, Entry e) {
        heap[i] = e;
        e.heapIndex = i;
    }
}
