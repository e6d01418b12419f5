package io.jetkv.server.websocket;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jetkv.config.AuthConfig;
import io.jetkv.config.JetStreamConfig;
import io.jetkv.config.Permissions;
import io.jetkv.config.ServerConfig;
import io.jetkv.config.User;
import io.jetkv.config.TlsConfig;
import io.jetkv.config.WebSocketConfig;
import io.jetkv.server.NatsServer;
import io.jetkv.server.testing.TestPki;
import io.nats.client.Connection;
import io.nats.client.KeyValue;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.Subscription;
import io.nats.client.api.KeyValueConfiguration;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The WebSocket listener as nats-server's: jnats over {@code ws://} (core and KV, mixed with TCP clients) and
 * over {@code wss://} with client certificates,
 * and on raw frames the handshake refusals, the INFO frame, lines split across frames, masking, ping/pong,
 * close statuses, compression and the browser frame size.
 */
class WebSocketIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    @TempDir
    Path store;

    private static WebSocketConfig ws(boolean compression, boolean sameOrigin, List<String> origins) {
        return new WebSocketConfig(true, null, 0, true, compression, sameOrigin, origins,
                WebSocketConfig.DEFAULT_HANDSHAKE_TIMEOUT, null, io.jetkv.config.TlsConfig.NONE);
    }

    private static ServerConfig config(WebSocketConfig ws) {
        return ServerConfig.defaults().withHost("127.0.0.1").withPort(0).withWebSocket(ws);
    }

    @Test
    void jnatsOverWebSocketTalksToTcpClientsAndUsesKv() throws Exception {
        ServerConfig config = config(ws(true, false, List.of()))
                .withJetStream(JetStreamConfig.DISABLED.withEnabled(true).withStoreDir(store));
        try (NatsServer server = NatsServer.start(config);
                Connection web = Nats.connect(Options.builder()
                        .server("ws://127.0.0.1:" + server.websocketPort()).connectionTimeout(TIMEOUT).build());
                Connection tcp = Nats.connect("nats://127.0.0.1:" + server.port())) {
            Subscription fromTcp = web.subscribe("web.in");
            web.flush(TIMEOUT);
            Subscription fromWeb = tcp.subscribe("tcp.in");
            tcp.flush(TIMEOUT);
            tcp.publish("web.in", "to the browser".getBytes(StandardCharsets.UTF_8));
            byte[] big = new byte[100_000];
            java.util.Arrays.fill(big, (byte) 'x');
            web.publish("tcp.in", big);
            Message m = fromTcp.nextMessage(TIMEOUT);
            assertNotNull(m);
            assertEquals("to the browser", new String(m.getData(), StandardCharsets.UTF_8));
            Message n = fromWeb.nextMessage(TIMEOUT);
            assertNotNull(n);
            assertArrayEquals(big, n.getData());

            web.keyValueManagement().create(KeyValueConfiguration.builder().name("web").build());
            KeyValue kv = web.keyValue("web");
            long rev = kv.put("k", "v1");
            assertEquals("v1", new String(tcp.keyValue("web").get("k").getValue(), StandardCharsets.UTF_8));
            assertEquals(rev, kv.get("k").getRevision());
        }
    }

    @Test
    void jnatsOverWssWithClientCertificates() throws Exception {
        TestPki ca = new TestPki(store, "wss");
        TestPki other = new TestPki(store, "other");
        TestPki.Issued cert = ca.server("wss-server");
        TestPki.Issued alice = ca.client("alice", "CN=alice,O=JetKV", null);
        TestPki.Issued stranger = other.client("stranger", "CN=alice,O=JetKV", null);
        TlsConfig tls = TlsConfig.NONE.withFiles(cert.certFile(), cert.keyFile(), ca.caFile()).withVerify(true);
        // TLS on the websocket listener only: the client port stays plaintext
        try (NatsServer server = NatsServer.start(config(ws(true, false, List.of()).withTls(tls)));
                Connection tcp = Nats.connect("nats://127.0.0.1:" + server.port())) {
            String url = "wss://127.0.0.1:" + server.websocketPort();
            try (Connection web = Nats.connect(Options.builder().server(url).sslContext(alice.clientContext(ca))
                    .connectionTimeout(TIMEOUT).build())) {
                Subscription in = web.subscribe("wss.in");
                web.flush(TIMEOUT);
                tcp.publish("wss.in", "inside tls".getBytes(StandardCharsets.UTF_8));
                Message m = in.nextMessage(TIMEOUT);
                assertNotNull(m);
                assertEquals("inside tls", new String(m.getData(), StandardCharsets.UTF_8));
            }
            // verify: no certificate, or one from another CA, never gets to the upgrade
            for (javax.net.ssl.SSLContext refused : List.of(ca.trustingContext(), stranger.clientContext(ca))) {
                assertThrows(Exception.class, () -> Nats.connect(Options.builder().server(url).sslContext(refused)
                        .connectionTimeout(TIMEOUT).noReconnect().build()).close());
            }
            // a plain ws:// client on the wss port gets no upgrade either
            assertThrows(Exception.class, () -> Nats.connect(Options.builder()
                    .server("ws://127.0.0.1:" + server.websocketPort()).connectionTimeout(TIMEOUT).noReconnect()
                    .build()).close());
        }
    }

    @Test
    void wssVerifyAndMapAndPinnedCertificates() throws Exception {
        TestPki ca = new TestPki(store, "map");
        TestPki.Issued cert = ca.server("map-server");
        TestPki.Issued alice = ca.client("alice", "CN=alice,O=JetKV", "alice@example.com");
        TestPki.Issued bob = ca.client("bob", "CN=bob,O=JetKV", "bob@example.com");
        String alicePin = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                .digest(alice.cert().getPublicKey().getEncoded()));
        // the websocket block maps certificates to users; the client port (plaintext) does not
        TlsConfig tls = new TlsConfig(cert.certFile(), cert.keyFile(), ca.caFile(), true, true,
                TlsConfig.DEFAULT_TIMEOUT, false, "1.2", List.of(), List.of(), List.of(), false);
        AuthConfig auth = new AuthConfig(null, List.of(new User("alice@example.com", null, Permissions.ALL),
                new User("bob@example.com", null, Permissions.ALL)), Permissions.ALL, AuthConfig.DEFAULT_TIMEOUT);
        String pinned = "wss://127.0.0.1:";
        try (NatsServer server = NatsServer.start(config(ws(false, false, List.of()).withTls(tls)).withAuth(auth))) {
            String url = pinned + server.websocketPort();
            try (Connection web = Nats.connect(Options.builder().server(url).sslContext(alice.clientContext(ca))
                    .connectionTimeout(TIMEOUT).noReconnect().build())) {
                web.flush(TIMEOUT);
            }
            // the client port does not map: there a user needs its name
            assertThrows(Exception.class, () -> Nats.connect(Options.builder()
                    .server("nats://127.0.0.1:" + server.port()).connectionTimeout(TIMEOUT).noReconnect().build()));
        }
        // pinned_certs: bob's certificate is from the CA but not pinned
        TlsConfig pinnedTls = new TlsConfig(cert.certFile(), cert.keyFile(), ca.caFile(), true, false,
                TlsConfig.DEFAULT_TIMEOUT, false, "1.2", List.of(), List.of(), List.of(alicePin), false);
        try (NatsServer server = NatsServer.start(config(ws(false, false, List.of()).withTls(pinnedTls)))) {
            String url = pinned + server.websocketPort();
            Nats.connect(Options.builder().server(url).sslContext(alice.clientContext(ca)).connectionTimeout(TIMEOUT)
                    .noReconnect().build()).close();
            assertThrows(Exception.class, () -> Nats.connect(Options.builder().server(url)
                    .sslContext(bob.clientContext(ca)).connectionTimeout(TIMEOUT).noReconnect().build()));
        }
    }

    @Test
    void handshakeRefusalsAsTheReference() throws Exception {
        try (NatsServer server = NatsServer.start(config(ws(false, true, List.of("http://good.example.com"))))) {
            int port = server.websocketPort();
            try (RawWebSocket r = RawWebSocket.open(port, "POST / HTTP/1.1\r\nHost: 127.0.0.1:" + port
                    + "\r\nContent-Length: 0\r\n\r\n")) {
                assertEquals("HTTP/1.1 405 Method Not Allowed", r.status());
                assertTrue(r.response.contains("Sec-Websocket-Version: 13"), r.response);
                assertTrue(r.response.endsWith("Method Not Allowed\n"), r.response);
            }
            String noKey = "GET / HTTP/1.1\r\nHost: 127.0.0.1:" + port
                    + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n";
            try (RawWebSocket r = RawWebSocket.open(port, noKey)) {
                assertEquals("HTTP/1.1 400 Bad Request", r.status());
                assertTrue(r.response.endsWith("Bad Request\n"), r.response);
            }
            String oldVersion = RawWebSocket.upgrade(port, "").replace("Version: 13", "Version: 8");
            try (RawWebSocket r = RawWebSocket.open(port, oldVersion)) {
                assertEquals("HTTP/1.1 400 Bad Request", r.status());
            }
            String noUpgrade = RawWebSocket.upgrade(port, "").replace("Upgrade: websocket\r\n", "");
            try (RawWebSocket r = RawWebSocket.open(port, noUpgrade)) {
                assertEquals("HTTP/1.1 400 Bad Request", r.status());
            }
            // same_origin compares with Host; the allowed list wants scheme, host and port to match
            try (RawWebSocket r = RawWebSocket.open(port, RawWebSocket.upgrade(port, "Origin: http://evil.example\r\n"))) {
                assertEquals("HTTP/1.1 403 Forbidden", r.status());
            }
            try (RawWebSocket r = RawWebSocket.open(port,
                    RawWebSocket.upgrade(port, "Origin: http://127.0.0.1:" + port + "\r\n"))) {
                assertEquals("HTTP/1.1 403 Forbidden", r.status(), "same origin, but not in the allowed list");
            }
            // no Origin at all is accepted (a non-browser client)
            try (RawWebSocket r = RawWebSocket.open(port, RawWebSocket.upgrade(port, ""))) {
                assertEquals("HTTP/1.1 101 Switching Protocols", r.status());
            }
        }
    }

    /**
     * In a cluster a WebSocket client's INFO lists the nodes' WebSocket URLs as {@code connect_urls} (gossiped
     * between routes as {@code ws_connect_urls}, as nats-server does), never the client ports a TCP client gets.
     */
    @Test
    void webSocketClientsAreOfferedTheClustersWebSocketUrls() throws Exception {
        io.jetkv.config.ClusterConfig base =
                io.jetkv.config.ClusterConfig.DISABLED.withListen("127.0.0.1", 0).withName("WS");
        try (NatsServer a = NatsServer.start(config(ws(false, false, List.of())).withServerName("A").withCluster(base)
                        .withHttpPort(-1));
                NatsServer b = NatsServer.start(config(ws(false, false, List.of())).withServerName("B")
                        .withCluster(base.withRoutes(List.of(java.net.URI.create(
                                "nats-route://127.0.0.1:" + a.routePort())))))) {
            io.jetkv.server.testing.ClusterProbes.await(() -> a.routeCount() == 1 && b.routeCount() == 1,
                    "route between A and B", 20);
            String wsA = "127.0.0.1:" + a.websocketPort();
            String wsB = "127.0.0.1:" + b.websocketPort();
            // B's route INFO reaches A with the route; poll until A's INFO for new clients has both
            String info = "";
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            while (System.nanoTime() < deadline) {
                try (RawWebSocket r = RawWebSocket.open(a.websocketPort(),
                        RawWebSocket.upgrade(a.websocketPort(), ""))) {
                    info = r.read().text();
                }
                if (info.contains(wsB)) {
                    break;
                }
            }
            assertTrue(info.contains("\"connect_urls\":[\"" + wsA + "\",\"" + wsB + "\"]"), info);
            assertFalse(info.contains(":" + a.port() + "\""), "no client port for a WebSocket client: " + info);
            // /varz shows both lists
            String varz = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create("http://127.0.0.1:" + a.monitorPort() + "/varz")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString()).body().replaceAll("\\s", "");
            assertTrue(varz.contains("\"ws_connect_urls\":[\"" + wsA + "\",\"" + wsB + "\"]"), varz);
            assertTrue(varz.contains("\"connect_urls\":[\"127.0.0.1:" + a.port() + "\""), varz);
            try (Connection tcp = Nats.connect(Options.builder().server(a.clientUrl()).build())) {
                List<String> urls = tcp.getServerInfo().getConnectURLs();
                assertTrue(urls.contains("127.0.0.1:" + a.port()), urls.toString());
                assertFalse(urls.contains(wsA), urls.toString());
            }
        }
    }

    @Test
    void framesCarryTheProtocol() throws Exception {
        try (NatsServer server = NatsServer.start(config(ws(false, false, List.of())));
                RawWebSocket r = RawWebSocket.open(server.websocketPort(),
                        RawWebSocket.upgrade(server.websocketPort(), ""))) {
            assertEquals("HTTP/1.1 101 Switching Protocols", r.status());
            RawWebSocket.Frame info = r.read();
            assertEquals(2, info.opcode(), "INFO comes in one binary frame");
            assertTrue(info.fin());
            assertTrue(info.text().startsWith("INFO {") && info.text().endsWith("\r\n"), info.text());
            // a line split over two frames, and two ops in one frame
            r.sendText("CONNECT {\"verbose\":false}\r\nPI");
            r.sendText("NG\r\n");
            assertEquals("PONG\r\n", r.readUntil("PONG\r\n"));
            r.sendText("SUB echo 1\r\nPUB echo 2\r\nhi\r\nPING\r\n");
            assertTrue(r.readUntil("PONG\r\n").contains("MSG echo 1 2\r\nhi\r\n"));
            // a WebSocket ping is answered with its payload
            r.send(9, "abc".getBytes(StandardCharsets.UTF_8), true);
            RawWebSocket.Frame pong = r.read();
            assertEquals(10, pong.opcode());
            assertEquals("abc", pong.text());
            // a close is echoed with its status
            r.send(8, new byte[] {0x03, (byte) 0xe8}, true);
            RawWebSocket.Frame close = r.read();
            assertEquals(8, close.opcode());
            assertEquals(1000, close.closeStatus());
        }
    }

    @Test
    void unmaskedClientFrameClosesWithProtocolError() throws Exception {
        try (NatsServer server = NatsServer.start(config(ws(false, false, List.of())));
                RawWebSocket r = RawWebSocket.open(server.websocketPort(),
                        RawWebSocket.upgrade(server.websocketPort(), ""))) {
            r.read(); // INFO
            r.send(2, "PING\r\n".getBytes(StandardCharsets.US_ASCII), false);
            RawWebSocket.Frame f = r.read();
            assertEquals(8, f.opcode());
            assertEquals(1002, f.closeStatus());
        }
    }

    @Test
    void authorizationViolationIsAnErrFrameThenClose1008() throws Exception {
        AuthConfig auth = new AuthConfig(null, List.of(new User("alice", "secret", Permissions.ALL)),
                Permissions.ALL, AuthConfig.DEFAULT_TIMEOUT);
        try (NatsServer server = NatsServer.start(config(ws(false, false, List.of())).withAuth(auth));
                RawWebSocket r = RawWebSocket.open(server.websocketPort(),
                        RawWebSocket.upgrade(server.websocketPort(), ""))) {
            assertTrue(r.read().text().contains("\"auth_required\":true"));
            r.sendText("CONNECT {\"verbose\":false,\"user\":\"alice\",\"pass\":\"wrong\"}\r\nPING\r\n");
            RawWebSocket.Frame err = r.read();
            assertEquals("-ERR 'Authorization Violation'\r\n", err.text());
            RawWebSocket.Frame close = r.read();
            assertEquals(8, close.opcode());
            assertEquals(1008, close.closeStatus());
            assertEquals("Authorization Violation", new String(close.payload(), 2, close.payload().length - 2,
                    StandardCharsets.UTF_8));
        }
    }

    @Test
    void compressionAboveSixtyFourBytesAndBrowserFrameSize() throws Exception {
        try (NatsServer server = NatsServer.start(config(ws(true, false, List.of())));
                RawWebSocket r = RawWebSocket.open(server.websocketPort(), RawWebSocket.upgrade(
                        server.websocketPort(), "Sec-WebSocket-Extensions: permessage-deflate\r\n"
                                + "User-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\n"))) {
            // as nats-server answers any offer: no context takeover either way, so each frame inflates alone
            assertTrue(r.response.toLowerCase().contains("sec-websocket-extensions: permessage-deflate"), r.response);
            assertTrue(r.response.contains("server_no_context_takeover"), r.response);
            assertTrue(r.response.contains("client_no_context_takeover"), r.response);
            RawWebSocket.Frame info = r.read();
            assertTrue(info.rsv1(), "INFO is over 64 bytes: deflated");
            assertTrue(new String(RawWebSocket.inflate(info.payload()), StandardCharsets.UTF_8).startsWith("INFO {"));
            r.sendText("CONNECT {\"verbose\":false}\r\nPING\r\n");
            RawWebSocket.Frame pong = r.read();
            assertFalse(pong.rsv1(), "PONG is small: sent as it is");
            assertEquals("PONG\r\n", pong.text());
            // a browser gets frames of at most 4096 bytes (before compression)
            StringBuilder payload = new StringBuilder();
            for (int i = 0; i < 3000; i++) {
                payload.append(Integer.toString(i, 36));
            }
            r.sendText("SUB big 1\r\nPUB big " + payload.length() + "\r\n" + payload + "\r\nPING\r\n");
            StringBuilder got = new StringBuilder();
            int frames = 0;
            while (!got.toString().endsWith("PONG\r\n")) {
                RawWebSocket.Frame f = r.read();
                byte[] data = f.rsv1() ? RawWebSocket.inflate(f.payload()) : f.payload();
                assertTrue(data.length <= 4096, "frame of " + data.length + " bytes");
                got.append(new String(data, StandardCharsets.UTF_8));
                frames++;
            }
            assertTrue(got.toString().contains(payload), "the message arrives whole across frames");
            assertTrue(frames >= 2, "split into frames: " + frames);
        }
    }
}
