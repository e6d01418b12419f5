package io.jetkv.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jetkv.conformance.faults.ProcessCluster;
import io.jetkv.conformance.faults.ServerKind;
import io.jetkv.server.testing.ClusterProbes;
import io.nats.client.Connection;
import io.nats.client.Dispatcher;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamSubscription;
import io.nats.client.PublishOptions;
import io.nats.client.PullSubscribeOptions;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.api.StreamInfo;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.Subscription;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Accounts across a cluster (issue 16): the route protocol carries each account's interest and messages in that
 * account ({@code RS+ A subject}, {@code RMSG A subject ...}), as nats-server 2.9.10's routes do. One cluster of two
 * {@code ./jetkv} processes and one nats-server 2.9.10 with the same accounts, so that every check runs between two
 * JetKV nodes and between JetKV and nats-server in both directions: isolation of two accounts on one subject, queue
 * groups per account, request/reply and no-responders, a service and a stream import whose exporter and importer
 * are on different servers, and the system account's {@code $SYS.REQ.SERVER.PING} answered by every server.
 */
class AccountsClusterIT {
    /** Loaded by both servers: A exports a service and a stream, B imports both, SYS is the system account. */
    static final String ACCOUNTS = """
            accounts {
              A: { users: [ {user: a, password: a} ]
                   exports: [ {service: "svc.>"}, {stream: "feed.>"} ] }
              B: { users: [ {user: b, password: b} ]
                   imports: [ {service: {account: A, subject: "svc.>"}, to: "a.svc.>"},
                              {stream: {account: A, subject: "feed.>"}, prefix: froma} ] }
              SYS: { users: [ {user: sys, password: sys} ] }
            }
            system_account: SYS""";

    @TempDir
    Path dir;

    private final List<Connection> connections = new ArrayList<>();

    @AfterEach
    void closeConnections() throws InterruptedException {
        for (Connection c : connections) {
            c.close();
        }
    }

    @Test
    void accountsAcrossJetKvAndNatsServerNodes() throws Exception {
        assumeTrue(ServerKind.NATS_SERVER.available(), "nats-server not installed");
        try (ProcessCluster cluster = ProcessCluster.builder(ServerKind.JETKV, 3, dir).name("ACCTS")
                .kind(2, ServerKind.NATS_SERVER).config(ACCOUNTS).start()) {
            // subscribers on the first node of each pair, publishers on the second
            int[][] pairs = {{0, 1}, {1, 0}, {0, 2}, {2, 0}};
            for (int[] p : pairs) {
                checkPair(cluster, p[0], p[1]);
            }
            // the system account's requests cross the routes in that account: every server answers a PING
            for (int node : new int[] {0, 2}) {
                assertEquals(3, pingReplies(connect(cluster, node, "sys"), 3), "servers answering a PING sent to "
                        + cluster.node(node).name());
            }
            // a global-account user does not reach the servers' own subscriptions: no responders
            assertTrue(ClusterProbes.noResponders(connect(cluster, 1, "b"), "$SYS.REQ.SERVER.PING"));
        }
    }

