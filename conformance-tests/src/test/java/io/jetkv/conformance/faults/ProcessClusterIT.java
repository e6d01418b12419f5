package io.jetkv.conformance.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jetkv.server.testing.ClusterProbes;
import io.nats.client.Connection;
import io.nats.client.Dispatcher;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.Subscription;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Core-NATS clusters of server processes (issue 12), beyond what ClusterIT does in one JVM: five {@code ./jetkv}
 * processes joined from one seed by gossip with the full delivery matrix, a node killed with SIGKILL (no
 * goodbye on any route) and started again, and links between nodes reset and paused through the fault proxy.
 */
class ProcessClusterIT {
    @TempDir
    Path dir;

    private ProcessCluster cluster;
    private final List<Connection> connections = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (Connection c : connections) {
            c.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    private Connection pinned(int node) throws Exception {
        Connection c = Nats.connect(Options.builder().server(cluster.node(node).clientUrl()).noReconnect().build());
        connections.add(c);
        return c;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Five processes, each listing only the seed: gossip makes the full mesh. Then every publisher node × every
     * subscriber node × plain, wildcard, queue, request/reply and no-responders, each message exactly once; a
     * queue group with a member on every node gets each message once.
     */
    @Test
    void fiveNodesFromOneSeedDeliverEverywhere() throws Exception {
        cluster = ProcessCluster.builder(ServerKind.JETKV, 5, dir).name("FIVE").start();
        int n = cluster.size();
        Connection[] nc = new Connection[n];
        for (int i = 0; i < n; i++) {
            nc[i] = pinned(i);
        }
        Subscription[][] plain = new Subscription[n][n];
        Subscription[][] wild = new Subscription[n][n];
        Subscription[][] queue = new Subscription[n][n];
        for (int s = 0; s < n; s++) {
            Connection sub = nc[s];
            int node = s;
            Dispatcher responder = sub.createDispatcher(m -> sub.publish(m.getReplyTo(), bytes("from" + node)));
            for (int p = 0; p < n; p++) {
                String tag = p + "." + s;
                plain[p][s] = sub.subscribe("plain." + tag);
                wild[p][s] = sub.subscribe("wild." + tag + ".>");
                queue[p][s] = sub.subscribe("queue." + tag, "grp");
                responder.subscribe("svc." + tag);
            }
        }
        Map<String, AtomicInteger> seen = new ConcurrentHashMap<>();
        for (Connection c : nc) {
            c.createDispatcher(m -> seen.computeIfAbsent(new String(m.getData(), StandardCharsets.UTF_8),
                    k -> new AtomicInteger()).incrementAndGet()).subscribe("work", "workers");
        }
        for (int s = 0; s < n; s++) {
            for (int p = 0; p < n; p++) {
                ClusterProbes.awaitInterest(nc[s], nc[p], 20);
            }
        }
        for (int p = 0; p < n; p++) {
            for (int s = 0; s < n; s++) {
                String tag = p + "." + s;
                nc[p].publish("plain." + tag, bytes(tag));
                nc[p].publish("wild." + tag + ".x.y", bytes(tag));
                nc[p].publish("queue." + tag, bytes(tag));
                Message r = nc[p].request("svc." + tag, bytes(tag), Duration.ofSeconds(5));
                assertNotNull(r, "request/reply " + tag);
                assertEquals("from" + s, new String(r.getData(), StandardCharsets.UTF_8));
                assertTrue(ClusterProbes.noResponders(nc[p], "nobody." + tag), "no responders " + tag);
            }
        }
        for (int p = 0; p < n; p++) {
            for (int s = 0; s < n; s++) {
                String tag = p + "." + s;
                for (Subscription sub : new Subscription[] {plain[p][s], wild[p][s], queue[p][s]}) {
                    Message m = sub.nextMessage(Duration.ofSeconds(5));
                    assertNotNull(m, sub.getSubject() + " from node " + p);
                    assertEquals(tag, new String(m.getData(), StandardCharsets.UTF_8));
                }
            }
        }
        for (int p = 0; p < n; p++) {
            for (int s = 0; s < n; s++) {
                for (Subscription sub : new Subscription[] {plain[p][s], wild[p][s], queue[p][s]}) {
                    assertNull(sub.nextMessage(Duration.ofMillis(5)), "a second copy on " + sub.getSubject());
                }
            }
        }

        // one queue group with a member on every node, fed from every node: each message once
        int each = 100;
        for (int p = 0; p < n; p++) {
            for (int i = 0; i < each; i++) {
                nc[p].publish("work", bytes(p + "-" + i));
            }
            nc[p].flush(Duration.ofSeconds(5));
        }
        ClusterProbes.await(() -> seen.size() == n * each, "every queue message delivered", 20);
        seen.forEach((k, v) -> assertEquals(1, v.get(), "delivered once: " + k));
    }

    /**
     * kill -9 of a node: the others drop its interest (no RS- ever came), its clients' subscriptions elsewhere
     * keep working; restarted on the same ports and store, it rejoins and its new subscriptions receive.
     */
    @Test
    void killedNodeLeavesNoInterestAndRejoins() throws Exception {
        cluster = ProcessCluster.builder(ServerKind.JETKV, 3, dir).name("KILL").start();
        Connection a = pinned(0);
        Connection c = pinned(2);
        Dispatcher svc = c.createDispatcher(m -> c.publish(m.getReplyTo(), bytes("c")));
        svc.subscribe("on.c");
        ClusterProbes.awaitInterest(c, a, 20);
        assertNotNull(a.request("on.c", new byte[0], Duration.ofSeconds(5)));

        cluster.node(2).kill();
        ClusterProbes.await(() -> ClusterProbes.noResponders(a, "on.c"), "node 3's interest gone from node 1", 20);
        cluster.awaitFullMesh(20);
        assertEquals(1, cluster.node(0).routes());

        cluster.node(2).restart();
        cluster.awaitFullMesh(60);
        Connection c2 = pinned(2);
        Subscription back = c2.subscribe("back");
        ClusterProbes.awaitInterest(c2, a, 20);
        a.publish("back", bytes("again"));
        Message m = back.nextMessage(Duration.ofSeconds(5));
        assertNotNull(m, "the rejoined node's subscription receives");
        assertTrue(ClusterProbes.noResponders(a, "on.c"), "the old process's interest did not come back");
    }

    /**
     * Links reset through the proxies: the isolated node's routes go (its interest with them), and come back
     * when healed with interest exchanged again. Then SIGSTOP: a frozen node, and a clean resume.
     */
    @ParameterizedTest
    @EnumSource(ServerKind.class)
    void partitionedNodeDropsOutAndComesBack(ServerKind kind) throws Exception {
        assumeTrue(kind.available(), "nats-server not installed");
        cluster = ProcessCluster.builder(kind, 3, dir).name("PART").proxied(true).start();
        Connection a = pinned(0);
        Connection c = pinned(2);
        Subscription sub = c.subscribe("across");
        ClusterProbes.awaitInterest(c, a, 20);

        cluster.resetLinks(2);
        ClusterProbes.await(() -> cluster.node(0).routes() == 1 && cluster.node(2).routes() == 0,
                "node 3 cut off: " + cluster, 30);
        ClusterProbes.await(() -> ClusterProbes.noResponders(a, "across"), "node 3's interest gone", 20);

        cluster.heal();
        cluster.awaitFullMesh(60);
        ClusterProbes.awaitInterest(c, a, 20);
        a.publish("across", bytes("healed"));
        assertNotNull(sub.nextMessage(Duration.ofSeconds(5)), "delivered across the healed link");

        // a frozen node neither answers nor loses its place while briefly stopped
        cluster.node(2).pause();
        assertNull(ClusterProbes.reply(a, "across"), "a paused node does not answer");
        cluster.node(2).resume();
        ClusterProbes.awaitInterest(c, a, 20);
        a.publish("across", bytes("resumed"));
        Message m = sub.nextMessage(Duration.ofSeconds(5));
        assertNotNull(m);
        // the message held while paused may come first; the newest is last
        while (!"resumed".equals(new String(m.getData(), StandardCharsets.UTF_8))) {
            m = sub.nextMessage(Duration.ofSeconds(5));
            assertNotNull(m, "resumed message");
        }
    }
}
