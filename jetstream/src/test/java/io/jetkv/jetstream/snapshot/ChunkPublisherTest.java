package io.jetkv.jetstream.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.jetkv.jetstream.FakeBus;
import io.jetkv.jetstream.MessageBus;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Flow control of snapshot chunks as nats-server 2.12.5: {@code window / chunk} chunks in flight, one more per
 * ack, the request's sizes clamped, and the end statuses.
 */
class ChunkPublisherTest {
    private record Chunk(String reply, byte[] headers, int size) {}

    /** Writes {@code bytes} in pieces of half a chunk, then closes, on a thread of its own. */
    private static CompletableFuture<Void> sendAll(ChunkPublisher out, long bytes) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                byte[] piece = new byte[Math.max(1, out.chunkSize() / 2)];
                for (long left = bytes; left > 0; left -= piece.length) {
                    out.write(piece, 0, (int) Math.min(piece.length, left));
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
            Thread.sleep(1); // polling a count to a deadline, not waiting for time to pass
        }
        assertEquals(n, list.size());
    }

    private static List<Chunk> listen(FakeBus bus) {
        List<Chunk> chunks = new CopyOnWriteArrayList<>();
        bus.subscribe("deliver", (s, reply, h, p) -> chunks.add(new Chunk(reply, h, p.length)));
        return chunks;
    }

    private static String status(Chunk c) {
        return c.headers() == null ? null : new String(c.headers(), StandardCharsets.US_ASCII);
    }

    @Test
    void requestedSizesAreClampedAsTheReference() {
        FakeBus bus = new FakeBus();
        ChunkPublisher dflt = new ChunkPublisher(bus, "d", "a", 0, 0);
        assertEquals(128 * 1024, dflt.chunkSize());
        assertEquals(64, dflt.maxInflight()); // 8 MiB / 128 KiB: what a client that sends no window_size gets
        ChunkPublisher tiny = new ChunkPublisher(bus, "d", "a", -5, -5);
        assertEquals(1024, tiny.chunkSize());
        assertEquals(1, tiny.maxInflight());
        ChunkPublisher huge = new ChunkPublisher(bus, "d", "a", 1L << 40, 1L << 40);
        assertEquals(1024 * 1024, huge.chunkSize());
        assertEquals(32, huge.maxInflight()); // 32 MiB / 1 MiB
        // a window smaller than a chunk still lets one chunk fly
        assertEquals(1, new ChunkPublisher(bus, "d", "a", 64 * 1024, 2048).maxInflight());
        assertEquals(3, new ChunkPublisher(bus, "d", "a", 1024, 3 * 1024 + 1023).maxInflight());
    }

    @Test
    void sendsNoMoreThanTheWindowAndOneMorePerAck() throws Exception {
        FakeBus bus = new FakeBus();
        List<Chunk> chunks = listen(bus);
        ChunkPublisher out = new ChunkPublisher(bus, "deliver", "$JS.SNAPSHOT.ACK.S.x", 1024, 4096);
        int full = 10;
        CompletableFuture<Void> done = sendAll(out, full * 1024L + 100);

        awaitCount(chunks, 4);
        assertEquals("$JS.SNAPSHOT.ACK.S.x.1024.1", chunks.get(0).reply());
        assertEquals("$JS.SNAPSHOT.ACK.S.x.1024.4", chunks.get(3).reply());
        assertFalse(done.isDone(), "the sender waits for acks");
        assertEquals(4, chunks.size());

        out.acked(); // one ack lets one more through
        awaitCount(chunks, 5);
        out.acked();
        out.acked(); // acks beyond the window do not widen it
        awaitCount(chunks, 7);
        for (int i = 0; i < 20; i++) {
            out.acked();
        }
        assertNull(done.get(10, TimeUnit.SECONDS));
        assertEquals(full + 2, chunks.size());
        Chunk last = chunks.get(full);
        assertEquals(100, last.size());
        assertNull(last.reply(), "the partial last chunk is not acknowledged");
        Chunk end = chunks.get(full + 1);
        assertEquals(0, end.size());
        assertNull(end.reply());
        assertEquals("NATS/1.0 204\r\n\r\n", status(end));
        assertEquals(full * 1024L + 100, out.bytesSent());
    }

    @Test
    void aSnapshotSmallerThanAChunkEndsWithoutStatus() throws Exception {
        FakeBus bus = new FakeBus();
        List<Chunk> chunks = listen(bus);
        ChunkPublisher out = new ChunkPublisher(bus, "deliver", "ack", 4096, 0);
        assertNull(sendAll(out, 10).get(10, TimeUnit.SECONDS));
        assertEquals(2, chunks.size());
        assertEquals(10, chunks.get(0).size());
        assertNull(chunks.get(0).reply());
        assertNull(chunks.get(1).headers());
        assertEquals(0, chunks.get(1).size());
    }

    @Test
    void noAckWithinFiveSecondsEndsWithNoFlowResponse() throws Exception {
        FakeBus bus = new FakeBus();
        List<Chunk> chunks = listen(bus);
        ChunkPublisher out = new ChunkPublisher(bus, "deliver", "ack", 1024, 1024);
        CompletableFuture<Void> done = sendAll(out, 10 * 1024);
        ExecutionException e = assertThrows(ExecutionException.class, () -> done.get(30, TimeUnit.SECONDS));
        ChunkPublisher.Abort abort = assertInstanceOf(ChunkPublisher.Abort.class, e.getCause());
        assertEquals(408, abort.code);
        assertEquals("No Flow Response", abort.getMessage());
        assertEquals(1, chunks.size());
    }

    @Test
    void endsWithNoInterestWhenTheClientGoes() throws Exception {
        FakeBus bus = new FakeBus();
        List<Chunk> chunks = new CopyOnWriteArrayList<>();
        MessageBus.Subscription client =
                bus.subscribe("deliver", (s, reply, h, p) -> chunks.add(new Chunk(reply, h, p.length)));
        ChunkPublisher out = new ChunkPublisher(bus, "deliver", "ack", 1024, 2048);
        CompletableFuture<Void> done = sendAll(out, 10 * 1024);
        awaitCount(chunks, 2);
        client.unsubscribe();
        ExecutionException e = assertThrows(ExecutionException.class, () -> done.get(10, TimeUnit.SECONDS));
        ChunkPublisher.Abort abort = assertInstanceOf(ChunkPublisher.Abort.class, e.getCause());
        assertEquals(408, abort.code);
        assertEquals("No Interest", abort.getMessage());
    }
}
