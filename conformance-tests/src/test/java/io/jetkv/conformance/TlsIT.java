package io.jetkv.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jetkv.config.ConfigFileParser;
import io.jetkv.server.NatsServer;
import io.jetkv.server.testing.ReferenceServer;
import io.jetkv.server.testing.TestPki;
import io.nats.client.Connection;
import io.nats.client.ErrorListener;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.Subscription;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * TLS for clients (nats.docs "TLS"): certificates made by the test, one config file loaded by JetKV and by
 * nats-server 2.9.10, and the same clients (jnats, raw sockets) against both. Each test runs against
 * {@code jetkv} and, where installed, {@code nats-server}.
 */
class TlsIT {
    @TempDir
    static Path dir;
    static TestPki ca;
    static TestPki otherCa;
    static TestPki.Issued serverCert;
    static TestPki.Issued alice;
    static TestPki.Issued bob;
    static TestPki.Issued carol;
    static TestPki.Issued expired;
    static TestPki.Issued stranger;

    private final List<AutoCloseable> started = new ArrayList<>();

    @BeforeAll
    static void makeCertificates() throws Exception {
        ca = new TestPki(dir, "main");
        otherCa = new TestPki(dir, "other");
        serverCert = ca.server("server");
        alice = ca.client("alice", "CN=alice,O=JetKV", "alice@example.com");
        bob = ca.client("bob", "CN=bob,O=JetKV", null);
        carol = ca.client("carol", "CN=carol,OU=ops,O=JetKV", null);
        expired = ca.client("expired", "CN=alice,O=JetKV", "alice@example.com",
                Instant.now().minus(Duration.ofDays(3)), Instant.now().minus(Duration.ofDays(1)));
        stranger = otherCa.client("stranger", "CN=alice,O=JetKV", "alice@example.com");
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : started) {
            c.close();
        }
    }

    /** Starts {@code target} ("jetkv" or "nats-server") with {@code conf}; returns its client port. */
    private int start(String target, String conf) throws Exception {
        Path file = Files.createTempFile(dir, "tls", ".conf");
        Files.writeString(file, conf, StandardCharsets.UTF_8);
        if (target.equals("jetkv")) {
            NatsServer s = NatsServer.start(ConfigFileParser.load(file).withHost("127.0.0.1").withPort(0));
            started.add(s);
            return s.port();
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(ReferenceServer.available(), "nats-server is not installed");
        ReferenceServer r = ReferenceServer.start("-c", file.toString());
        started.add(r);
        return r.port();
    }

    private static String tlsBlock(String extra) {
        return "tls {\n  cert_file: \"" + serverCert.certFile() + "\"\n  key_file: \"" + serverCert.keyFile()
                + "\"\n  ca_file: \"" + ca.caFile() + "\"\n" + extra + "}\n";
    }

    private static Options.Builder tlsOptions(int port, SSLContext ctx) {
        return new Options.Builder().server("tls://127.0.0.1:" + port).sslContext(ctx)
                .connectionTimeout(Clients.CONNECT_TIMEOUT).maxReconnects(0).noReconnect();
    }

    /**
     * A raw client over TLS: reads the plaintext INFO, upgrades with {@code ctx}, sends {@code text} and reads
     * until {@code PONG} or the close. A TLS failure reads as {@code <TLS failure>}: a refused certificate
     * shows up in the handshake, or (TLS 1.3, where the server checks it after the client's last flight) as an
     * alert or close on the first read.
     */
    private static String tlsExchange(int port, SSLContext ctx, String text) throws IOException {
        try (Socket plain = new Socket("127.0.0.1", port)) {
            // a guard against a hung test: every read below waits for a known terminator or the close
            plain.setSoTimeout(10_000);
            InputStream in = plain.getInputStream();
            int prev = -1;
            for (int c = in.read(); !(prev == '\r' && c == '\n'); c = in.read()) {
                if (c < 0) {
                    return "<EOF before INFO>";
                }
                prev = c;
            }
            try (SSLSocket tls = (SSLSocket) ctx.getSocketFactory().createSocket(plain, "127.0.0.1", port, true)) {
                tls.startHandshake();
                tls.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
                tls.getOutputStream().flush();
                ByteArrayOutputStream got = new ByteArrayOutputStream();
                InputStream tin = tls.getInputStream();
                while (!got.toString(StandardCharsets.UTF_8).endsWith("PONG\r\n")) {
                    int c = tin.read();
                    if (c < 0) {
                        return got.toString(StandardCharsets.UTF_8) + "<EOF>";
                    }
                    got.write(c);
                }
                return got.toString(StandardCharsets.UTF_8);
            } catch (SSLException | SocketException e) {
                return "<TLS failure>";
            }
        }
    }

    private static final String CONNECT_PING = "CONNECT {\"verbose\":false}\r\nPING\r\n";

    private static void roundTrip(Connection nc) throws Exception {
        Subscription sub = nc.subscribe("tls.>");
        nc.publish("tls.hello", "over tls".getBytes(StandardCharsets.UTF_8));
        Message m = sub.nextMessage(Duration.ofSeconds(5));
        assertEquals("over tls", new String(m.getData(), StandardCharsets.UTF_8));
    }

    @ParameterizedTest
    @ValueSource(strings = {"jetkv", "nats-server"})
    void jnatsPublishesAndSubscribesOverTls(String target) throws Exception {
        int port = start(target, tlsBlock(""));
        try (Connection nc = Nats.connect(tlsOptions(port, ca.trustingContext()).build())) {
            roundTrip(nc);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"jetkv", "nats-server"})
    void infoIsPlaintextAndAdvertisesTls(String target) throws Exception {
        int port = start(target, tlsBlock("  verify: true\n"));
        try (RawClient c = new RawClient(port)) {
            assertTrue(c.info().startsWith("INFO {"), c.info());
            assertTrue(c.info().contains("\"tls_required\":true"), c.info());
            assertTrue(c.info().contains("\"tls_verify\":true"), c.info());
            assertFalse(c.info().contains("tls_available"), c.info());
        }
    }

    /** The reference closes without a word: the client's bytes are not a TLS record. */
    @ParameterizedTest
    @ValueSource(strings = {"jetkv", "nats-server"})
    void plaintextConnectToTlsServerIsClosedWithoutErr(String target) throws Exception {
        int port = start(target, tlsBlock(""));
        try (RawClient c = new RawClient(port)) {
            c.send("CONNECT {\"verbose\":false}\r\nPING\r\n");
            assertEquals("<EOF>", c.readToClose());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"jetkv", "nats-server"})
    void silentClientIsClosedAfterTheHandshakeTimeout(String target) throws Exception {
        int port = start(target, tlsBlock("  timeout: 0.5\n"));
        try (RawClient c = new RawClient(port)) {
            assertEquals("<EOF>", c.readToClose());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"jetkv", "nats-server"})
    void jnatsWithoutTlsIsTurnedAwayByTheClient(String target) throws Exception {
        int port = start(target, tlsBlock(""));
        // jnats does not upgrade by itself: the INFO's tls_required makes it give up ("SSL required by server.")
        assertThrows(IOException.class, () -> Nats.connect(new Options.Builder()
                .server("nats://127.0.0.1:" + port).connectionTimeout(Clients.CONNECT_TIMEOUT).noReconnect()
                .build()));
    }

    @ParameterizedTest
    @ValueSource(strings = {"jetkv", "nats-server"})
    void mutualTlsAcceptsACertificateFromTheCa(String target) throws Exception {
        int port = start(target, tlsBlock("  verify: true\n"));
        try (Connection nc = Nats.connect(tlsOptions(port, bob.clientContext(ca)).build())) {
            roundTrip(nc);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"jetkv", "nats-server"})
    void mutualTlsRefusesAClientWithoutCertificate(String target) throws Exception {
        int port = start(target, tlsBlock("  verify: true\n"));
        assertEquals("PONG\r\n", tlsExchange(port, bob.clientContext(ca), CONNECT_PING), "a good certificate");
        assertEquals("<TLS failure>", tlsExchange(port, ca.trustingContext(), CONNECT_PING));
    }

    @ParameterizedTest
    @ValueSource(strings = {"jetkv", "nats-server"})
    void mutualTlsRefusesACertificateFromAnotherCa(String target) throws Exception {
        int port = start(target, tlsBlock("  verify: true\n"));
        assertEquals("PONG\r\n", tlsExchange(port, bob.clientContext(ca), CONNECT_PING), "a good certificate");
        assertEquals("<TLS failure>", tlsExchange(port, stranger.clientContext(ca), CONNECT_PING));
    }

    @ParameterizedTest
    @ValueSource(strings = {"jetkv", "nats-server"})
    void mutualTlsRefusesAnExpiredCertificate(String target) throws Exception {
        int port = start(target, tlsBlock("  verify: true\n"));
        assertEquals("PONG\r\n", tlsExchange(port, bob.clientContext(ca), CONNECT_PING), "a good certificate");
        assertEquals("<TLS failure>", tlsExchange(port, expired.clientContext(ca), CONNECT_PING));
    }

    @ParameterizedTest
    @ValueSource(strings = {"jetkv", "nats-server"})
    void clientRefusesAServerFromAnotherCa(String target) throws Exception {
        int port = start(target, tlsBlock(""));
        assertEquals("<TLS failure>", tlsExchange(port, otherCa.trustingContext(), CONNECT_PING));
    }

    private static final String MAPPED_USERS = """
            authorization {
              users: [
                {user: "alice@example.com", permissions: {publish: "tls.>", subscribe: "tls.>"}}
                {user: "O=JetKV,OU=ops,CN=carol"}
              ]
            }
            """;

    @ParameterizedTest
    @ValueSource(strings = {"jetkv", "nats-server"})
    void verifyAndMapTakesTheUserFromTheEmailSan(String target) throws Exception {
        int port = start(target, tlsBlock("  verify_and_map: true\n") + MAPPED_USERS);
        // CONNECT's user name is not looked at: the certificate names the user
        try (Connection nc = Nats.connect(tlsOptions(port, alice.clientContext(ca)).userInfo("x", "").build())) {
            roundTrip(nc);
            CompletableFuture<String> error = new CompletableFuture<>();
            try (Connection nc2 = Nats.connect(tlsOptions(port, alice.clientContext(ca)).errorListener(
                    new ErrorListener() {
                        @Override
                        public void errorOccurred(Connection conn, String text) {
                            error.complete(text);
                        }
                    }).build())) {
                // alice's permissions are her mapped user's
                nc2.publish("elsewhere", new byte[0]);
                assertTrue(error.get(5, TimeUnit.SECONDS).contains("Permissions Violation for Publish to \"elsewhere\""));
            }
        }
    }

    /** But a password CONNECT carries is checked against the mapped user's, who has none here. */
    @ParameterizedTest
    @ValueSource(strings = {"jetkv", "nats-server"})
    void verifyAndMapRefusesAPasswordTheMappedUserDoesNotHave(String target) throws Exception {
        int port = start(target, tlsBlock("  verify_and_map: true\n") + MAPPED_USERS);
        assertEquals("-ERR 'Authorization Violation'\r\n<EOF>", tlsExchange(port, alice.clientContext(ca),
                "CONNECT {\"verbose\":false,\"user\":\"x\",\"pass\":\"y\"}\r\nPING\r\n"));
        assertEquals("PONG\r\n", tlsExchange(port, alice.clientContext(ca),
                "CONNECT {\"verbose\":false,\"user\":\"x\"}\r\nPING\r\n"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"jetkv", "nats-server"})
    void verifyAndMapMatchesTheSubjectWithRdnsInAnotherOrder(String target) throws Exception {
        int port = start(target, tlsBlock("  verify_and_map: true\n") + MAPPED_USERS);
        try (Connection nc = Nats.connect(tlsOptions(port, carol.clientContext(ca)).build())) {
            roundTrip(nc);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"jetkv", "nats-server"})
    void verifyAndMapRefusesACertificateNamingNoUser(String target) throws Exception {
        int port = start(target, tlsBlock("  verify_and_map: true\n") + MAPPED_USERS);
        // naming a user in CONNECT does not help
        assertEquals("-ERR 'Authorization Violation'\r\n<EOF>", tlsExchange(port, bob.clientContext(ca),
                "CONNECT {\"verbose\":false,\"user\":\"alice@example.com\"}\r\nPING\r\n"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"jetkv", "nats-server"})
    void allowNonTlsServesBothOnOnePort(String target) throws Exception {
        int port = start(target, tlsBlock("") + "allow_non_tls: true\n");
        try (RawClient c = new RawClient(port)) {
            assertTrue(c.info().contains("\"tls_available\":true"), c.info());
            assertFalse(c.info().contains("tls_required"), c.info());
        }
        try (Connection plain = Clients.connect("nats://127.0.0.1:" + port);
                Connection secure = Nats.connect(tlsOptions(port, ca.trustingContext()).build())) {
            Subscription sub = plain.subscribe("mixed");
            plain.flush(Duration.ofSeconds(5));
            secure.publish("mixed", "x".getBytes(StandardCharsets.UTF_8));
            assertEquals("x", new String(sub.nextMessage(Duration.ofSeconds(5)).getData(), StandardCharsets.UTF_8));
            assertTrue(secure.getConnectedUrl().startsWith("tls://"));
        }
    }

    /** nats-server 2.10.4's handshake_first (2.9.10 has no such key): TLS first, INFO as its first record. */
    @Test
    void handshakeFirstServesTlsFirstClients() throws Exception {
        int port = start("jetkv", tlsBlock("  handshake_first: true\n"));
        try (Connection nc = Nats.connect(tlsOptions(port, ca.trustingContext()).tlsFirst().build())) {
            roundTrip(nc);
        }
        // a client that waits for a plaintext INFO hears nothing and is closed at the handshake timeout
        try (RawClient c = new RawClient(port, false)) {
            assertEquals("<EOF>", c.readToClose());
        }
    }

    /** Where netty-tcnative cannot load, the JDK's engine serves the same clients. */
    @Test
    void jdkEngineServesTlsAndMutualTls() throws Exception {
        System.setProperty("jetkv.tls.provider", "jdk");
        int port;
        try {
            port = start("jetkv", tlsBlock("  verify: true\n"));
        } finally {
            System.clearProperty("jetkv.tls.provider");
        }
        try (Connection nc = Nats.connect(tlsOptions(port, bob.clientContext(ca)).build())) {
            roundTrip(nc);
        }
        assertEquals("<TLS failure>", tlsExchange(port, expired.clientContext(ca), CONNECT_PING));
    }
}
