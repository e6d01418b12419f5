import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One scenario measured on two servers in alternating rounds (A B, B A, A B, ...), so that both see the same
 * moments of the machine: on a small VM the speed drifts by 2x within a minute, and a server measured after the
 * other one would get a different machine. Used by {@link JetStreamRounds} and {@link ConsumerRounds}.
 */
final class Rounds {
    private Rounds() {}

    /** Runs the scenario once on server A ({@code onA}) or B and returns its rate; untimed when {@code warmUp}. */
    interface Run {
        double rate(boolean onA, boolean warmUp) throws Exception;
    }

    /**
     * One untimed run on each server, then {@code rounds} timed pairs; each pair's rates go to stderr as they come.
     * Prints one markdown table row to stdout: each server's median rate, the ratio B/A and each server's lowest
     * and highest round.
     */
    static void row(String name, int width, int rounds, Run run) throws Exception {
        run.rate(true, true);
        run.rate(false, true);
        List<Double> ra = new ArrayList<>();
        List<Double> rb = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            boolean aFirst = r % 2 == 0;
            double first = run.rate(aFirst, false);
            double second = run.rate(!aFirst, false);
            ra.add(aFirst ? first : second);
            rb.add(aFirst ? second : first);
            System.err.printf(Locale.ROOT, "  %s round %d: A %.0f, B %.0f%n", name, r + 1, ra.get(r), rb.get(r));
        }
        System.out.printf(Locale.ROOT, "| %-" + width + "s | %8.0f | %8.0f | %5.2f | %6.0f-%-6.0f | %6.0f-%-6.0f |%n",
                name, median(ra), median(rb), median(rb) / median(ra), min(ra), max(ra), min(rb), max(rb));
    }

    static double median(List<Double> l) {
        List<Double> s = new ArrayList<>(l);
        s.sort(null);
        int m = s.size() / 2;
        return s.size() % 2 == 1 ? s.get(m) : (s.get(m - 1) + s.get(m)) / 2;
    }

    static double min(List<Double> l) {
        return l.stream().mapToDouble(Double::doubleValue).min().orElse(0);
    }

    static double max(List<Double> l) {
        return l.stream().mapToDouble(Double::doubleValue).max().orElse(0);
    }
}
