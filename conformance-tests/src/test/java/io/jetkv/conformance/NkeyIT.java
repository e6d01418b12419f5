package io.jetkv.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jetkv.config.ConfigFileParser;
import io.jetkv.server.NatsServer;
import io.jetkv.server.testing.ReferenceServer;
import io.nats.client.Connection;
import io.nats.client.ErrorListener;
import io.nats.client.NKey;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.Subscription;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * NKEY users (nats.docs "NKeys"): the nonce in INFO, CONNECT's {@code nkey} and {@code sig} (Ed25519 over the
 * nonce's text), the same config file and transcripts against JetKV and nats-server 2.9.10, and jnats'
 * {@code AuthHandler}. Each test runs against {@code jetkv} and, where installed, {@code nats-server}.
 */
class NkeyIT {
    private static final Pattern NONCE = Pattern.compile("\"nonce\":\"([A-Za-z0-9_-]+)\"");
    private static NKey alice;
    private static NKey bob;
    private static NKey mallory;
    private static NatsServer jetkv;
    private static ReferenceServer reference;

    @BeforeAll
    static void start(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        alice = NKey.createUser(new SecureRandom());
        bob = NKey.createUser(new SecureRandom());
        mallory = NKey.createUser(new SecureRandom());
        Path conf = dir.resolve("nkeys.conf");
        Files.writeString(conf, """
                authorization {
                  users: [
                    {nkey: %s}
                    {nkey: %s, permissions: {publish: "bob.>", subscribe: ["bob.>", "_INBOX.>"]}}
                    {user: carol, password: secret}
                  ]
                }
                """.formatted(new String(alice.getPublicKey()), new String(bob.getPublicKey())),
                StandardCharsets.UTF_8);
        jetkv = NatsServer.start(ConfigFileParser.load(conf).withHost("127.0.0.1").withPort(0));
        if (ReferenceServer.available()) {
            reference = ReferenceServer.start("-c", conf.toString());
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (jetkv != null) {
            jetkv.close();
        }
        if (reference != null) {
            reference.close();
        }
    }

    private static int port(String target) {
        if (target.equals("jetkv")) {
            return jetkv.port();
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(reference != null, "nats-server is not installed");
        return reference.port();
    }

    private static String nonce(RawClient c) {
        Matcher m = NONCE.matcher(c.info());
        assertTrue(m.find(), c.info());
        return m.group(1);
    }

    private static String sign(NKey key, byte[] message) throws Exception {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(key.sign(message));
    }

    private static String connect(NKey key, String sig) throws Exception {
        return "CONNECT {\"verbose\":false,\"nkey\":\"" + new String(key.getPublicKey()) + "\",\"sig\":\"" + sig
                + "\"}\r\nPING\r\n";
    }

    private static final String VIOLATION = "-ERR 'Authorization Violation'\r\n<EOF>";

    @ParameterizedTest
    @ValueSource(strings = {"jetkv", "nats-server"})
    void everyInfoCarriesAFreshNonce(String target) throws Exception {
        try (RawClient a = new RawClient(port(target)); RawClient b = new RawClient(port(target))) {
            assertEquals(15, nonce(a).length());
            assertNotEquals(nonce(a), nonce(b));
            assertTrue(a.info().contains("\"auth_required\":true"), a.info());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"jetkv", "nats-server"})
    void signatureOverTheNonceTextIsAccepted(String target) throws Exception {
        try (RawClient c = new RawClient(port(target))) {
            c.send(connect(alice, sign(alice, nonce(c).getBytes(StandardCharsets.US_ASCII))));
            assertEquals("PONG\r\n", c.readUntil("PONG\r\n"));
        }
    }

    /** Padded standard base64 is accepted too. */
    @ParameterizedTest
    @ValueSource(strings = {"jetkv", "nats-server"})
    void standardBase64SignatureIsAccepted(String target) throws Exception {
        try (RawClient c = new RawClient(port(target))) {
            String sig = Base64.getEncoder().encodeToString(alice.sign(nonce(c).getBytes(StandardCharsets.US_ASCII)));
            c.send(connect(alice, sig));
            assertEquals("PONG\r\n", c.readUntil("PONG\r\n"));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"jetkv", "nats-server"})
    void signatureByAnotherKeyIsRefused(String target) throws Exception {
        try (RawClient c = new RawClient(port(target))) {
            c.send(connect(alice, sign(mallory, nonce(c).getBytes(StandardCharsets.US_ASCII))));
            assertEquals(VIOLATION, c.readToClose());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"jetkv", "nats-server"})
    void unknownKeyIsRefused(String target) throws Exception {
        try (RawClient c = new RawClient(port(target))) {
            c.send(connect(mallory, sign(mallory, nonce(c).getBytes(StandardCharsets.US_ASCII))));
            assertEquals(VIOLATION, c.readToClose());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"jetkv", "nats-server"})
    void missingSignatureIsRefused(String target) throws Exception {
        try (RawClient c = new RawClient(port(target))) {
            c.send("CONNECT {\"verbose\":false,\"nkey\":\"" + new String(alice.getPublicKey()) + "\"}\r\nPING\r\n");
            assertEquals(VIOLATION, c.readToClose());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"jetkv", "nats-server"})
    void signatureOverTheDecodedNonceIsRefused(String target) throws Exception {
        try (RawClient c = new RawClient(port(target))) {
            c.send(connect(alice, sign(alice, Base64.getUrlDecoder().decode(nonce(c)))));
            assertEquals(VIOLATION, c.readToClose());
        }
    }

    /** A signature is good for its connection's nonce only: replayed on another connection it fails. */
    @ParameterizedTest
    @ValueSource(strings = {"jetkv", "nats-server"})
    void replayedSignatureIsRefused(String target) throws Exception {
        String sig;
        try (RawClient first = new RawClient(port(target))) {
            sig = sign(alice, nonce(first).getBytes(StandardCharsets.US_ASCII));
            first.send(connect(alice, sig));
            assertEquals("PONG\r\n", first.readUntil("PONG\r\n"));
        }
        try (RawClient second = new RawClient(port(target))) {
            second.send(connect(alice, sig));
            assertEquals(VIOLATION, second.readToClose());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"jetkv", "nats-server"})
    void passwordUsersStillWorkBesideNkeys(String target) throws Exception {
        try (RawClient c = new RawClient(port(target))) {
            c.send("CONNECT {\"verbose\":false,\"user\":\"carol\",\"pass\":\"secret\"}\r\nPING\r\n");
            assertEquals("PONG\r\n", c.readUntil("PONG\r\n"));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"jetkv", "nats-server"})
    void jnatsSignsWithItsAuthHandlerAndGetsTheUsersPermissions(String target) throws Exception {
        int port = port(target);
        CompletableFuture<String> error = new CompletableFuture<>();
        Options bobOptions = new Options.Builder().server("nats://127.0.0.1:" + port)
                .connectionTimeout(Clients.CONNECT_TIMEOUT)
                .authHandler(Nats.staticCredentials(null, bob.getSeed()))
                .errorListener(new ErrorListener() {
                    @Override
                    public void errorOccurred(Connection conn, String text) {
                        error.complete(text);
                    }
                }).build();
        try (Connection a = Nats.connect(new Options.Builder().server("nats://127.0.0.1:" + port)
                        .connectionTimeout(Clients.CONNECT_TIMEOUT)
                        .authHandler(Nats.staticCredentials(null, alice.getSeed())).build());
                Connection b = Nats.connect(bobOptions)) {
            Subscription sub = b.subscribe("bob.in");
            b.flush(Duration.ofSeconds(5));
            a.publish("bob.in", "hi".getBytes(StandardCharsets.UTF_8));
            assertEquals("hi", new String(sub.nextMessage(Duration.ofSeconds(5)).getData(), StandardCharsets.UTF_8));
            b.publish("elsewhere", new byte[0]);
            assertTrue(error.get(5, TimeUnit.SECONDS).contains("Permissions Violation for Publish to \"elsewhere\""));
        }
        assertThrows(IOException.class, () -> Nats.connect(new Options.Builder().server("nats://127.0.0.1:" + port)
                .connectionTimeout(Clients.CONNECT_TIMEOUT).noReconnect()
                .authHandler(Nats.staticCredentials(null, mallory.getSeed())).build()));
    }
}
