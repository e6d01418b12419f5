package io.jetkv.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
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
import io.nats.client.api.StreamConfiguration;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CancellationException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The system account (nats.docs "System Events", "Monitoring" via {@code $SYS}): the per-account requests
 * {@code $SYS.REQ.ACCOUNT.<account>.<EP>}, the imports every account has ({@code $SYS.REQ.ACCOUNT.PING.CONNZ},
 * {@code $SYS.REQ.SERVER.PING.CONNZ}, {@code $SYS.REQ.ACCOUNT.PING.STATZ}), {@code $SYS.REQ.USER.INFO} (2.10+), and
 * the WebSocket listener as monitoring shows it. Through jnats (a WebSocket client among them) against JetKV, and,
 * where nats-server 2.9.10 answers the same request, the JSON structure of both replies compared.
 */
class SystemAccountIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    /**
     * Fields JetKV has beyond 2.9.10, by the end of their path: the 2.10/2.11 stream config fields, and the system
     * account's import of {@code $SYS.REQ.USER.INFO} from itself (2.10+, so that system users may ask who they are).
     */
    private static final Set<String> NEWER = Set.of(".config.allow_msg_ttl", ".config.compression",
            ".config.consumer_limits", ".config.metadata", "$SYS.REQ.ACCOUNT.SYS.INFO .data.imports");
    /** The same accounts on both servers; the store, the WebSocket port and the ports file directory differ. */
    private static final String CONFIG = """
            server_name: sysacct
            jetstream { store_dir: "%s" }
            http_port: -1
            ports_file_dir: "%s"
            accounts {
              A: { users: [ {user: a, password: a},
                            {user: p, password: p, permissions: {
                                publish: { allow: ["$SYS.REQ.USER.INFO", "x.>"] },
                                subscribe: { allow: ["_INBOX.>"], deny: ["_INBOX.secret.>"] } } } ]
                   jetstream: { max_mem: 1MB, max_file: 10MB }
                   exports: [ {service: "svc.>"}, {stream: "feed.>"} ] }
              B: { users: [ {user: b, password: b} ], jetstream: enabled
                   imports: [ {service: {account: A, subject: "svc.>"}, to: "a.svc.>"} ] }
              SYS: { users: [ {user: sys, password: sys} ] }
            }
            system_account: SYS
            websocket { listen: "127.0.0.1:%s", no_tls: true, compression: true, same_origin: true,
                        allowed_origins: ["http://app.example.com"], handshake_timeout: "5s",
                        advertise: "ws.example.com:443" }
            """;

    private static NatsServer jetkv;
    private static ReferenceServer reference;
    private static Path jetkvPorts;
    private static Path referencePorts;
    private static final List<Connection> open = new ArrayList<>();

    @BeforeAll
    static void start(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        jetkvPorts = Files.createDirectories(dir.resolve("jetkv-ports"));
        Path conf = dir.resolve("jetkv.conf");
        Files.writeString(conf, CONFIG.formatted(dir.resolve("jetkv-store"), jetkvPorts, "0"));
        jetkv = NatsServer.start(ConfigFileParser.load(conf).withHost("127.0.0.1").withPort(0));
        load(jetkv.clientUrl(), "ws://127.0.0.1:" + jetkv.websocketPort());
        if (ReferenceServer.available()) {
            referencePorts = Files.createDirectories(dir.resolve("ref-ports"));
            Path refConf = dir.resolve("ref.conf");
            Files.writeString(refConf, CONFIG.formatted(dir.resolve("ref-store"), referencePorts, "-1"));
            reference = ReferenceServer.start("-c", refConf.toString());
            load("nats://127.0.0.1:" + reference.port(), "ws://127.0.0.1:" + reference.websocketPort());
        }
    }

    /** A stream in A, and clients held open: one of B, one of A over WebSocket. */
    private static void load(String url, String wsUrl) throws Exception {
        try (Connection a = connect(url, "a")) {
            a.jetStreamManagement().addStream(StreamConfiguration.builder().name("S").subjects("s.>").build());
        }
        Connection b = connect(url, "b");
        b.subscribe("held.b");
        Connection ws = connect(wsUrl, "a");
        ws.subscribe("held.ws");
        ws.flush(Duration.ofSeconds(10));
        b.flush(Duration.ofSeconds(10));
        open.add(b);
        open.add(ws);
    }

    @AfterAll
    static void stop() throws Exception {
        for (Connection c : open) {
            c.close();
        }
        if (jetkv != null) {
            jetkv.close();
        }
        if (reference != null) {
            reference.close();
        }
    }

    private static Connection connect(String url, String user) throws Exception {
        return Nats.connect(Options.builder().server(url).userInfo(user, user).noReconnect()
                .connectionTimeout(Duration.ofSeconds(10)).build());
    }

    private static String url(String target) {
        if (target.equals("jetkv")) {
            return jetkv.clientUrl();
        }
        Assumptions.assumeTrue(reference != null, "nats-server is not installed");
        return "nats://127.0.0.1:" + reference.port();
    }

    private static JsonNode request(Connection c, String subject, String body) throws Exception {
        Message m = c.request(subject, body.getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(10));
        assertNotNull(m, subject + " got no reply");
        return JSON.readTree(m.getData());
    }

    @Test
    void accountRequestsAreScopedToTheAccount() throws Exception {
        try (Connection sys = connect(jetkv.clientUrl(), "sys"); Connection a = connect(jetkv.clientUrl(), "a")) {
            a.subscribe("mine");
            a.flush(Duration.ofSeconds(10));
            JsonNode connz = request(sys, "$SYS.REQ.ACCOUNT.A.CONNZ", "{\"auth\":true,\"subscriptions\":true}");
            JsonNode conns = connz.path("data").path("connections");
            assertEquals(2, connz.path("data").path("total").asInt(), connz.toString()); // a and the WebSocket one
            for (JsonNode c : conns) {
                assertEquals("A", c.path("account").asText(), c.toString());
            }
            JsonNode statz = request(sys, "$SYS.REQ.ACCOUNT.A.STATZ", "").path("data").path("account_statz");
            assertEquals(1, statz.size(), statz.toString());
            assertEquals("A", statz.get(0).path("acc").asText());
            assertEquals(2, statz.get(0).path("conns").asInt());

            JsonNode info = request(sys, "$SYS.REQ.ACCOUNT.A.INFO", "").path("data");
            assertEquals("A", info.path("account_name").asText());
            assertTrue(info.path("jetstream_enabled").asBoolean());
            assertEquals(2, info.path("client_connections").asInt());
            assertEquals("svc.>", info.path("exports").get(0).path("subject").asText());
            JsonNode jsz = request(sys, "$SYS.REQ.ACCOUNT.A.JSZ", "{\"streams\":true}").path("data");
            assertEquals("A", jsz.path("name").asText());
            assertEquals(1048576, jsz.path("reserved_memory").asLong());
            assertEquals("S", jsz.path("stream_detail").get(0).path("name").asText());
            JsonNode subsz = request(sys, "$SYS.REQ.ACCOUNT.A.SUBSZ", "").path("data");
            Set<String> subjects = new TreeSet<>();
            subsz.path("subscriptions_list").forEach(s -> {
                assertEquals("A", s.path("account").asText());
                subjects.add(s.path("subject").asText());
            });
            assertTrue(subjects.containsAll(List.of("mine", "held.ws")), subjects.toString());
            assertFalse(subjects.contains("held.b"), subjects.toString());
            JsonNode conns2 = request(sys, "$SYS.REQ.ACCOUNT.A.CONNS", "");
            assertEquals("io.nats.server.advisory.v1.account_connections", conns2.path("type").asText());
            assertEquals(2, conns2.path("conns").asInt());

            // every account with clients
            Set<String> accounts = new TreeSet<>();
            request(sys, "$SYS.REQ.ACCOUNT.PING.STATZ", "").path("data").path("account_statz")
                    .forEach(s -> accounts.add(s.path("acc").asText()));
            assertEquals(Set.of("A", "B", "SYS"), accounts);
        }
    }

    @Test
    void unknownAccountsGetTheReferenceAnswers() throws Exception {
        try (Connection sys = connect(jetkv.clientUrl(), "sys")) {
            JsonNode info = request(sys, "$SYS.REQ.ACCOUNT.NOPE.INFO", "");
            assertTrue(info.path("data").isNull(), info.toString());
            assertEquals(500, info.path("error").path("code").asInt());
            assertEquals("Account NOPE does not exist", info.path("error").path("description").asText());
            assertEquals("account \"NOPE\" not found",
                    request(sys, "$SYS.REQ.ACCOUNT.NOPE.JSZ", "").path("error").path("description").asText());
            assertEquals("account \"SYS\" not jetstream enabled",
                    request(sys, "$SYS.REQ.ACCOUNT.SYS.JSZ", "").path("error").path("description").asText());
            JsonNode connz = request(sys, "$SYS.REQ.ACCOUNT.NOPE.CONNZ", "").path("data");
            assertEquals("", connz.path("server_id").asText());
            assertTrue(connz.path("connections").isNull());
            // STATZ and CONNS of an account without clients: silence
            assertNull(sys.request("$SYS.REQ.ACCOUNT.NOPE.STATZ", new byte[0], Duration.ofMillis(500)));
            assertNull(sys.request("$SYS.REQ.ACCOUNT.NOPE.CONNS", new byte[0], Duration.ofMillis(500)));
            JsonNode unused = request(sys, "$SYS.REQ.ACCOUNT.NOPE.STATZ", "{\"include_unused\":true}");
            assertEquals(0, unused.path("data").path("account_statz").size());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"jetkv", "nats-server"})
    void otherUsersMayNotAskForAccounts(String target) throws Exception {
        try (Connection a = connect(url(target), "a")) {
            for (String subject : List.of("$SYS.REQ.ACCOUNT.A.CONNZ", "$SYS.REQ.ACCOUNT.B.INFO",
                    "$SYS.REQ.ACCOUNT.A.STATZ", "$SYS.REQ.SERVER.PING")) {
                assertThrows(CancellationException.class,
                        () -> a.request(subject, new byte[0]).get(10, TimeUnit.SECONDS), subject);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"jetkv", "nats-server"})
    void everyAccountSeesItsOwnConnectionsThroughItsImports(String target) throws Exception {
        try (Connection a = connect(url(target), "a")) {
            for (String subject : List.of("$SYS.REQ.ACCOUNT.PING.CONNZ", "$SYS.REQ.SERVER.PING.CONNZ")) {
                JsonNode data = request(a, subject, "{\"auth\":true}").path("data");
                assertEquals(2, data.path("total").asInt(), subject + ": " + data); // this one and the WebSocket one
                for (JsonNode c : data.path("connections")) {
                    assertEquals("A", c.path("account").asText(), c.toString());
                }
            }
            JsonNode statz = request(a, "$SYS.REQ.ACCOUNT.PING.STATZ", "").path("data").path("account_statz");
            assertEquals(1, statz.size(), statz.toString());
            assertEquals("A", statz.get(0).path("acc").asText());
        }
    }

    @Test
    void userInfoTellsAnyUserWhoItIs() throws Exception {
        try (Connection a = connect(jetkv.clientUrl(), "a");
                Connection p = connect(jetkv.clientUrl(), "p");
                Connection sys = connect(jetkv.clientUrl(), "sys")) {
            JsonNode ai = request(a, "$SYS.REQ.USER.INFO", "");
            assertEquals("sysacct", ai.path("server").path("name").asText());
            assertEquals("a", ai.path("data").path("user").asText());
            assertEquals("A", ai.path("data").path("account").asText());
            assertFalse(ai.path("data").has("permissions"), "an unrestricted user has none to list");
            assertFalse(ai.path("data").has("expires"));

            JsonNode pi = request(p, "$SYS.REQ.USER.INFO", "").path("data");
            assertEquals("p", pi.path("user").asText());
            assertEquals("[\"$SYS.REQ.USER.INFO\",\"x.>\"]",
                    pi.path("permissions").path("publish").path("allow").toString());
            assertEquals("[\"_INBOX.>\"]", pi.path("permissions").path("subscribe").path("allow").toString());
            assertEquals("[\"_INBOX.secret.>\"]", pi.path("permissions").path("subscribe").path("deny").toString());

            JsonNode si = request(sys, "$SYS.REQ.USER.INFO", "").path("data");
            assertEquals("sys", si.path("user").asText());
            assertEquals("SYS", si.path("account").asText());
        }
    }

    @Test
    void portsFileNamesTheWebSocketListener() throws Exception {
        JsonNode ports = portsFile(jetkvPorts);
        assertEquals("ws://127.0.0.1:" + jetkv.websocketPort(), ports.path("websocket").get(0).asText());
        if (reference != null) {
            assertEquals(names(portsFile(referencePorts)), names(ports));
        }
    }

    private static JsonNode portsFile(Path dir) throws Exception {
        try (var files = Files.list(dir)) {
            Path f = files.filter(p -> p.toString().endsWith(".ports")).findFirst().orElseThrow();
            return JSON.readTree(Files.readString(f));
        }
    }

    private static Set<String> names(JsonNode o) {
        Set<String> out = new TreeSet<>();
        o.fieldNames().forEachRemaining(out::add);
        return out;
    }

    @Test
    void webSocketShowsInVarzAndConnz() throws Exception {
        JsonNode ws = http(jetkv.monitorPort(), "/varz").path("websocket");
        assertEquals("127.0.0.1", ws.path("host").asText());
        assertEquals(jetkv.websocketPort(), ws.path("port").asInt());
        assertEquals(5_000_000_000L, ws.path("handshake_timeout").asLong());
        assertEquals("ws.example.com:443", ws.path("advertise").asText());
        assertTrue(ws.path("no_tls").asBoolean() && ws.path("same_origin").asBoolean()
                && ws.path("compression").asBoolean());
        List<String> types = new ArrayList<>();
        http(jetkv.monitorPort(), "/connz?acc=A").path("connections").forEach(c -> types.add(c.path("type").asText()));
        assertTrue(types.contains("websocket"), types.toString());
    }

    /**
     * Bodies nats-server rejects, each sent to every endpoint of both servers: the same 400 with the same Go
     * {@code encoding/json} text (a syntax error, a value of the wrong kind for the endpoint's options struct, a body
     * that is not an object); and bodies it takes (a key in other case, a null, an unknown key) taken by JetKV too.
     */
    @Test
    void badBodiesGetTheReferenceErrors() throws Exception {
        Assumptions.assumeTrue(reference != null, "nats-server is not installed");
        List<String> subjects = List.of("$SYS.REQ.SERVER.PING", "$SYS.REQ.SERVER.PING.STATSZ",
                "$SYS.REQ.SERVER.PING.VARZ", "$SYS.REQ.SERVER.PING.CONNZ", "$SYS.REQ.SERVER.PING.SUBSZ",
                "$SYS.REQ.SERVER.PING.JSZ", "$SYS.REQ.SERVER.PING.HEALTHZ", "$SYS.REQ.SERVER.PING.ACCOUNTZ",
                "$SYS.REQ.SERVER.PING.ROUTEZ", "$SYS.REQ.SERVER.PING.GATEWAYZ", "$SYS.REQ.SERVER.PING.LEAFZ",
                "$SYS.REQ.ACCOUNT.A.CONNZ", "$SYS.REQ.ACCOUNT.A.SUBSZ", "$SYS.REQ.ACCOUNT.A.JSZ",
                "$SYS.REQ.ACCOUNT.A.INFO", "$SYS.REQ.ACCOUNT.A.LEAFZ", "$SYS.REQ.ACCOUNT.A.STATZ",
                "$SYS.REQ.ACCOUNT.PING.STATZ");
        List<String> bodies = List.of("{bad", "{\"a\":}", "{\"a\" 1}", "[", "{\"a\":1,}", "{\"a\":tru}", "1 2",
                "{\"a\":\"x\\q\"}", "{\"a\":01}", "{\"a\":-}", "{\"a\":1.}", "{\"a\":1e}", "\u0001",
                "{\"a\":\"\n\"}", "nul", "{}x", "{\"a\":\"\\u12g4\"}", "{\"a\":[1 2]}", "{'a':1}", "{\"a\":-01}",
                "\"s\"", "[1]", "7", "true", "null", "{\"offset\":\"x\"}", "{\"offset\":1.5}", "{\"limit\":1e3}",
                "{\"cid\":-1}", "{\"tags\":[\"a\",1]}", "{\"tags\":\"a\"}", "{\"auth\":\"y\",\"offset\":\"x\"}",
                "{\"sort\":1}", "{\"state\":\"open\"}", "{\"OFFSET\":\"x\"}", "{\"accounts\":{}}",
                "{\"include_unused\":1}", "{\"streams\":\"yes\"}", "{\"js-enabled-only\":0}",
                "{\"server_name\":7}", "{\"subscriptions\":[]}", "{\"account\":false}", "{\"offset\":null}",
                "{\"unknown\":{\"x\":[1]}}");
        List<String> differences = new ArrayList<>();
        try (Connection theirs = connect(url("nats-server"), "sys"); Connection ours = connect(url("jetkv"), "sys")) {
            for (String subject : subjects) {
                for (String body : bodies) {
                    String expected = errorOf(theirs, subject, body);
                    String actual = errorOf(ours, subject, body);
                    if (!expected.equals(actual)) {
                        differences.add(subject + " " + body + ": nats-server " + expected + ", JetKV " + actual);
                    }
                }
            }
        }
        assertEquals(List.of(), differences);
    }

    /** A reply's error as {@code code description}, "-" for a reply without one, "silent" for none in 2 s. */
    private static String errorOf(Connection c, String subject, String body) throws Exception {
        Message m = c.request(subject, body.getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(2));
        if (m == null) {
            return "silent";
        }
        JsonNode error = JSON.readTree(m.getData()).path("error");
        return error.isMissingNode() ? "-" : error.path("code").asInt() + " " + error.path("description").asText();
    }

    /** The same requests to both servers: the replies must have the same field names and JSON types. */
    @Test
    void repliesHaveTheReferenceStructure() throws Exception {
        Assumptions.assumeTrue(reference != null, "nats-server is not installed");
        List<String[]> requests = List.of(
                new String[] {"sys", "$SYS.REQ.ACCOUNT.A.SUBSZ", ""},
                new String[] {"sys", "$SYS.REQ.ACCOUNT.A.CONNZ", "{\"auth\":true,\"subscriptions\":true}"},
                new String[] {"sys", "$SYS.REQ.ACCOUNT.A.JSZ", ""},
                new String[] {"sys", "$SYS.REQ.ACCOUNT.A.JSZ", "{\"streams\":true,\"config\":true}"},
                new String[] {"sys", "$SYS.REQ.ACCOUNT.A.INFO", ""},
                new String[] {"sys", "$SYS.REQ.ACCOUNT.B.INFO", ""},
                new String[] {"sys", "$SYS.REQ.ACCOUNT.SYS.INFO", ""},
                new String[] {"sys", "$SYS.REQ.ACCOUNT.A.LEAFZ", ""},
                new String[] {"sys", "$SYS.REQ.ACCOUNT.A.STATZ", ""},
                new String[] {"sys", "$SYS.REQ.ACCOUNT.A.CONNS", ""},
                new String[] {"sys", "$SYS.REQ.ACCOUNT.PING.STATZ", ""},
                new String[] {"sys", "$SYS.REQ.ACCOUNT.PING.CONNZ", ""},
                new String[] {"sys", "$SYS.REQ.ACCOUNT.NOPE.CONNZ", ""},
                new String[] {"sys", "$SYS.REQ.ACCOUNT.NOPE.SUBSZ", ""},
                new String[] {"sys", "$SYS.REQ.ACCOUNT.NOPE.INFO", ""},
                new String[] {"sys", "$SYS.REQ.ACCOUNT.NOPE.JSZ", ""},
                new String[] {"sys", "$SYS.REQ.ACCOUNT.NOPE.STATZ", "{\"include_unused\":true}"},
                new String[] {"sys", "$SYS.REQ.SERVER.PING.CONNZ", "{\"sort\":\"nope\"}"},
                new String[] {"sys", "$SYS.REQ.ACCOUNT.A.STATZ", "{bad"},
                new String[] {"a", "$SYS.REQ.ACCOUNT.PING.CONNZ", ""},
                new String[] {"a", "$SYS.REQ.SERVER.PING.CONNZ", "{\"auth\":true}"},
                new String[] {"a", "$SYS.REQ.ACCOUNT.PING.STATZ", ""});
        List<String> differences = new ArrayList<>();
        for (String[] r : requests) {
            JsonNode expected;
            JsonNode actual;
            try (Connection theirs = connect(url("nats-server"), r[0]); Connection ours = connect(url("jetkv"), r[0])) {
                expected = request(theirs, r[1], r[2]);
                actual = request(ours, r[1], r[2]);
            }
            compare(r[0] + " " + r[1] + " " + r[2], expected, actual, differences);
        }
        for (String path : List.of("/accountz?acc=A", "/accstatz", "/accstatz?unused=1", "/connz?acc=A&auth=1")) {
            compare(path, http(reference.monitorPort(), path), http(jetkv.monitorPort(), path), differences);
        }
        compare("/varz websocket", http(reference.monitorPort(), "/varz").path("websocket"),
                http(jetkv.monitorPort(), "/varz").path("websocket"), differences);
        assertEquals(List.of(), differences);
    }

    private static JsonNode http(int port, String path) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), path + ": " + r.body());
        return JSON.readTree(r.body());
    }

    /** Field names and JSON kinds, recursively; arrays by their first element; the values themselves may differ. */
    private static void compare(String at, JsonNode expected, JsonNode actual, List<String> out) {
        if (!kind(expected).equals(kind(actual))) {
            out.add(at + ": reference " + kind(expected) + ", ours " + kind(actual));
            return;
        }
        if (expected.isObject()) {
            Set<String> names = new TreeSet<>();
            expected.fieldNames().forEachRemaining(names::add);
            actual.fieldNames().forEachRemaining(names::add);
            for (String name : names) {
                if (!actual.has(name)) {
                    out.add(at + "." + name + ": missing in ours");
                } else if (!expected.has(name)) {
                    String path = at + "." + name;
                    if (NEWER.stream().noneMatch(path::endsWith)) {
                        out.add(path + ": not in the reference");
                    }
                } else {
                    compare(at + "." + name, expected.get(name), actual.get(name), out);
                }
            }
        } else if (expected.isArray() && !expected.isEmpty() && !actual.isEmpty()) {
            Iterator<JsonNode> e = expected.elements();
            compare(at + "[0]", e.next(), actual.get(0), out);
        }
    }

    private static String kind(JsonNode n) {
        return n.isNumber() ? "number" : n.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
    }
}
