package io.jetkv.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jetkv.server.cli.CliRunner.Result;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The CLI commands that need only streams, publishes and direct gets, run against each server by a
 * subclass. Every test uses its own bucket, so the server can be shared by the class.
 */
abstract class KvCliContract {
    private static final Pattern GET_HEADER =
            Pattern.compile("\\S+ > \\S+ revision: \\d+ created @ \\d\\d [A-Z][a-z]{2} \\d\\d \\d\\d:\\d\\d UTC");

    /** The runner bound to the server under test. */
    abstract CliRunner cli();

    @Test
    void addPrintsTheBucketStatus() {
        Result r = cli().run("kv", "add", "add_status");
        assertEquals(0, r.status(), r.err());
        List<String> lines = r.lines();
        assertTrue(lines.get(0).startsWith("Information for Key-Value Store Bucket add_status created "), lines.get(0));
        assertEquals(
                List.of(
                        "",
                        "Configuration:",
                        "",
                        "          Bucket Name: add_status",
                        "         History Kept: 1",
                        "        Values Stored: 0",
                        "           Compressed: false",
                        "   Backing Store Kind: JetStream",
                        "          Bucket Size: 0 B",
                        "  Maximum Bucket Size: unlimited",
                        "   Maximum Value Size: unlimited",
                        "          Maximum Age: unlimited",
                        "     JetStream Stream: KV_add_status",
                        "              Storage: File",
                        ""),
                lines.subList(1, lines.size()));
        assertEquals("", r.err());
    }

