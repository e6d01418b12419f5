package io.jetkv.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
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
import io.nats.client.api.MessageInfo;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.impl.Headers;
import io.nats.client.impl.NatsMessage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code Nats-Request-Info} on requests that cross a service import, as nats-server 2.9.10 adds it for config-file
 * imports: {@code {"acc":"<requester's account>","rtt":<ns>}} in the exporter, {@code "svc"} naming the account of a
 * further import, a requester's own header of that name replaced, none on the response, and none stored by a stream
 * that captures the request. jnats against JetKV and nats-server with the same config.
 */
class RequestInfoIT {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CONFIG = """
            jetstream { store_dir: "%s" }
            accounts {
              C: { users: [ {user: c, password: c} ], exports: [ {service: "svc.>"} ] }
              A: { users: [ {user: a, password: a} ], jetstream: enabled
                   exports: [ {service: "svc.>"}, {service: "orders.>"} ]
                   imports: [ {service: {account: C, subject: "svc.>"}} ] }
              B: { users: [ {user: b, password: b} ]
                   imports: [ {service: {account: A, subject: "svc.>"}, to: "a.svc.>"},
                              {service: {account: A, subject: "orders.>"}} ] }
              D: { users: [ {user: d, password: d} ]
                   imports: [ {service: {account: A, subject: "svc.>"}, to: "d.svc.>", share: true} ] }
            }
            """;

