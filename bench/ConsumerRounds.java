import io.nats.client.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@link ConsumerBench}'s scenarios against two servers in alternating rounds (A B, B A, ...), so that both see
 * the same moments of the machine. Usage: {@code java -cp jnats-2.25.1.jar:. ConsumerRounds URL_A URL_B
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
                List<Double> ra = new ArrayList<>();
                List<Double> rb = new ArrayList<>();
                run(s, a, n);
                run(s, b, n);
                for (int r = 0; r < rounds; r++) {
                    boolean aFirst = r % 2 == 0;
                    double first = run(s, aFirst ? a : b, n);
                    double second = run(s, aFirst ? b : a, n);
                    ra.add(aFirst ? first : second);
                    rb.add(aFirst ? second : first);
                    System.err.printf(Locale.ROOT, "  %s round %d: A %.0f, B %.0f%n", names[s], r + 1,
                            ra.get(r), rb.get(r));
                }
                System.out.printf(Locale.ROOT, "| %-36s | %8.0f | %8.0f | %5.2f | %6.0f-%-6.0f | %6.0f-%-6.0f |%n",
                        names[s], JetStreamRounds.median(ra), JetStreamRounds.median(rb),
                        JetStreamRounds.median(rb) / JetStreamRounds.median(ra), JetStreamRounds.min(ra), JetStreamRounds.max(ra),
                        JetStreamRounds.min(rb), JetStreamRounds.max(rb));
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
