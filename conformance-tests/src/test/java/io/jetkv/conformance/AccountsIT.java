package io.jetkv.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jetkv.config.ConfigFileParser;
import io.jetkv.server.NatsServer;
import io.jetkv.server.testing.ReferenceServer;
import io.nats.client.Connection;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.Subscription;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Accounts (nats.docs "Accounts"), first step: users in {@code accounts { }} see only their account's subjects;
 * users of the authorization block are in {@code $G}; {@code no_auth_user}. The same config file and raw
 * transcripts against JetKV and nats-server 2.9.10.
 */
class AccountsIT {
    private static NatsServer jetkv;
    private static ReferenceServer reference;

    @BeforeAll
    static void start(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path conf = dir.resolve("accounts.conf");
        Files.writeString(conf, """
                accounts {
                  A: { users: [ {user: a, password: a} ] }
                  B: { users: [ {user: b, password: b}, {user: b2, password: b2} ] }
                }
                authorization { users: [ {user: g, password: g} ] }
                no_auth_user: b
                """, StandardCharsets.UTF_8);
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

    private static String connect(String user) {
        return user == null ? "CONNECT {\"verbose\":false}\r\n"
                : "CONNECT {\"verbose\":false,\"user\":\"" + user + "\",\"pass\":\"" + user + "\"}\r\n";
    }

    @ParameterizedTest
    @ValueSource(strings = {"jetkv", "nats-server"})
    void noAuthUserTakesAuthRequiredOutOfInfo(String target) throws Exception {
        try (RawClient c = new RawClient(port(target))) {
            assertFalse(c.info().contains("auth_required"), c.info());
        }
    }

    /**
     * A publishes on {@code foo} and gets its own message; its PONG proves the server routed it before. B's own
     * message, sent after, is the first B receives: A's never reached B's {@code foo} or {@code >}.
     */
    @ParameterizedTest
    @ValueSource(strings = {"jetkv", "nats-server"})
    void accountsDoNotSeeEachOthersSubjects(String target) throws Exception {
        int port = port(target);
        try (RawClient a = new RawClient(port); RawClient b = new RawClient(port); RawClient g = new RawClient(port)) {
            b.send(connect("b") + "SUB foo 1\r\nSUB > 2\r\nPING\r\n");
            assertEquals("PONG\r\n", b.readUntil("PONG\r\n"));
            g.send(connect("g") + "SUB foo 1\r\nPING\r\n");
            assertEquals("PONG\r\n", g.readUntil("PONG\r\n"));
            a.send(connect("a") + "SUB foo 1\r\nPUB foo 2\r\nhi\r\nPING\r\n");
            assertEquals("MSG foo 1 2\r\nhi\r\nPONG\r\n", a.readUntil("PONG\r\n"));
            g.send("PUB foo 2\r\ngg\r\nPING\r\n");
            assertEquals("MSG foo 1 2\r\ngg\r\nPONG\r\n", g.readUntil("PONG\r\n"), "$G sees only $G's message");
            b.send("PUB foo 2\r\nme\r\nPING\r\n");
            String got = b.readUntil("PONG\r\n");
            assertTrue(got.equals("MSG foo 1 2\r\nme\r\nMSG foo 2 2\r\nme\r\nPONG\r\n")
                    || got.equals("MSG foo 2 2\r\nme\r\nMSG foo 1 2\r\nme\r\nPONG\r\n"), got);
        }
    }

    /** Users of one account share its subjects; a client without credentials is no_auth_user's (B). */
    @ParameterizedTest
    @ValueSource(strings = {"jetkv", "nats-server"})
    void usersOfOneAccountAndTheNoAuthUserShareIt(String target) throws Exception {
        int port = port(target);
        try (RawClient anon = new RawClient(port); RawClient b2 = new RawClient(port)) {
            anon.send(connect(null) + "SUB bar 9\r\nPING\r\n");
            assertEquals("PONG\r\n", anon.readUntil("PONG\r\n"));
            b2.send(connect("b2") + "PUB bar 1\r\nx\r\nPING\r\n");
            assertEquals("PONG\r\n", b2.readUntil("PONG\r\n"));
            anon.send("PING\r\n");
            assertEquals("MSG bar 9 1\r\nx\r\nPONG\r\n", anon.readUntil("PONG\r\n"));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"jetkv", "nats-server"})
    void wrongPasswordIsStillRefused(String target) throws Exception {
        try (RawClient c = new RawClient(port(target))) {
            c.send("CONNECT {\"verbose\":false,\"user\":\"a\",\"pass\":\"x\"}\r\nPING\r\n");
            assertEquals("-ERR 'Authorization Violation'\r\n<EOF>", c.readToClose());
        }
    }

    /** jnats request/reply inside an account; another account's client gets no responders. */
    @ParameterizedTest
    @ValueSource(strings = {"jetkv", "nats-server"})
    void jnatsRequestReplyStaysInItsAccount(String target) throws Exception {
        String url = "nats://127.0.0.1:" + port(target);
        try (Connection a = Nats.connect(Options.builder().server(url).userInfo("a", "a")
                        .connectionTimeout(Clients.CONNECT_TIMEOUT).build());
                Connection a2 = Nats.connect(Options.builder().server(url).userInfo("a", "a")
                        .connectionTimeout(Clients.CONNECT_TIMEOUT).build());
                Connection b = Nats.connect(Options.builder().server(url).userInfo("b", "b")
                        .connectionTimeout(Clients.CONNECT_TIMEOUT).build())) {
            var d = a.createDispatcher(m -> a.publish(m.getReplyTo(), "pong".getBytes(StandardCharsets.UTF_8)));
            d.subscribe("svc.ping");
            a.flush(Duration.ofSeconds(5));
            Message reply = a2.request("svc.ping", new byte[0], Duration.ofSeconds(5));
            assertEquals("pong", new String(reply.getData(), StandardCharsets.UTF_8));
            // B has no such service: the request fails at once with no responders
            assertTrue(b.request("svc.ping", new byte[0]).handle((m, e) -> e != null).get());
            Subscription wide = b.subscribe(">");
            b.flush(Duration.ofSeconds(5));
            a.publish("svc.other", new byte[0]);
            a.flush(Duration.ofSeconds(5));
            b.publish("b.own", new byte[0]);
            assertEquals("b.own", wide.nextMessage(Duration.ofSeconds(5)).getSubject());
        }
    }
}