    @Test
    void addPassesLimitsThrough() {
        Result r = cli().run(
                "kv", "add", "add_limits", "--history", "5", "--ttl", "1h", "--max-value-size", "1KiB",
                "--max-bucket-size", "10MiB", "--description", "limited", "--storage", "memory");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("\n         History Kept: 5\n"), r.out());
        assertTrue(r.out().contains("\n          Description: limited\n"), r.out());
        assertTrue(r.out().contains("\n  Maximum Bucket Size: 10 MiB\n"), r.out());
        assertTrue(r.out().contains("\n   Maximum Value Size: 1.0 KiB\n"), r.out());
        assertTrue(r.out().contains("\n          Maximum Age: 1h0m0s\n"), r.out());
        assertTrue(r.out().contains("\n              Storage: Memory\n"), r.out());
    }

    @Test
    void addRefusesHistoryOver64() {
        Result r = cli().run("kv", "add", "too_long", "--history", "65");
        assertEquals(1, r.status());
        assertEquals("nats: error: nats: history too large\n", r.err());
    }

    @Test
    void putThenGetShowsRevisionAndValue() {
        cli().run("kv", "add", "put_get");
        Result put = cli().run("kv", "put", "put_get", "Key1", "Value1");
        assertEquals(0, put.status(), put.err());
        assertEquals("Value1\n", put.out());

        Result get = cli().run("kv", "get", "put_get", "Key1");
        assertEquals(0, get.status(), get.err());
        List<String> lines = get.lines();
        assertTrue(GET_HEADER.matcher(lines.get(0)).matches(), lines.get(0));
        assertTrue(lines.get(0).startsWith("put_get > Key1 revision: 1 created @ "), lines.get(0));
        assertEquals(List.of("", "Value1", "", ""), lines.subList(1, lines.size()));
    }

    @Test
    void getRawPrintsOnlyTheValue() {
        cli().run("kv", "add", "get_raw");
        cli().run("kv", "put", "get_raw", "k", "v");
        Result r = cli().run("kv", "get", "get_raw", "k", "--raw");
        assertEquals(0, r.status(), r.err());
        assertEquals("v", r.out());
    }

    @Test
    void putReadsTheValueFromStandardInput() {
        cli().run("kv", "add", "put_stdin");
        Result put = cli().run("from stdin\n", false, "kv", "put", "put_stdin", "k");
        assertEquals(0, put.status(), put.err());
        assertEquals("from stdin\n", put.out());
        assertEquals("from stdin\n", cli().run("kv", "get", "put_stdin", "k", "--raw").out());
    }

    @Test
    void getOfAnOlderRevision() {
        cli().run("kv", "add", "get_rev", "--history", "5");
        cli().run("kv", "put", "get_rev", "k", "v1");
        cli().run("kv", "put", "get_rev", "k", "v2");
        assertEquals("v1", cli().run("kv", "get", "get_rev", "k", "--revision", "1", "--raw").out());
        assertEquals("v2", cli().run("kv", "get", "get_rev", "k", "--raw").out());
    }

    @Test
    void getOfAMissingKeyFails() {
        cli().run("kv", "add", "get_missing");
        Result r = cli().run("kv", "get", "get_missing", "nope");
        assertEquals(1, r.status());
        assertEquals("", r.out());
        assertEquals("nats: error: nats: key not found\n", r.err());
    }

    @Test
    void missingBucketFails() {
        Result r = cli().run("kv", "get", "no_such_bucket", "k");
        assertEquals(1, r.status());
        assertEquals("nats: error: nats: bucket not found\n", r.err());
    }

    @Test
    void createSucceedsOnlyForANewKey() {
        cli().run("kv", "add", "create_once");
        Result first = cli().run("kv", "create", "create_once", "Semaphore1", "Value1");
        assertEquals(0, first.status(), first.err());
        assertEquals("Value1\n", first.out());
        Result second = cli().run("kv", "create", "create_once", "Semaphore1", "Value1");
        assertEquals(1, second.status());
        assertEquals("nats: error: nats: wrong last sequence: 1: key exists\n", second.err());
    }

    @Test
    void createSucceedsOverADeletedKey() {
        cli().run("kv", "add", "create_deleted");
        cli().run("kv", "put", "create_deleted", "k", "v1");
        cli().run("kv", "del", "create_deleted", "k", "-f");
        Result r = cli().run("kv", "create", "create_deleted", "k", "v2");
        assertEquals(0, r.status(), r.err());
        assertEquals("v2", cli().run("kv", "get", "create_deleted", "k", "--raw").out());
    }

    @Test
    void updateComparesTheRevision() {
        cli().run("kv", "add", "update_cas");
        cli().run("kv", "put", "update_cas", "k", "v1");
        Result ok = cli().run("kv", "update", "update_cas", "k", "v2", "1");
        assertEquals(0, ok.status(), ok.err());
        assertEquals("v2\n", ok.out());
        Result stale = cli().run("kv", "update", "update_cas", "k", "v3", "1");
        assertEquals(1, stale.status());
        assertEquals("nats: error: nats: wrong last sequence: 2\n", stale.err());
    }

    @Test
    void deleteWithForceRemovesTheKey() {
        cli().run("kv", "add", "del_force");
        cli().run("kv", "put", "del_force", "k", "v");
        Result r = cli().run("kv", "del", "del_force", "k", "-f");
        assertEquals(0, r.status(), r.err());
        assertEquals("", r.out());
        assertEquals("nats: error: nats: key not found\n", cli().run("kv", "get", "del_force", "k").err());
    }

    @Test
    void deleteWithoutATerminalOrForceIsRefused() {
        cli().run("kv", "add", "del_refused");
        cli().run("kv", "put", "del_refused", "k", "v");
        Result r = cli().run("kv", "del", "del_refused", "k");
        assertEquals(1, r.status());
        assertEquals("nats: error: cannot ask for confirmation without a terminal\n", r.err());
        assertEquals("v", cli().run("kv", "get", "del_refused", "k", "--raw").out());
    }

    @Test
    void deleteAsksForConfirmation() {
        cli().run("kv", "add", "del_ask");
        cli().run("kv", "put", "del_ask", "k", "v");
        Result no = cli().run("n\n", true, "kv", "del", "del_ask", "k");
        assertEquals(0, no.status(), no.err());
        assertEquals("? Delete key del_ask > k? (y/N) Skipping delete\n", no.out());
        assertEquals("v", cli().run("kv", "get", "del_ask", "k", "--raw").out());

        Result yes = cli().run("y\n", true, "kv", "del", "del_ask", "k");
        assertEquals(0, yes.status(), yes.err());
        assertEquals("? Delete key del_ask > k? (y/N) ", yes.out());
        assertEquals(1, cli().run("kv", "get", "del_ask", "k").status());
    }

    @Test
    void purgeRemovesTheKey() {
        cli().run("kv", "add", "purge_key", "--history", "5");
        cli().run("kv", "put", "purge_key", "k", "v1");
        cli().run("kv", "put", "purge_key", "k", "v2");
        Result r = cli().run("kv", "purge", "purge_key", "k", "-f");
        assertEquals(0, r.status(), r.err());
        assertEquals("nats: error: nats: key not found\n", cli().run("kv", "get", "purge_key", "k").err());
        // the rollup removed the earlier revisions, leaving the purge marker
        assertEquals(1, cli().run("kv", "get", "purge_key", "k", "--revision", "1").status());
        assertTrue(cli().run("kv", "info", "purge_key").out().contains("\n        Values Stored: 1\n"));
    }

    @Test
    void statusCountsValues() {
        cli().run("kv", "add", "status_count", "--history", "3");
        cli().run("kv", "put", "status_count", "a", "1");
        cli().run("kv", "put", "status_count", "a", "2");
        cli().run("kv", "put", "status_count", "b", "3");
        Result r = cli().run("kv", "status", "status_count");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("\n         History Kept: 3\n        Values Stored: 3\n"), r.out());
    }

    @Test
    void lsListsBuckets() {
        cli().run("kv", "add", "ls_listed", "--description", "listed here");
        Result r = cli().run("kv", "ls");
        assertEquals(0, r.status(), r.err());
        assertTrue(Pattern.compile("│ +Key-Value Buckets +│").matcher(r.out()).find(), r.out());
        assertTrue(r.out().contains("│ Bucket "), r.out());
        assertTrue(Pattern.compile("│ ls_listed +│ listed here +│ \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d │ 0 B +│ 0 +│ never +│")
                .matcher(r.out()).find(), r.out());
        Result names = cli().run("kv", "ls", "-n");
        assertTrue(names.lines().contains("ls_listed"), names.out());
    }

    @Test
    void rmDeletesTheBucket() {
        cli().run("kv", "add", "rm_bucket");
        Result r = cli().run("kv", "rm", "rm_bucket", "-f");
        assertEquals(0, r.status(), r.err());
        assertEquals("nats: error: nats: bucket not found\n", cli().run("kv", "info", "rm_bucket").err());
    }

    @Test
    void accountInfoShowsConnectionAndJetStreamUsage() {
        Result r = cli().run("account", "info");
        assertEquals(0, r.status(), r.err());
        List<String> lines = r.lines();
        assertEquals("Connection Information:", lines.get(0));
        assertTrue(r.out().contains("\n         Headers Supported: true\n"), r.out());
        assertTrue(r.out().contains("\n           Maximum Payload: 1.0 MiB\n"), r.out());
        assertTrue(r.out().contains("\nJetStream Account Information:\n\nAccount Usage:\n"), r.out());
        assertTrue(r.out().contains("\n   Tier: Default\n") || r.out().contains("\n   Tier: "), r.out());
        assertTrue(r.out().contains("                   Streams: "), r.out());
    }
}
