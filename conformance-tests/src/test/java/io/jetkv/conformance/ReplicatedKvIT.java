package io.jetkv.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nats.client.Connection;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.KeyValue;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.api.ClusterInfo;
import io.nats.client.api.KeyValueConfiguration;
import io.nats.client.api.KeyValueEntry;
import io.nats.client.api.Replica;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.api.StreamInfo;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Replicated streams and KV buckets on a three-process JetKV cluster ({@code ./jetkv}, clustered JetStream on
 * Apache Ratis): A is the seed (no routes), B and C route to A. Clients on every node, through jnats.
 */
class ReplicatedKvIT {
    private static final Pattern CLIENT_PORT = Pattern.compile("Listening for client connections on [^:]+:(\\d+)");
    private static final Pattern ROUTE_PORT = Pattern.compile("Listening for route connections on [^:]+:(\\d+)");
    private static final Path LAUNCHER = Path.of("..", "jetkv").toAbsolutePath().normalize();

    @TempDir
    Path tmp;

    private final List<Process> processes = new ArrayList<>();
    private final List<Connection> connections = new ArrayList<>();

    private record Node(String name, Process process, int clientPort, int routePort, List<String> log) {}

    @AfterEach
    void tearDown() throws Exception {
        for (Connection c : connections) {
            try {
                c.close();
            } catch (Exception ignored) {
                // a killed node's connection
            }
        }
        for (Process p : processes) {
            p.destroy();
        }
        for (Process p : processes) {
            if (!p.waitFor(15, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
    }

    private Node start(String name, Integer seedRoutePort) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(LAUNCHER.toString(), "-a", "127.0.0.1", "-p", "-1", "-n", name,
                "-js", "-sd", Files.createDirectories(tmp.resolve(name)).toString(),
                "--cluster", "nats://127.0.0.1:-1", "--cluster_name", "JC"));
        if (seedRoutePort != null) {
            cmd.addAll(List.of("--routes", "nats://127.0.0.1:" + seedRoutePort));
        }
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        processes.add(p);
        List<String> log = new CopyOnWriteArrayList<>();
        CompletableFuture<Integer> client = new CompletableFuture<>();
        CompletableFuture<Integer> route = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    log.add(line);
                    Matcher m = CLIENT_PORT.matcher(line);
                    if (m.find()) {
                        client.complete(Integer.parseInt(m.group(1)));
                    }
                    Matcher rm = ROUTE_PORT.matcher(line);
                    if (rm.find()) {
                        route.complete(Integer.parseInt(rm.group(1)));
                    }
                }
            } catch (IOException ignored) {
                // the process ended
            }
            IOException ended = new IOException(name + " ended before listening: " + log);
            client.completeExceptionally(ended);
            route.completeExceptionally(ended);
        }, name + "-log");
        reader.setDaemon(true);
        reader.start();
        return new Node(name, p, client.get(120, TimeUnit.SECONDS), route.get(120, TimeUnit.SECONDS), log);
    }

    private Map<String, Node> startThree() throws Exception {
        Node a = start("A", null);
        Node b = start("B", a.routePort());
        Node c = start("C", a.routePort());
        Map<String, Node> nodes = new LinkedHashMap<>();
        nodes.put("A", a);
        nodes.put("B", b);
        nodes.put("C", c);
        return nodes;
    }

    private Connection connect(Node n) throws Exception {
        Connection c = Nats.connect(Options.builder().server("nats://127.0.0.1:" + n.clientPort()).noReconnect()
                .connectionTimeout(Duration.ofSeconds(10)).build());
        connections.add(c);
        return c;
    }

    /** Polls {@code attempt} until it returns non-null without throwing; polling to a deadline. */
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
            Thread.sleep(100); // polling, not synchronisation
        }
        throw new AssertionError("timed out waiting for " + what + (last == null ? "" : ": " + last), last);
    }

    /** The meta group grows as B and C join; creating an R3 bucket succeeds once it has three peers. */
    private KeyValue createBucket(Connection c, String bucket) throws Exception {
        eventually(() -> c.keyValueManagement().create(KeyValueConfiguration.builder().name(bucket).replicas(3)
                .storageType(StorageType.File).build()), 60, "R3 bucket " + bucket);
        return c.keyValue(bucket);
    }

    /**
     * The create is answered by the stream leader; another node learns of the bucket when it applies the assignment
     * and hears the leader's interest over its route, which a loaded machine may delay past the reply, as on
     * nats-server (a publish there meanwhile finds no responders). Waits until a get through each connection is
     * answered (a key that was never written: null), so the test's own reads and writes do not race the cluster.
     */
    private void awaitBucketOn(String bucket, Connection... conns) throws Exception {
        for (Connection conn : conns) {
            KeyValue kv = conn.keyValue(bucket);
            eventually(() -> kv.get("never-written") == null ? Boolean.TRUE : null, 60,
                    "bucket " + bucket + " on " + conn.getServerInfo().getServerName());
        }
    }

    /** A put that found no responders stored nothing: retried until the leader's interest reached that node. */
    private static long putWhenServed(KeyValue kv, String key, String value) throws Exception {
        return eventually(() -> {
            try {
                return kv.put(key, value.getBytes(StandardCharsets.UTF_8));
            } catch (IOException e) {
                if (String.valueOf(e.getMessage()).contains("503")) {
                    return null;
                }
                throw e;
            }
        }, 60, "a put of " + key);
    }

    @Test
    void replicatedBucketIsReadableOnEveryNode() throws Exception {
        Map<String, Node> nodes = startThree();
        Connection a = connect(nodes.get("A"));
        Connection b = connect(nodes.get("B"));
        Connection c = connect(nodes.get("C"));
        KeyValue kvA = createBucket(a, "orders");
        awaitBucketOn("orders", a, b, c);

        long rev = putWhenServed(kvA, "k1", "v1");
        assertEquals(1, rev);
        // read-your-write on every node: the get waits for that replica's read index, never answers stale
        for (Connection conn : List.of(b, c, a)) {
            KeyValueEntry e = conn.keyValue("orders").get("k1");
            assertNotNull(e, "k1 on " + conn.getServerInfo().getServerName());
            assertEquals("v1", e.getValueAsString());
            assertEquals(1, e.getRevision());
        }
        // a watcher on C: its ordered consumer lives on the stream leader, deliveries cross the routes
        List<String> watched = new CopyOnWriteArrayList<>();
        c.keyValue("orders").watchAll(new io.nats.client.api.KeyValueWatcher() {
            @Override
            public void watch(KeyValueEntry entry) {
                watched.add(entry.getKey() + "=" + entry.getOperation());
            }

            @Override
            public void endOfData() {}
        });
        // writes through every node, each read back at once on another
        KeyValue kvB = b.keyValue("orders");
        KeyValue kvC = c.keyValue("orders");
        for (int i = 0; i < 20; i++) {
            KeyValue writer = i % 3 == 0 ? kvA : i % 3 == 1 ? kvB : kvC;
            KeyValue reader = i % 3 == 0 ? kvB : i % 3 == 1 ? kvC : kvA;
            long r = i < 3 ? putWhenServed(writer, "key" + i, "val" + i)
                    : writer.put("key" + i, ("val" + i).getBytes(StandardCharsets.UTF_8));
            assertEquals(i + 2, r, "revisions are one sequence across nodes");
            assertEquals("val" + i, reader.get("key" + i).getValueAsString());
        }
        kvB.delete("k1");
        assertEquals(null, kvC.get("k1"));
        eventually(() -> watched.size() >= 22 ? watched : null, 30, "the watcher to see every change");
        assertEquals("k1=PUT", watched.get(0));
        assertEquals("key19=PUT", watched.get(20));
        assertEquals("k1=DELETE", watched.get(21));

        // a durable pull consumer through B, whichever node leads
        io.nats.client.JetStreamSubscription pull = b.jetStream().subscribe("$KV.orders.>",
                io.nats.client.PullSubscribeOptions.builder().stream("KV_orders").durable("d1").build());
        List<io.nats.client.Message> fetched = pull.fetch(5, Duration.ofSeconds(5));
        assertEquals(5, fetched.size());
        // k1's put was replaced by its delete marker (history 1): the oldest left is key0
        assertEquals("$KV.orders.key0", fetched.get(0).getSubject());
        assertEquals("$KV.orders.key4", fetched.get(4).getSubject());
        fetched.forEach(io.nats.client.Message::ack);
        // retention that depends on consumers works on replicated streams (their state is in the stream's group;
        // ReplicatedConsumersIT kills leaders under them)
        StreamInfo wq = eventually(() -> a.jetStreamManagement().addStream(StreamConfiguration.builder().name("WQ")
                .subjects("wq.>").replicas(3).retentionPolicy(io.nats.client.api.RetentionPolicy.WorkQueue).build()),
                30, "an R3 work-queue stream");
        assertEquals(io.nats.client.api.RetentionPolicy.WorkQueue, wq.getConfiguration().getRetentionPolicy());
        // a batch message to a replicated stream without allow_atomic gets 10174 from the leader
        io.nats.client.impl.Headers batchHeaders = new io.nats.client.impl.Headers().put("Nats-Batch-Id", "b")
                .put("Nats-Batch-Sequence", "1").put("Nats-Batch-Commit", "1");
        String batchReply = new String(b.request(io.nats.client.impl.NatsMessage.builder().subject("$KV.orders.x")
                .headers(batchHeaders).data(new byte[0]).build(), Duration.ofSeconds(10)).getData(),
                StandardCharsets.UTF_8);
        assertTrue(batchReply.contains("\"err_code\":10174"), batchReply);

        // the cluster block names a leader and the two other replicas, all current
        JetStreamManagement jsm = c.jetStreamManagement();
        StreamInfo si = jsm.getStreamInfo("KV_orders");
        ClusterInfo ci = si.getClusterInfo();
        assertNotNull(ci, "cluster block");
        assertEquals("JC", ci.getName());
        assertNotNull(ci.getLeader());
        assertEquals(2, ci.getReplicas().size());
        for (Replica r : ci.getReplicas()) {
            assertTrue(!r.getName().equals(ci.getLeader()), "replicas exclude the leader");
        }
        assertEquals(22, si.getStreamState().getLastSequence());

        // an R1 stream lives on one node and is reachable from all
        StreamInfo r1 = eventually(() -> a.jetStreamManagement().addStream(StreamConfiguration.builder().name("ONE")
                .subjects("one.>").replicas(1).build()), 30, "R1 stream");
        String host = r1.getClusterInfo().getLeader();
        assertNotNull(host);
        for (Connection conn : List.of(a, b, c)) {
            assertEquals(host, conn.jetStreamManagement().getStreamInfo("ONE").getClusterInfo().getLeader());
            conn.jetStream().publish("one.x", "m".getBytes(StandardCharsets.UTF_8));
        }
        assertEquals(3, b.jetStreamManagement().getStreamInfo("ONE").getStreamState().getMsgCount());
        List<String> names = c.jetStreamManagement().getStreamNames();
        assertTrue(names.contains("ONE") && names.contains("KV_orders"), names.toString());
        assertTrue(a.jetStreamManagement().deleteStream("ONE"));
        // the delete is committed in the meta group; the hosting server applies it right after
        JetStreamApiException gone = eventually(() -> {
            try {
                b.jetStreamManagement().getStreamInfo("ONE");
                return null;
            } catch (JetStreamApiException e) {
                return e;
            }
        }, 10, "ONE deleted");
        assertEquals(10059, gone.getApiErrorCode());
        assertFalse(c.jetStreamManagement().getStreamNames().contains("ONE"));
    }

    @Test
    void leaderKillLosesNothingAcknowledged() throws Exception {
        Map<String, Node> nodes = startThree();
        Connection a = connect(nodes.get("A"));
        KeyValue kvA = createBucket(a, "cfg");
        StreamInfo si = a.jetStreamManagement().getStreamInfo("KV_cfg");
        String leader = si.getClusterInfo().getLeader();
        assertNotNull(leader);
        List<String> survivors = new ArrayList<>(nodes.keySet());
        survivors.remove(leader);
        Connection s1 = connect(nodes.get(survivors.get(0)));
        Connection s2 = connect(nodes.get(survivors.get(1)));
        KeyValue kv1 = s1.keyValue("cfg");
        awaitBucketOn("cfg", s1, s2);
        putWhenServed(kv1, "k0", "v0");

        Map<String, String> acked = new HashMap<>();
        for (int i = 0; i < 50; i++) {
            kv1.put("k" + i, ("v" + i).getBytes(StandardCharsets.UTF_8));
            acked.put("k" + i, "v" + i);
        }
        nodes.get(leader).process().destroyForcibly(); // SIGKILL
        assertTrue(nodes.get(leader).process().waitFor(10, TimeUnit.SECONDS));

        // a new leader is elected among the survivors; puts go on through a surviving node
        long rev = eventually(() -> kv1.put("after", "kill".getBytes(StandardCharsets.UTF_8)), 60, "put after kill");
        acked.put("after", "kill");
        assertTrue(rev > 50, "revision " + rev);
        String newLeader = eventually(() -> {
            String l = s2.jetStreamManagement().getStreamInfo("KV_cfg").getClusterInfo().getLeader();
            return l == null || l.equals(leader) ? null : l;
        }, 30, "a new leader");
        assertFalse(newLeader.equals(leader));
        for (Connection conn : List.of(s1, s2)) {
            KeyValue kv = conn.keyValue("cfg");
            for (Map.Entry<String, String> e : acked.entrySet()) {
                KeyValueEntry got = kv.get(e.getKey());
                assertNotNull(got, e.getKey() + " on " + conn.getServerInfo().getServerName());
                assertEquals(e.getValue(), got.getValueAsString());
            }
        }
    }
}
