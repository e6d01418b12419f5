package io.jetkv.conformance;

import io.jetkv.server.testing.ReferenceServer;
import static io.jetkv.conformance.Transcript.closes;
import static io.jetkv.conformance.Transcript.t;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jetkv.config.ConfigFileParser;
import io.jetkv.server.NatsServer;
import io.nats.client.Connection;
import io.nats.client.ErrorListener;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.Subscription;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.mindrot.jbcrypt.BCrypt;

/**
 * Authentication and permissions (nats.docs "Authorization"): one config file, loaded by JetKV and by
 * nats-server, and the same raw transcripts against both.
 */
class AuthTranscriptIT {
    private static NatsServer jetkv;
    private static ReferenceServer reference;

    static Stream<Transcript> transcripts() {
        String alice = "CONNECT {\"verbose\":false,\"pedantic\":false,\"user\":\"alice\",\"pass\":\"secret\"}\r\n";
        String bob = "CONNECT {\"verbose\":false,\"pedantic\":false,\"user\":\"bob\",\"pass\":\"bobpw\"}\r\n";
        return Stream.of(
                closes("pingBeforeConnect", "PING\r\n", "-ERR 'Authorization Violation'\r\n"),
                closes("subBeforeConnect", "SUB foo 1\r\n", "-ERR 'Authorization Violation'\r\n"),
                // before CONNECT the first byte decides: anything but C is refused, even no operation at all
                closes("pubVerbBeforeConnect", "PUB\r\n", "-ERR 'Authorization Violation'\r\n"),
                closes("garbageBeforeConnect", "XYZ\r\n", "-ERR 'Authorization Violation'\r\n"),
                closes("okBeforeConnect", "+OK\r\n", "-ERR 'Authorization Violation'\r\n"),
                closes("hpubBeforeConnect", "HPUB a 0 1\r\nx\r\n", "-ERR 'Authorization Violation'\r\n"),
                closes("garbledConnect", "CXYZ\r\n", "-ERR 'Unknown Protocol Operation'\r\n"),
                closes("connectWrongTypeBeforeAuth",
                        "CONNECT {\"verbose\":\"x\",\"user\":\"alice\",\"pass\":\"secret\"}\r\nPING\r\n", ""),
                closes("wrongPassword", "CONNECT {\"verbose\":false,\"user\":\"alice\",\"pass\":\"nope\"}\r\nPING\r\n",
                        "-ERR 'Authorization Violation'\r\n"),
                closes("unknownUser", "CONNECT {\"verbose\":false,\"user\":\"mallory\",\"pass\":\"secret\"}\r\nPING\r\n",
                        "-ERR 'Authorization Violation'\r\n"),
                closes("noCredentials", "CONNECT {\"verbose\":false}\r\nPING\r\n", "-ERR 'Authorization Violation'\r\n"),
                t("plainPasswordAccepted", alice + "PING\r\n", "PONG\r\n"),
                // a later CONNECT keeps the credentials it does not name, and is checked again
                t("secondConnectKeepsCredentials", alice + "CONNECT {\"verbose\":false}\r\nPING\r\n", "PONG\r\n"),
                closes("secondConnectWrongPassword", alice + "CONNECT {\"pass\":\"x\"}\r\nPING\r\n",
                        "-ERR 'Authorization Violation'\r\n"),
                // credentials are checked before the other CONNECT fields
                closes("credentialsBeforeProtocol",
                        "CONNECT {\"verbose\":false,\"user\":\"alice\",\"pass\":\"x\",\"protocol\":2}\r\nPING\r\n",
                        "-ERR 'Authorization Violation'\r\n"),
                closes("credentialsBeforeNoResponders",
                        "CONNECT {\"verbose\":false,\"user\":\"alice\",\"pass\":\"x\",\"no_responders\":true}\r\nPING\r\n",
                        "-ERR 'Authorization Violation'\r\n"),
                closes("protocolCheckedOnceAuthenticated",
                        "CONNECT {\"verbose\":false,\"user\":\"alice\",\"pass\":\"secret\",\"protocol\":2}\r\nPING\r\n",
                        "-ERR 'invalid client protocol'\r\n"),
                t("bcryptPasswordAccepted", bob + "PING\r\n", "PONG\r\n"),
                t("publishAllowed", bob + "SUB sub.x 1\r\nPUB pub.a 1\r\nx\r\nPING\r\n", "PONG\r\n"),
                t("publishDenied", bob + "PUB pub.secret 1\r\nx\r\nPING\r\n",
                        "-ERR 'Permissions Violation for Publish to \"pub.secret\"'\r\nPONG\r\n"),
                t("publishNotAllowed", bob + "PUB elsewhere 1\r\nx\r\nPING\r\n",
                        "-ERR 'Permissions Violation for Publish to \"elsewhere\"'\r\nPONG\r\n"),
                t("subscribeDenied", bob + "SUB other 1\r\nPING\r\n",
                        "-ERR 'Permissions Violation for Subscription to \"other\"'\r\nPONG\r\n"),
                t("subscribeWildcardInsideAllow", bob + "SUB sub.* 1\r\nPING\r\n", "PONG\r\n"),
                t("subscribeWildcardWiderThanAllow", bob + "SUB > 1\r\nPING\r\n",
                        "-ERR 'Permissions Violation for Subscription to \">\"'\r\nPONG\r\n"));
    }

