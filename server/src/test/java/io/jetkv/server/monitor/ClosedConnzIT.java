package io.jetkv.server.monitor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jetkv.config.ConfigFileParser;
import io.jetkv.config.ServerConfig;
import io.jetkv.server.NatsServer;
import io.nats.client.Connection;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Options;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * {@code /connz?state=closed|all} and {@code $SYS.REQ.SERVER.PING.CONNZ} with nats-server's {@code state}: the last
 * {@code max_closed_clients} closed connections with {@code stop} and the reference's {@code reason}, through jnats
 * and raw sockets.
 */
class ClosedConnzIT {
    private static ServerConfig config(int maxClosed) throws Exception {
        return ConfigFileParser.loadString("""
                max_closed_clients: %d
                system_account: SYS
                accounts { SYS: { users: [ {user: sys, password: s} ] } }
                authorization {
                  users: [ {user: app, password: a} ]
                  # long enough for a client on a loaded machine; the silent raw socket below waits it out
                  timeout: 5
                }
                """.formatted(maxClosed), "test.conf", name -> null)
                .toBuilder().host("127.0.0.1").port(0).httpPort(-1).build();
    }

    private static Connection connect(NatsServer s, String user, String pass, String name) throws Exception {
        return Nats.connect(Options.builder().server(s.clientUrl()).userInfo(user, pass).connectionName(name)
                .noReconnect().connectionTimeout(Duration.ofSeconds(10)).build());
    }

    /** Polls {@code path} until {@code done} holds (closes are seen when the server's loop has run them). */
    private static JsonNode await(NatsServer s, String path, Predicate<JsonNode> done) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        JsonNode last;
        do {
            last = MonitorIT.getJson(s.monitorPort(), path);
            if (done.test(last)) {
                return last;
            }
            Thread.sleep(20);
        } while (System.nanoTime() < deadline);
        throw new AssertionError(path + " never got there: " + last);
    }

    private static List<String> names(JsonNode connz) {
        List<String> out = new ArrayList<>();
        connz.path("connections").forEach(c -> out.add(c.path("name").asText()));
        return out;
    }

    @Test
    void closedConnectionsAreKeptWithTheirReason() throws Exception {
        try (NatsServer server = NatsServer.start(config(3));
                Connection keep = connect(server, "app", "a", "keeper")) {
            assertEquals(0, MonitorIT.getJson(server.monitorPort(), "/connz?state=closed").path("total").asInt());
            for (int i = 1; i <= 4; i++) {
                try (Connection c = connect(server, "app", "a", "gone-" + i)) {
                    c.publish("x", new byte[10]);
                    c.flush(Duration.ofSeconds(10));
                }
            }
            // four closed, three kept: the oldest went first
            JsonNode closed = await(server, "/connz?state=closed&auth=1",
                    j -> names(j).contains("gone-4") && j.path("total").asInt() == 3);
            assertEquals(List.of("gone-2", "gone-3", "gone-4"), names(closed));
            JsonNode first = closed.path("connections").get(0);
            assertEquals("Client Closed", first.path("reason").asText());
            assertTrue(first.hasNonNull("stop"), first.toString());
            assertEquals("app", first.path("authorized_user").asText());
            assertEquals("$G", first.path("account").asText());
            assertEquals(1, first.path("in_msgs").asInt());
            assertEquals(10, first.path("in_bytes").asInt());

            JsonNode open = MonitorIT.getJson(server.monitorPort(), "/connz");
            assertEquals(List.of("keeper"), names(open));
            assertFalse(open.path("connections").get(0).has("reason"));
            JsonNode all = MonitorIT.getJson(server.monitorPort(), "/connz?state=all");
            assertEquals(4, all.path("total").asInt());
            JsonNode byStop = MonitorIT.getJson(server.monitorPort(), "/connz?state=closed&sort=stop");
            assertEquals(List.of("gone-4", "gone-3", "gone-2"), names(byStop), "latest closed first");
            assertEquals(400, MonitorIT.get(server.monitorPort(), "/connz?sort=stop").statusCode());
            assertEquals("Error decoding state for shut",
                    MonitorIT.get(server.monitorPort(), "/connz?state=shut").body());
        }
    }

    @Test
    void reasonsFollowTheReference() throws Exception {
        try (NatsServer server = NatsServer.start(config(100))) {
            // a wrong password, then a client that never sends CONNECT
            assertThrows(Exception.class, () -> connect(server, "app", "wrong", "bad"));
            try (Socket raw = new Socket("127.0.0.1", server.port())) {
                raw.setSoTimeout(20_000);
                InputStream in = raw.getInputStream();
                while (in.read() != -1) {
                    // INFO, then (after the 5 s auth timeout) -ERR 'Authentication Timeout', then EOF
                }
            }
            try (Socket raw = new Socket("127.0.0.1", server.port())) {
                raw.setSoTimeout(20_000);
                OutputStream out = raw.getOutputStream();
                out.write("CONNECT {\"user\":\"app\",\"pass\":\"a\"}\r\nFOO\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                InputStream in = raw.getInputStream();
                while (in.read() != -1) {
                    // -ERR 'Unknown Protocol Operation', then EOF
                }
            }
            JsonNode closed = await(server, "/connz?state=closed&sort=reason",
                    j -> j.path("total").asInt() == 3);
            List<String> reasons = new ArrayList<>();
            closed.path("connections").forEach(c -> reasons.add(c.path("reason").asText()));
            assertEquals(List.of("Authentication Failure", "Authentication Timeout", "Parse Error"), reasons);
        }
    }

    @Test
    void systemUsersAskForClosedConnectionsToo() throws Exception {
        try (NatsServer server = NatsServer.start(config(100));
                Connection sys = connect(server, "sys", "s", "ops")) {
            connect(server, "app", "a", "short-lived").close();
            await(server, "/connz?state=closed", j -> j.path("total").asInt() == 1);
            // nats.go's ConnzOptions carry the state as a number: 1 is closed
            Message m = sys.request("$SYS.REQ.SERVER.PING.CONNZ",
                    "{\"state\":1}".getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(10));
            assertNotNull(m);
            JsonNode data = MonitorIT.JSON.readTree(m.getData()).path("data");
            assertEquals(List.of("short-lived"), names(data));
            assertEquals("Client Closed", data.path("connections").get(0).path("reason").asText());
            Message any = sys.request("$SYS.REQ.SERVER." + server.serverId() + ".CONNZ",
                    "{\"state\":2}".getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(10));
            assertEquals(2, MonitorIT.JSON.readTree(any.getData()).path("data").path("total").asInt());
            // the state is a number in nats-server's options struct: a name is refused as Go refuses it
            Message named = sys.request("$SYS.REQ.SERVER.PING.CONNZ",
                    "{\"state\":\"all\"}".getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(10));
            JsonNode refused = MonitorIT.JSON.readTree(named.getData()).path("error");
            assertEquals(400, refused.path("code").asInt());
            assertEquals("json: cannot unmarshal string into Go struct field ConnzEventOptions.state of type "
                    + "server.ConnState", refused.path("description").asText());
            Message bad = sys.request("$SYS.REQ.SERVER.PING.CONNZ",
                    "{\"sort\":\"stop\"}".getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(10));
            // nats-server answers a bad option as a handler failure: 500, with "data":null
            JsonNode error = MonitorIT.JSON.readTree(bad.getData()).path("error");
            assertTrue(MonitorIT.JSON.readTree(bad.getData()).path("data").isNull());
            assertEquals(500, error.path("code").asInt());
            assertEquals("sort by stop only valid on closed connections", error.path("description").asText());
        }
    }
}
