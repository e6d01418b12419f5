package io.jetkv.jetstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A writer's queue polls for a while when emptied, then parks as any blocking queue does. */
class WriterQueueTest {
    private static Thread taker(WriterQueue q, CompletableFuture<Runnable> got) {
        Thread t = new Thread(() -> {
            try {
                got.complete(q.take());
            } catch (InterruptedException e) {
                got.completeExceptionally(e);
            }
        }, "taker");
        t.start();
        return t;
    }

    @Test
    void takeReturnsWhatArrivesWhileItPolls() throws Exception {
        WriterQueue q = new WriterQueue(TimeUnit.SECONDS.toNanos(30));
        CompletableFuture<Runnable> got = new CompletableFuture<>();
        taker(q, got);
        Runnable task = () -> { };
        q.offer(task);
        assertSame(task, got.get(10, TimeUnit.SECONDS));
    }

    @Test
    void takeParksAfterThePollAndWakesForTheNextTask() throws Exception {
        WriterQueue q = new WriterQueue(TimeUnit.MILLISECONDS.toNanos(1));
        CompletableFuture<Runnable> got = new CompletableFuture<>();
        Thread t = taker(q, got);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (t.getState() != Thread.State.WAITING) { // parked in the blocking take, not polling
            assertTrue(System.nanoTime() < deadline, "still " + t.getState());
            Thread.sleep(1);
        }
        Runnable task = () -> { };
        q.offer(task);
        assertSame(task, got.get(10, TimeUnit.SECONDS));
    }

    @Test
    void aWriterRunsItsTasksInOrderAndShutsDownWhilePolling() throws Exception {
        ThreadPoolExecutor writer = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS,
                new WriterQueue(TimeUnit.SECONDS.toNanos(30)));
        StringBuilder order = new StringBuilder();
        CountDownLatch ran = new CountDownLatch(3);
        for (String s : new String[] {"a", "b", "c"}) {
            writer.execute(() -> {
                order.append(s);
                ran.countDown();
            });
        }
        assertTrue(ran.await(10, TimeUnit.SECONDS));
        writer.shutdown(); // interrupts the idle writer: it stops polling (30 s) at once and leaves
        assertTrue(writer.awaitTermination(10, TimeUnit.SECONDS));
        assertEquals("abc", order.toString());
    }
}
