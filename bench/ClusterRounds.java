import io.nats.client.Connection;
import io.nats.client.Dispatcher;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Core NATS across a route: a 3-node nats-server cluster (A) beside a 3-node JetKV cluster (B), measured in
 * alternating rounds ({@link Rounds}). The publisher or requester is on node 1 of a cluster, the subscriber or
 * responder on node 2, so every message crosses exactly one route.
 *
 * <p>Usage: {@code java -cp jnats-2.25.1.jar:. ClusterRounds A1 A2 B1 B2 [rounds] [n]}. Scenarios: N async
 * publishes of 128 bytes received by a subscriber on the other node (rate at the subscriber), and N request/reply
 * round trips (one at a time) to a responder on the other node.
 */
public final class ClusterRounds {
    /** One cluster's two client connections, with the subscriber and responder in place. */
    static final class Pair {
        final Connection pub;
        final Connection sub;
        final AtomicInteger received = new AtomicInteger();
        volatile CountDownLatch done = new CountDownLatch(0);
        volatile int expected;

        Pair(String url1, String url2) throws Exception {
            pub = Bench.connect(url1, "cluster-pub", null);
            sub = Bench.connect(url2, "cluster-sub", null);
            Dispatcher d = sub.createDispatcher(m -> {
                if (received.incrementAndGet() == expected) {
                    done.countDown();
                }
            });
            d.subscribe("xnode.pubsub");
            Dispatcher r = sub.createDispatcher(m -> sub.publish(m.getReplyTo(), m.getData()));
            r.subscribe("xnode.svc");
            sub.flush(Duration.ofSeconds(5));
            // the subscriptions reach node 1 through the route: wait until a request is answered there
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (true) {
                try {
                    if (pub.request("xnode.svc", new byte[1]).get(1, TimeUnit.SECONDS) != null) {
                        break;
                    }
                } catch (Exception e) {
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("no route between the two nodes", e);
                    }
                    Thread.sleep(50);
                }
            }
        }

        double pubSub(int n) throws Exception {
            byte[] payload = new byte[128];
            received.set(0);
            expected = n;
            done = new CountDownLatch(1);
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                pub.publish("xnode.pubsub", payload);
            }
            pub.flush(Duration.ofSeconds(30));
            if (!done.await(60, TimeUnit.SECONDS)) {
                throw new IllegalStateException("received " + received.get() + " of " + n);
            }
            return n / ((System.nanoTime() - t0) / 1e9);
        }

        double requests(int n) throws Exception {
            byte[] payload = new byte[128];
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                if (pub.request("xnode.svc", payload, Duration.ofSeconds(5)) == null) {
                    throw new IllegalStateException("request " + i + " timed out");
                }
            }
            return n / ((System.nanoTime() - t0) / 1e9);
        }
    }

    public static void main(String[] args) throws Exception {
        Pair a = new Pair(args[0], args[1]);
        Pair b = new Pair(args[2], args[3]);
        int rounds = args.length > 4 ? Integer.parseInt(args[4]) : 10;
        int n = args.length > 5 ? Integer.parseInt(args[5]) : 200_000;
        int requests = Math.max(1, n / 40);
        // untimed rounds before Rounds.row's own: JetKV's JIT compiler needs more than one round of traffic before
        // its code is compiled (on two cores it competes with the servers for the CPU); the first requests of a
        // fresh server are bench/rounds.sh fresh's subject, not this one's
        int warmUps = args.length > 6 ? Integer.parseInt(args[6]) : 5;
        for (int w = 0; w < warmUps; w++) {
            a.pubSub(n);
            b.pubSub(n);
            a.requests(requests);
            b.requests(requests);
        }
        Rounds.row("cross-node pub/sub, 128 B", 30, rounds, (onA, warmUp) -> (onA ? a : b).pubSub(n));
        Rounds.row("cross-node request/reply", 30, rounds, (onA, warmUp) -> (onA ? a : b).requests(requests));
        System.exit(0);
    }
}
