import io.nats.client.Connection;
import io.nats.client.KeyValue;
import io.nats.client.api.KeyValueStatus;
import java.util.Locale;

/**
 * Companion of bench/kv-restart.sh. {@code load <url> <keys>}: a fresh bucket {@code scale} with that many keys, as
 * bench/KvScale.java loads it. {@code status <url>}: one getStatus() on the bucket, printing its value count and the
 * call's time, so the script can check that the restarted server answers with everything.
 */
public final class KvRestart {
    public static void main(String[] args) throws Exception {
        try (Connection nc = Bench.connect(args[1], "bench-kv-restart", null)) {
            if (args[0].equals("load")) {
                KvScale.freshBucket(nc);
                System.out.printf(Locale.ROOT, "load %.0f%n", KvScale.load(nc, Integer.parseInt(args[2])));
            } else {
                KeyValue kv = nc.keyValue(KvScale.BUCKET);
                long t0 = System.nanoTime();
                KeyValueStatus st = kv.getStatus();
                System.out.printf(Locale.ROOT, "values %d%nstatus_ms %.1f%n", st.getEntryCount(),
                        (System.nanoTime() - t0) / 1e6);
            }
        }
    }
}
