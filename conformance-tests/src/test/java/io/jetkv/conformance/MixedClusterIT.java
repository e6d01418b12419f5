package io.jetkv.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jetkv.config.ClusterConfig;
import io.jetkv.config.ServerConfig;
import io.jetkv.server.NatsServer;
import io.jetkv.conformance.faults.LoggedProcess;
import io.jetkv.server.testing.ClusterProbes;
import io.jetkv.server.testing.ReferenceServer;
import io.nats.client.Connection;
import io.nats.client.Dispatcher;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.Subscription;
import io.nats.client.impl.Headers;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * One core-NATS cluster of JetKV and nats-server 2.9.10 nodes: {@code ./jetkv} as a process (JA), an embedded
 * JetKV (JB) and two nats-server processes (N1, N2), wired so that each learns some peers only by gossip:
 * N1 and JB dial JA, N2 dials JB. Clients on every node reach clients on every other node, which only holds if
 * both kinds speak the same route protocol (messages cross at most one hop).
 */
class MixedClusterIT {
    private static final Path LAUNCHER = Path.of("..", "jetkv").toAbsolutePath().normalize();

    private final List<LoggedProcess> processes = new ArrayList<>();
    private final List<NatsServer> embedded = new ArrayList<>();
    private final List<Connection> connections = new ArrayList<>();

    /** A started process and the two ports it logged. */
    private record Node(String name, int clientPort, int routePort) {}

    @AfterEach
    void tearDown() throws Exception {
        for (Connection c : connections) {
            c.close();
        }
        for (NatsServer s : embedded) {
            s.close();
        }
        for (LoggedProcess p : processes) {
            p.terminate();
        }
    }

    private Node startProcess(String name, List<String> cmd) throws Exception {
        LoggedProcess p = LoggedProcess.start(name, cmd);
        processes.add(p);
        return new Node(name, p.clientPort(), p.routePort());
    }

    private Node natsServer(String name, int seedRoutePort) throws Exception {
        return startProcess(name, List.of(ReferenceServer.binary().toString(), "-a", "127.0.0.1", "-p", "-1",
                "-n", name, "-D", "--cluster", "nats://127.0.0.1:-1", "--cluster_name", "MIX", "--routes",
                "nats://127.0.0.1:" + seedRoutePort));
    }

    private Connection connect(int port) throws Exception {
        Connection c = Nats.connect(Options.builder().server("nats://127.0.0.1:" + port).noReconnect().build());
        connections.add(c);
        return c;
    }

