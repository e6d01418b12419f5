import io.nats.client.Connection;
import io.nats.client.Consumer;
import io.nats.client.Dispatcher;
import io.nats.client.ErrorListener;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.JetStreamSubscription;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.support.Status;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Core NATS throughput benchmark: a black-box jnats client measuring any server at a URL, so the same code times
 * nats-server and JetKV. Runs on the caller's thread; jnats adds its own reader, writer and dispatcher threads.
 *
 * <p>Usage: {@code java -cp jnats-2.25.1.jar Bench.java nats://127.0.0.1:4222 [pubN] [pubSubN] [requests] [repeats]}
 *
 * <p>Each scenario runs once untimed at half its size, then {@code repeats} timed times. Prints one
 * {@code scenario median_msgs_per_sec} line per scenario on stdout (bench/run.sh parses them), or
 * {@code scenario FAIL reason}; every timed run and any diagnostics go to stderr.
 */
public final class Bench {
    static final int PAYLOAD_SIZE = 128;
    static final Duration TIMEOUT = Duration.ofSeconds(60);
    // A half-size run first, untimed: both the client JIT and a JVM server's JIT get to compile their hot
    // paths (a tenth was not enough on a busy two-core machine), so timed runs measure steady state.
    static final int WARMUP_DIVISOR = 2;

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: Bench <url> [pubN] [pubSubN] [requests] [repeats]");
            System.exit(2);
        }
        String url = args[0];
        int pubN = args.length > 1 ? Integer.parseInt(args[1]) : 1_000_000;
        int pubSubN = args.length > 2 ? Integer.parseInt(args[2]) : 500_000;
        int requests = args.length > 3 ? Integer.parseInt(args[3]) : 20_000;
        int repeats = args.length > 4 ? Integer.parseInt(args[4]) : 3;

        run("pub", repeats, () -> publishOnly(url, pubN / WARMUP_DIVISOR), () -> publishOnly(url, pubN));
        run("pubsub", repeats, () -> pubSub(url, pubSubN / WARMUP_DIVISOR), () -> pubSub(url, pubSubN));
        run("reqrep", repeats, () -> requestReply(url, requests / WARMUP_DIVISOR), () -> requestReply(url, requests));
    }

    interface Scenario {
        double run() throws Exception;
    }

    // The median, not the mean: on a shared two-core machine one run in a few lands on a compiler burst.
    static void run(String name, int repeats, Scenario warmup, Scenario timed) {
        try {
            System.err.printf(Locale.ROOT, "  %s warm-up: %.0f/s%n", name, warmup.run());
            double[] rates = new double[repeats];
            for (int i = 0; i < repeats; i++) {
                rates[i] = timed.run();
                System.err.printf(Locale.ROOT, "  %s run %d: %.0f/s%n", name, i + 1, rates[i]);
            }
            Arrays.sort(rates);
            System.out.printf(Locale.ROOT, "%s %.0f%n", name, rates[repeats / 2]);
        } catch (Exception e) {
            System.err.printf("%s failed: %s%n", name, e);
            System.out.printf("%s FAIL %s%n", name, e.getClass().getSimpleName());
        }
        System.out.flush();
    }

    /** Async publish N messages, then flush: the PONG proves the server has read (and routed) all of them. */
    static double publishOnly(String url, int n) throws Exception {
        byte[] payload = new byte[PAYLOAD_SIZE];
        try (Connection pub = connect(url, "bench-pub", null)) {
            long start = System.nanoTime();
            for (int i = 0; i < n; i++) {
                pub.publish("bench.pub", payload);
            }
            pub.flush(TIMEOUT);
            return rate(n, System.nanoTime() - start);
        }
    }

    /** One publisher, one subscriber on its own connection; the clock stops when the subscriber has all N. */
    static double pubSub(String url, int n) throws Exception {
        byte[] payload = new byte[PAYLOAD_SIZE];
        AtomicReference<String> trouble = new AtomicReference<>();
        try (Connection sub = connect(url, "bench-sub", trouble);
                Connection pub = connect(url, "bench-pub", trouble)) {
            CountDownLatch done = new CountDownLatch(1);
            AtomicLong received = new AtomicLong();
            Dispatcher dispatcher = sub.createDispatcher(msg -> {
                if (received.incrementAndGet() == n) {
                    done.countDown();
                }
            });
            // The subscriber may lag the publisher by the whole run; jnats' default pending limit (512k msgs) would
            // drop messages client-side and the count would never be reached.
            dispatcher.setPendingLimits(-1, -1);
            dispatcher.subscribe("bench.pubsub");
            sub.flush(TIMEOUT); // SUB registered on the server before the first PUB

            long start = System.nanoTime();
            for (int i = 0; i < n; i++) {
                pub.publish("bench.pubsub", payload);
            }
            pub.flush(TIMEOUT);
            if (!done.await(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                String why = trouble.get() == null ? "" : ", " + trouble.get();
                throw new IllegalStateException("received " + received.get() + " of " + n + why);
            }
            return rate(n, System.nanoTime() - start);
        }
    }

    /** Sequential requests to one responder on another connection: each one crosses the server twice. */
    static double requestReply(String url, int n) throws Exception {
        byte[] payload = new byte[PAYLOAD_SIZE];
        try (Connection responder = connect(url, "bench-responder", null);
                Connection requester = connect(url, "bench-requester", null)) {
            Dispatcher dispatcher =
                    responder.createDispatcher(msg -> responder.publish(msg.getReplyTo(), msg.getData()));
            dispatcher.subscribe("bench.req");
            responder.flush(TIMEOUT);

            // The first request sets up jnats' shared reply subscription; keep it out of the timing.
            requester.request("bench.req", payload, TIMEOUT);
            long start = System.nanoTime();
            for (int i = 0; i < n; i++) {
                Message reply = requester.request("bench.req", payload, TIMEOUT);
                if (reply == null) {
                    throw new IllegalStateException("request " + i + " timed out");
                }
            }
            return rate(n, System.nanoTime() - start);
        }
    }

    static Connection connect(String url, String name, AtomicReference<String> trouble) throws Exception {
        Options options = Options.builder()
                .server(url)
                .connectionName(name)
                .noReconnect()
                // Let publish() block briefly on a full outgoing queue instead of failing: we want server
                // throughput, and the writer thread drains the queue as fast as the socket allows.
                .maxMessagesInOutgoingQueue(65_536)
                .writeQueuePushTimeout(TIMEOUT)
                .errorListener(new ErrorListener() {
                    @Override
                    public void errorOccurred(Connection conn, String error) {
                        note(trouble, name + ": server error " + error);
                    }

                    @Override
                    public void exceptionOccurred(Connection conn, Exception exp) {
                        note(trouble, name + ": " + exp);
                    }

                    @Override
                    public void slowConsumerDetected(Connection conn, Consumer consumer) {
                        note(trouble, name + ": client-side slow consumer");
                    }

                    // An ordered consumer (KV keys/watch too) recreates itself on a missed heartbeat: it costs a run.
                    @Override
                    public void heartbeatAlarm(Connection conn, JetStreamSubscription sub, long lastStreamSeq,
                            long lastConsumerSeq) {
                        note(trouble, name + ": heartbeat alarm at stream seq " + lastStreamSeq);
                    }

                    @Override
                    public void unhandledStatus(Connection conn, JetStreamSubscription sub, Status status) {
                        note(trouble, name + ": unhandled status " + status);
                    }

                    @Override
                    public void pullStatusError(Connection conn, JetStreamSubscription sub, Status status) {
                        note(trouble, name + ": pull status error " + status);
                    }
                })
                .build();
        return Nats.connect(options);
    }

    static void note(AtomicReference<String> trouble, String what) {
        System.err.println(what);
        if (trouble != null) {
            trouble.compareAndSet(null, what);
        }
    }

    static double rate(int n, long nanos) {
        return n / (nanos / 1e9);
    }

    /** Deletes a stream left by an earlier run; a stream that is not there is fine. */
    static void deleteStream(JetStreamManagement jsm, String name) throws Exception {
        try {
            jsm.deleteStream(name);
        } catch (JetStreamApiException e) {
            if (e.getApiErrorCode() != 10059) { // stream not found: nothing to delete
                throw e;
            }
        }
    }
}