    /**
     * Per-account JetStream in a cluster of two {@code ./jetkv} nodes: streams of two accounts share the one meta
     * group, each keyed by account and name, so each account's API on either node reaches its own streams (wherever
     * they were placed) and never the other's, even under the same name and subjects.
     */
    @Test
    void jetStreamPerAccountAcrossNodes() throws Exception {
        String js = ACCOUNTS
                .replace("users: [ {user: a, password: a} ]", "users: [ {user: a, password: a} ], jetstream: enabled")
                .replace("users: [ {user: b, password: b} ]",
                        "users: [ {user: b, password: b} ], jetstream: {max_streams: 2}");
        try (ProcessCluster cluster = ProcessCluster.builder(ServerKind.JETKV, 2, dir).name("ACCJS").jetStream(true)
                .config(js).start()) {
            Connection a1 = connect(cluster, 0, "a");
            Connection a2 = connect(cluster, 1, "a");
            Connection b1 = connect(cluster, 0, "b");
            Connection b2 = connect(cluster, 1, "b");
            StreamConfiguration orders = StreamConfiguration.builder().name("ORDERS").subjects("orders.>")
                    .storageType(StorageType.File).replicas(1).build();
            // the meta group forms as the nodes meet: ask until it answers
            StreamInfo created = eventually(() -> a2.jetStreamManagement().addStream(orders), 60, "A's ORDERS");
            String home = created.getClusterInfo().getLeader();
            assertNotNull(home);

            // B has no stream on those subjects: a publish there has no responders, on either node
            for (Connection b : List.of(b1, b2)) {
                assertTrue(ClusterProbes.noResponders(b, "orders.x"), "B's publish reaches no stream");
                JetStreamApiException e = assertThrows(JetStreamApiException.class,
                        () -> b.jetStreamManagement().getStreamInfo("ORDERS"));
                assertEquals(10059, e.getApiErrorCode());
                assertEquals(List.of(), b.jetStreamManagement().getStreamNames());
            }

            // A's requests on both nodes reach the stream, wherever it was placed (the stream's interest reaches the
            // other node over the route after the create was answered: publish until it did, deduplicated by id)
            assertEquals(1, eventually(() -> a1.jetStream().publish("orders.1", bytes("one"),
                    PublishOptions.builder().messageId("o1").build()), 15, "A's publish on n1").getSeqno());
            assertEquals(2, eventually(() -> a2.jetStream().publish("orders.2", bytes("two"),
                    PublishOptions.builder().messageId("o2").build()), 15, "A's publish on n2").getSeqno());
            for (Connection a : List.of(a1, a2)) {
                StreamInfo info = a.jetStreamManagement().getStreamInfo("ORDERS");
                assertEquals(2, info.getStreamState().getMsgCount());
                assertEquals(home, info.getClusterInfo().getLeader());
                assertEquals(List.of("ORDERS"), a.jetStreamManagement().getStreamNames());
            }
            // a pull consumer made and read through the other node than the first publisher
            JetStreamSubscription pull = a1.jetStream().subscribe("orders.>", PullSubscribeOptions.builder()
                    .durable("reader").build());
            List<Message> got = pull.fetch(2, Duration.ofSeconds(5));
            assertEquals(List.of("one", "two"), got.stream().map(AccountsClusterIT::text).toList());
            got.forEach(Message::ack);

            // B's own stream of the same name and subjects, and a replicated one: separate from A's
            StreamInfo bOrders = eventually(() -> b1.jetStreamManagement().addStream(orders), 30, "B's ORDERS");
            assertEquals(0, bOrders.getStreamState().getMsgCount());
            assertEquals(1, eventually(() -> b2.jetStream().publish("orders.9", bytes("b"),
                    PublishOptions.builder().messageId("b9").build()), 15, "B's publish").getSeqno());
            StreamInfo rep = eventually(() -> b2.jetStreamManagement().addStream(StreamConfiguration.builder()
                    .name("REP").subjects("rep.>").storageType(StorageType.File).replicas(2).build()), 30, "B's R2");
            assertEquals(2, rep.getConfiguration().getReplicas());
            // B's max_streams counts its streams over the whole cluster, not A's
            JetStreamApiException full = assertThrows(JetStreamApiException.class, () -> b1.jetStreamManagement()
                    .addStream(StreamConfiguration.builder().name("THIRD").subjects("third").build()));
            assertEquals(10027, full.getApiErrorCode());
            assertEquals(1, eventually(() -> b1.jetStream().publish("rep.1", bytes("r"),
                    PublishOptions.builder().messageId("r1").build()), 15, "R2 publish").getSeqno());
            assertEquals(1, b1.jetStreamManagement().getStreamInfo("ORDERS").getStreamState().getMsgCount());
            assertEquals(1, b2.jetStreamManagement().getStreamInfo("REP").getStreamState().getMsgCount());
            assertEquals(2, a1.jetStreamManagement().getStreamInfo("ORDERS").getStreamState().getMsgCount());
            assertEquals(List.of("ORDERS"), a2.jetStreamManagement().getStreamNames());
            // a delete in B leaves A's stream of that name
            assertTrue(b2.jetStreamManagement().deleteStream("ORDERS"));
            assertEquals(2, a2.jetStreamManagement().getStreamInfo("ORDERS").getStreamState().getMsgCount());
        }
    }

    private static <T> T eventually(Callable<T> attempt, int seconds, String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        Exception last = null;
        while (System.nanoTime() < deadline) {
            try {
                T v = attempt.call();
                if (v != null) {
                    return v;
                }
            } catch (Exception e) {
                last = e;
            }
            Thread.sleep(100); // polling to a deadline, not synchronisation
        }
        throw new AssertionError("timed out waiting for " + what + (last == null ? "" : ": " + last), last);
    }

