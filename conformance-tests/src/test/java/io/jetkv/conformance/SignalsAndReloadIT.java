package io.jetkv.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.nats.client.Connection;
import io.nats.client.ErrorListener;
import io.nats.client.Nats;
import io.nats.client.Options;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import io.jetkv.server.testing.ReferenceServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Running {@code ./jetkv} as an operator runs nats-server: a config file with {@code pid_file} and
 * {@code ports_file_dir}, {@code --signal reload=<pid file>} after editing the users (new credentials work, old
 * ones are refused, connections of removed users are closed silently and those whose password changed get
 * {@code -ERR 'Authorization Violation'}), a reload that needs a restart refused with the old config kept, and
 * {@code --signal ldm} ending the process. Real processes, real signals, jnats clients; the same script runs
 * against nats-server 2.9.10 (when installed), so both must behave alike.
 */
class SignalsAndReloadIT {
    private static final Pattern LISTENING = Pattern.compile("Listening for client connections on [^:]+:(\\d+)");
    private static final Path LAUNCHER = Path.of("..", "jetkv").toAbsolutePath().normalize();

    @TempDir
    Path dir;

    private final List<Connection> connections = new ArrayList<>();
    private Process server;
    /** The command under test: the launcher, or nats-server. */
    private String binary;

    @AfterEach
    void tearDown() throws Exception {
        for (Connection c : connections) {
            c.close();
        }
        if (server != null) {
            server.destroyForcibly();
            server.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private String config(String users, String extra) {
        return "listen: 127.0.0.1:-1\n"
                + "pid_file: \"" + dir.resolve("jetkv.pid") + "\"\n"
                + "ports_file_dir: \"" + dir + "\"\n"
                + "lame_duck_grace_period: 1s\n"
                + extra
                + "authorization {\n  users: [\n" + users + "  ]\n}\n";
    }

    @ParameterizedTest
    @ValueSource(strings = {"jetkv", "nats-server"})
    void reloadChangesUsersAndLameDuckEndsTheProcess(String which) throws Exception {
        if (which.equals("nats-server")) {
            org.junit.jupiter.api.Assumptions.assumeTrue(ReferenceServer.available(), "nats-server not installed");
            binary = ReferenceServer.binary().toString();
        } else {
            binary = LAUNCHER.toString();
        }
        Path conf = dir.resolve("server.conf");
        Files.writeString(conf, config("    {user: alice, password: a1}\n    {user: bob, password: b1}\n", ""));
        List<String> log = new CopyOnWriteArrayList<>();
        int port = startServer(conf, log);

        // pid file: the server's pid, no new line; ports file: nats-server's JSON
        Path pidFile = dir.resolve("jetkv.pid");
        assertEquals(Long.toString(server.pid()), Files.readString(pidFile));
        Path portsFile = dir.resolve(Path.of(binary).getFileName() + "_" + server.pid() + ".ports");
        JsonNode ports = new ObjectMapper().readTree(Files.readString(portsFile));
        assertEquals("nats://127.0.0.1:" + port, ports.path("nats").path(0).asText(), ports.toString());

        List<String> aliceErrors = new CopyOnWriteArrayList<>();
        List<String> bobErrors = new CopyOnWriteArrayList<>();
        Connection alice = connect(port, "alice", "a1", aliceErrors);
        Connection bob = connect(port, "bob", "b1", bobErrors);

        // alice goes, bob's password changes, carol comes, max_payload shrinks
        Files.writeString(conf, config("    {user: bob, password: b2}\n    {user: carol, password: c1}\n",
                "max_payload: 2048\n"));
        signal("reload=" + pidFile);
        await(() -> log.stream().anyMatch(l -> l.contains("Reloaded server configuration")), "reload logged", 30);
        assertTrue(log.stream().anyMatch(l -> l.contains("Reloaded: authorization users")), log.toString());
        assertTrue(log.stream().anyMatch(l -> l.contains("Reloaded: max_payload = 2048")), log.toString());

        Connection carol = connect(port, "carol", "c1", new CopyOnWriteArrayList<>());
        assertEquals(2048, carol.getServerInfo().getMaxPayload());
        assertThrows(Exception.class, () -> connect(port, "alice", "a1", new CopyOnWriteArrayList<>()));
        assertThrows(Exception.class, () -> connect(port, "bob", "b1", new CopyOnWriteArrayList<>()));
        connect(port, "bob", "b2", new CopyOnWriteArrayList<>()).close();

        // the open connections: alice's user is gone (closed without a word), bob's password no longer passes
        await(() -> alice.getStatus() == Connection.Status.CLOSED, "alice closed", 20);
        await(() -> bob.getStatus() == Connection.Status.CLOSED, "bob closed", 20);
        // jnats may report the -ERR after it closed the connection
        await(() -> bobErrors.stream().anyMatch(e -> e.contains("Authorization Violation")), "bob's -ERR", 20);
        assertFalse(aliceErrors.stream().anyMatch(e -> e.contains("Authorization Violation")), aliceErrors.toString());
        assertEquals(Connection.Status.CONNECTED, carol.getStatus());

        // a change that needs a restart: refused, the old configuration stays
        Files.writeString(conf, config("    {user: carol, password: c1}\n", "").replace("127.0.0.1:-1", "127.0.0.1:1"));
        signal("reload=" + server.pid());
        await(() -> log.stream().anyMatch(l -> l.contains(
                "Failed to reload server configuration: config reload not supported for Port")), "refusal", 30);
        assertEquals(Connection.Status.CONNECTED, carol.getStatus());
        carol.flush(Duration.ofSeconds(5));

        // lame duck: the last client is closed, the process exits, the ports file goes, the pid file stays
        signal("ldm=" + pidFile);
        await(() -> log.stream().anyMatch(l -> l.contains("Entering lame duck mode")), "lame duck mode", 30);
        // Kubernetes sends SIGTERM right after the preStop hook: lame duck mode goes on regardless
        server.toHandle().destroy();
        assertTrue(server.waitFor(60, TimeUnit.SECONDS), "exited after lame duck mode: " + log);
        assertEquals(0, server.exitValue());
        await(() -> carol.getStatus() != Connection.Status.CONNECTED, "carol closed", 20);
        assertTrue(log.stream().anyMatch(l -> l.contains("Entering lame duck mode, stop accepting new clients")));
        assertFalse(Files.exists(portsFile), "ports file deleted at exit");
        assertTrue(Files.exists(pidFile), "pid file kept, as nats-server does");
    }

    @Test
    void unknownSignalIsRefused() throws Exception {
        Process p = new ProcessBuilder(LAUNCHER.toString(), "--signal", "bogus").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(1, p.exitValue());
        assertTrue(out.contains("unknown signal \"bogus\""), out);
    }

    private void signal(String command) throws Exception {
        Process p = new ProcessBuilder(binary, "--signal", command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
    }

    private Connection connect(int port, String user, String pass, List<String> errors) throws Exception {
        Connection c = Nats.connect(Options.builder().server("nats://127.0.0.1:" + port).userInfo(user, pass)
                .noReconnect().connectionTimeout(Duration.ofSeconds(10)).errorListener(new ErrorListener() {
                    @Override
                    public void errorOccurred(Connection conn, String error) {
                        errors.add(error);
                    }
                }).build());
        connections.add(c);
        return c;
    }

    private int startServer(Path conf, List<String> log) throws Exception {
        server = new ProcessBuilder(binary, "-c", conf.toString()).redirectErrorStream(true).start();
        CompletableFuture<Integer> port = new CompletableFuture<>();
        Process p = server;
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    log.add(line);
                    Matcher m = LISTENING.matcher(line);
                    if (m.find()) {
                        port.complete(Integer.parseInt(m.group(1)));
                    }
                }
            } catch (IOException ignored) {
                // the process ended
            }
            port.completeExceptionally(new IOException("server ended before listening: " + log));
        }, "server-log");
        reader.setDaemon(true);
        reader.start();
        int p0 = port.get(120, TimeUnit.SECONDS);
        // the ports file is written once every listener is up, just after the log line
        await(() -> {
            try (Stream<Path> files = Files.list(dir)) {
                return files.anyMatch(f -> f.getFileName().toString().endsWith(".ports"));
            } catch (IOException e) {
                return false;
            }
        }, "ports file", 30);
        return p0;
    }

    private static void await(BooleanSupplier condition, String what, int seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20); // polling to a deadline
        }
    }
}
