import io.nats.client.Connection;
import io.nats.client.KeyValue;
import io.nats.client.Message;
import io.nats.client.Subscription;
import io.nats.client.api.KeyValueConfiguration;
import io.nats.client.api.StorageType;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Batch direct get against single gets (issue 14): a KV bucket of {@code keys} keys read back three ways, each
 * timed {@code repeats} times after one untimed run, median printed: {@code kv.get(key)} for every key (jnats' single
 * direct gets, one round trip each), one multi-last direct get over the bucket ({@code {"multi_last":["$KV.b.>"]}},
 * read to its 204 EOB), and one batch direct get of the stream's range ({@code {"seq":1,"batch":keys}}). The batch
 * forms are raw requests: jnats has none. Runs on the caller's thread against a server at a URL started with -js.
 *
 * <p>Usage: {@code java -cp jnats.jar:. BatchGet nats://127.0.0.1:4222 [keys] [repeats]}. Prints
 * {@code scenario median_ms} lines.
 */
public final class BatchGet {
    static final String BUCKET = "batchget";

    public static void main(String[] args) throws Exception {
        String url = args[0];
        int keys = args.length > 1 ? Integer.parseInt(args[1]) : 1000;
        int repeats = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        try (Connection nc = Bench.connect(url, "bench-batchget", null)) {
            nc.keyValueManagement().create(KeyValueConfiguration.builder().name(BUCKET)
                    .storageType(StorageType.File).build());
            KeyValue kv = nc.keyValue(BUCKET);
            byte[] value = "0123456789abcdef".getBytes(StandardCharsets.UTF_8);
            for (int i = 0; i < keys; i++) {
                kv.put("k" + i, value);
            }
            String stream = "$JS.API.DIRECT.GET.KV_" + BUCKET;
            String multi = "{\"multi_last\":[\"$KV." + BUCKET + ".>\"]}";
            String range = "{\"seq\":1,\"batch\":" + keys + "}";
            time("single_gets_ms", repeats, () -> {
                for (int i = 0; i < keys; i++) {
                    if (kv.get("k" + i) == null) {
                        throw new IllegalStateException("missing k" + i);
                    }
                }
            });
            time("multi_last_get_ms", repeats, () -> batch(nc, stream, multi, keys));
            time("range_batch_get_ms", repeats, () -> batch(nc, stream, range, keys));
            nc.keyValueManagement().delete(BUCKET);
        }
    }

    interface Work {
        void run() throws Exception;
    }

    static void time(String name, int repeats, Work w) throws Exception {
        w.run(); // warm-up
        List<Double> ms = new ArrayList<>();
        for (int r = 0; r < repeats; r++) {
            long t0 = System.nanoTime();
            w.run();
            ms.add((System.nanoTime() - t0) / 1e6);
        }
        Collections.sort(ms);
        System.out.printf("%s %.2f%n", name, ms.get(ms.size() / 2));
    }

    /** One batch request read to its EOB; fails unless exactly {@code expected} messages came. */
    static void batch(Connection nc, String subject, String body, int expected) throws Exception {
        String inbox = nc.createInbox();
        Subscription sub = nc.subscribe(inbox);
        nc.publish(subject, inbox, body.getBytes(StandardCharsets.UTF_8));
        int n = 0;
        while (true) {
            Message m = sub.nextMessage(Duration.ofSeconds(10));
            if (m == null) {
                throw new IllegalStateException("no EOB after " + n + " messages");
            }
            if (m.isStatusMessage()) {
                if (m.getStatus().getCode() != 204 || n != expected) {
                    throw new IllegalStateException(m.getStatus() + " after " + n + " messages");
                }
                break;
            }
            n++;
        }
        sub.unsubscribe();
    }
}
