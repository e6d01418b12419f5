package io.jetkv.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jetkv.config.AuthConfig;
import io.jetkv.config.Permissions;
import io.jetkv.config.ServerConfig;
import io.jetkv.config.SubjectPermission;
import io.jetkv.config.User;
import io.nats.client.Connection;
import io.nats.client.ErrorListener;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.Subscription;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * A config reload through the embedding API, seen by jnats clients that stay connected: narrower permissions
 * remove a subscription with nats-server's error, a smaller max_payload applies to an open connection, a lower
 * max_connections closes the newest connection, and a setting that needs a restart is refused whole.
 */
class ConfigReloadIT {

    private static ServerConfig withUser(ServerConfig base, Permissions permissions) {
        return base.withAuth(new AuthConfig(null, List.of(new User("dave", "pw", permissions)), Permissions.ALL,
                AuthConfig.DEFAULT_TIMEOUT));
    }

    private static Connection connect(NatsServer s, List<String> errors) throws Exception {
        return Nats.connect(Options.builder().server(s.clientUrl()).userInfo("dave", "pw").noReconnect()
                .connectionTimeout(Duration.ofSeconds(10))
                .errorListener(new ErrorListener() {
                    @Override
                    public void errorOccurred(Connection conn, String error) {
                        errors.add(error);
                    }
                }).build());
    }

    @Test
    void reloadAppliesToOpenConnections() throws Exception {
        ServerConfig base = withUser(ServerConfig.defaults().withHost("127.0.0.1").withPort(0), null);
        try (NatsServer server = NatsServer.start(base)) {
            List<String> errors = new CopyOnWriteArrayList<>();
            try (Connection dave = connect(server, errors)) {
                Subscription secret = dave.subscribe("secret.x");
                Subscription open = dave.subscribe("ok.x");
                dave.flush(Duration.ofSeconds(5));

                Permissions narrow = new Permissions(SubjectPermission.ALL,
                        new SubjectPermission(List.of("ok.>", "_INBOX.>"), List.of()));
                server.reload(withUser(base, narrow));
                ClusterIT.await(() -> errors.stream().anyMatch(e -> e.contains(
                        "Permissions Violation for Subscription to \"secret.x\"")), "the removal's -ERR");

                dave.publish("secret.x", new byte[] {1});
                dave.publish("ok.x", new byte[] {2});
                dave.flush(Duration.ofSeconds(5));
                assertNotNull(open.nextMessage(Duration.ofSeconds(5)));
                assertNull(secret.nextMessage(Duration.ofMillis(300)), "the refused subscription is gone");

                // max_payload shrinks under an open connection: its next big PUB is refused by the server
                server.reload(withUser(base, narrow).withMaxPayload(1024));
                try (Connection fresh = connect(server, new CopyOnWriteArrayList<>())) {
                    assertEquals(1024, fresh.getServerInfo().getMaxPayload());
                }
                dave.publish("ok.x", new byte[2048]);
                ClusterIT.await(() -> errors.stream().anyMatch(e -> e.contains("Maximum Payload Violation")),
                        "max payload enforced on the open connection");
            }
        }
    }

    @Test
    void lowerMaxConnectionsClosesTheNewest() throws Exception {
        ServerConfig base = withUser(ServerConfig.defaults().withHost("127.0.0.1").withPort(0), null);
        try (NatsServer server = NatsServer.start(base)) {
            List<String> olderErrors = new CopyOnWriteArrayList<>();
            List<String> newerErrors = new CopyOnWriteArrayList<>();
            try (Connection older = connect(server, olderErrors); Connection newer = connect(server, newerErrors)) {
                ServerConfig one = base.toBuilder().maxConnections(1).build();
                server.reload(one);
                ClusterIT.await(() -> newer.getStatus() == Connection.Status.CLOSED, "newest closed");
                // jnats may report the -ERR after it closed the connection
                ClusterIT.await(() -> newerErrors.stream().anyMatch(e -> e.contains("maximum connections exceeded")),
                        "the -ERR");
                older.flush(Duration.ofSeconds(5));
                assertEquals(Connection.Status.CONNECTED, older.getStatus());
            }
        }
    }

    @Test
    void aSettingThatNeedsARestartIsRefusedWhole() throws Exception {
        ServerConfig base = ServerConfig.defaults().withHost("127.0.0.1").withPort(0);
        try (NatsServer server = NatsServer.start(base)) {
            ConfigReload.NotReloadable e = assertThrows(ConfigReload.NotReloadable.class,
                    () -> server.reload(base.withPort(4999).withMaxPayload(2048)));
            assertEquals("config reload not supported for Port: old=0, new=4999", e.getMessage());
            try (Connection c = Nats.connect(Options.builder().server(server.clientUrl())
                    .connectionTimeout(Duration.ofSeconds(10)).build())) {
                assertEquals(1024 * 1024, c.getServerInfo().getMaxPayload(), "the old config stays");
                c.publish("x", "y".getBytes(StandardCharsets.UTF_8));
                c.flush(Duration.ofSeconds(5));
            }
        }
    }

    /** An account's users reload; its JetStream, exports and imports are fixed at start. */
    @Test
    void accountWiringNeedsARestart() throws Exception {
        io.jetkv.config.AccountConfig plain = new io.jetkv.config.AccountConfig("A",
                java.util.List.of(new io.jetkv.config.User("a", "a", null)), java.util.List.of());
        ServerConfig base = ServerConfig.defaults().withHost("127.0.0.1").withPort(0)
                .withAuth(io.jetkv.config.AuthConfig.NONE.withAccounts(java.util.List.of(plain), null));
        try (NatsServer server = NatsServer.start(base)) {
            io.jetkv.config.AccountConfig more = new io.jetkv.config.AccountConfig("B",
                    java.util.List.of(new io.jetkv.config.User("b", "b", null)), java.util.List.of());
            // another account with users only, and new users: reloaded
            server.reload(base.withAuth(io.jetkv.config.AuthConfig.NONE.withAccounts(java.util.List.of(plain, more),
                    null)));
            io.jetkv.config.AccountConfig withJs = new io.jetkv.config.AccountConfig("A", plain.users(),
                    java.util.List.of(), io.jetkv.config.AccountConfig.JetStreamLimits.UNLIMITED, java.util.List.of(),
                    java.util.List.of());
            ConfigReload.NotReloadable e = assertThrows(ConfigReload.NotReloadable.class, () -> server.reload(
                    base.withAuth(io.jetkv.config.AuthConfig.NONE.withAccounts(java.util.List.of(withJs), null))));
            assertTrue(e.getMessage().startsWith("config reload not supported for Accounts: "), e.getMessage());
        }
    }
}
