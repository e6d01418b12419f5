package io.jetkv.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jetkv.config.ConfigFileParser;
import io.jetkv.server.NatsServer;
import io.jetkv.server.testing.ReferenceServer;
import io.jetkv.server.testing.TestPki;
import io.nats.client.Connection;
import io.nats.client.Subscription;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS on routes ({@code cluster { tls { } }}): routes start TLS at once and verify each other's certificates,
 * between JetKV nodes and with nats-server 2.9.10 in the same cluster.
 */
class RouteTlsIT {
    @TempDir
    static Path dir;
    static TestPki ca;
    static TestPki otherCa;
    static TestPki.Issued node;
    static TestPki.Issued stranger;

    private final List<AutoCloseable> started = new ArrayList<>();

    @BeforeAll
    static void certificates() throws Exception {
        ca = new TestPki(dir, "routes");
        otherCa = new TestPki(dir, "other");
        // one certificate for every node, usable by both ends of a route
        node = ca.server("node");
        stranger = otherCa.server("stranger");
    }

    @AfterEach
    void stop() throws Exception {
        for (int i = started.size() - 1; i >= 0; i--) {
            started.get(i).close();
        }
    }

    private static String cluster(String routes) {
        return """
                cluster {
                  name: SECURE
                  listen: "127.0.0.1:-1"
                  %s
                  tls { cert_file: "%s", key_file: "%s", ca_file: "%s", timeout: 2 }
                }
                """.formatted(routes, node.certFile(), node.keyFile(), ca.caFile());
    }

    private NatsServer jetkv(String name, String conf) throws Exception {
        Path f = dir.resolve(name + ".conf");
        Files.writeString(f, "server_name: " + name + "\n" + conf, StandardCharsets.UTF_8);
        NatsServer s = NatsServer.start(ConfigFileParser.load(f).withHost("127.0.0.1").withPort(0));
        started.add(s);
        return s;
    }

    @Test
    void jetkvAndNatsServerRouteOverTls() throws Exception {
        NatsServer a = jetkv("A", cluster(""));
        String toA = "routes: [\"nats-route://127.0.0.1:" + a.routePort() + "\"]";
        NatsServer b = jetkv("B", cluster(toA));
        int expected = 1;
        int natsServerPort = 0;
        if (ReferenceServer.available()) {
            Path f = dir.resolve("N.conf");
            Files.writeString(f, "server_name: N\n" + cluster(toA), StandardCharsets.UTF_8);
            ReferenceServer n = ReferenceServer.start("-c", f.toString());
            started.add(n);
            natsServerPort = n.port();
            expected = 2;
        }
        int want = expected;
        await(() -> a.routeCount() == want && b.routeCount() == want, "a full mesh of TLS routes");

        List<Integer> ports = new ArrayList<>(List.of(a.port(), b.port()));
        if (natsServerPort != 0) {
            ports.add(natsServerPort);
        }
        for (int p : ports) {
            for (int s : ports) {
                try (Connection pub = Clients.connect("nats://127.0.0.1:" + p);
                        Connection sub = Clients.connect("nats://127.0.0.1:" + s)) {
                    String subject = "routed." + UUID.randomUUID();
                    Subscription in = sub.subscribe(subject);
                    sub.flush(Duration.ofSeconds(5));
                    // interest travels as RS+ over the route: publish until the first copy arrives
                    await(() -> {
                        pub.publish(subject, "x".getBytes(StandardCharsets.UTF_8));
                        try {
                            return in.nextMessage(Duration.ofMillis(200)) != null;
                        } catch (InterruptedException e) {
                            throw new IllegalStateException(e);
                        }
                    }, "a message from " + p + " to " + s);
                }
            }
        }
    }

    @Test
    void plaintextPeerOnATlsRoutePortHearsNothing() throws Exception {
        NatsServer a = jetkv("A", cluster(""));
        try (Socket s = new Socket("127.0.0.1", a.routePort())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write("CONNECT {}\r\nPING\r\n".getBytes(StandardCharsets.US_ASCII));
            // TLS first: no plaintext INFO, and a close for bytes that are not a ClientHello
            assertEquals(-1, s.getInputStream().read());
        }
    }

    @Test
    void routePeerWithoutACertificateFromTheCaIsRefused() throws Exception {
        NatsServer a = jetkv("A", cluster(""));
        assertTrue(handshakeFails(a.routePort(), stranger.clientContext(ca)), "a certificate from another CA");
        assertTrue(handshakeFails(a.routePort(), ca.trustingContext()), "no certificate");
        assertTrue(!handshakeFails(a.routePort(), node.clientContext(ca)), "the nodes' certificate is accepted");
    }

    /** TLS at once, then the peer's INFO must come: a refused certificate fails the handshake or that read. */
    private static boolean handshakeFails(int port, SSLContext ctx) throws IOException {
        try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            s.startHandshake();
            InputStream in = s.getInputStream();
            byte[] info = new byte[4];
            int n = in.readNBytes(info, 0, 4);
            assertNotNull(info);
            return n < 4 || !new String(info, StandardCharsets.US_ASCII).equals("INFO");
        } catch (SSLException | java.net.SocketException e) {
            return true;
        }
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20); // polling to a deadline
        }
    }
}
