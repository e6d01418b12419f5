import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.JetStreamManagement;
import io.nats.client.JetStreamOptions;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.api.KeyValueConfiguration;
import io.nats.client.api.PublishAck;
import io.nats.client.api.StorageType;
import io.nats.client.impl.Headers;
import io.nats.client.impl.NatsMessage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Per-key TTL at scale (issue 14), against one server: loads KEYS keys of a KV bucket with limit markers, each
 * with {@code Nats-TTL: TTL} (async publishes to {@code $KV.ttl.k<i>}, at most 1024 pub acks outstanding, as
 * {@code kv.create(k, v, ttl)} sends them minus its expected-sequence header), then keeps putting other keys
 * (without TTL) until every loaded key has expired. Expired keys are counted by the sequences the markers take:
 * each expiry appends one marker. Prints "name value" lines: load time, the put rate before the first deadline
 * (baseline) and while the keys expire, expiry throughput, and the server's VmRSS/VmHWM when its pid is given.
 *
 * <p>Usage: {@code java -cp jnats-2.26.2.jar:. KvTtl URL [keys] [ttlSeconds] [serverPid]}
 */
public final class KvTtl {
    public static void main(String[] args) throws Exception {
        String url = args[0];
        int keys = args.length > 1 ? Integer.parseInt(args[1]) : 1_000_000;
        int ttl = args.length > 2 ? Integer.parseInt(args[2]) : 60;
        String pid = args.length > 3 ? args[3] : null;
        Options o = new Options.Builder().server(url).connectionTimeout(Duration.ofSeconds(10))
                .maxMessagesInOutgoingQueue(1 << 20).build();
        try (Connection nc = Nats.connect(o)) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            nc.keyValueManagement().create(KeyValueConfiguration.builder().name("ttl").storageType(StorageType.File)
                    .limitMarker(Duration.ofSeconds(Math.max(1, ttl))).build());
            // a loaded machine may hold pub acks back for seconds: jnats' 2 s default would cancel them
            JetStream js = nc.jetStream(JetStreamOptions.builder().requestTimeout(Duration.ofSeconds(60)).build());
            byte[] value = "0123456789abcdef".getBytes(StandardCharsets.UTF_8);
            Headers h = new Headers().put("Nats-TTL", ttl + "s");

            long t0 = System.nanoTime();
            publish(js, keys, i -> NatsMessage.builder().subject("$KV.ttl.k" + i).headers(h).data(value).build());
            long loadNanos = System.nanoTime() - t0;
            long firstDeadline = t0 + ttl * 1_000_000_000L;
            System.out.printf("load_seconds %.1f%n", loadNanos / 1e9);
            System.out.printf("load_rate %.0f%n", keys / (loadNanos / 1e9));
            rss(pid, "after_load");
            if (System.nanoTime() > firstDeadline) {
                System.out.println("note loading outlasted the TTL; raise ttlSeconds");
            }

            // puts of other keys, in rounds of 10,000, until the first deadline (baseline), then until all expired
            AtomicLong puts = new AtomicLong();
            long baseStart = System.nanoTime();
            long basePuts = 0;
            while (System.nanoTime() < firstDeadline - 1_000_000_000L) {
                basePuts += putRound(js, puts, value);
            }
            double baseRate = basePuts / ((System.nanoTime() - baseStart) / 1e9);
            System.out.printf("put_rate_baseline %.0f%n", baseRate);

            long expStart = System.nanoTime();
            long expPuts = 0;
            long expired = 0;
            long hwmSamples = 0;
            while (expired < keys) {
                expPuts += putRound(js, puts, value);
                long last = jsm.getStreamInfo("KV_ttl").getStreamState().getLastSequence();
                expired = last - keys - puts.get();
                if (++hwmSamples % 20 == 0) {
                    rss(pid, "during_expiry");
                }
                if (System.nanoTime() - expStart > 900_000_000_000L) {
                    System.out.println("FAIL expiry not done after 900 s: " + expired + " of " + keys);
                    return;
                }
            }
            double expSeconds = (System.nanoTime() - Math.max(expStart, firstDeadline)) / 1e9;
            System.out.printf("put_rate_during_expiry %.0f%n", expPuts / ((System.nanoTime() - expStart) / 1e9));
            System.out.printf("expiry_seconds %.1f%n", expSeconds);
            System.out.printf("expiry_rate %.0f%n", keys / expSeconds);
            rss(pid, "after_expiry");
        }
    }

    interface Msg {
        io.nats.client.Message of(int i);
    }

    static void publish(JetStream js, int n, Msg msg) throws InterruptedException {
        Semaphore window = new Semaphore(1024);
        for (int i = 0; i < n; i++) {
            window.acquire();
            CompletableFuture<PublishAck> f = js.publishAsync(msg.of(i));
            f.whenComplete((a, e) -> {
                if (e != null) {
                    System.err.println("publish failed: " + e);
                }
                window.release();
            });
        }
        window.acquire(1024);
        window.release(1024);
    }

    static long putRound(JetStream js, AtomicLong puts, byte[] value) throws InterruptedException {
        long base = puts.get();
        publish(js, 10_000, i -> NatsMessage.builder().subject("$KV.ttl.p" + ((base + i) % 100_000)).data(value).build());
        puts.addAndGet(10_000);
        return 10_000;
    }

    static void rss(String pid, String phase) {
        if (pid == null) {
            return;
        }
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("VmRSS:") || line.startsWith("VmHWM:")) {
                    String[] p = line.split("\\s+");
                    System.out.println(phase + "_" + p[0].replace(":", "").toLowerCase() + "_mb "
                            + Long.parseLong(p[1]) / 1024);
                }
            }
        } catch (Exception e) {
            System.out.println("note no /proc status for " + pid);
        }
    }
}
