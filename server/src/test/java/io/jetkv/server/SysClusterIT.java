package io.jetkv.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jetkv.config.ConfigFileParser;
import io.jetkv.config.ServerConfig;
import io.nats.client.Connection;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.Subscription;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code $SYS.REQ.SERVER.PING} in a three-node cluster: as {@code nats server ping} sends it (one request, every
 * reply collected on an inbox), a system user connected to one node hears from all three, and a request naming
 * another node's id crosses the route to it. jnats, in-process servers.
 */
class SysClusterIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final List<NatsServer> servers = new ArrayList<>();

    @AfterEach
    void tearDown() {
        for (NatsServer s : servers) {
            s.close();
        }
    }

    private NatsServer start(String name, List<URI> routes) throws Exception {
        ServerConfig base = ConfigFileParser.loadString("""
                system_account: SYS
                accounts { SYS: { users: [ {user: sys, password: s} ] } }
                authorization { users: [ {user: app, password: a} ] }
                """, "test.conf", n -> null);
        NatsServer s = NatsServer.start(base.toBuilder().host("127.0.0.1").port(0).serverName(name)
                .cluster(ClusterIT.cluster("ops").withRoutes(routes)).build());
        servers.add(s);
        return s;
    }

    /** Sends one request and collects the replies that come within {@code wait}, by server id. */
    private static Map<String, JsonNode> ping(Connection c, String subject, Duration wait) throws Exception {
        return ping(c, subject, "", wait);
    }

    private static Map<String, JsonNode> ping(Connection c, String subject, String body, Duration wait)
            throws Exception {
        String inbox = c.createInbox();
        Subscription sub = c.subscribe(inbox);
        c.publish(subject, inbox, body.getBytes(StandardCharsets.UTF_8));
        Map<String, JsonNode> replies = new HashMap<>();
        long deadline = System.nanoTime() + wait.toNanos();
        long left;
        while ((left = deadline - System.nanoTime()) > 0) {
            Message m = sub.nextMessage(Duration.ofNanos(left));
            if (m == null) {
                break;
            }
            JsonNode j = JSON.readTree(m.getData());
            replies.put(j.path("server").path("id").asText(), j);
        }
        sub.unsubscribe();
        return replies;
    }

    @Test
    void everyNodeAnswersAPing() throws Exception {
        NatsServer a = start("A", List.of());
        URI seed = URI.create("nats-route://127.0.0.1:" + a.routePort());
        NatsServer b = start("B", List.of(seed));
        NatsServer c = start("C", List.of(seed));
        ClusterIT.awaitMesh(a, b, c);
        try (Connection sys = Nats.connect(Options.builder().server(a.clientUrl()).userInfo("sys", "s")
                .noReconnect().connectionTimeout(Duration.ofSeconds(10)).build())) {
            Set<String> ids = Set.of(a.serverId(), b.serverId(), c.serverId());
            // the other nodes' interest in the PING subjects arrives with the routes: ask until all answer
            Map<String, JsonNode> replies = Map.of();
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (System.nanoTime() < deadline && !replies.keySet().equals(ids)) {
                replies = ping(sys, "$SYS.REQ.SERVER.PING", Duration.ofSeconds(1));
            }
            assertEquals(ids, replies.keySet());
            for (JsonNode r : replies.values()) {
                assertEquals(3, r.path("statsz").path("active_servers").asInt(), r.toString());
                assertEquals("ops", r.path("server").path("cluster").asText());
            }
            assertEquals(Set.of("A", "B", "C"), Set.copyOf(replies.values().stream()
                    .map(r -> r.path("server").path("name").asText()).toList()));

            // a request naming C reaches C only, through A's route
            Message varz = sys.request("$SYS.REQ.SERVER." + c.serverId() + ".VARZ",
                    "{}".getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(10));
            assertNotNull(varz);
            assertEquals("C", JSON.readTree(varz.getData()).path("data").path("server_name").asText());
            // and a filter picks one node out of the broadcast
            Map<String, JsonNode> onlyB =
                    ping(sys, "$SYS.REQ.SERVER.PING.VARZ", "{\"server_name\":\"B\"}", Duration.ofSeconds(2));
            assertEquals(Set.of(b.serverId()), onlyB.keySet());
        }
    }
}
