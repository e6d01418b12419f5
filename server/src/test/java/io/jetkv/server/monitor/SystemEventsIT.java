package io.jetkv.server.monitor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jetkv.config.ConfigFileParser;
import io.jetkv.config.ServerConfig;
import io.jetkv.server.NatsServer;
import io.nats.client.Connection;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.Subscription;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The system account's events through jnats, in nats-server's shapes: {@code $SYS.ACCOUNT.<acc>.CONNECT} and
 * {@code .DISCONNECT} for an account's client (none for the global account's), and the periodic
 * {@code $SYS.SERVER.<id>.STATSZ}.
 */
class SystemEventsIT {
    private static Connection connect(NatsServer s, String user, String pass, String name) throws Exception {
        return Nats.connect(Options.builder().server(s.clientUrl()).userInfo(user, pass).connectionName(name)
                .noReconnect().connectionTimeout(Duration.ofSeconds(10)).build());
    }

    private static JsonNode next(Subscription sub) throws Exception {
        Message m = sub.nextMessage(Duration.ofSeconds(20));
        assertNotNull(m, "no event on " + sub.getSubject());
        return MonitorIT.JSON.readTree(m.getData());
    }

    /** The next event that is not about the system account's own clients (the watcher). */
    private static Message skipOwn(Subscription sub) throws InterruptedException {
        Message m = sub.nextMessage(Duration.ofSeconds(20));
        while (m != null && m.getSubject().startsWith("$SYS.ACCOUNT.SYS.")) {
            m = sub.nextMessage(Duration.ofSeconds(20));
        }
        return m;
    }

    @Test
    void connectDisconnectAndStatsz() throws Exception {
        ServerConfig config = ConfigFileParser.loadString("""
                system_account: SYS
                authorization { users: [ {user: app, password: a} ] }
                accounts { SYS: { users: [ {user: sys, password: s} ] }, B: { users: [ {user: b, password: b} ] } }
                """, "test.conf", n -> null).toBuilder().host("127.0.0.1").port(0).serverName("ev-1").build();
        try (NatsServer server = NatsServer.start(config);
                Connection sys = connect(server, "sys", "s", "watcher")) {
            Subscription accounts = sys.subscribe("$SYS.ACCOUNT.>");
            Subscription statsz = sys.subscribe("$SYS.SERVER.*.STATSZ");
            sys.flush(Duration.ofSeconds(10));

            connect(server, "app", "a", "global-client").close(); // $G: no event, as the reference
            try (Connection b = connect(server, "b", "b", "billing")) {
                b.publish("orders", new byte[5]);
                b.publish("orders", new byte[7]);
                b.flush(Duration.ofSeconds(10));
            }

            // the watcher's own account is SYS: its CONNECT may land after its subscription, before B's
            Message first = skipOwn(accounts);
            assertNotNull(first);
            assertEquals("$SYS.ACCOUNT.B.CONNECT", first.getSubject());
            JsonNode connect = MonitorIT.JSON.readTree(first.getData());
            assertEquals("io.nats.server.advisory.v1.client_connect", connect.path("type").asText());
            assertEquals(22, connect.path("id").asText().length());
            assertTrue(connect.hasNonNull("timestamp"));
            assertEquals(server.serverId(), connect.path("server").path("id").asText());
            assertEquals("ev-1", connect.path("server").path("name").asText());
            assertTrue(connect.path("server").path("seq").asLong() > 0);
            JsonNode client = connect.path("client");
            assertEquals("B", client.path("acc").asText());
            assertEquals("b", client.path("user").asText());
            assertEquals("billing", client.path("name").asText());
            assertEquals("java", client.path("lang").asText());
            assertEquals("127.0.0.1", client.path("host").asText());
            assertTrue(client.path("id").asLong() > 0);
            assertEquals("Client", client.path("kind").asText());

            Message second = skipOwn(accounts);
            assertNotNull(second);
            assertEquals("$SYS.ACCOUNT.B.DISCONNECT", second.getSubject());
            JsonNode disconnect = MonitorIT.JSON.readTree(second.getData());
            assertEquals("io.nats.server.advisory.v1.client_disconnect", disconnect.path("type").asText());
            assertEquals(client.path("id").asLong(), disconnect.path("client").path("id").asLong());
            assertTrue(disconnect.path("client").hasNonNull("stop"));
            assertEquals("Client Closed", disconnect.path("reason").asText());
            assertEquals(2, disconnect.path("sent").path("msgs").asInt());
            assertEquals(12, disconnect.path("sent").path("bytes").asInt());
            assertEquals(0, disconnect.path("received").path("msgs").asInt());

            JsonNode stats = next(statsz);
            assertEquals(server.serverId(), stats.path("server").path("id").asText());
            assertTrue(stats.path("statsz").path("connections").asInt() >= 1, stats.toString());
            assertTrue(stats.path("statsz").has("mem"));
            // the heartbeat goes on: a second one follows
            assertTrue(next(statsz).path("server").path("seq").asLong() > stats.path("server").path("seq").asLong());
        }
    }
}
