import io.nats.client.Connection;
import io.nats.client.KeyValue;
import io.nats.client.KeyValueManagement;
import io.nats.client.api.KeyValueConfiguration;
import io.nats.client.api.KeyValueEntry;
import io.nats.client.api.KeyValueWatcher;
import io.nats.client.api.StorageType;
import io.nats.client.impl.NatsKeyValueWatchSubscription;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Consumer churn (issue 18) on two servers in alternating rounds ({@link Rounds}): what every {@code watch},
 * {@code keys} or ordered consumer pays, a consumer created, its initial set delivered, and the consumer gone.
 * Usage: {@code java -cp jnats-2.25.1.jar:. ChurnRounds URL_A URL_B [rounds] [keys]}. Fills one bucket of
 * {@code keys} keys on each server (untimed), then per scenario one untimed run on each and {@code rounds} timed
 * pairs; a run is {@link #CALLS} sequential calls, and its rate is calls per second.
 */
public final class ChurnRounds {
    static final int CALLS = 50;

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: ChurnRounds <urlA> <urlB> [rounds] [keys]");
            System.exit(2);
        }
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 10;
        int keys = args.length > 3 ? Integer.parseInt(args[3]) : 1000;
        try (Connection a = Bench.connect(args[0], "churn-a", null);
                Connection b = Bench.connect(args[1], "churn-b", null)) {
            KeyValue kva = fill(a, keys);
            KeyValue kvb = fill(b, keys);
            Rounds.row("KV watchAll to end of data, " + keys + " keys", 36, rounds,
                    (onA, warmUp) -> watchAll(onA ? kva : kvb, keys));
            Rounds.row("KV keys(), " + keys + " keys", 36, rounds, (onA, warmUp) -> keysCalls(onA ? kva : kvb, keys));
        }
    }

    static KeyValue fill(Connection nc, int keys) throws Exception {
        KeyValueManagement kvm = nc.keyValueManagement();
        kvm.create(KeyValueConfiguration.builder().name("churn").storageType(StorageType.File).build());
        KeyValue kv = nc.keyValue("churn");
        byte[] value = "v".repeat(100).getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < keys; i++) {
            kv.put("k" + i, value);
        }
        return kv;
    }

    /** Watchers created one after the other, each closed once it saw every key and the end of the initial data. */
    static double watchAll(KeyValue kv, int keys) throws Exception {
        return watchAll(kv, keys, CALLS);
    }

    /** {@code calls} watchers one after the other; the rate in watchers per second. */
    static double watchAll(KeyValue kv, int keys, int calls) throws Exception {
        long start = System.nanoTime();
        for (int c = 0; c < calls; c++) {
            CountDownLatch done = new CountDownLatch(1);
            int[] seen = new int[1];
            NatsKeyValueWatchSubscription sub = kv.watchAll(new KeyValueWatcher() {
                @Override
                public void watch(KeyValueEntry entry) {
                    seen[0]++;
                }

                @Override
                public void endOfData() {
                    done.countDown();
                }
            });
            if (!done.await(30, TimeUnit.SECONDS) || seen[0] != keys) {
                throw new IllegalStateException("watch saw " + seen[0] + " of " + keys + " keys");
            }
            sub.unsubscribe();
        }
        return calls / ((System.nanoTime() - start) / 1e9);
    }

    static double keysCalls(KeyValue kv, int keys) throws Exception {
        long start = System.nanoTime();
        for (int c = 0; c < CALLS; c++) {
            int n = kv.keys().size();
            if (n != keys) {
                throw new IllegalStateException("keys() gave " + n + " of " + keys);
            }
        }
        return CALLS / ((System.nanoTime() - start) / 1e9);
    }
}