    @TempDir
    Path dir;
    private final List<AutoCloseable> started = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : started) {
            c.close();
        }
    }

    private String start(String target) throws Exception {
        Path conf = dir.resolve(target + ".conf");
        Files.writeString(conf, CONFIG.formatted(dir.resolve(target + "-store")), StandardCharsets.UTF_8);
        if (target.equals("jetkv")) {
            NatsServer s = NatsServer.start(ConfigFileParser.load(conf).toBuilder().host("127.0.0.1").port(0).build());
            started.add(s);
            return s.clientUrl();
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(ReferenceServer.available(), "nats-server is not installed");
        ReferenceServer r = ReferenceServer.start("-c", conf.toString());
        started.add(r);
        return "nats://127.0.0.1:" + r.port();
    }

    private Connection connect(String url, String user) throws Exception {
        Connection c = Nats.connect(Options.builder().server(url).userInfo(user, user).noReconnect()
                .connectionTimeout(Clients.CONNECT_TIMEOUT).build());
        started.add(0, c);
        return c;
    }

    private static List<String> fieldNames(JsonNode n) {
        List<String> names = new ArrayList<>();
        n.fieldNames().forEachRemaining(names::add);
        return names;
    }

    @ParameterizedTest
    @ValueSource(strings = {"jetkv", "nats-server"})
    void requestInfoNamesTheRequesterAcrossEachImport(String target) throws Exception {
        String url = start(target);
        Connection a = connect(url, "a");
        Connection b = connect(url, "b");
        Connection c = connect(url, "c");
        Subscription inA = a.subscribe("svc.>");
        Subscription inC = c.subscribe("svc.>");
        a.flush(WAIT);
        c.flush(WAIT);

        Headers sent = new Headers().add("X-A", "1").add("Nats-Request-Info", "{\"acc\":\"EVIL\"}");
        CompletableFuture<Message> response = b.request(NatsMessage.builder().subject("a.svc.echo")
                .headers(sent).data("hi").build());
        Message atA = inA.nextMessage(WAIT);
        assertNotNull(atA, target);
        assertEquals("svc.echo", atA.getSubject());
        assertEquals("1", atA.getHeaders().getFirst("X-A"), target);
        // the requester's own header of that name is replaced, not kept beside the server's
        assertEquals(1, atA.getHeaders().get("Nats-Request-Info").size(), target);
        JsonNode info = JSON.readTree(atA.getHeaders().getFirst("Nats-Request-Info"));
        assertEquals(List.of("acc", "rtt"), fieldNames(info), target + ": " + info);
        assertEquals("B", info.get("acc").asText());
        assertTrue(info.get("rtt").asLong() > 0, target + ": " + info);

        // A imports svc.> from C: there the header still names B, and A as the service that passed it on
        Message atC = inC.nextMessage(WAIT);
        assertNotNull(atC, target);
        JsonNode chained = JSON.readTree(atC.getHeaders().getFirst("Nats-Request-Info"));
        assertEquals(List.of("acc", "svc", "rtt"), fieldNames(chained), target + ": " + chained);
        assertEquals("B", chained.get("acc").asText());
        assertEquals("A", chained.get("svc").asText());
        assertEquals(info.get("rtt").asLong(), chained.get("rtt").asLong(), target);

        // the response crosses back without one
        a.publish(atA.getReplyTo(), new Headers().add("X-R", "r"), "pong".getBytes(StandardCharsets.UTF_8));
        Message back = response.get(WAIT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
        assertEquals("pong", new String(back.getData(), StandardCharsets.UTF_8));
        assertNull(back.getHeaders().getFirst("Nats-Request-Info"), target);

        // a request of A's own reaches its own subscribers as sent and C with A as the requester
        a.publish("svc.own", "replies", "x".getBytes(StandardCharsets.UTF_8));
        Message own = inA.nextMessage(WAIT);
        assertNotNull(own, target);
        assertTrue(own.getHeaders() == null || own.getHeaders().getFirst("Nats-Request-Info") == null, target);
        Message ownAtC = inC.nextMessage(WAIT);
        assertNotNull(ownAtC, target);
        assertEquals("A", JSON.readTree(ownAtC.getHeaders().getFirst("Nats-Request-Info")).get("acc").asText());
    }

    @ParameterizedTest
    @ValueSource(strings = {"jetkv", "nats-server"})
    void aStreamDoesNotStoreIt(String target) throws Exception {
        String url = start(target);
        Connection a = connect(url, "a");
        Connection b = connect(url, "b");
        a.jetStreamManagement().addStream(StreamConfiguration.builder().name("ORDERS").subjects("orders.>")
                .storageType(StorageType.Memory).build());
        // through the import, with a header of the requester's and without any
        Message ack = b.request(NatsMessage.builder().subject("orders.1").headers(new Headers().add("X-Keep", "1"))
                .data("one").build(), WAIT);
        assertNotNull(ack, target);
        assertNotNull(b.request("orders.2", "two".getBytes(StandardCharsets.UTF_8), WAIT), target);
        // and a client of A that writes the header itself
        assertNotNull(a.request(NatsMessage.builder().subject("orders.3")
                .headers(new Headers().add("Nats-Request-Info", "{\"acc\":\"X\"}")).data("three").build(), WAIT));
        var jsm = a.jetStreamManagement();
        MessageInfo one = jsm.getMessage("ORDERS", 1);
        assertEquals("1", one.getHeaders().getFirst("X-Keep"), target);
        assertNull(one.getHeaders().getFirst("Nats-Request-Info"), target);
        for (long seq : new long[] {2, 3}) {
            MessageInfo m = jsm.getMessage("ORDERS", seq);
            assertTrue(m.getHeaders() == null || m.getHeaders().isEmpty(), target + " seq " + seq + ": "
                    + m.getHeaders());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"jetkv", "nats-server"})
    void aSharedImportTellsTheRequesterInDetail(String target) throws Exception {
        String url = start(target);
        Connection a = connect(url, "a");
        Connection d = Nats.connect(Options.builder().server(url).userInfo("d", "d").connectionName("shop")
                .noReconnect().connectionTimeout(Clients.CONNECT_TIMEOUT).build());
        started.add(0, d);
        Subscription inA = a.subscribe("svc.>");
        a.flush(WAIT);
        d.publish("d.svc.detail", "replies", "x".getBytes(StandardCharsets.UTF_8));
        Message m = inA.nextMessage(WAIT);
        assertNotNull(m, target);
        JsonNode info = JSON.readTree(m.getHeaders().getFirst("Nats-Request-Info"));
        assertEquals(List.of("start", "host", "id", "acc", "user", "name", "lang", "ver", "rtt", "server", "kind",
                "client_type"), fieldNames(info), target + ": " + info);
        assertEquals("D", info.get("acc").asText());
        assertEquals("d", info.get("user").asText());
        assertEquals("shop", info.get("name").asText());
        assertEquals("java", info.get("lang").asText());
        assertEquals("127.0.0.1", info.get("host").asText());
        assertEquals(d.getServerInfo().getClientId(), info.get("id").asLong(), target);
        assertEquals(d.getServerInfo().getServerName(), info.get("server").asText(), target);
        assertEquals("Client", info.get("kind").asText());
        assertEquals("nats", info.get("client_type").asText());
        assertTrue(java.time.Instant.parse(info.get("start").asText()).isBefore(java.time.Instant.now()), target);
    }
}
