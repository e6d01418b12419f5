package io.jetkv.jetstream.snapshot;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jetkv.jetstream.MessageBus;
import io.jetkv.jetstream.consumer.ConsumerManager;
import io.jetkv.jetstream.store.StoredMessage;
import io.jetkv.jetstream.store.StreamState;
import io.jetkv.jetstream.stream.HeaderBlock;
import io.jetkv.jetstream.stream.Stream;
import io.jetkv.jetstream.stream.StreamConfig;
import io.jetkv.jetstream.stream.StreamInfoJson;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Streams one snapshot to a client: waits (up to 2 s, as the reference) for the client's subscription on the
 * deliver subject, then reads the stream in slices on its writer and writes them through
 * {@link JetKvArchive.Writer} into S2 and {@link ChunkPublisher}. The snapshot holds the messages up to the last
 * sequence committed when it started; consumers are read last. {@code jsck} (check every message first) asks for
 * nothing more here: every message is read and decoded to be sent, and a record that does not decode fails the
 * snapshot.
 *
 * <p>Runs on its own thread ({@code js-snapshot-<stream>}).
 */
final class SnapshotSender implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(SnapshotSender.class);
    private static final long INTEREST_WAIT_NANOS = TimeUnit.SECONDS.toNanos(2);
    private static final int SLICE_MESSAGES = 4096;
    private static final long SLICE_BYTES = 1L << 20;

    private final MessageBus bus;
    private final Stream stream;
    private final ConsumerManager consumers;
    private final String deliverSubject;
    private final String ackPrefix;
    private final Runnable done;
    private final ChunkPublisher chunks;

    /** @param consumers null: leave the consumers out ({@code no_consumers}) */
    SnapshotSender(MessageBus bus, Stream stream, ConsumerManager consumers, String deliverSubject, String ackPrefix,
            long chunkSize, long windowSize, Runnable done) {
        this.bus = bus;
        this.stream = stream;
        this.consumers = consumers;
        this.deliverSubject = deliverSubject;
        this.ackPrefix = ackPrefix;
        this.done = done;
        this.chunks = new ChunkPublisher(bus, deliverSubject, ackPrefix, chunkSize, windowSize);
    }

    @Override
    public void run() {
        MessageBus.Subscription acks = null;
        long start = System.nanoTime();
        try {
            // <ack prefix>.<bytes>.<index>: as the reference, any message there frees one slot of the window
            acks = bus.subscribe(ackPrefix + ".>", (subject, reply, headers, payload) -> {
                chunks.acked();
                return true;
            });
            while (!bus.hasInterest(deliverSubject)) {
                if (System.nanoTime() - start > INTEREST_WAIT_NANOS || Thread.currentThread().isInterrupted()) {
                    LOG.warn("stream {}: snapshot abandoned, nobody subscribed to {}", stream.name(), deliverSubject);
                    return;
                }
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
            }
            long messages = send();
            LOG.info("stream {}: snapshot of {} messages sent ({} bytes) in {} ms", stream.name(), messages,
                    chunks.bytesSent(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
        } catch (ChunkPublisher.Abort e) {
            LOG.warn("stream {}: snapshot ended: {} {}", stream.name(), e.code, e.getMessage());
            bus.publish(deliverSubject, null, HeaderBlock.status(e.code, e.getMessage()), new byte[0]);
        } catch (IOException | RuntimeException e) {
            LOG.warn("stream {}: snapshot failed: {}", stream.name(), e.getMessage());
            // an end message a client can tell from success: a 500 status with the reason, as the reference sends
            String reason = String.valueOf(e.getMessage()).replaceAll("[\\r\\n]", " ");
            bus.publish(deliverSubject, null, HeaderBlock.status(500, reason), new byte[0]);
        } finally {
            if (acks != null) {
                acks.unsubscribe();
            }
            done.run();
        }
    }

    /** The store as the snapshot starts: its state, and its mirror's or sources' positions as of that state. */
    private record Start(StreamState state, Map<String, byte[]> positions) {}

    private long send() throws IOException {
        // positions and last sequence together, so that a restored mirror continues exactly after what it holds
        Start start = OnWriter.call(stream, () -> {
            Map<String, byte[]> positions = new TreeMap<>();
            for (StreamConfig.CopyEntry e : stream.config().copyEntries()) {
                byte[] v = stream.store().getAux(e.positionKey());
                if (v != null) {
                    positions.put(e.positionKey(), v);
                }
            }
            return new Start(stream.store().state(), positions);
        });
        StreamState st = start.state();
        long lastSeq = st.lastSeq();
        JetKvArchive.Writer w = new JetKvArchive.Writer(
                new TarWriter(new S2OutputStream(chunks), System.currentTimeMillis() / 1000));
        w.meta(stream.config().toJson(), stream.created(), StreamInfoJson.state(st, stream.consumerCount().get()),
                start.positions());
        long count = 0;
        long from = 1;
        while (from <= lastSeq) {
            long fromSeq = from;
            List<StoredMessage> slice = OnWriter.call(stream, () -> {
                List<StoredMessage> out = new ArrayList<>();
                stream.store().loadNextBatch(fromSeq, lastSeq, null, SLICE_MESSAGES, SLICE_BYTES, out);
                return out;
            });
            if (slice.isEmpty()) {
                break;
            }
            for (StoredMessage m : slice) {
                w.message(m);
            }
            count += slice.size();
            from = slice.get(slice.size() - 1).seq() + 1;
        }
        if (consumers != null) {
            for (ObjectNode c : OnWriter.call(stream, () -> consumers.exportDurables(stream))) {
                w.consumer(c);
            }
        }
        w.end(lastSeq);
        return count;
    }
}
