package io.jetkv.server.monitor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jetkv.config.JetStreamConfig;
import io.jetkv.config.ServerConfig;
import io.jetkv.jetstream.JetStreamService;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** /healthz's states and the reference's duration formats, against a stub view. */
class EndpointsTest {
    /** A server view with the two facts /healthz looks at. */
    private static ServerView view(boolean accepting, boolean jsConfigured) {
        ServerConfig config = ServerConfig.defaults()
                .withJetStream(new JetStreamConfig(jsConfigured, Path.of("/tmp/none"), -1, -1, false));
        return new ServerView() {
            @Override public String serverId() { return "NID"; }
            @Override public String serverName() { return "NID"; }
            @Override public ServerConfig config() { return config; }
            @Override public Instant started() { return Instant.EPOCH; }
            @Override public int clientPort() { return accepting ? 4222 : 0; }
            @Override public boolean acceptingClients() { return accepting; }
            @Override public int connections() { return 0; }
            @Override public int subscriptions() { return 0; }
            @Override public int subscriptions(String account) { return 0; }
            @Override public AccountCounters accountCounters() { return new AccountCounters(); }
            @Override public ServerStats stats() { return new ServerStats(); }
            @Override public CompletableFuture<List<ConnectionInfo>> connectionSnapshots() {
                return CompletableFuture.completedFuture(List.of());
            }
            // JetStream never started in these stubs
            @Override public JetStreamService jetstream() { return null; }
            @Override public java.util.List<io.jetkv.server.monitor.RouteInfo> routes() { return java.util.List.of(); }
            @Override public java.util.List<ConnectionInfo> closedConnections() { return java.util.List.of(); }
            @Override public WriteCheck checkWrite(String u, String p, String s) { return WriteCheck.UNAUTHENTICATED; }
            @Override public io.jetkv.jetstream.MessageBus bus() { return null; }
        };
    }

    @Test
    void healthzIs503UntilClientsAreAccepted() {
        Endpoints.Health h = new Endpoints(view(false, true), "127.0.0.1").healthz();
        assertEquals(503, h.status());
        assertEquals("{\"status\":\"error\",\"error\":\"failed to be ready for connections after 1ms: server\"}",
                h.body().toString());
    }

    @Test
    void healthzIs503WhenJetStreamIsConfiguredButNotRunning() {
        Endpoints.Health h = new Endpoints(view(true, true), "127.0.0.1").healthz();
        assertEquals(503, h.status());
        assertEquals("{\"status\":\"unavailable\",\"error\":\"JetStream not enabled\"}", h.body().toString());
    }

    @Test
    void healthzIsOkWithoutJetStream() {
        Endpoints.Health h = new Endpoints(view(true, false), "127.0.0.1").healthz();
        assertEquals(200, h.status());
        assertEquals("{\"status\":\"ok\"}", h.body().toString());
    }

    @Test
    void uptimeUsesTheReferenceUnits() {
        assertEquals("0s", Endpoints.uptime(Duration.ZERO));
        assertEquals("1m25s", Endpoints.uptime(Duration.ofSeconds(85)));
        assertEquals("3d4h0m2s", Endpoints.uptime(Duration.ofDays(3).plusHours(4).plusSeconds(2)));
        assertEquals("1y0d0h0m0s", Endpoints.uptime(Duration.ofDays(365)));
        assertEquals("1h0m0s", Endpoints.uptime(Duration.ofHours(1)));
    }

    @Test
    void rttIsAGoDurationString() {
        assertEquals("0s", Connz.goDuration(0));
        assertEquals("713µs", Connz.goDuration(713_000));
        assertEquals("1.324883ms", Connz.goDuration(1_324_883));
        assertEquals("500ns", Connz.goDuration(500));
        assertEquals("2.5s", Connz.goDuration(2_500_000_000L));
    }
}