    @Test
    void jetkvAndNatsServerNodesFormOneCluster() throws Exception {
        assumeTrue(ReferenceServer.available(), "nats-server not installed");
        Node ja = startProcess("JA", List.of(LAUNCHER.toString(), "-a", "127.0.0.1", "-p", "-1", "-n", "JA", "-D",
                "--cluster", "nats://127.0.0.1:-1", "--cluster_name", "MIX"));
        Node n1 = natsServer("N1", ja.routePort());
        NatsServer jb = NatsServer.start(ServerConfig.defaults().withHost("127.0.0.1").withPort(0).withServerName("JB")
                .withCluster(ClusterConfig.DISABLED.withListen("127.0.0.1", 0).withName("MIX")
                        .withRoutes(List.of(URI.create("nats-route://127.0.0.1:" + ja.routePort())))));
        embedded.add(jb);
        Node n2 = natsServer("N2", jb.routePort());
        await(() -> jb.routeCount() == 3, "JB routed to JA, N1 and N2 (two of them by gossip)");

        int[] ports = {ja.clientPort(), jb.port(), n1.clientPort(), n2.clientPort()};
        String[] names = {"JA", "JB", "N1", "N2"};
        Connection[] nc = new Connection[ports.length];
        for (int i = 0; i < ports.length; i++) {
            nc[i] = connect(ports[i]);
        }
        // every node's clients see the whole cluster in INFO, JetKV's as nats-server's
        try {
            await(() -> nc[0].getServers().size() >= 4 && nc[1].getServers().size() >= 4
                    && nc[2].getServers().size() >= 4, "connect_urls with all four nodes");
        } catch (AssertionError e) {
            StringBuilder sb = new StringBuilder(e.getMessage());
            for (int i = 0; i < nc.length; i++) {
                sb.append("\n").append(names[i]).append(" port ").append(ports[i]).append(" knows ")
                        .append(nc[i].getServers());
            }
            sb.append("\nJB routes: ").append(jb.routeCount());
            for (LoggedProcess p : processes) {
                sb.append("\n--- ").append(p.name()).append(":\n").append(p.recentLog());
            }
            throw new AssertionError(sb.toString(), e);
        }
        assertEquals("MIX", nc[0].getServerInfo().getCluster());

        for (int p = 0; p < ports.length; p++) {
            for (int s = 0; s < ports.length; s++) {
                String tag = names[p] + "-" + names[s];
                Connection pub = nc[p];
                Connection sub = nc[s];
                Subscription plain = sub.subscribe("plain." + tag);
                Subscription wild = sub.subscribe("wild." + tag + ".>");
                Subscription queue = sub.subscribe("queue." + tag, "grp");
                Dispatcher responder = sub.createDispatcher(m -> sub.publish(m.getReplyTo(), m.getHeaders(),
                        ("re:" + new String(m.getData(), StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8)));
                responder.subscribe("svc." + tag);
                awaitInterest(sub, pub);

                pub.publish("plain." + tag, bytes("p"));
                assertNotNull(plain.nextMessage(Duration.ofSeconds(5)), "plain " + tag);
                pub.publish("wild." + tag + ".a.b", new Headers().add("K", "v"), bytes("w"));
                Message w = wild.nextMessage(Duration.ofSeconds(5));
                assertNotNull(w, "wildcard with headers " + tag);
                assertEquals("v", w.getHeaders().getFirst("K"), tag);
                pub.publish("queue." + tag, bytes("q"));
                assertNotNull(queue.nextMessage(Duration.ofSeconds(5)), "queue " + tag);
                Message r = pub.request("svc." + tag, bytes(tag), Duration.ofSeconds(5));
                assertNotNull(r, "request/reply " + tag);
                assertEquals("re:" + tag, new String(r.getData(), StandardCharsets.UTF_8));
                assertTrue(noResponders(pub, "nobody." + tag), "no responders " + tag);
                assertNull(plain.nextMessage(Duration.ofMillis(20)), "one copy only " + tag);

                sub.closeDispatcher(responder);
                plain.unsubscribe();
                wild.unsubscribe();
                queue.unsubscribe();
            }
        }

        // a queue group spread over a JetKV node and a nats-server node, fed from the two others: each once
        Map<String, AtomicInteger> seen = new ConcurrentHashMap<>();
        for (int node : new int[] {0, 0, 2}) {
            Dispatcher d = nc[node].createDispatcher(m ->
                    seen.computeIfAbsent(new String(m.getData(), StandardCharsets.UTF_8), k -> new AtomicInteger())
                            .incrementAndGet());
            d.subscribe("work", "workers");
        }
        for (int from : new int[] {1, 3}) {
            awaitInterest(nc[0], nc[from]);
            awaitInterest(nc[2], nc[from]);
        }
        int n = 100;
        for (int i = 0; i < n; i++) {
            nc[1].publish("work", bytes("jb" + i));
            nc[3].publish("work", bytes("n2" + i));
        }
        await(() -> seen.size() == 2 * n, "all queue messages delivered");
        for (Map.Entry<String, AtomicInteger> e : seen.entrySet()) {
            assertEquals(1, e.getValue().get(), "delivered once: " + e.getKey());
        }

        // a client of the ./jetkv process fails over when that process is killed, and keeps its subscription
        List<String> events = new CopyOnWriteArrayList<>();
        Connection moving = Nats.connect(Options.builder().server("nats://127.0.0.1:" + ja.clientPort())
                .reconnectWait(Duration.ofMillis(100)).connectionListener((conn, type) -> events.add(type.toString()))
                .build());
        connections.add(moving);
        await(() -> moving.getServers().size() >= 4, "the moving client knows all four nodes");
        Subscription followed = moving.subscribe("followed");
        awaitInterest(moving, nc[3]);
        // a responder that stays on JA (its connection does not reconnect)
        Dispatcher onlyOnJa = nc[0].createDispatcher(m -> nc[0].publish(m.getReplyTo(), bytes("ja")));
        onlyOnJa.subscribe("ja.svc");
        awaitInterest(nc[0], nc[2]);
        processes.get(0).kill(); // SIGKILL: no goodbye on any route
        // the survivors drop what JA's route had announced: a nats-server node answers 503 at once
        await(() -> noResponders(nc[2], "ja.svc"), "N1 dropped JA's interest");
        await(() -> moving.getStatus() == Connection.Status.CONNECTED
                && !moving.getConnectedUrl().endsWith(":" + ja.clientPort()), "failed over: " + events);
        await(() -> {
            try {
                awaitInterest(moving, nc[3]);
                return true;
            } catch (Throwable e) {
                return false;
            }
        }, "subscriptions re-announced from the new node");
        nc[3].publish("followed", bytes("after the kill"));
        Message after = followed.nextMessage(Duration.ofSeconds(5));
        assertNotNull(after, "the subscription keeps receiving after failover");

        // interest leaves when the client leaves, across both kinds of node
        Dispatcher late = nc[2].createDispatcher(m -> nc[2].publish(m.getReplyTo(), bytes("ok")));
        late.subscribe("late.svc");
        awaitInterest(nc[2], nc[1]);
        awaitInterest(nc[2], nc[3]);
        nc[2].close();
        await(() -> noResponders(nc[1], "late.svc") && noResponders(nc[3], "late.svc"), "late.svc interest removed");
    }

    private static void awaitInterest(Connection subscriber, Connection from) throws Exception {
        ClusterProbes.awaitInterest(subscriber, from, 15);
    }

    private static boolean noResponders(Connection c, String subject) {
        return ClusterProbes.noResponders(c, subject);
    }

    private static void await(BooleanSupplier condition, String what) {
        ClusterProbes.await(condition, what, 15);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
