package io.jetkv.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jetkv.config.ClusterConfig;
import io.jetkv.config.OpsConfig;
import io.jetkv.config.ServerConfig;
import io.nats.client.Connection;
import io.nats.client.ConnectionListener;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.Subscription;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Lame duck mode in a two-node cluster, for a rolling restart: node A stops accepting, tells its clients
 * ({@code "ldm":true}, connect_urls without itself) and its route, closes its clients gradually and shuts down;
 * a jnats client of A reconnects to B, which it learnt from INFO, and its subscription keeps receiving.
 */
class LameDuckIT {
    private final List<NatsServer> servers = new ArrayList<>();
    private final List<Connection> connections = new ArrayList<>();

    @AfterEach
    void tearDown() throws InterruptedException {
        for (Connection c : connections) {
            c.close();
        }
        for (NatsServer s : servers) {
            s.close();
        }
    }

    private NatsServer start(ServerConfig config) throws InterruptedException {
        NatsServer s = NatsServer.start(config);
        servers.add(s);
        return s;
    }

    @Test
    void clientsOfALameDuckReconnectToTheOtherNode() throws Exception {
        ClusterConfig base = ClusterIT.cluster("LDM");
        // short durations through the embedding API; a config file must say at least 30 s, as nats-server's
        NatsServer a = start(ClusterIT.node("A", base).withHttpPort(-1)
                .withOps(OpsConfig.DEFAULT.withLameDuck(Duration.ofSeconds(8), Duration.ofSeconds(5))));
        NatsServer b = start(ClusterIT.node("B",
                base.withRoutes(List.of(URI.create("nats-route://127.0.0.1:" + a.routePort())))));
        ClusterIT.awaitMesh(a, b);

        CountDownLatch lameDuck = new CountDownLatch(1);
        CountDownLatch reconnected = new CountDownLatch(1);
        ConnectionListener events = (conn, type) -> {
            if (type == ConnectionListener.Events.LAME_DUCK) {
                lameDuck.countDown();
            } else if (type == ConnectionListener.Events.RECONNECTED) {
                reconnected.countDown();
            }
        };
        // only A is configured: B is known from A's INFO connect_urls
        Connection onA = Nats.connect(Options.builder().server(a.clientUrl()).connectionListener(events)
                .connectionTimeout(Duration.ofSeconds(10))
                .reconnectWait(Duration.ofMillis(100)).maxReconnects(-1).build());
        connections.add(onA);
        ClusterIT.await(() -> onA.getServers().stream().anyMatch(u -> u.contains(":" + b.port())),
                "B in the client's server pool");
        Subscription sub = onA.subscribe("rolling.>");
        onA.flush(Duration.ofSeconds(5));

        // a raw client on A, to see the INFO itself
        try (Socket raw = new Socket("127.0.0.1", a.port())) {
            raw.setSoTimeout(20_000);
            BufferedReader in = new BufferedReader(new InputStreamReader(raw.getInputStream(), StandardCharsets.UTF_8));
            OutputStream out = raw.getOutputStream();
            assertTrue(in.readLine().startsWith("INFO "));
            out.write("CONNECT {\"protocol\":1,\"verbose\":false}\r\nPING\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            assertEquals("PONG", readNonPing(in, out));

            var done = a.lameDuckMode();
            assertTrue(a.inLameDuckMode());
            String info = readNonPing(in, out);
            assertTrue(info.startsWith("INFO "), info);
            assertTrue(info.contains("\"ldm\":true"), info);
            assertTrue(info.contains("127.0.0.1:" + b.port()), info);
            assertFalse(info.contains("127.0.0.1:" + a.port() + "\""), "A no longer advertises itself: " + info);
            // the INFO follows the listener's close; the monitoring port stays up until the end, saying 503 (the
            // grace period leaves a slow machine 5 s to ask)
            HttpResponse<String> health = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + a.monitorPort() + "/healthz"))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(503, health.statusCode(), health.body());

            assertTrue(lameDuck.await(20, TimeUnit.SECONDS), "jnats saw LAME_DUCK");
            assertThrows(ConnectException.class, () -> new Socket("127.0.0.1", a.port()).close(),
                    "A accepts no new clients");

            assertTrue(reconnected.await(30, TimeUnit.SECONDS), "jnats reconnected");
            assertTrue(onA.getConnectedUrl().contains(":" + b.port()), onA.getConnectedUrl());
            // the raw client was closed without -ERR: end of stream
            assertEquals(null, readNonPing(in, out));
            done.get(30, TimeUnit.SECONDS);
        }

        onA.flush(Duration.ofSeconds(5));
        try (Connection onB = Nats.connect(Options.builder().server(b.clientUrl()).noReconnect()
                .connectionTimeout(Duration.ofSeconds(10)).build())) {
            onB.publish("rolling.update", "after".getBytes(StandardCharsets.UTF_8));
            onB.flush(Duration.ofSeconds(5));
            Message m = sub.nextMessage(Duration.ofSeconds(10));
            assertNotNull(m, "the subscription moved with the client");
            assertEquals("after", new String(m.getData(), StandardCharsets.UTF_8));
        }
        // B no longer offers A's client URL (jnats keeps A itself in its pool: it was configured)
        try (Connection onB = Nats.connect(Options.builder().server(b.clientUrl()).noReconnect()
                .connectionTimeout(Duration.ofSeconds(10)).build())) {
            ClusterIT.await(() -> onB.getServerInfo().getConnectURLs().stream()
                    .noneMatch(u -> u.endsWith(":" + a.port())), "A gone from B's connect_urls", 20);
        }
    }

    @Test
    void lameDuckWithoutClientsShutsDownAtOnce() throws Exception {
        NatsServer a = start(ServerConfig.defaults().withHost("127.0.0.1").withPort(0)
                .withOps(OpsConfig.DEFAULT.withLameDuck(Duration.ofSeconds(60), Duration.ofSeconds(30))));
        a.lameDuckMode().get(20, TimeUnit.SECONDS);
        assertThrows(ConnectException.class, () -> new Socket("127.0.0.1", a.port()).close());
    }

    /** The next line other than a server PING (answered); null at end of stream. */
    private static String readNonPing(BufferedReader in, OutputStream out) throws java.io.IOException {
        while (true) {
            String line = in.readLine();
            if (line == null || !line.equals("PING")) {
                return line;
            }
            out.write("PONG\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
        }
    }
}
