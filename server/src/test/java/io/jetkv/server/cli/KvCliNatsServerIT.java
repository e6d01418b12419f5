package io.jetkv.server.cli;

import io.jetkv.server.testing.ReferenceServer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jetkv.server.cli.CliRunner.Result;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLI against the reference nats-server: the shared contract, plus the commands that need consumers
 * (watch, keys, history, {@code ls <bucket>}, compact), which JetKV does not have yet.
 */
class KvCliNatsServerIT extends KvCliContract {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final String TIME = "\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d";

    @TempDir
    static Path store;

    private static ReferenceServer server;
    private static CliRunner cli;

    @BeforeAll
    static void start() throws Exception {
        Assumptions.assumeTrue(ReferenceServer.available(), "nats-server is not installed");
        server = ReferenceServer.start("-js", "-sd", store.toString());
        cli = new CliRunner("nats://127.0.0.1:" + server.port());
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (server != null) {
            server.close();
        }
    }

    @Override
    CliRunner cli() {
        return cli;
    }

    // --- needs consumers: nats-server only until JetKV has them

    @Test
    void watchPrintsCurrentEntriesThenChanges() throws Exception {
        cli.run("kv", "add", "watched");
        cli.run("kv", "put", "watched", "Key1", "Value1");
        cli.run("kv", "put", "watched", "Key2", "gone");
        cli.run("kv", "del", "watched", "Key2", "-f");

        CliRunner.Lines lines = new CliRunner.Lines();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        CompletableFuture<Integer> status = new CompletableFuture<>();
        Thread watcher = new Thread(() -> status.complete(Cli.run(
                cli.withServer("kv", "watch", "watched"),
                new PrintStream(lines, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8),
                new ByteArrayInputStream(new byte[0]),
                false)), "kv-watch");
        watcher.start();
        try {
            // the latest entry of each key first, deletes included
            assertMatches("\\[" + TIME + "\\] PUT watched > Key1: Value1", lines.next(WAIT));
            assertMatches("\\[" + TIME + "\\] DEL watched > Key2", lines.next(WAIT));

            cli.run("kv", "put", "watched", "Key1", "Value2");
            assertMatches("\\[" + TIME + "\\] PUT watched > Key1: Value2", lines.next(WAIT));
            cli.run("kv", "purge", "watched", "Key1", "-f");
            assertMatches("\\[" + TIME + "\\] PURGE watched > Key1", lines.next(WAIT));
        } finally {
            watcher.interrupt(); // what Ctrl-C is to the real command
            watcher.join(WAIT.toMillis());
        }
        assertFalse(watcher.isAlive());
        assertEquals(0, status.getNow(-1), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void watchOfOneKey() throws Exception {
        cli.run("kv", "add", "watch_key");
        cli.run("kv", "put", "watch_key", "a", "1");
        cli.run("kv", "put", "watch_key", "b", "2");

        CliRunner.Lines lines = new CliRunner.Lines();
        Thread watcher = new Thread(() -> Cli.run(
                cli.withServer("kv", "watch", "watch_key", "b"),
                new PrintStream(lines, true, StandardCharsets.UTF_8),
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                new ByteArrayInputStream(new byte[0]),
                false), "kv-watch");
        watcher.start();
        try {
            assertMatches("\\[" + TIME + "\\] PUT watch_key > b: 2", lines.next(WAIT));
            cli.run("kv", "put", "watch_key", "a", "3");
            cli.run("kv", "put", "watch_key", "b", "4");
            assertMatches("\\[" + TIME + "\\] PUT watch_key > b: 4", lines.next(WAIT));
        } finally {
            watcher.interrupt();
            watcher.join(WAIT.toMillis());
        }
        assertNull(lines.next(Duration.ZERO));
    }

    @Test
    void keysAndLsListLiveKeys() {
        cli.run("kv", "add", "keyed");
        cli.run("kv", "put", "keyed", "a", "1");
        cli.run("kv", "put", "keyed", "b", "2");
        cli.run("kv", "put", "keyed", "c", "3");
        cli.run("kv", "del", "keyed", "b", "-f");

        Result keys = cli.run("kv", "keys", "keyed");
        assertEquals(0, keys.status(), keys.err());
        assertEquals("a\nc\n", keys.out());
        assertEquals("a\nc\n", cli.run("kv", "ls", "keyed").out());
    }

    @Test
    void lsOfAnEmptyBucket() {
        cli.run("kv", "add", "empty_ls");
        Result r = cli.run("kv", "ls", "empty_ls");
        assertEquals(0, r.status(), r.err());
        assertEquals("No keys found in bucket\n", r.out());
    }

    @Test
    void lsVerboseShowsRevisions() {
        cli.run("kv", "add", "ls_verbose");
        cli.run("kv", "put", "ls_verbose", "k", "v");
        Result r = cli.run("kv", "ls", "ls_verbose", "-v", "--display-value");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("Contents for bucket 'ls_verbose'"), r.out());
        assertTrue(Pattern.compile("│ k   │ " + TIME + " │     0 │        1 │ v     │").matcher(r.out()).find(), r.out());
    }

    @Test
    void historyShowsEveryRevision() {
        cli.run("kv", "add", "historic", "--history", "5");
        cli.run("kv", "put", "historic", "k", "v1");
        cli.run("kv", "put", "historic", "k", "v2");
        cli.run("kv", "del", "historic", "k", "-f");

        Result r = cli.run("kv", "history", "historic", "k");
        assertEquals(0, r.status(), r.err());
        List<String> lines = r.lines();
        assertEquals(List.of(
                        "╭─────────────────────────────────────────────────────────────╮",
                        "│                   History for historic > k                  │",
                        "├─────┬──────────┬─────┬─────────────────────┬────────┬───────┤",
                        "│ Key │ Revision │ Op  │ Created             │ Length │ Value │",
                        "├─────┼──────────┼─────┼─────────────────────┼────────┼───────┤"),
                lines.subList(0, 5));
        assertMatches("│ k   │        1 │ PUT │ " + TIME + " │ 2      │ v1    │", lines.get(5));
        assertMatches("│ k   │        2 │ PUT │ " + TIME + " │ 2      │ v2    │", lines.get(6));
        assertMatches("│ k   │        3 │ DEL │ " + TIME + " │ 0      │       │", lines.get(7));
        assertEquals("╰─────┴──────────┴─────┴─────────────────────┴────────┴───────╯", lines.get(8));
    }

    @Test
    void historyOfAMissingKeyFails() {
        cli.run("kv", "add", "no_history");
        Result r = cli.run("kv", "history", "no_history", "nope");
        assertEquals(1, r.status());
        assertEquals("nats: error: nats: key not found\n", r.err());
    }

    @Test
    void compactDropsHistoryOfDeletedKeys() {
        cli.run("kv", "add", "compacted", "--history", "5");
        cli.run("kv", "put", "compacted", "k", "v1");
        cli.run("kv", "put", "compacted", "k", "v2");
        cli.run("kv", "del", "compacted", "k", "-f");
        cli.run("kv", "put", "compacted", "live", "x");

        Result r = cli.run("kv", "compact", "compacted", "-f");
        assertEquals(0, r.status(), r.err());
        // a recent delete marker is kept, the values before it go
        List<String> rows = cli.run("kv", "history", "compacted", "k").lines().stream()
                .filter(l -> l.startsWith("│ k "))
                .toList();
        assertEquals(1, rows.size(), String.join("\n", rows));
        assertTrue(rows.get(0).contains(" DEL "), rows.get(0));
        assertEquals("x", cli.run("kv", "get", "compacted", "live", "--raw").out());
    }

    private static void assertMatches(String regex, String actual) {
        assertTrue(actual != null && actual.matches(regex), "expected /" + regex + "/ but got " + actual);
    }
}