    @BeforeAll
    static void startServers(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path conf = dir.resolve("auth.conf");
        Files.writeString(conf, """
                # users with and without permissions; bob's password is bcrypt-hashed
                authorization {
                  timeout: 0.5
                  users = [
                    {user: alice, password: secret}
                    {user: bob, password: "%s", permissions: {
                      publish: { allow: ["pub.>"], deny: ["pub.secret"] }
                      subscribe: ["sub.>", "_INBOX.>"]
                    }}
                  ]
                }
                """.formatted(BCrypt.hashpw("bobpw", BCrypt.gensalt(4))), StandardCharsets.UTF_8);
        jetkv = NatsServer.start(ConfigFileParser.load(conf).withHost("127.0.0.1").withPort(0));
        if (ReferenceServer.available()) {
            reference = ReferenceServer.start("-c", conf.toString());
        }
    }

    @AfterAll
    static void stopServers() throws Exception {
        if (jetkv != null) {
            jetkv.close();
        }
        if (reference != null) {
            reference.close();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("transcripts")
    void jetkvAnswersLikeTheReference(Transcript t) throws IOException {
        Transcript.check(t, jetkv.port(), "jetkv", false);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("transcripts")
    void referenceAgreesWithTranscript(Transcript t) throws IOException {
        org.junit.jupiter.api.Assumptions.assumeTrue(reference != null, "nats-server is not installed");
        Transcript.check(t, reference.port(), "nats-server", false);
    }

    @Test
    void authRequiredIsAdvertised() throws IOException {
        try (RawClient c = new RawClient(jetkv.port())) {
            assertTrue(c.info().contains("\"auth_required\":true"), c.info());
        }
    }

    @Test
    void silentClientTimesOut() throws IOException {
        try (RawClient c = new RawClient(jetkv.port())) {
            assertEquals("-ERR 'Authentication Timeout'\r\n<EOF>", c.readToClose());
        }
    }

    /**
     * A client that never sends CONNECT gets no keep-alive PING (the reference starts pinging only after
     * CONNECT, or at ping_interval): with an auth timeout past the 2 s first-ping time, the only line after
     * INFO is the timeout error.
     */
    @Test
    void noPingBeforeAuthenticationTimeout(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path conf = dir.resolve("slow-auth.conf");
        Files.writeString(conf, "authorization { timeout: 2.6, user: a, password: b }\n", StandardCharsets.UTF_8);
        String expected = "-ERR 'Authentication Timeout'\r\n<EOF>";
        try (NatsServer server = NatsServer.start(ConfigFileParser.load(conf).withHost("127.0.0.1").withPort(0));
                RawClient c = new RawClient(server.port())) {
            assertEquals(expected, c.readToClose(), "jetkv");
        }
        if (reference != null) {
            try (ReferenceServer ref = ReferenceServer.start("-c", conf.toString());
                    RawClient c = new RawClient(ref.port())) {
                assertEquals(expected, c.readToClose(), "nats-server");
            }
        }
    }

    @Test
    void jnatsUserPasswordAndPermissions() throws Exception {
        assertThrows(IOException.class, () -> Nats.connect(new Options.Builder()
                .server("nats://127.0.0.1:" + jetkv.port()).userInfo("alice", "wrong").maxReconnects(0).build()));
        CompletableFuture<String> error = new CompletableFuture<>();
        Options options = new Options.Builder()
                .server("nats://127.0.0.1:" + jetkv.port())
                .userInfo("bob", "bobpw")
                .errorListener(new ErrorListener() {
                    @Override
                    public void errorOccurred(Connection conn, String text) {
                        error.complete(text);
                    }
                })
                .build();
        try (Connection nc = Nats.connect(options)) {
            Subscription sub = nc.subscribe("sub.in");
            nc.publish("pub.secret", new byte[] {1});
            assertTrue(error.get(5, TimeUnit.SECONDS).contains("Permissions Violation for Publish to \"pub.secret\""));
            // the connection survives a permission error
            try (Connection alice = Nats.connect(new Options.Builder()
                    .server("nats://127.0.0.1:" + jetkv.port()).userInfo("alice", "secret").build())) {
                alice.publish("sub.in", "ok".getBytes(StandardCharsets.UTF_8));
                alice.flush(Duration.ofSeconds(5));
            }
            assertEquals("ok", new String(sub.nextMessage(Duration.ofSeconds(5)).getData(), StandardCharsets.UTF_8));
        }
    }
}
