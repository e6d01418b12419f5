package io.jetkv.jetstream.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jetkv.jetstream.FakeBus;
import io.jetkv.jetstream.MessageBus;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Flow control of snapshot chunks: the sender stops past the window and goes on as the client acknowledges. */
class ChunkPublisherTest {
    private static final int CHUNK = 1 << 20;
    private static final int CHUNKS = (int) (ChunkPublisher.WINDOW / CHUNK) + 4;

    private record Chunk(String reply, int size) {}

    private static CompletableFuture<Void> sendAll(ChunkPublisher out) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                byte[] buf = new byte[CHUNK / 2];
                for (int i = 0; i < 2 * CHUNKS; i++) {
                    out.write(buf);
                }
                out.close();
                done.complete(null);
            } catch (IOException | RuntimeException e) {
                done.completeExceptionally(e);
            }
        }, "test-snapshot-sender");
        t.setDaemon(true);
        t.start();
        return done;
    }

    private static void awaitCount(List<?> list, int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (list.size() < n && System.nanoTime() < deadline) {
            Thread.onSpinWait();
            Thread.sleep(1); // polling a count to a deadline, not waiting for time to pass
        }
        assertEquals(n, list.size());
    }

    @Test
    void waitsForAcksPastTheWindow() throws Exception {
        FakeBus bus = new FakeBus();
        List<Chunk> chunks = new CopyOnWriteArrayList<>();
        bus.subscribe("deliver", (s, reply, h, p) -> chunks.add(new Chunk(reply, p.length)));
        ChunkPublisher out = new ChunkPublisher(bus, "deliver", "$JS.SNAPSHOT.ACK.S.x", CHUNK);
        CompletableFuture<Void> done = sendAll(out);

        // a chunk goes while at most WINDOW bytes are unacknowledged: WINDOW / CHUNK + 1 of them
        int inWindow = (int) (ChunkPublisher.WINDOW / CHUNK) + 1;
        awaitCount(chunks, inWindow);
        assertEquals("$JS.SNAPSHOT.ACK.S.x." + CHUNK + ".1", chunks.get(0).reply());
        assertTrue(!done.isDone() && chunks.size() == inWindow, "the sender waits for acks");

        out.acked(CHUNK); // one ack lets one more through
        awaitCount(chunks, inWindow + 1);
        for (int i = 0; i < CHUNKS; i++) {
            out.acked(CHUNK);
        }
        assertNull(done.get(10, TimeUnit.SECONDS));
        assertEquals(CHUNKS + 1, chunks.size());
        Chunk end = chunks.get(CHUNKS);
        assertEquals(0, end.size());
        assertNull(end.reply());
        assertEquals((long) CHUNKS * CHUNK, out.bytesSent());
    }

    @Test
    void givesUpWhenTheClientGoes() throws Exception {
        FakeBus bus = new FakeBus();
        List<Chunk> chunks = new CopyOnWriteArrayList<>();
        MessageBus.Subscription client = bus.subscribe("deliver", (s, reply, h, p) -> chunks.add(new Chunk(reply, p.length)));
        ChunkPublisher out = new ChunkPublisher(bus, "deliver", "$JS.SNAPSHOT.ACK.S.x", CHUNK);
        CompletableFuture<Void> done = sendAll(out);
        awaitCount(chunks, (int) (ChunkPublisher.WINDOW / CHUNK) + 1);
        client.unsubscribe();
        ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                () -> done.get(10, TimeUnit.SECONDS));
        assertInstanceOf(IOException.class, e.getCause());
    }
}
