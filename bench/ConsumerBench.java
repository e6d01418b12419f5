import io.nats.client.Connection;
import io.nats.client.Dispatcher;
import io.nats.client.JetStream;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.JetStreamSubscription;
import io.nats.client.Message;
import io.nats.client.PullSubscribeOptions;
import io.nats.client.PushSubscribeOptions;
import io.nats.client.api.AckPolicy;
import io.nats.client.api.ConsumerConfiguration;
import io.nats.client.api.ConsumerInfo;
import io.nats.client.api.DeliverPolicy;
import io.nats.client.api.PublishAck;
import io.nats.client.api.RetentionPolicy;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * JetStream consumer read-rate benchmark: a black-box jnats client against any server at a URL started with
 * {@code -js}, so the same code times nats-server and JetKV. Runs on the caller's thread; jnats adds its own
 * reader, writer and dispatcher threads. Called by bench/consumers.sh.
 *
 * <p>Usage: {@code java -cp jnats-2.25.1.jar:. ConsumerBench nats://127.0.0.1:4222 [messages] [repeats]}
 *
 * <p>Fills one file-storage stream with {@code messages} 128-byte messages (untimed), then reads all of them
 * back, once untimed and {@code repeats} times timed, per scenario. Prints {@code scenario median_msgs_per_sec}
 * per scenario on stdout (and {@code fill msgs_per_sec}, one run), or {@code scenario FAIL reason}; every run and
 * any diagnostics go to stderr.
 */
public final class ConsumerBench {
    static final String STREAM = "CONSUMER_BENCH";
    static final String SUBJECT = "cbench.data";
    // The work-queue scenario's stream: each run empties it, so each run fills it again (untimed).
    static final String WQ_STREAM = "CONSUMER_BENCH_WQ";
    static final String WQ_SUBJECT = "cbench.wq";
    static final String DURABLE = "cbench-pull";
    static final int PAYLOAD_SIZE = 128;
    static final int BATCH = 500;
    // Outstanding pub acks while filling the stream, as in JetStreamBench: under JetKV's per-stream queue (8192).
    static final int WINDOW = 1024;
    // Two batches: with acks sent before the next pull, a correct server never holds back part of a batch.
    static final int MAX_ACK_PENDING = 2 * BATCH;
    // A fetch that comes back short waits out its whole expiry, so any short batch shows up as a slow run.
    static final Duration FETCH_WAIT = Duration.ofSeconds(5);
    // No progress for this long counts as a stall: far above any pause either server should need.
    static final Duration STALL = Duration.ofSeconds(30);

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: ConsumerBench <url> [messages] [repeats]");
            System.exit(2);
        }
        String url = args[0];
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 100_000;
        int repeats = args.length > 2 ? Integer.parseInt(args[2]) : 3;

        try (Connection nc = Bench.connect(url, "bench-consumers", null)) {
            fill(nc, n);
            Bench.run("ordered", repeats, () -> orderedReplay(nc, n), () -> orderedReplay(nc, n));
            Bench.run("pullexplicit", repeats, () -> pullFetch(nc, n, AckPolicy.Explicit),
                    () -> pullFetch(nc, n, AckPolicy.Explicit));
            Bench.run("pullall", repeats, () -> pullFetch(nc, n, AckPolicy.All), () -> pullFetch(nc, n, AckPolicy.All));
            Bench.run("workqueue", repeats, () -> workQueue(nc, n), () -> workQueue(nc, n));
            Bench.deleteStream(nc.jetStreamManagement(), STREAM);
            Bench.deleteStream(nc.jetStreamManagement(), WQ_STREAM);
        }
    }

    /** Creates the stream empty and publishes {@code n} messages with a bounded window of pub acks; untimed. */
    static void fill(Connection nc, int n) throws Exception {
        double rate = fill(nc, STREAM, SUBJECT, RetentionPolicy.Limits, n);
        System.err.printf(Locale.ROOT, "  fill: %d messages of %d bytes at %.0f/s%n", n, PAYLOAD_SIZE, rate);
        System.out.printf(Locale.ROOT, "fill %.0f%n", rate);
    }

    /** Creates {@code stream} empty and publishes {@code n} messages (as {@link #fill(Connection, int)}); the rate. */
    static double fill(Connection nc, String stream, String subject, RetentionPolicy retention, int n)
            throws Exception {
        JetStreamManagement jsm = nc.jetStreamManagement();
        Bench.deleteStream(jsm, stream);
        jsm.addStream(StreamConfiguration.builder()
                .name(stream)
                .subjects(subject)
                .retentionPolicy(retention)
                .storageType(StorageType.File)
                .build());
        JetStream js = nc.jetStream();
        byte[] payload = new byte[PAYLOAD_SIZE];
        Semaphore window = new Semaphore(WINDOW);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        long start = System.nanoTime();
        for (int i = 0; i < n && failure.get() == null; i++) {
            if (!window.tryAcquire(STALL.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException("no pub ack for " + STALL + " at message " + i);
            }
            js.publishAsync(subject, payload).whenComplete((PublishAck ack, Throwable error) -> {
                if (error != null) {
                    failure.compareAndSet(null, error);
                } else if (ack.hasError()) {
                    failure.compareAndSet(null, new IllegalStateException("error ack: " + ack.getError()));
                }
                window.release();
            });
        }
        // All permits back means every ack arrived.
        if (!window.tryAcquire(WINDOW, STALL.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException("pub acks still missing after " + STALL);
        }
        if (failure.get() != null) {
            throw new IllegalStateException("publish failed: " + failure.get(), failure.get());
        }
        double rate = Bench.rate(n, System.nanoTime() - start);
        long stored = jsm.getStreamInfo(stream).getStreamState().getMsgCount();
        if (stored != n) {
            throw new IllegalStateException("stream holds " + stored + " messages, published " + n);
        }
        return rate;
    }

    /**
     * jnats ordered push consumer (ephemeral, flow control, idle heartbeats, ack none) on a dispatcher; the clock
     * runs from the subscribe call, which creates the consumer, until the {@code n}th message is handled.
     */
    static double orderedReplay(Connection nc, int n) throws Exception {
        AtomicLong received = new AtomicLong();
        AtomicLong lastStreamSeq = new AtomicLong();
        CountDownLatch done = new CountDownLatch(1);
        Dispatcher dispatcher = nc.createDispatcher();
        // The client may lag the server by the whole stream; jnats' default pending limits would drop messages
        // client-side, which an ordered consumer sees as a gap and answers by recreating itself.
        dispatcher.setPendingLimits(-1, -1);
        try {
            long start = System.nanoTime();
            JetStreamSubscription sub = nc.jetStream().subscribe(SUBJECT, dispatcher, msg -> {
                lastStreamSeq.set(msg.metaData().streamSequence());
                if (received.incrementAndGet() == n) {
                    done.countDown();
                }
            }, false, PushSubscribeOptions.builder().stream(STREAM).ordered(true).build());
            awaitProgress(done, received, n, "ordered");
            double rate = Bench.rate(n, System.nanoTime() - start);
            dispatcher.unsubscribe(sub);
            // Ordered delivery from sequence 1: the nth message must be stream sequence n, with no repeats.
            if (lastStreamSeq.get() != n) {
                throw new IllegalStateException("message " + n + " had stream sequence " + lastStreamSeq.get());
            }
            return rate;
        } finally {
            nc.closeDispatcher(dispatcher);
        }
    }

    /**
     * Durable pull consumer created fresh (untimed), then {@code fetch(500)} until all {@code n} messages arrived.
     * Explicit: every message acked. All: the last message of each batch acked, which acks the batch. The clock
     * stops after a flush, i.e. once the server has read the last ack.
     */
    static double pullFetch(Connection nc, int n, AckPolicy ackPolicy) throws Exception {
        return pullFetch(nc, STREAM, SUBJECT, n, ackPolicy);
    }

    /**
     * A work-queue stream of {@code n} messages (filled untimed before each run) read by a pull consumer that acks
     * each message, which removes it; the clock runs as in {@link #pullFetch}. Afterwards the stream must be empty.
     */
    static double workQueue(Connection nc, int n) throws Exception {
        fill(nc, WQ_STREAM, WQ_SUBJECT, RetentionPolicy.WorkQueue, n);
        double rate = pullFetch(nc, WQ_STREAM, WQ_SUBJECT, n, AckPolicy.Explicit);
        JetStreamManagement jsm = nc.jetStreamManagement();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        long left;
        while ((left = jsm.getStreamInfo(WQ_STREAM).getStreamState().getMsgCount()) != 0) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("work queue still holds " + left + " acked messages after 10 s");
            }
            Thread.sleep(50);
        }
        return rate;
    }

    static double pullFetch(Connection nc, String stream, String subject, int n, AckPolicy ackPolicy)
            throws Exception {
        JetStreamManagement jsm = nc.jetStreamManagement();
        deleteConsumer(jsm, stream);
        jsm.addOrUpdateConsumer(stream, ConsumerConfiguration.builder()
                .durable(DURABLE)
                .filterSubject(subject)
                .ackPolicy(ackPolicy)
                .deliverPolicy(DeliverPolicy.All)
                .maxAckPending(MAX_ACK_PENDING)
                .build());
        JetStreamSubscription sub = nc.jetStream().subscribe(subject, PullSubscribeOptions.bind(stream, DURABLE));
        int received = 0;
        int shortBatches = 0;
        long stalledSince = 0;
        long lastStreamSeq = 0;
        long start = System.nanoTime();
        while (received < n) {
            List<Message> batch = sub.fetch(BATCH, FETCH_WAIT);
            if (batch.size() < Math.min(BATCH, n - received)) {
                shortBatches++;
                System.err.printf("  pull %s: fetch %d returned %d of %d after %d received%n", ackPolicy,
                        received / BATCH + 1, batch.size(), BATCH, received);
            }
            if (batch.isEmpty()) {
                stalledSince = stalledSince == 0 ? System.nanoTime() : stalledSince;
                if (System.nanoTime() - stalledSince > STALL.toNanos()) {
                    throw new IllegalStateException("pull " + ackPolicy + " stalled at " + received + " of " + n
                            + "; " + describe(jsm, stream));
                }
                continue;
            }
            stalledSince = 0;
            for (Message msg : batch) {
                lastStreamSeq = msg.metaData().streamSequence();
                if (ackPolicy == AckPolicy.Explicit) {
                    msg.ack();
                }
            }
            if (ackPolicy == AckPolicy.All) {
                batch.get(batch.size() - 1).ack();
            }
            received += batch.size();
        }
        nc.flush(STALL);
        double rate = Bench.rate(n, System.nanoTime() - start);
        sub.unsubscribe();
        if (received != n || lastStreamSeq != n) {
            throw new IllegalStateException("received " + received + ", last stream sequence " + lastStreamSeq);
        }
        if (shortBatches > 0) {
            System.err.printf("  pull %s: %d short batches%n", ackPolicy, shortBatches);
        }
        checkAllAcked(jsm, stream, n, ackPolicy);
        return rate;
    }

    // Untimed: a server may apply acks after the flush's PONG (nats-server queues them for the consumer), so
    // poll the consumer's ack floor to a deadline rather than reading it once.
    static void checkAllAcked(JetStreamManagement jsm, String stream, int n, AckPolicy ackPolicy) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        ConsumerInfo info;
        do {
            info = jsm.getConsumerInfo(stream, DURABLE);
            if (info.getAckFloor().getStreamSequence() == n && info.getNumAckPending() == 0) {
                return;
            }
            Thread.sleep(50);
        } while (System.nanoTime() < deadline);
        throw new IllegalStateException("pull " + ackPolicy + ": acks not applied after 10 s, ack floor stream seq "
                + info.getAckFloor().getStreamSequence() + ", ack pending " + info.getNumAckPending()
                + ", num pending " + info.getNumPending());
    }

    static String describe(JetStreamManagement jsm, String stream) {
        try {
            ConsumerInfo info = jsm.getConsumerInfo(stream, DURABLE);
            return "consumer delivered stream seq " + info.getDelivered().getStreamSequence() + ", ack floor "
                    + info.getAckFloor().getStreamSequence() + ", ack pending " + info.getNumAckPending()
                    + ", num pending " + info.getNumPending() + ", waiting " + info.getNumWaiting();
        } catch (Exception e) {
            return "consumer info failed: " + e;
        }
    }

    // Waits for the latch, failing once the count stops moving for STALL; a slow but moving consumer is fine.
    static void awaitProgress(CountDownLatch done, AtomicLong received, int n, String what) throws Exception {
        long seen = -1;
        long lastMove = System.nanoTime();
        while (!done.await(1, TimeUnit.SECONDS)) {
            long now = received.get();
            if (now != seen) {
                seen = now;
                lastMove = System.nanoTime();
            } else if (System.nanoTime() - lastMove > STALL.toNanos()) {
                throw new IllegalStateException(what + " stalled at " + now + " of " + n + " for " + STALL);
            }
        }
    }

    static void deleteConsumer(JetStreamManagement jsm, String stream) throws Exception {
        try {
            jsm.deleteConsumer(stream, DURABLE);
        } catch (JetStreamApiException e) {
            if (e.getApiErrorCode() != 10014) { // consumer not found: nothing to delete
                throw e;
            }
        }
    }
}
