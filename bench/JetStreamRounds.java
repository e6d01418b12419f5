import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.JetStreamManagement;
import io.nats.client.KeyValue;
import io.nats.client.api.KeyValueConfiguration;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;

/**
 * JetStream publishes, KV puts and KV gets against two servers in alternating rounds ({@link Rounds}): on a small
 * VM a round trip is set mostly by how the host schedules the woken threads, which drifts by 2x within a minute.
 *
 * <p>Usage: {@code java -cp jnats-2.25.1.jar:. JetStreamRounds URL_A URL_B [rounds] [n] [sync|async]}: sync
 * round trips (one request at a time) by default, or async JS publishes and KV puts (at most 1,024 acks
 * outstanding). Per scenario, one untimed warm-up round on each server, then {@code rounds} pairs of timed
 * rounds of {@code n} requests, in the order A B, B A, A B, ... Prints one markdown table row per scenario:
 * each server's median rate, the ratio B/A and each server's lowest and highest round.
 */
public final class JetStreamRounds {
    interface Op {
        void run(int i) throws Exception;
    }

    /** One server's connection and objects, set up before any round. */
    static final class Target {
        final Connection nc;
        final JetStream js;
        final KeyValue kv;
        final java.util.ArrayDeque<java.util.concurrent.CompletableFuture<io.nats.client.api.PublishAck>> outstanding =
                new java.util.ArrayDeque<>();

        /** Async rounds: keeps at most WINDOW acks outstanding; the round's last call waits for all of them. */
        void window(java.util.concurrent.CompletableFuture<io.nats.client.api.PublishAck> f, int i) throws Exception {
            outstanding.add(f);
            while (outstanding.size() > WINDOW) {
                outstanding.poll().get();
            }
            if (i == lastIndex) {
                while (!outstanding.isEmpty()) {
                    outstanding.poll().get();
                }
            }
        }

        int lastIndex;

        Target(String url) throws Exception {
            nc = Bench.connect(url, "rounds", null);
            JetStreamManagement jsm = nc.jetStreamManagement();
            // a cluster that has just started may not take a replicated create yet (no meta leader, too few
            // peers): asked again until a deadline; an identical create answers as created
            long deadline = System.nanoTime() + 60_000_000_000L;
            KeyValue kvHandle;
            while (true) {
                try {
                    jsm.addStream(StreamConfiguration.builder().name("SYNC").subjects("sync.js")
                            .storageType(StorageType.File).replicas(REPLICAS).build());
                    nc.keyValueManagement().create(KeyValueConfiguration.builder().name("sync").maxHistoryPerKey(1)
                            .storageType(StorageType.File).replicas(REPLICAS).build());
                    kvHandle = nc.keyValue("sync");
                    break;
                } catch (Exception e) {
                    if (System.nanoTime() > deadline) {
                        throw e;
                    }
                    Thread.sleep(500);
                }
            }
            js = nc.jetStream();
            kv = kvHandle;
            for (int k = 0; k < 1000; k++) {
                kv.put("k" + k, new byte[128]);
            }
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: JetStreamRounds <urlA> <urlB> [rounds] [n]");
            System.exit(2);
        }
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 10;
        int n = args.length > 3 ? Integer.parseInt(args[3]) : 5000;
        boolean async = args.length > 4 && args[4].equals("async");
        Target a = new Target(args[0]);
        Target b = new Target(args[1]);
        byte[] body = new byte[128];
        String[] names = async
                ? new String[] {"JS publish async (msgs/s)", "KV put async (puts/s)"}
                : new String[] {"JS publish sync (msgs/s)", "KV put sync (puts/s)", "KV get (gets/s)"};
        for (int s = 0; s < names.length; s++) {
            int scenario = async ? ASYNC_JS + s : s;
            Rounds.row(names[s], 26, rounds, (onA, warmUp) -> {
                Target t = onA ? a : b;
                return time(op(t, scenario, body), warmUp ? n / 2 : n, t);
            });
        }
        a.nc.close();
        b.nc.close();
    }

    static final int ASYNC_JS = 3;
    /** {@code -Dbench.replicas=3}: replicated stream and bucket, for two clusters (bench/r3-rounds.sh). */
    static final int REPLICAS = Integer.getInteger("bench.replicas", 1);
    /** Async rounds: at most this many pub acks outstanding, as in bench/JetStreamBench.java. */
    static final int WINDOW = 1024;

    static Op op(Target t, int scenario, byte[] body) {
        return switch (scenario) {
            case 0 -> i -> t.js.publish("sync.js", body);
            case 1 -> i -> t.kv.put("k" + (i % 1000), body);
            case 2 -> i -> {
                if (t.kv.get("k" + (i % 1000)) == null) {
                    throw new IllegalStateException("key k" + (i % 1000) + " missing");
                }
            };
            case ASYNC_JS -> i -> t.window(t.js.publishAsync("sync.js", body), i);
            default -> i -> t.window(t.js.publishAsync("$KV.sync.k" + (i % 1000), body), i);
        };
    }

    static double time(Op op, int n, Target t) throws Exception {
        t.lastIndex = n - 1;
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            op.run(i);
        }
        return n / ((System.nanoTime() - t0) / 1e9);
    }
}
