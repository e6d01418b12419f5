package io.jetkv.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jetkv.server.cli.CliRunner.Result;
import java.io.IOException;
import java.net.ServerSocket;
import org.junit.jupiter.api.Test;

/** Command-line handling that fails before, or without, reaching a server. */
class CliTest {
    // usage errors are reported before connecting, so no server is needed
    private final CliRunner cli = new CliRunner("nats://127.0.0.1:4222");

    @Test
    void usageErrorsNameTheProblem() {
        assertEquals("nats: error: required argument 'key' not provided\n", cli.run("kv", "get", "b").err());
        assertEquals("nats: error: unknown long flag '--bogus'\n", cli.run("kv", "put", "b", "k", "--bogus").err());
        assertEquals("nats: error: unknown long flag '--raw'\n", cli.run("kv", "put", "b", "k", "--raw").err());
        assertEquals("nats: error: unknown short flag '-x'\n", cli.run("kv", "put", "b", "k", "-x").err());
        assertEquals("nats: error: unexpected extra\n", cli.run("kv", "get", "b", "k", "extra").err());
        assertEquals(
                "nats: error: expected command but got \"frobnicate\", try --help\n",
                cli.run("kv", "frobnicate").err());
        assertEquals(
                "nats: error: expected argument for flag '--history'\n", cli.run("kv", "add", "b", "--history").err());
        assertEquals(1, cli.run("kv", "get", "b").status());
    }

    @Test
    void helpListsTheCommands() {
        Result r = cli.run("kv", "--help");
        assertEquals(0, r.status());
        assertTrue(r.out().contains("kv get <bucket> <key>"), r.out());
        assertTrue(r.out().contains("account info"), r.out());
    }

    @Test
    void unreachableServerFails() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort(); // ours until closed, and nothing listens there afterwards
        }
        Result r = new CliRunner("nats://127.0.0.1:" + port).run("kv", "ls");
        assertEquals(1, r.status());
        assertEquals("nats: error: nats: no servers available for connection\n", r.err());
    }
}
