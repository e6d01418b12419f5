package io.jetkv.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jetkv.config.ConfigFileParser;
import io.jetkv.config.ServerConfig;
import io.jetkv.server.NatsServer;
import io.jetkv.server.testing.ReferenceServer;
import io.jetkv.server.testing.TestPki;
import io.nats.client.Connection;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.Subscription;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Certificate rotation by config reload (nats.docs "Reloading configuration"): the certificate and key files are
 * rewritten in place with ones from another CA, the server gets SIGHUP ({@code --signal reload}), and from then
 * on new connections are served the new certificate while the connections opened before stay up and keep
 * publishing and receiving. The client port, the WebSocket listener (wss://) and the route port; the process
 * test runs against nats-server 2.9.10 too, and the route test has nats-server 2.9.10 as the peer that keeps its
 * route to the reloaded JetKV node.
 */
class TlsReloadIT {
    private static final Pattern LISTENING = Pattern.compile("Listening for client connections on [^:]+:(\\d+)");
    private static final Pattern WEBSOCKET = Pattern.compile("Listening for websocket clients on wss://[^:]+:(\\d+)");
    private static final Path LAUNCHER = Path.of("..", "jetkv").toAbsolutePath().normalize();
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private final List<AutoCloseable> open = new ArrayList<>();
    private Process server;

    @AfterEach
    void tearDown() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
        if (server != null) {
            server.destroyForcibly();
            server.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** Puts {@code cert}'s certificate and key where the config points, as a renewal tool does. */
    private static void install(TestPki.Issued cert, Path certFile, Path keyFile) throws IOException {
        Files.copy(cert.certFile(), certFile, StandardCopyOption.REPLACE_EXISTING);
        Files.copy(cert.keyFile(), keyFile, StandardCopyOption.REPLACE_EXISTING);
    }

    private Connection connect(String url, SSLContext trust) throws Exception {
        Connection c = Nats.connect(Options.builder().server(url).sslContext(trust).noReconnect()
                .connectionTimeout(TIMEOUT).build());
        open.add(c);
        return c;
    }

    /** {@code from} publishes to a subject {@code to} subscribes to, until one copy arrives (routes take a moment). */
    private static void delivers(Connection from, Connection to) throws Exception {
        String subject = "rotated." + UUID.randomUUID();
        Subscription in = to.subscribe(subject);
        to.flush(TIMEOUT);
        await(() -> {
            from.publish(subject, "still here".getBytes(StandardCharsets.UTF_8));
            try {
                Message m = in.nextMessage(Duration.ofMillis(200));
                return m != null && new String(m.getData(), StandardCharsets.UTF_8).equals("still here");
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }, "a message from " + from.getConnectedUrl() + " to " + to.getConnectedUrl(), 30);
        in.unsubscribe();
    }

    @ParameterizedTest
    @ValueSource(strings = {"jetkv", "nats-server"})
    void sighupServesNewCertificatesAndKeepsOpenConnections(String which) throws Exception {
        String binary;
        if (which.equals("nats-server")) {
            org.junit.jupiter.api.Assumptions.assumeTrue(ReferenceServer.available(), "nats-server not installed");
            binary = ReferenceServer.binary().toString();
        } else {
            binary = LAUNCHER.toString();
        }
        TestPki caA = new TestPki(dir, "a");
        TestPki caB = new TestPki(dir, "b");
        TestPki.Issued certA = caA.server("a-server");
        TestPki.Issued certB = caB.server("b-server");
        Path cert = dir.resolve("live-cert.pem");
        Path key = dir.resolve("live-key.pem");
        Path wsCert = dir.resolve("live-ws-cert.pem");
        Path wsKey = dir.resolve("live-ws-key.pem");
        install(certA, cert, key);
        install(certA, wsCert, wsKey);
        Path pidFile = dir.resolve("server.pid");
        Path conf = dir.resolve("server.conf");
        Files.writeString(conf, """
                listen: 127.0.0.1:-1
                pid_file: "%s"
                tls { cert_file: "%s", key_file: "%s" }
                websocket { listen: "127.0.0.1:-1", tls { cert_file: "%s", key_file: "%s" } }
                """.formatted(pidFile, cert, key, wsCert, wsKey));
        List<String> log = new CopyOnWriteArrayList<>();
        int[] ports = start(binary, conf, log);
        String tcpUrl = "tls://127.0.0.1:" + ports[0];
        String wssUrl = "wss://127.0.0.1:" + ports[1];
        await(() -> Files.exists(pidFile), "pid file", 30);

        Connection oldTcp = connect(tcpUrl, caA.trustingContext());
        Connection oldWs = connect(wssUrl, caA.trustingContext());

        install(certB, cert, key);
        install(certB, wsCert, wsKey);
        signal(binary, "reload=" + pidFile);
        await(() -> log.stream().anyMatch(l -> l.contains("Reloaded server configuration")), "the reload", 30);
        // the config file did not change, the files under it did: nats-server reports the client port's TLS
        assertTrue(log.stream().anyMatch(l -> l.contains("Reloaded: tls = enabled")), log.toString());

        // new connections get certificate B: a client trusting only A is turned away, one trusting B gets in
        assertThrows(Exception.class, () -> connect(tcpUrl, caA.trustingContext()));
        Connection newTcp = connect(tcpUrl, caB.trustingContext());
        Connection newWs = connect(wssUrl, caB.trustingContext());
        assertThrows(Exception.class, () -> connect(wssUrl, caA.trustingContext()));

        // the connections from before the reload are still up, both ways, over both listeners
        for (Connection old : List.of(oldTcp, oldWs)) {
            assertEquals(Connection.Status.CONNECTED, old.getStatus());
            delivers(old, newTcp);
            delivers(newWs, old);
        }

        // a certificate file that cannot be used fails the reload; the running certificate stays
        Files.writeString(cert, "not a certificate\n");
        signal(binary, "reload=" + pidFile);
        await(() -> log.stream().anyMatch(l -> l.contains("Failed to reload server configuration")
                && l.contains("error parsing")), "the refused reload", 30);
        connect(tcpUrl, caB.trustingContext()).close();
        delivers(oldTcp, oldWs);
    }

    /** The peer is JetKV, or nats-server 2.9.10 in the same cluster (where installed). */
    @ParameterizedTest
    @ValueSource(strings = {"jetkv", "nats-server"})
    void reloadSwapsTheRouteCertificateAndKeepsTheRoute(String peer) throws Exception {
        if (peer.equals("nats-server")) {
            org.junit.jupiter.api.Assumptions.assumeTrue(ReferenceServer.available(), "nats-server not installed");
        }
        TestPki caA = new TestPki(dir, "ra");
        TestPki caB = new TestPki(dir, "rb");
        TestPki.Issued nodeA = caA.server("ra-node");
        TestPki.Issued nodeB = caB.server("rb-node");
        Path cert = dir.resolve("n1-cert.pem");
        Path key = dir.resolve("n1-key.pem");
        Path ca = dir.resolve("n1-ca.pem");
        install(nodeA, cert, key);
        Files.copy(caA.caFile(), ca);
        Path conf1 = dir.resolve("n1.conf");
        Files.writeString(conf1, """
                server_name: N1
                cluster {
                  name: ROTATE
                  listen: "127.0.0.1:-1"
                  tls { cert_file: "%s", key_file: "%s", ca_file: "%s" }
                }
                """.formatted(cert, key, ca));
        ServerConfig config1 = ConfigFileParser.load(conf1).withHost("127.0.0.1").withPort(0);
        NatsServer n1 = NatsServer.start(config1);
        open.add(n1);
        Path conf2 = dir.resolve("n2.conf");
        Files.writeString(conf2, """
                server_name: N2
                cluster {
                  name: ROTATE
                  listen: "127.0.0.1:-1"
                  routes: ["nats-route://127.0.0.1:%d"]
                  tls { cert_file: "%s", key_file: "%s", ca_file: "%s" }
                }
                """.formatted(n1.routePort(), nodeA.certFile(), nodeA.keyFile(), caA.caFile()));
        String url2;
        BooleanSupplier peerRouted;
        if (peer.equals("jetkv")) {
            NatsServer n2 = NatsServer.start(ConfigFileParser.load(conf2).withHost("127.0.0.1").withPort(0));
            open.add(n2);
            url2 = n2.clientUrl();
            peerRouted = () -> n2.routeCount() == 1;
        } else {
            ReferenceServer n2 = ReferenceServer.start("-c", conf2.toString());
            open.add(n2);
            url2 = "nats://127.0.0.1:" + n2.port();
            peerRouted = () -> true; // N1's count says the route is up; nats-server's is in its /routez
        }
        await(() -> n1.routeCount() == 1 && peerRouted.getAsBoolean(), "the TLS route", 30);
        Connection c1 = Clients.connect(n1.clientUrl());
        open.add(c1);
        Connection c2 = Clients.connect(url2);
        open.add(c2);
        delivers(c1, c2);

        // N1 moves to CA B: certificate, key and CA rewritten in place, the same config reloaded
        install(nodeB, cert, key);
        Files.copy(caB.caFile(), ca, StandardCopyOption.REPLACE_EXISTING);
        n1.reload(ConfigFileParser.load(conf1).withHost("127.0.0.1").withPort(0));

        // a route set up now meets CA B on N1's route port; A's certificate is refused
        assertEquals("INFO", routeHandshake(n1.routePort(), nodeB.clientContext(caB)));
        assertEquals("<refused>", routeHandshake(n1.routePort(), nodeA.clientContext(caA)));
        // the route from before stays up and carries messages both ways
        assertEquals(1, n1.routeCount());
        delivers(c1, c2);
        delivers(c2, c1);
        assertTrue(peerRouted.getAsBoolean());
    }

    /** TLS at once on a route port, then the first four bytes: {@code INFO}, or {@code <refused>}. */
    private static String routeHandshake(int port, SSLContext ctx) throws IOException {
        try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            s.startHandshake();
            InputStream in = s.getInputStream();
            byte[] info = in.readNBytes(4);
            assertNotNull(info);
            return info.length < 4 ? "<refused>" : new String(info, StandardCharsets.US_ASCII);
        } catch (SSLException | SocketException e) {
            return "<refused>";
        }
    }

    private void signal(String binary, String command) throws Exception {
        Process p = new ProcessBuilder(binary, "--signal", command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
    }

    /** Starts {@code binary -c conf}; returns the client and websocket ports once both are logged. */
    private int[] start(String binary, Path conf, List<String> log) throws Exception {
        server = new ProcessBuilder(binary, "-c", conf.toString()).redirectErrorStream(true).start();
        CompletableFuture<Integer> client = new CompletableFuture<>();
        CompletableFuture<Integer> ws = new CompletableFuture<>();
        Process p = server;
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    log.add(line);
                    Matcher m = LISTENING.matcher(line);
                    if (m.find()) {
                        client.complete(Integer.parseInt(m.group(1)));
                    }
                    Matcher w = WEBSOCKET.matcher(line);
                    if (w.find()) {
                        ws.complete(Integer.parseInt(w.group(1)));
                    }
                }
            } catch (IOException ignored) {
                // the process ended
            }
            IOException ended = new IOException("server ended before listening: " + log);
            client.completeExceptionally(ended);
            ws.completeExceptionally(ended);
        }, "server-log");
        reader.setDaemon(true);
        reader.start();
        return new int[] {client.get(120, TimeUnit.SECONDS), ws.get(120, TimeUnit.SECONDS)};
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
