package io.jetkv.server;

/**
 * CPU time of one subject-index match of a reply inbox seen once (a pub ack's), as the writer pays it for each ack.
 * Thread CPU time, not wall time, so that a loaded machine disturbs it less. Package-private API: compile and run
 * against a server jar, alternating two builds:
 *
 *   javac -d /tmp/mb -cp server/target/jetkv.jar bench/MatchBench.java
 *   java -cp /tmp/mb:server/target/jetkv.jar io.jetkv.server.MatchBench
 */
public class MatchBench {
    public static void main(String[] a) {
        SubjectIndex index = new SubjectIndex();
        index.insert(new Sub("_INBOX.Xq7GfT2kLm9PzRwY3nV.*", (s, r, h, p) -> true));
        index.insert(new Sub("$JS.API.>", (s, r, h, p) -> true));
        index.insert(new Sub("orders.*", (s, r, h, p) -> true));
        int n = 2_000_000;
        String[] subjects = new String[n];
        for (int i = 0; i < n; i++) {
            subjects[i] = "_INBOX.Xq7GfT2kLm9PzRwY3nV." + i;
        }
        java.lang.management.ThreadMXBean cpu = java.lang.management.ManagementFactory.getThreadMXBean();
        long sink = 0;
        for (int round = 0; round < 6; round++) {
            long t = cpu.getCurrentThreadCpuTime();
            for (int i = 0; i < n; i++) {
                // fresh String each time, as a decoded reply subject is
                sink += index.match(new String(subjects[i])).plain().size();
            }
            long ns = cpu.getCurrentThreadCpuTime() - t;
            if (round >= 2) {
                System.out.printf("%.1f ns/match%n", (double) ns / n);
            }
        }
        if (sink == 0) {
            System.out.println(sink);
        }
    }
}
