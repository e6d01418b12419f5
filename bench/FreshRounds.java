import io.nats.client.Connection;
import io.nats.client.Dispatcher;
import io.nats.client.JetStream;
import io.nats.client.KeyValue;
import io.nats.client.api.KeyValueConfiguration;
import io.nats.client.api.PublishAck;
import io.nats.client.api.StorageType;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The first requests a fresh server answers (issue 18): client test harnesses, CI pipelines, rolling restarts
 * and a new user's first try all meet a server that has just started. For every row and round, each server is
 * started anew on an empty store ({@code -js -sd DIR}, the order alternating between rounds), the row's
 * set-up (a bucket, its keys) runs untimed, then the row's first {@code n} operations are timed, and the server
 * is stopped. This client's own JVM is warmed up first against one server of each kind, so that only the
 * servers are cold.
 *
 * <p>Usage: {@code java -cp jnats.jar:. FreshRounds NATS_SERVER JETKV WORKDIR [rounds] [n]}. Prints one
 * markdown table row per scenario, as {@link Rounds} does.
 */
public final class FreshRounds {
    private static final Pattern LISTENING = Pattern.compile("Listening for client connections on [^ ]*:(\\d+)");
    private static final int KEYS = 1000;
    private static final int WATCHERS = 20;
    private static final byte[] VALUE = new byte[100];

    interface Scenario {
        /** Untimed set-up on the fresh server, then the timed part's rate. */
        double run(Connection nc, int n) throws Exception;
    }

