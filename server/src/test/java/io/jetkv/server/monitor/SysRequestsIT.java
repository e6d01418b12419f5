package io.jetkv.server.monitor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jetkv.config.AuthConfig;
import io.jetkv.config.JetStreamConfig;
import io.jetkv.config.Permissions;
import io.jetkv.config.ServerConfig;
import io.jetkv.config.User;
import io.jetkv.server.NatsServer;
import io.nats.client.Connection;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Options;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code $SYS.REQ.SERVER} requests from a user of the system account, through jnats, with the reply shapes of
 * nats-server 2.9.10 that {@code nats server ping/info/check} read; other users get no-responders, and a
 * request filtered to another server gets no reply.
 */
class SysRequestsIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static Connection connect(NatsServer s, String user, String pass) throws Exception {
        return Nats.connect(Options.builder().server(s.clientUrl()).userInfo(user, pass).noReconnect()
                .connectionTimeout(Duration.ofSeconds(10)).build());
    }

    private static JsonNode request(Connection c, String subject, String body) throws Exception {
        Message m = c.request(subject, body.getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(10));
        assertNotNull(m, subject);
        return JSON.readTree(m.getData());
    }

    @Test
    void systemUserGetsServerAnswers(@TempDir Path dir) throws Exception {
        ServerConfig config = MonitorIT.monitored().withServerName("ops-1")
                .withJetStream(new JetStreamConfig(true, dir, -1, -1, false))
                .withAuth(new AuthConfig(null, List.of(new User("app", "a", null)), Permissions.ALL,
                        AuthConfig.DEFAULT_TIMEOUT).withAccounts(List.of(new io.jetkv.config.AccountConfig("$SYS",
                                List.of(new User("sys", "s", null)), List.of())), null));
        try (NatsServer server = NatsServer.start(config);
                Connection sys = connect(server, "sys", "s");
                Connection app = connect(server, "app", "a")) {
            JsonNode ping = request(sys, "$SYS.REQ.SERVER.PING", "");
            assertEquals(server.serverId(), ping.path("server").path("id").asText());
            assertEquals("ops-1", ping.path("server").path("name").asText());
            assertTrue(ping.path("server").path("jetstream").asBoolean());
            assertTrue(ping.path("server").path("seq").asLong() > 0);
            assertEquals(2, ping.path("statsz").path("connections").asInt());
            assertEquals(1, ping.path("statsz").path("active_servers").asInt());
            assertTrue(ping.path("statsz").has("mem") && ping.path("statsz").has("start"));
            assertFalse(ping.has("data"), "the plain PING carries statsz, not data");

            JsonNode varz = request(sys, "$SYS.REQ.SERVER.PING.VARZ", "");
            assertEquals(server.serverId(), varz.path("data").path("server_id").asText());
            JsonNode health = request(sys, "$SYS.REQ.SERVER." + server.serverId() + ".HEALTHZ", "");
            assertEquals("ok", health.path("data").path("status").asText());
            JsonNode jsz = request(sys, "$SYS.REQ.SERVER." + server.serverId() + ".JSZ", "{\"streams\":true}");
            assertEquals(0, jsz.path("data").path("streams").asInt());
            JsonNode connz = request(sys, "$SYS.REQ.SERVER.PING.CONNZ", "{\"subscriptions\":true}");
            assertEquals(2, connz.path("data").path("num_connections").asInt());
            assertTrue(request(sys, "$SYS.REQ.SERVER.PING", "").path("server").path("seq").asLong()
                    > ping.path("server").path("seq").asLong(), "seq grows with each reply");

            JsonNode bad = request(sys, "$SYS.REQ.SERVER.PING.VARZ", "{bad");
            assertEquals(400, bad.path("error").path("code").asInt());
            assertFalse(bad.has("data"));

            // a filter naming another server: this one stays silent (a timeout is the only way to see silence)
            Message other = sys.request("$SYS.REQ.SERVER.PING.VARZ",
                    "{\"server_name\":\"other\"}".getBytes(StandardCharsets.UTF_8), Duration.ofMillis(500));
            assertNull(other);

            // a user outside the system account: no responders (jnats cancels the request), not a timeout
            org.junit.jupiter.api.Assertions.assertThrows(java.util.concurrent.CancellationException.class,
                    () -> app.request("$SYS.REQ.SERVER.PING", new byte[0]).get(10, TimeUnit.SECONDS));
        }
    }
}
