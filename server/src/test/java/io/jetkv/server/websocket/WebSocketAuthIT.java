package io.jetkv.server.websocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jetkv.config.ConfigFileParser;
import io.jetkv.server.NatsServer;
import io.jetkv.server.testing.ReferenceServer;
import io.nats.client.Connection;
import io.nats.client.ErrorListener;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.Subscription;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The websocket block's {@code no_auth_user} and {@code authorization { user, password, token, timeout }}, with jnats
 * over {@code ws://} and TCP, against JetKV and nats-server 2.9.10 with the same config file: which settings win for
 * WebSocket clients, what the client port keeps, what INFO says, and what a client without credentials gets.
 */
class WebSocketAuthIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    @TempDir
    Path dir;
    private final List<AutoCloseable> started = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : started) {
            c.close();
        }
    }

    private record Ports(int tcp, int ws) {}

    private Ports start(String target, String config) throws Exception {
        Path conf = dir.resolve(target + "-" + started.size() + ".conf");
        Files.writeString(conf, "listen: \"127.0.0.1:-1\"\n" + config);
        if (target.equals("jetkv")) {
            NatsServer s = NatsServer.start(ConfigFileParser.load(conf));
            started.add(s);
            return new Ports(s.port(), s.websocketPort());
        }
        assumeTrue(ReferenceServer.available(), "nats-server is not installed");
        ReferenceServer r = ReferenceServer.start("-c", conf.toString());
        started.add(r);
        return new Ports(r.port(), r.websocketPort());
    }

    private static Options.Builder client(String url) {
        return Options.builder().server(url).connectionTimeout(TIMEOUT).noReconnect();
    }

    /**
     * A client expected to be refused: jnats reports the server's error only once its connection timeout has
     * passed, so a short one keeps the test quick (the error is the server's either way).
     */
    private static Options.Builder refusedClient(String url) {
        return client(url).connectionTimeout(Duration.ofSeconds(2));
    }

    private static void roundTrip(Connection c, String subject) throws Exception {
        Subscription sub = c.subscribe(subject);
        c.flush(TIMEOUT);
        c.publish(subject, "hi".getBytes(StandardCharsets.UTF_8));
        Message m = sub.nextMessage(TIMEOUT);
        assertNotNull(m, subject);
        assertEquals("hi", new String(m.getData(), StandardCharsets.UTF_8));
    }

    /** Connects, and returns the first error the server sends after publishing {@code subject}. */
    private static String publishError(Options.Builder b, String subject) throws Exception {
        CompletableFuture<String> error = new CompletableFuture<>();
        try (Connection c = Nats.connect(b.errorListener(new ErrorListener() {
            @Override
            public void errorOccurred(Connection conn, String e) {
                error.complete(e);
            }
        }).build())) {
            c.publish(subject, new byte[0]);
            c.flush(TIMEOUT);
            return error.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"jetkv", "nats-server"})
    void blockNoAuthUserAndTimeoutApplyToWebSocketClientsOnly(String target) throws Exception {
        Ports p = start(target, """
                authorization {
                  timeout: 30
                  users: [ {user: x, password: y, permissions: {publish: "x.>"}}, {user: z, password: w} ]
                }
                websocket { listen: "127.0.0.1:-1", no_tls: true, no_auth_user: x, authorization { timeout: 0.5 } }
                """);
        String ws = "ws://127.0.0.1:" + p.ws();
        // without credentials a WebSocket client is x, with x's permissions; INFO still says auth_required
        try (Connection anonymous = Nats.connect(client(ws).build())) {
            assertTrue(anonymous.getServerInfo().isAuthRequired(), target);
            roundTrip(anonymous, "x.1");
        }
        assertEquals("Permissions Violation for Publish to \"y.1\"", publishError(client(ws), "y.1"), target);
        try (Connection z = Nats.connect(client(ws).userInfo("z", "w").build())) {
            roundTrip(z, "y.1");
        }
        // the client port has no no_auth_user: there a client without credentials is refused
        Exception refused = assertThrows(Exception.class,
                () -> Nats.connect(refusedClient("nats://127.0.0.1:" + p.tcp()).build()).close());
        assertTrue(String.valueOf(refused.getMessage()).contains("Authorization Violation"), target + ": " + refused);
        // the block's timeout (0.5 s) for a WebSocket client that never sends CONNECT, not the top level's 30 s
        try (RawWebSocket r = RawWebSocket.open(p.ws(), RawWebSocket.upgrade(p.ws(), ""))) {
            assertTrue(r.read().text().startsWith("INFO "), target);
            assertEquals("-ERR 'Authentication Timeout'\r\n", r.read().text(), target);
            RawWebSocket.Frame close = r.read();
            assertEquals(8, close.opcode(), target);
            assertEquals(1008, close.closeStatus(), target);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"jetkv", "nats-server"})
    void blockTokenWinsOverItsUserAndTheTopLevelToken(String target) throws Exception {
        Ports p = start(target, """
                authorization { token: t1 }
                websocket {
                  listen: "127.0.0.1:-1", no_tls: true
                  authorization { token: t2, user: u, password: p }
                }
                """);
        String ws = "ws://127.0.0.1:" + p.ws();
        String tcp = "nats://127.0.0.1:" + p.tcp();
        try (Connection c = Nats.connect(client(ws).token("t2".toCharArray()).build())) {
            roundTrip(c, "ws.token");
        }
        try (Connection c = Nats.connect(client(tcp).token("t1".toCharArray()).build())) {
            roundTrip(c, "tcp.token");
        }
        for (Options.Builder refused : List.of(refusedClient(ws).token("t1".toCharArray()),
                refusedClient(ws).userInfo("u", "p"), refusedClient(ws), refusedClient(tcp).token("t2".toCharArray()))) {
            Exception e = assertThrows(Exception.class, () -> Nats.connect(refused.build()).close());
            assertTrue(String.valueOf(e.getMessage()).contains("Authorization Violation"), target + ": " + e);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"jetkv", "nats-server"})
    void blockUserOnAnOpenServer(String target) throws Exception {
        Ports p = start(target, """
                websocket { listen: "127.0.0.1:-1", no_tls: true, authorization { user: u, password: p } }
                """);
        String ws = "ws://127.0.0.1:" + p.ws();
        try (Connection open = Nats.connect(client("nats://127.0.0.1:" + p.tcp()).build())) {
            assertFalse(open.getServerInfo().isAuthRequired(), target);
            roundTrip(open, "tcp.open");
        }
        try (Connection c = Nats.connect(client(ws).userInfo("u", "p").build())) {
            assertTrue(c.getServerInfo().isAuthRequired(), target);
            roundTrip(c, "ws.user");
        }
        // a WebSocket client without credentials, or with the wrong ones, gets nats-server's error and close
        for (String connect : List.of("CONNECT {\"verbose\":false}\r\n",
                "CONNECT {\"verbose\":false,\"user\":\"u\",\"pass\":\"x\"}\r\n")) {
            try (RawWebSocket r = RawWebSocket.open(p.ws(), RawWebSocket.upgrade(p.ws(), ""))) {
                String info = r.read().text();
                assertTrue(info.contains("\"auth_required\":true"), target + ": " + info);
                r.sendText(connect);
                assertEquals("-ERR 'Authorization Violation'\r\n", r.read().text(), target);
                RawWebSocket.Frame close = r.read();
                assertEquals(1008, close.closeStatus(), target);
                assertEquals("Authentication Failure", new String(close.payload(), 2, close.payload().length - 2,
                        StandardCharsets.UTF_8), target);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"jetkv", "nats-server"})
    void topLevelNoAuthUserServesWebSocketClientsButTheirInfoAsksForAuth(String target) throws Exception {
        Ports p = start(target, """
                authorization { users: [ {user: x, password: y, permissions: {publish: "x.>"}}, {user: z, password: w} ] }
                no_auth_user: x
                websocket { listen: "127.0.0.1:-1", no_tls: true }
                """);
        try (Connection tcp = Nats.connect(client("nats://127.0.0.1:" + p.tcp()).build());
                Connection ws = Nats.connect(client("ws://127.0.0.1:" + p.ws()).build())) {
            assertFalse(tcp.getServerInfo().isAuthRequired(), target);
            assertTrue(ws.getServerInfo().isAuthRequired(), target);
            roundTrip(ws, "x.ws");
        }
        assertEquals("Permissions Violation for Publish to \"y.1\"",
                publishError(client("ws://127.0.0.1:" + p.ws()), "y.1"), target);
    }
}