    private static String natsServer;
    private static String jetkv;
    private static Path work;
    private static int launches;

    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: FreshRounds <nats-server> <jetkv> <workdir> [rounds] [n]");
            System.exit(2);
        }
        natsServer = args[0];
        jetkv = args[1];
        work = Path.of(args[2]);
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 5;
        int n = args.length > 4 ? Integer.parseInt(args[4]) : 10_000;
        String[] names = {"core pub->sub 128 B (msgs/s)", "KV put, one at a time (puts/s)",
                "KV put, async (puts/s)", "KV get, one at a time (gets/s)",
                "KV watchAll replay, 1000 keys (watchers/s)"};
        Scenario[] scenarios = {FreshRounds::pubSub, FreshRounds::putSync, FreshRounds::putAsync,
                FreshRounds::getSync, FreshRounds::watchAll};
        // this client's warm-up: every scenario once against a server of each kind, untimed
        for (int s = 0; s < scenarios.length; s++) {
            fresh(true, scenarios[s], n);
            fresh(false, scenarios[s], n);
        }
        for (int s = 0; s < scenarios.length; s++) {
            List<Double> ra = new ArrayList<>();
            List<Double> rb = new ArrayList<>();
            for (int r = 0; r < rounds; r++) {
                boolean aFirst = r % 2 == 0;
                double first = fresh(aFirst, scenarios[s], n);
                double second = fresh(!aFirst, scenarios[s], n);
                ra.add(aFirst ? first : second);
                rb.add(aFirst ? second : first);
                System.err.printf(Locale.ROOT, "  %s round %d: A %.0f, B %.0f%n", names[s], r + 1, ra.get(r),
                        rb.get(r));
            }
            System.out.printf(Locale.ROOT, "| %-42s | %8.0f | %8.0f | %5.2f | %6.0f-%-6.0f | %6.0f-%-6.0f |%n",
                    names[s], Rounds.median(ra), Rounds.median(rb), Rounds.median(rb) / Rounds.median(ra),
                    Rounds.min(ra), Rounds.max(ra), Rounds.min(rb), Rounds.max(rb));
        }
    }

    /** Starts a fresh server (nats-server when {@code reference}), runs the scenario on it, stops it. */
    static double fresh(boolean reference, Scenario scenario, int n) throws Exception {
        Path store = work.resolve("fresh-" + launches++);
        Files.createDirectories(store);
        List<String> cmd = List.of(reference ? natsServer : jetkv, "-a", "127.0.0.1", "-p", "-1", "-js", "-sd",
                store.toString());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try {
            int port = awaitPort(p);
            try (Connection nc = Bench.connect("nats://127.0.0.1:" + port, "fresh", null)) {
                awaitJetStream(nc);
                return scenario.run(nc, n);
            }
        } finally {
            p.destroy();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
            }
            deleteTree(store);
        }
    }

    /** Reads the server's log until it names its client port; a thread drains the rest. */
    static int awaitPort(Process p) throws Exception {
        BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String line;
        while ((line = r.readLine()) != null) {
            Matcher m = LISTENING.matcher(line);
            if (m.find()) {
                Thread drain = new Thread(() -> {
                    try {
                        while (r.readLine() != null) {
                            // discard
                        }
                    } catch (Exception ignored) {
                        // the process ended
                    }
                }, "fresh-log");
                drain.setDaemon(true);
                drain.start();
                return Integer.parseInt(m.group(1));
            }
        }
        throw new IllegalStateException("server exited without naming its port");
    }

    /** JetKV listens before JetStream is up: the first {@code $JS.API.INFO} answer says it is. */
    static void awaitJetStream(Connection nc) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try {
                nc.jetStreamManagement().getAccountStatistics();
                return;
            } catch (Exception e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
            }
        }
    }

    static double pubSub(Connection nc, int n) throws Exception {
        try (Connection pub = Bench.connect(nc.getConnectedUrl(), "fresh-pub", null)) {
            CountDownLatch all = new CountDownLatch(1);
            AtomicInteger got = new AtomicInteger();
            int total = n * 10; // a publish is cheap: ten per request of the other rows
            Dispatcher d = nc.createDispatcher(m -> {
                if (got.incrementAndGet() == total) {
                    all.countDown();
                }
            });
            d.setPendingLimits(-1, -1);
            d.subscribe("fresh.pubsub");
            nc.flush(Duration.ofSeconds(10));
            byte[] body = new byte[128];
            long t0 = System.nanoTime();
            for (int i = 0; i < total; i++) {
                pub.publish("fresh.pubsub", body);
            }
            if (!all.await(120, TimeUnit.SECONDS)) {
                throw new IllegalStateException("subscriber got " + got.get() + " of " + total);
            }
            return total / ((System.nanoTime() - t0) / 1e9);
        }
    }

    static KeyValue bucket(Connection nc, boolean fill) throws Exception {
        nc.keyValueManagement().create(KeyValueConfiguration.builder().name("fresh").maxHistoryPerKey(1)
                .storageType(StorageType.File).build());
        KeyValue kv = nc.keyValue("fresh");
        if (fill) {
            List<CompletableFuture<PublishAck>> acks = new ArrayList<>();
            JetStream js = nc.jetStream();
            for (int k = 0; k < KEYS; k++) {
                acks.add(js.publishAsync("$KV.fresh.k" + k, VALUE));
            }
            for (CompletableFuture<PublishAck> f : acks) {
                f.get(60, TimeUnit.SECONDS);
            }
        }
        return kv;
    }

    static double putSync(Connection nc, int n) throws Exception {
        KeyValue kv = bucket(nc, false);
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            kv.put("k" + (i % KEYS), VALUE);
        }
        return n / ((System.nanoTime() - t0) / 1e9);
    }

    static double putAsync(Connection nc, int n) throws Exception {
        bucket(nc, false);
        JetStream js = nc.jetStream();
        ArrayDeque<CompletableFuture<PublishAck>> outstanding = new ArrayDeque<>();
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            outstanding.add(js.publishAsync("$KV.fresh.k" + (i % KEYS), VALUE));
            while (outstanding.size() > JetStreamRounds.WINDOW) {
                outstanding.poll().get(60, TimeUnit.SECONDS);
            }
        }
        while (!outstanding.isEmpty()) {
            outstanding.poll().get(60, TimeUnit.SECONDS);
        }
        return n / ((System.nanoTime() - t0) / 1e9);
    }

    static double getSync(Connection nc, int n) throws Exception {
        KeyValue kv = bucket(nc, true);
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            if (kv.get("k" + (i % KEYS)) == null) {
                throw new IllegalStateException("key k" + (i % KEYS) + " missing");
            }
        }
        return n / ((System.nanoTime() - t0) / 1e9);
    }

    static double watchAll(Connection nc, int n) throws Exception {
        return ChurnRounds.watchAll(bucket(nc, true), KEYS, WATCHERS);
    }

    static void deleteTree(Path dir) throws Exception {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
        }
    }
}
