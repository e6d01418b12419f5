import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.JetStreamOptions;
import io.nats.client.Message;
import io.nats.client.api.PublishAck;
import io.nats.client.impl.Headers;
import io.nats.client.impl.NatsMessage;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * An atomic batch of 100 puts against 100 sync puts (issue 14), against one server started with -js: a file stream
 * {@code AB} on {@code ab.>} with {@code allow_atomic}; each round stores 100 16-byte messages three ways, one after
 * the other: 100 {@code js.publish} calls, each waiting for its pub ack (sync); 100 {@code publishAsync} calls, then
 * all their acks (async); and one atomic batch (99 core publishes with {@code Nats-Batch-Id} and
 * {@code Nats-Batch-Sequence} and no reply subject, then the 100th with {@code Nats-Batch-Commit: 1} as a request,
 * whose pub ack must say {@code "count":100}). jnats has no batch helper (the headers are what nats.go's batch
 * publisher sends). One untimed round first, then ROUNDS timed; the median of each way is printed.
 *
 * <p>Usage: {@code java -cp jnats.jar:. AtomicBatch nats://127.0.0.1:4222 [rounds]}. Prints {@code name value} lines.
 */
public final class AtomicBatch {
    static final int N = 100;

    public static void main(String[] args) throws Exception {
        String url = args[0];
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 50;
        try (Connection nc = Bench.connect(url, "bench-atomic-batch", null)) {
            Message created = nc.request("$JS.API.STREAM.CREATE.AB", ("{\"name\":\"AB\",\"subjects\":[\"ab.>\"],"
                    + "\"storage\":\"file\",\"allow_atomic\":true}").getBytes(StandardCharsets.UTF_8),
                    Duration.ofSeconds(30));
            String reply = new String(created.getData(), StandardCharsets.UTF_8);
            if (reply.contains("\"error\"")) {
                System.out.println("FAIL stream create: " + reply);
                return;
            }
            // a loaded machine may hold a pub ack back for seconds: jnats' 2 s default would fail the run
            JetStream js = nc.jetStream(JetStreamOptions.builder().requestTimeout(Duration.ofSeconds(30)).build());
            byte[] value = "0123456789abcdef".getBytes(StandardCharsets.UTF_8);
            List<Double> sync = new ArrayList<>();
            List<Double> async = new ArrayList<>();
            List<Double> batch = new ArrayList<>();
            for (int r = 0; r <= rounds; r++) {
                long t0 = System.nanoTime();
                for (int i = 0; i < N; i++) {
                    js.publish("ab.s" + i, value);
                }
                long t1 = System.nanoTime();
                List<CompletableFuture<PublishAck>> acks = new ArrayList<>(N);
                for (int i = 0; i < N; i++) {
                    acks.add(js.publishAsync("ab.a" + i, value));
                }
                for (CompletableFuture<PublishAck> f : acks) {
                    f.get();
                }
                long t2 = System.nanoTime();
                String id = "b" + r;
                for (int i = 1; i < N; i++) {
                    Headers h = new Headers().put("Nats-Batch-Id", id).put("Nats-Batch-Sequence", String.valueOf(i));
                    nc.publish(NatsMessage.builder().subject("ab.b" + i).headers(h).data(value).build());
                }
                Headers h = new Headers().put("Nats-Batch-Id", id).put("Nats-Batch-Sequence", String.valueOf(N))
                        .put("Nats-Batch-Commit", "1");
                Message ack = nc.request(NatsMessage.builder().subject("ab.b" + N).headers(h).data(value).build(),
                        Duration.ofSeconds(30));
                long t3 = System.nanoTime();
                String a = ack == null ? "no reply" : new String(ack.getData(), StandardCharsets.UTF_8);
                if (!a.contains("\"count\":" + N)) {
                    System.out.println("FAIL batch commit: " + a);
                    return;
                }
                if (r > 0) { // round 0 warms up client and server
                    sync.add((t1 - t0) / 1e6);
                    async.add((t2 - t1) / 1e6);
                    batch.add((t3 - t2) / 1e6);
                }
            }
            System.out.printf("sync_100_ms %.2f%n", median(sync));
            System.out.printf("async_100_ms %.2f%n", median(async));
            System.out.printf("batch_100_ms %.2f%n", median(batch));
            System.out.printf("batch_100_ms_min_max %.2f-%.2f%n", Collections.min(batch), Collections.max(batch));
            System.out.printf("sync_100_ms_min_max %.2f-%.2f%n", Collections.min(sync), Collections.max(sync));
            nc.request("$JS.API.STREAM.DELETE.AB", new byte[0], Duration.ofSeconds(30));
        }
    }

    static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        Collections.sort(s);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }
}
