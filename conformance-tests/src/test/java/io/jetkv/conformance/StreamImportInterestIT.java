package io.jetkv.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jetkv.config.ConfigFileParser;
import io.jetkv.server.NatsServer;
import io.jetkv.server.testing.ReferenceServer;
import io.nats.client.Connection;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.Subscription;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A stream import follows the importing account's interest, as nats-server 2.9.10's shadow subscriptions do: the
 * exporting account holds a subscription for it only while a subscription in the importing account wants its
 * subjects. Observable with jnats: a request published in the exporting account with nobody there and nobody
 * importing gets no-responders, while an importing subscriber takes it (and the requester waits); and in
 * {@code /subsz}, where the exporter's subscription comes and goes with the importing one. The same config against
 * JetKV and nats-server.
 */
class StreamImportInterestIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CONFIG = """
            accounts {
              A: { users: [ {user: a, password: a} ], exports: [ {stream: "feed.>"} ] }
              B: { users: [ {user: b, password: b} ], imports: [ {stream: {account: A, subject: "feed.>"}} ] }
            }
            """;

    @TempDir
    Path dir;
    private NatsServer jetkv;
    private ReferenceServer reference;
    private final List<Connection> connections = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (Connection c : connections) {
            c.close();
        }
        if (jetkv != null) {
            jetkv.close();
        }
        if (reference != null) {
            reference.close();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"jetkv", "nats-server"})
    void exporterSubscribedOnlyWhileTheImporterListens(String target) throws Exception {
        Path conf = dir.resolve(target + ".conf");
        Files.writeString(conf, CONFIG, StandardCharsets.UTF_8);
        String url;
        int monitor;
        if (target.equals("jetkv")) {
            jetkv = NatsServer.start(ConfigFileParser.load(conf).toBuilder().host("127.0.0.1").port(0).httpPort(-1)
                    .build());
            url = jetkv.clientUrl();
            monitor = jetkv.monitorPort();
        } else {
            org.junit.jupiter.api.Assumptions.assumeTrue(ReferenceServer.available(), "nats-server is not installed");
            reference = ReferenceServer.start("-c", conf.toString(), "-m", "-1");
            url = "nats://127.0.0.1:" + reference.port();
            monitor = reference.monitorPort();
        }
        Connection a = connect(url, "a");
        // nobody in A and nobody importing: no responders
        assertTrue(noResponders(a, "feed.x"), "a request with no importing subscriber");
        // (counted after that first request: jnats subscribes its reply inbox with it)
        int idle = subscriptions(monitor, "A");
        assertFalse(lists(monitor, "A", "feed.x"), "no import subscription in A before B's interest");

        Connection b = connect(url, "b");
        Subscription sub = b.subscribe("feed.x");
        b.flush(Duration.ofSeconds(5));
        assertEquals(idle + 1, subscriptions(monitor, "A"));
        assertTrue(lists(monitor, "A", "feed.x"));
        // B's subscriber takes A's request (it does not answer: A's request times out rather than 503)
        assertFalse(noResponders(a, "feed.x"));
        Message got = sub.nextMessage(Duration.ofSeconds(5));
        assertNotNull(got, "B receives A's message");
        assertEquals("feed.x", got.getSubject());

        sub.unsubscribe();
        b.flush(Duration.ofSeconds(5));
        assertEquals(idle, subscriptions(monitor, "A"));
        assertTrue(noResponders(a, "feed.x"), "B's interest gone");
    }

    private Connection connect(String url, String user) throws Exception {
        Connection c = Nats.connect(Options.builder().server(url).userInfo(user, user).noReconnect()
                .connectionTimeout(Clients.CONNECT_TIMEOUT).build());
        connections.add(c);
        return c;
    }

    /** Whether a request on {@code subject} gets no-responders (true) or times out (false). */
    private static boolean noResponders(Connection c, String subject) throws Exception {
        CompletableFuture<Message> reply = c.request(subject, new byte[0]);
        try {
            reply.get(1, TimeUnit.SECONDS);
            throw new AssertionError("an answer to " + subject);
        } catch (java.util.concurrent.TimeoutException e) {
            reply.cancel(true);
            return false;
        } catch (java.util.concurrent.CancellationException | ExecutionException e) {
            return true; // jnats cancels the request on a 503 status
        }
    }

    private static JsonNode subsz(int port, String account) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + port + "/subsz?subs=1&acc=" + account))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }

    private static int subscriptions(int port, String account) throws Exception {
        return subsz(port, account).path("num_subscriptions").asInt();
    }

    /** Whether {@code account}'s listed subscriptions have one whose subject matches the literal {@code subject}. */
    private static boolean lists(int port, String account, String subject) throws Exception {
        for (JsonNode s : subsz(port, account).path("subscriptions_list")) {
            if (io.jetkv.protocol.Subject.matches(s.path("subject").asText(), subject)) {
                return true;
            }
        }
        return false;
    }
}