    /** Subscribers in A and B on node {@code s}, publishers in A and B on node {@code p}. */
    private void checkPair(ProcessCluster cluster, int s, int p) throws Exception {
        String tag = cluster.node(s).name() + cluster.node(p).name();
        String where = " (" + cluster.node(s).kind() + " " + cluster.node(s).name() + " <- " + cluster.node(p).kind()
                + " " + cluster.node(p).name() + ")";
        Connection aSub = connect(cluster, s, "a");
        Connection bSub = connect(cluster, s, "b");
        Connection aPub = connect(cluster, p, "a");
        Connection bPub = connect(cluster, p, "b");

        Subscription aIso = aSub.subscribe("iso." + tag);
        Subscription bIso = bSub.subscribe("iso." + tag);
        AtomicInteger aWorked = new AtomicInteger();
        AtomicInteger bWorked = new AtomicInteger();
        Dispatcher aWorkers = aSub.createDispatcher(m -> aWorked.incrementAndGet());
        aWorkers.subscribe("work." + tag, "workers");
        aWorkers.subscribe("work." + tag, "workers");
        bSub.createDispatcher(m -> bWorked.incrementAndGet()).subscribe("work." + tag, "workers");
        // A's responder answers its own requests and, as the exporter, B's through B's import of svc.>
        aSub.createDispatcher(m -> aSub.publish(m.getReplyTo(), bytes("from A " + m.getSubject())))
                .subscribe("svc." + tag);
        Subscription fromA = bSub.subscribe("froma.feed." + tag);
        ClusterProbes.awaitInterest(aSub, aPub, 15);
        ClusterProbes.awaitInterest(bSub, bPub, 15);

        // isolation: one subject, two accounts; each subscriber sees only its own account's message
        aPub.publish("iso." + tag, bytes("a"));
        bPub.publish("iso." + tag, bytes("b"));
        assertEquals("a", text(aIso.nextMessage(Duration.ofSeconds(5))), "A's message" + where);
        assertEquals("b", text(bIso.nextMessage(Duration.ofSeconds(5))), "B's message" + where);
        // B's message reached node s before this one was sent: had A's subscriber got a copy, it would come first
        aPub.publish("iso." + tag, bytes("end"));
        assertEquals("end", text(aIso.nextMessage(Duration.ofSeconds(5))), "no copy of B's message in A" + where);

        // queue groups per account: every A message goes to one of A's two members, none to B's group
        for (int i = 0; i < 10; i++) {
            aPub.publish("work." + tag, bytes("w" + i));
        }
        for (int i = 0; i < 4; i++) {
            bPub.publish("work." + tag, bytes("v" + i));
        }
        ClusterProbes.await(() -> aWorked.get() == 10 && bWorked.get() == 4, "10 A and 4 B queue deliveries" + where,
                15);
        assertNotNull(ClusterProbes.reply(aPub, "svc." + tag)); // a round trip after the queue messages
        assertEquals(10, aWorked.get(), "A's queue deliveries" + where);
        assertEquals(4, bWorked.get(), "B's queue deliveries" + where);

        // request/reply within A; B has no responder on that subject (no import maps it): no responders
        Message reply = aPub.request("svc." + tag, bytes("q")).get(5, TimeUnit.SECONDS);
        assertEquals("from A svc." + tag, text(reply), where);
        assertTrue(ClusterProbes.noResponders(bPub, "svc." + tag), "no responders in B" + where);
        assertTrue(ClusterProbes.noResponders(aPub, "nobody." + tag), "no responders in A" + where);

        // service import: B's request on p is mapped on p into A and crosses to A's responder on s, and back
        Message imported = bPub.request("a.svc." + tag, bytes("q")).get(5, TimeUnit.SECONDS);
        assertEquals("from A svc." + tag, text(imported), "service import" + where);

        // stream import: A's message published on p reaches B's importing subscriber on s under the prefix
        aPub.publish("feed." + tag, bytes("news"));
        Message m = fromA.nextMessage(Duration.ofSeconds(5));
        assertNotNull(m, "stream import" + where);
        assertEquals("froma.feed." + tag, m.getSubject());
        assertEquals("news", text(m));
    }

    /** Sends one PING and counts the distinct servers answering within a few seconds (up to {@code expected}). */
    private static int pingReplies(Connection sys, int expected) throws Exception {
        Set<String> servers = ConcurrentHashMap.newKeySet();
        String inbox = sys.createInbox();
        Dispatcher d = sys.createDispatcher(m -> {
            String body = text(m);
            int at = body.indexOf("\"id\":\"");
            servers.add(at < 0 ? body : body.substring(at + 6, body.indexOf('"', at + 6)));
        });
        d.subscribe(inbox);
        sys.flush(Duration.ofSeconds(5));
        // the servers' interest may still be on its way after the cluster formed: ask again until all answered
        ClusterProbes.await(() -> {
            sys.publish("$SYS.REQ.SERVER.PING", inbox, new byte[0]);
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
                while (servers.size() < expected && System.nanoTime() < deadline) {
                    Thread.sleep(20); // polling to a deadline
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return servers.size() >= expected;
        }, expected + " PING replies", 20);
        sys.closeDispatcher(d);
        return servers.size();
    }

    private Connection connect(ProcessCluster cluster, int node, String user) throws Exception {
        Connection c = Nats.connect(Options.builder().server(cluster.node(node).clientUrl()).userInfo(user, user)
                .noReconnect().connectionTimeout(Duration.ofSeconds(5)).build());
        connections.add(c);
        return c;
    }

    private static String text(Message m) {
        return m == null ? null : new String(m.getData(), StandardCharsets.UTF_8);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
