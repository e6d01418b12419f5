import io.nats.client.Connection;

/**
 * {@link ConsumerBench}'s scenarios against two servers in alternating rounds ({@link Rounds}). Usage: {@code java -cp jnats-2.25.1.jar:. ConsumerRounds URL_A URL_B
 * [rounds] [messages]}. Fills one stream of {@code messages} on each server (untimed), then per scenario one
 * untimed run on each and {@code rounds} timed pairs. Prints one markdown table row per scenario: each server's
 * median rate, the ratio B/A and each server's lowest and highest run.
 */
public final class ConsumerRounds {
    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: ConsumerRounds <urlA> <urlB> [rounds] [messages]");
            System.exit(2);
        }
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 10;
        int n = args.length > 3 ? Integer.parseInt(args[3]) : 100_000;
        try (Connection a = Bench.connect(args[0], "rounds-a", null);
                Connection b = Bench.connect(args[1], "rounds-b", null)) {
            ConsumerBench.fill(a, n);
            ConsumerBench.fill(b, n);
            String[] names = {"ordered push consumer replay", "pull fetch(500), explicit ack each",
                    "pull fetch(500), AckPolicy.All", "work queue pull fetch(500), ack each"};
            for (int s = 0; s < names.length; s++) {
                int scenario = s;
                Rounds.row(names[s], 36, rounds, (onA, warmUp) -> run(scenario, onA ? a : b, n));
            }
        }
    }

    static double run(int scenario, Connection nc, int n) throws Exception {
        return switch (scenario) {
            case 0 -> ConsumerBench.orderedReplay(nc, n);
            case 1 -> ConsumerBench.pullFetch(nc, n, io.nats.client.api.AckPolicy.Explicit);
            case 2 -> ConsumerBench.pullFetch(nc, n, io.nats.client.api.AckPolicy.All);
            default -> ConsumerBench.workQueue(nc, n);
        };
    }
}
