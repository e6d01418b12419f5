import io.nats.client.Connection;
import io.nats.client.Dispatcher;
import io.nats.client.Nats;
import io.nats.client.Options;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One jnats connection that subscribes to a subject and publishes to it (bench/self-pub.sh, issue 18): per round,
 * N 128-byte messages as fast as the client queues them, timed until the last one is back. Usage:
 * {@code SelfPub <url> <n> <rounds>}; prints one line per round.
 */
public class SelfPub {
    public static void main(String[] args) throws Exception {
        String url = args[0];
        int n = Integer.parseInt(args[1]);
        int rounds = Integer.parseInt(args[2]);
        byte[] payload = new byte[128];
        try (Connection nc = Nats.connect(Options.builder().server(url).connectionTimeout(Duration.ofSeconds(10))
                .build())) {
            for (int r = 1; r <= rounds; r++) {
                AtomicLong got = new AtomicLong();
                CountDownLatch all = new CountDownLatch(1);
                Dispatcher d = nc.createDispatcher(m -> {
                    if (got.incrementAndGet() == n) {
                        all.countDown();
                    }
                });
                d.subscribe("self.bench");
                nc.flush(Duration.ofSeconds(30));
                long start = System.nanoTime();
                for (int i = 0; i < n; i++) {
                    nc.publish("self.bench", payload);
                }
                boolean done = all.await(300, TimeUnit.SECONDS);
                double secs = (System.nanoTime() - start) / 1e9;
                System.out.printf("round %d: %s %d/%d back in %.2f s, %.0f msgs/s%n", r, done ? "ok" : "TIMEOUT",
                        got.get(), n, secs, got.get() / secs);
                nc.closeDispatcher(d);
            }
        }
    }
}
