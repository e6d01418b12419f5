package io.jetkv.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.nats.client.Connection;
import io.nats.client.ErrorListener;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.JetStreamOptions;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.api.KeyValueConfiguration;
import io.nats.client.api.MessageInfo;
import io.nats.client.PurgeOptions;
import io.nats.client.api.PurgeResponse;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.api.StreamInfo;
import io.nats.client.api.StreamInfoOptions;
import io.nats.client.api.StreamState;
import io.nats.client.impl.Headers;
import io.nats.client.impl.NatsMessage;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
 * Operations on replicated (R3) streams besides publishing, on a three-process JetKV cluster through jnats: purge,
 * message delete, update (through the meta group, then the stream's group), atomic batches (one Raft entry) and
 * message schedules (fired by the leader through the group), expiry with KV limit markers (decided by the leader),
 * fast-ingest batches and counters across a leader step-down. Each is checked on every replica, and after the stream
 * leader is killed or steps down, on the new leader.
 */
class ReplicatedStreamOpsIT {
    private static final Pattern CLIENT_PORT = Pattern.compile("Listening for client connections on [^:]+:(\\d+)");
    private static final Pattern ROUTE_PORT = Pattern.compile("Listening for route connections on [^:]+:(\\d+)");
    private static final Path LAUNCHER = Path.of("..", "jetkv").toAbsolutePath().normalize();
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    @TempDir
    Path tmp;

    private final List<Process> processes = new ArrayList<>();
    private final List<Connection> connections = new ArrayList<>();

    /** Client-side connection events and errors, for the message of a failure. */
    private final List<String> clientEvents = new CopyOnWriteArrayList<>();

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

    private Map<String, Connection> connectAll(Map<String, Node> nodes) throws Exception {
        Map<String, Connection> out = new LinkedHashMap<>();
        for (Node n : nodes.values()) {
            // a node holds new connections until its JetStream is up, which a loaded machine can stretch past a
            // connect timeout: retried to a deadline
            Connection c = eventually(() -> Nats.connect(Options.builder().server("nats://127.0.0.1:" + n.clientPort())
                    .noReconnect().connectionTimeout(TIMEOUT)
                    .connectionListener((cn, ev) -> clientEvents.add(n.name() + ": " + ev))
                    .errorListener(new ErrorListener() {
                        @Override
                        public void errorOccurred(Connection cn, String error) {
                            clientEvents.add(n.name() + ": -ERR " + error);
                        }

                        @Override
                        public void exceptionOccurred(Connection cn, Exception exp) {
                            clientEvents.add(n.name() + ": " + exp);
                        }
                    }).build()), 120, "a connection to " + n.name());
            connections.add(c);
            out.put(n.name(), c);
        }
        return out;
    }

    /**
     * What a failure message needs to tell a server's fault from the test's: each connection's status, the
     * connections' events, and whether each server still runs, with the end of its log.
     */
    private String diagnostics(Map<String, Node> nodes, Map<String, Connection> conns) {
        StringBuilder sb = new StringBuilder("\nconnections: ");
        conns.forEach((k, c) -> sb.append(k).append('=').append(c.getStatus()).append(' '));
        sb.append("\nclient events: ").append(clientEvents);
        for (Node n : nodes.values()) {
            List<String> log = List.copyOf(n.log()); // the reader thread goes on appending
            sb.append("\n--- ").append(n.name()).append(n.process().isAlive() ? " (running)" : " (exited)")
                    .append(":\n").append(String.join("\n", log.subList(Math.max(0, log.size() - 40), log.size())));
        }
        return sb.toString();
    }

    /**
     * Sends an atomic batch through {@code c} (the last message commits) and returns the commit's reply, or the
     * first non-empty reply to a staged message. A 503 (10008, or no responders) means the stream's group could not
     * take the batch just then (a Ratis re-election, which also loses the batch staged on the old leader, as on
     * nats-server): the whole batch is sent again, as clients do, to a deadline.
     */
    private static String atomicBatch(Connection c, String id, String[]... messages) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            String commit = null;
            for (int i = 0; i < messages.length; i++) {
                String[] m = messages[i];
                List<String> h = new ArrayList<>(List.of("Nats-Batch-Id", id, "Nats-Batch-Sequence",
                        Integer.toString(i + 1)));
                h.addAll(List.of(m).subList(2, m.length));
                if (i == messages.length - 1) {
                    h.addAll(List.of("Nats-Batch-Commit", "1"));
                }
                Message reply = c.request(msg(m[0], m[1], h.toArray(String[]::new)), TIMEOUT);
                String r = reply == null ? "no reply" : reply.isStatusMessage()
                        ? "status " + reply.getStatus().getCode() // 503: no leader captures the subject just now
                        : new String(reply.getData(), StandardCharsets.UTF_8);
                if (i < messages.length - 1 && !r.isEmpty()) {
                    commit = r; // a staged message refused: the batch is over
                    break;
                }
                commit = r;
            }
            boolean leaderless = commit.contains("\"err_code\":10008") || commit.equals("status 503");
            if (!leaderless || System.nanoTime() > deadline) {
                return commit;
            }
        }
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

    /** Creates an R3 stream once the meta group has three peers. */
    private static StreamInfo createR3(Connection c, StreamConfiguration cfg) throws Exception {
        // the meta group gains B and C one at a time; on a loaded machine that can take a while
        return eventually(() -> c.jetStreamManagement().addStream(cfg), 180, "R3 stream " + cfg.getName());
    }

    /** Kills the stream's leader; returns the connections to the two survivors, waiting for a new leader. */
    private static String killLeader(Map<String, Node> nodes, Map<String, Connection> conns, String stream)
            throws Exception {
        String leader = conns.get("A").jetStreamManagement().getStreamInfo(stream).getClusterInfo().getLeader();
        assertNotNull(leader);
        nodes.get(leader).process().destroyForcibly(); // SIGKILL
        assertTrue(nodes.get(leader).process().waitFor(10, TimeUnit.SECONDS));
        conns.remove(leader).close();
        Connection any = conns.values().iterator().next();
        eventually(() -> {
            String l = any.jetStreamManagement().getStreamInfo(stream).getClusterInfo().getLeader();
            return l == null || l.equals(leader) ? null : l;
        }, 60, "a new leader of " + stream);
        return leader;
    }

    /** A direct get by sequence answered by the replica on {@code c}'s server: the status, or "200 <payload>". */
    private static String directGet(Connection c, String stream, long seq) throws Exception {
        Message m = c.request("$JS.API.DIRECT.GET." + stream, ("{\"seq\":" + seq + "}").getBytes(StandardCharsets.UTF_8),
                TIMEOUT);
        if (m.isStatusMessage()) {
            return Integer.toString(m.getStatus().getCode());
        }
        // a reply without headers is no direct-get answer: show what it was
        assertNotNull(m.getHeaders(), () -> "a direct get of " + stream + " seq " + seq + " answered without headers: "
                + new String(m.getData(), StandardCharsets.UTF_8));
        assertEquals(Long.toString(seq), m.getHeaders().getFirst("Nats-Sequence"));
        return "200 " + new String(m.getData(), StandardCharsets.UTF_8);
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static NatsMessage msg(String subject, String body, String... headers) {
        Headers h = new Headers();
        for (int i = 0; i < headers.length; i += 2) {
            h.put(headers[i], headers[i + 1]);
        }
        return NatsMessage.builder().subject(subject).headers(h).data(b(body)).build();
    }

    @Test
    void purgeDeleteAndUpdateAreReplicated() throws Exception {
        Map<String, Node> nodes = startThree();
        Map<String, Connection> conns = connectAll(nodes);
        Connection a = conns.get("A");
        createR3(a, StreamConfiguration.builder().name("ORDERS").subjects("orders.>").replicas(3)
                .storageType(StorageType.File).allowDirect(true).build());
        var js = a.jetStream();
        for (int i = 1; i <= 10; i++) {
            js.publish(i % 2 == 0 ? "orders.even" : "orders.odd", b("m" + i));
        }
        JetStreamManagement jsmB = conns.get("B").jetStreamManagement();

        // a filtered purge, then a purge keeping the last message of the rest, through different nodes
        PurgeResponse odd = jsmB.purgeStream("ORDERS", PurgeOptions.subject("orders.odd"));
        assertTrue(odd.isSuccess());
        assertEquals(5, odd.getPurged());
        PurgeResponse keep = conns.get("C").jetStreamManagement().purgeStream("ORDERS", PurgeOptions.builder().keep(2).build());
        assertEquals(3, keep.getPurged()); // evens 2, 4, 6 go; 8 and 10 stay
        // message deletes: a plain one, one without erase, and the reference's errors
        assertTrue(a.jetStreamManagement().deleteMessage("ORDERS", 8));
        js.publish("orders.even", b("m11"));
        js.publish("orders.even", b("m12"));
        assertTrue(jsmB.deleteMessage("ORDERS", 11, false));
        JetStreamApiException missing = assertThrows(JetStreamApiException.class, () -> jsmB.deleteMessage("ORDERS", 8));
        assertEquals(10057, missing.getApiErrorCode()); // the file store: 10057 "no message found" below first
        JetStreamApiException eof = assertThrows(JetStreamApiException.class, () -> jsmB.deleteMessage("ORDERS", 99));
        assertEquals(10057, eof.getApiErrorCode());
        assertTrue(eof.getMessage().contains("stream store EOF"), eof.getMessage());

        // every replica holds exactly 10 and 12: direct gets answered by each node's own replica
        for (Map.Entry<String, Connection> e : conns.entrySet()) {
            for (long seq = 1; seq <= 12; seq++) {
                String expected = seq == 10 || seq == 12 ? "200 m" + seq : "404";
                assertEquals(expected, directGet(e.getValue(), "ORDERS", seq), "seq " + seq + " on " + e.getKey());
            }
        }

        // update through a node, from the config a client reads back: a new subject and a lower max_msgs_per_subject
        StreamConfiguration current = conns.get("C").jetStreamManagement().getStreamInfo("ORDERS").getConfiguration();
        StreamInfo updated = conns.get("C").jetStreamManagement().updateStream(StreamConfiguration.builder(current)
                .subjects("orders.>", "more.>").maxMessagesPerSubject(1).description("updated").build());
        assertEquals("updated", updated.getConfiguration().getDescription());
        assertEquals(List.of("orders.>", "more.>"), updated.getConfiguration().getSubjects());
        assertEquals(1, updated.getStreamState().getMsgCount(), "max_msgs_per_subject 1 left seq 12 only");
        assertEquals(13, js.publish("more.x", b("m13")).getSeqno());
        for (Connection c : conns.values()) {
            StreamInfo si = c.jetStreamManagement().getStreamInfo("ORDERS");
            assertEquals("updated", si.getConfiguration().getDescription());
            assertEquals(1, si.getConfiguration().getMaxMsgsPerSubject());
            assertEquals("404", directGet(c, "ORDERS", 10), "trimmed by the update on every replica");
            assertEquals("200 m13", directGet(c, "ORDERS", 13));
        }
        // the replica count cannot change (JetKV does not move streams between groups), nor can storage
        JetStreamApiException scale = assertThrows(JetStreamApiException.class, () -> a.jetStreamManagement()
                .updateStream(StreamConfiguration.builder(updated.getConfiguration()).replicas(1).build()));
        assertEquals(10061, scale.getApiErrorCode());
        JetStreamApiException storage = assertThrows(JetStreamApiException.class, () -> a.jetStreamManagement()
                .updateStream(StreamConfiguration.builder(updated.getConfiguration()).storageType(StorageType.Memory)
                        .build()));
        assertEquals(10052, storage.getApiErrorCode());
        JetStreamApiException unknown = assertThrows(JetStreamApiException.class, () -> a.jetStreamManagement()
                .updateStream(StreamConfiguration.builder(updated.getConfiguration()).name("NOPE").build()));
        assertEquals(10059, unknown.getApiErrorCode());

        // the new leader shows what the old one applied
        String old = killLeader(nodes, conns, "ORDERS");
        for (Connection c : conns.values()) {
            StreamInfo si = eventually(() -> c.jetStreamManagement().getStreamInfo("ORDERS"), 30, "stream info");
            assertNotEquals(old, si.getClusterInfo().getLeader());
            assertEquals(2, si.getStreamState().getMsgCount());
            assertEquals(12, si.getStreamState().getFirstSequence());
            assertEquals(13, si.getStreamState().getLastSequence());
            assertEquals("updated", si.getConfiguration().getDescription());
            assertEquals(List.of("orders.>", "more.>"), si.getConfiguration().getSubjects());
        }
        // and purges and deletes go on under it
        Connection s = conns.values().iterator().next();
        eventually(() -> s.jetStream().publish("more.y", b("m14")), 30, "publish after the kill");
        assertEquals(1, s.jetStreamManagement().purgeStream("ORDERS", PurgeOptions.subject("more.x")).getPurged());
        assertTrue(s.jetStreamManagement().deleteMessage("ORDERS", 12));
        for (Connection c : conns.values()) {
            assertEquals("404", directGet(c, "ORDERS", 12));
            assertEquals("404", directGet(c, "ORDERS", 13));
            assertEquals("200 m14", directGet(c, "ORDERS", 14));
        }
    }

    @Test
    void atomicBatchCommitsAsOneEntry() throws Exception {
        Map<String, Node> nodes = startThree();
        Map<String, Connection> conns = connectAll(nodes);
        Connection a = conns.get("A");
        createR3(a, StreamConfiguration.builder().name("B").subjects("foo.*").replicas(3).storageType(StorageType.File)
                .allowDirect(true).allowAtomicPublish().build());
        Connection b = conns.get("B");
        // a batch of three through B: staged replies are empty (checked in atomicBatch), the commit's ack names it;
        // had a retried batch been stored twice, seq would not be 3
        String ack = atomicBatch(b, "one", new String[] {"foo.1", "v1"}, new String[] {"foo.2", "v2"},
                new String[] {"foo.3", "v3"});
        assertEquals("{\"stream\":\"B\",\"seq\":3,\"batch\":\"one\",\"count\":3}", ack);
        // a batch whose second message expects a stale subject sequence: nothing of it is stored
        String rejected = atomicBatch(b, "two", new String[] {"foo.1", "x1"},
                new String[] {"foo.2", "x2", "Nats-Expected-Last-Subject-Sequence", "1"});
        assertTrue(rejected.contains("\"err_code\":10071"), rejected);
        // a message id repeated inside a batch is refused (checked on apply, as every replica does)
        String dup = atomicBatch(b, "three", new String[] {"foo.1", "y1", "Nats-Msg-Id", "id-1"},
                new String[] {"foo.2", "y2", "Nats-Msg-Id", "id-1"});
        assertTrue(dup.contains("\"err_code\":10201"), dup);
        // a good batch with a message id; the id then dedupes a single publish
        String four = atomicBatch(b, "four", new String[] {"foo.4", "w4", "Nats-Msg-Id", "id-4"},
                new String[] {"foo.5", "w5", "Nats-Expected-Last-Subject-Sequence", "0"});
        assertEquals("{\"stream\":\"B\",\"seq\":5,\"batch\":\"four\",\"count\":2}", four);
        assertTrue(a.jetStream().publish(msg("foo.4", "again", "Nats-Msg-Id", "id-4")).isDuplicate());

        for (Map.Entry<String, Connection> e : conns.entrySet()) {
            for (long seq = 1; seq <= 5; seq++) {
                String expected = "200 " + (seq <= 3 ? "v" + seq : "w" + seq);
                assertEquals(expected, directGet(e.getValue(), "B", seq), "seq " + seq + " on " + e.getKey());
            }
            assertEquals("404", directGet(e.getValue(), "B", 6));
        }
        killLeader(nodes, conns, "B");
        for (Connection c : conns.values()) {
            StreamInfo si;
            try {
                si = eventually(() -> c.jetStreamManagement().getStreamInfo("B"), 30, "stream info");
            } catch (AssertionError e) {
                throw new AssertionError(e.getMessage() + diagnostics(nodes, conns), e);
            }
            assertEquals(5, si.getStreamState().getMsgCount());
            assertEquals(5, si.getStreamState().getLastSequence());
        }
        // the new leader takes batches, and still knows the batch's message id
        Connection s = conns.values().iterator().next();
        String five = eventually(() -> {
            String r = new String(s.request(msg("foo.6", "z6", "Nats-Batch-Id", "five", "Nats-Batch-Sequence", "1",
                    "Nats-Batch-Commit", "1"), TIMEOUT).getData(), StandardCharsets.UTF_8);
            return r.contains("\"error\"") ? null : r;
        }, 30, "a batch after the kill");
        assertTrue(five.contains("\"batch\":\"five\",\"count\":1"), five);
        assertTrue(s.jetStream().publish(msg("foo.4", "again", "Nats-Msg-Id", "id-4")).isDuplicate());
    }

    @Test
    void schedulesFireOnceThroughTheGroup() throws Exception {
        Map<String, Node> nodes = startThree();
        Map<String, Connection> conns = connectAll(nodes);
        Connection a = conns.get("A");
        createR3(a, StreamConfiguration.builder().name("S").subjects("sched.>", "out.>").replicas(3)
                .storageType(StorageType.File).allowDirect(true).allowMessageSchedules().build());
        var js = a.jetStream();
        // a repeating schedule, and a one-shot a few seconds out
        js.publish(msg("sched.tick", "tick", "Nats-Schedule", "@every 1s", "Nats-Schedule-Target", "out.tick"));
        String at = "@at " + DateTimeFormatter.ISO_INSTANT.format(Instant.now().plusSeconds(3)
                .truncatedTo(ChronoUnit.SECONDS));
        js.publish(msg("sched.once", "once", "Nats-Schedule", at, "Nats-Schedule-Target", "out.once"));
        eventually(() -> count(a, "S", "out.tick") >= 3 ? true : null, 60, "three ticks");
        eventually(() -> count(a, "S", "out.once") == 1 ? true : null, 60, "the one-shot");

        killLeader(nodes, conns, "S");
        Connection s = conns.values().iterator().next();
        long before = count(s, "S", "out.tick");
        // the new leader fires the repeating schedule on
        eventually(() -> count(s, "S", "out.tick") >= before + 3 ? true : null, 60, "ticks under the new leader");
        assertEquals(1, count(s, "S", "out.once"), "the one-shot fired once");
        assertEquals(0, count(s, "S", "sched.once"), "the one-shot's schedule was purged when it fired");

        // every replica holds the same messages up to a point all have applied (each get waits for its replica's
        // read index): each tick once, one per scheduled time
        long last = s.jetStreamManagement().getStreamInfo("S").getStreamState().getLastSequence();
        List<List<String>> replicas = new ArrayList<>();
        for (Connection c : conns.values()) {
            List<String> held = new ArrayList<>();
            Set<String> nexts = new HashSet<>();
            for (long seq = 1; seq <= last; seq++) {
                MessageInfo mi;
                try {
                    mi = c.jetStreamManagement().getMessage("S", seq);
                } catch (JetStreamApiException gone) {
                    continue;
                }
                String next = mi.getHeaders() == null ? null : mi.getHeaders().getFirst("Nats-Schedule-Next");
                held.add(seq + " " + mi.getSubject() + " " + next);
                if (mi.getSubject().equals("out.tick")) {
                    assertTrue(nexts.add(next), "tick for " + next + " fired twice: " + held);
                }
            }
            assertTrue(nexts.size() >= 6, "ticks " + held);
            replicas.add(held);
        }
        assertEquals(replicas.get(0), replicas.get(1), "the two surviving replicas hold the same messages");
    }

    private static long count(Connection c, String stream, String subject) throws Exception {
        return c.jetStreamManagement().getStreamInfo(stream, StreamInfoOptions.filterSubjects(subject))
                .getStreamState().getSubjects().stream().mapToLong(x -> x.getCount()).sum();
    }

    /**
     * A direct get by sequence answered by the replica on {@code c}'s server, polled until that replica holds a message
     * there: subject, headers (the server's sequence and time stamp among them) and payload, for comparing replicas.
     */
    private static String heldAt(Connection c, String stream, long seq) throws Exception {
        return eventually(() -> {
            Message m = c.request("$JS.API.DIRECT.GET." + stream, b("{\"seq\":" + seq + "}"), TIMEOUT);
            return m.isStatusMessage() ? null : describe(m);
        }, 120, "seq " + seq + " of " + stream);
    }

    /**
     * The last message of {@code subject} held by the replica on {@code c}'s server, polled until it is a subject
     * delete marker ({@code Nats-Marker-Reason: MaxAge}), described as {@link #heldAt} does.
     */
    private static String markerHeld(Connection c, String stream, String subject) throws Exception {
        return eventually(() -> {
            Message m = c.request("$JS.API.DIRECT.GET." + stream, b("{\"last_by_subj\":\"" + subject + "\"}"),
                    TIMEOUT);
            return m.isStatusMessage() || !"MaxAge".equals(m.getHeaders().getFirst("Nats-Marker-Reason"))
                    ? null
                    : describe(m);
        }, 120, "a MaxAge marker on " + subject + " of " + stream);
    }

    private static String describe(Message m) {
        StringBuilder sb = new StringBuilder(m.getHeaders().getFirst("Nats-Subject"));
        m.getHeaders().entrySet().stream().sorted(Map.Entry.comparingByKey())
                .forEach(e -> sb.append(' ').append(e.getKey()).append('=').append(String.join(",", e.getValue())));
        return sb.append(' ').append(new String(m.getData(), StandardCharsets.UTF_8)).toString();
    }

    @Test
    void expiryFastBatchesAndCountersAgreeOnEveryReplica() throws Exception {
        Map<String, Node> nodes = startThree();
        Map<String, Connection> conns = connectAll(nodes);
        Connection a = conns.get("A");

        // expiry: a KV bucket with limit markers (they live 1 hour); two keys with their own TTLs. The markers are
        // written once, by the group, so every replica holds them under the same sequences with the same time stamps
        eventually(() -> a.keyValueManagement().create(KeyValueConfiguration.builder().name("exp").replicas(3)
                .storageType(StorageType.File).limitMarker(Duration.ofHours(1)).build()), 180, "R3 bucket exp");
        // a loaded machine stretches a commit past jnats' default 2 s; a 503 while the new group settles is retried
        // (a message id makes a retry of a write that did land a duplicate)
        JetStreamOptions patient = JetStreamOptions.builder().requestTimeout(Duration.ofSeconds(30)).build();
        long one = eventually(() -> a.jetStream(patient).publish(msg("$KV.exp.one", "v1", "Nats-TTL", "1s",
                "Nats-Msg-Id", "one")), 60, "key one").getSeqno();
        long two = eventually(() -> a.jetStream(patient).publish(msg("$KV.exp.two", "v2", "Nats-TTL", "2s",
                "Nats-Msg-Id", "two")), 60, "key two").getSeqno();
        // Where the markers land depends on time, as on nats-server: a marker is stored when its key expires, so when
        // the second put is slow (a loaded machine, a 503 retried) key one's marker comes before it (one=1, marker=2,
        // two=3, marker=4). Each marker is found as its key's last message, not at a sequence guessed in advance
        Map<String, String> markers = new LinkedHashMap<>();
        try {
            for (String key : List.of("one", "two")) {
                markers.put(key, markerHeld(a, "KV_exp", "$KV.exp." + key));
            }
        } catch (AssertionError e) {
            StreamInfo si = a.jetStreamManagement().getStreamInfo("KV_exp");
            throw new AssertionError(e.getMessage() + "; state " + si.getStreamState() + ", leader "
                    + si.getClusterInfo().getLeader() + diagnostics(nodes, conns), e);
        }
        for (Map.Entry<String, Connection> e : conns.entrySet()) {
            for (String key : List.of("one", "two")) {
                // the same sequence, time stamp and headers on every replica: written once, by the group
                assertEquals(markers.get(key), markerHeld(e.getValue(), "KV_exp", "$KV.exp." + key),
                        "marker of " + key + " on " + e.getKey());
            }
            // the marker's rollup took the expired value, and each key expired once: two values and two markers
            assertEquals("404", directGet(e.getValue(), "KV_exp", one), "key one's value on " + e.getKey());
            assertEquals("404", directGet(e.getValue(), "KV_exp", two), "key two's value on " + e.getKey());
            assertEquals("404", directGet(e.getValue(), "KV_exp", 5), "one marker per key, on " + e.getKey());
        }
        StreamState state = a.jetStreamManagement().getStreamInfo("KV_exp").getStreamState();
        assertEquals(2, state.getMsgCount(), state.toString());
        assertEquals(4, state.getLastSequence(), state.toString());

        // fast-ingest batches on R3: proposed as publishes, flow-acked and pub-acked by the leader after commit
        createR3(a, StreamConfiguration.builder().name("FB").subjects("fb.>").replicas(3).storageType(StorageType.File)
                .allowDirect(true).allowBatched().build());
        FastBatchIT.Batch fb = eventually(() -> {
            // a batch whose start found no leader ready (503) stored nothing: a new one is started
            FastBatchIT.Batch attempt = new FastBatchIT.Batch(conns.get("B"), "r3" + System.nanoTime(), 5, "fail");
            attempt.send("fb.a", 1, FastBatchIT.START);
            JsonNode ack = attempt.nextJson();
            if (!"ack".equals(ack.path("type").asText())) {
                attempt.close();
                throw new IllegalStateException("batch start: " + ack);
            }
            return attempt;
        }, 60, "a fast batch started");
        try (fb) {
            JsonNode ack;
            for (int seq = 2; seq <= 11; seq++) {
                fb.send("fb.a", seq, FastBatchIT.APPEND);
            }
            for (long expected : new long[] {5, 10}) {
                ack = fb.nextJson();
                assertEquals(expected, ack.path("seq").asLong(), ack.toString());
            }
            fb.send("fb.z", 12, FastBatchIT.COMMIT);
            JsonNode pubAck = fb.nextJson();
            assertEquals(12, pubAck.path("seq").asLong(), pubAck.toString());
            assertEquals(12, pubAck.path("count").asInt(), pubAck.toString());
        }
        for (Connection c : conns.values()) {
            assertTrue(heldAt(c, "FB", 12).startsWith("fb.z "));
            assertEquals(12, c.jetStreamManagement().getStreamInfo("FB").getStreamState().getMsgCount());
        }

        // counters across a leader step-down: totals carry on, and every replica holds the same values
        createR3(a, StreamConfiguration.builder().name("CNT").subjects("cnt.>").replicas(3)
                .storageType(StorageType.File).allowDirect(true).allowMessageCounter().build());
        for (int i = 1; i <= 5; i++) {
            String val = eventually(() -> a.jetStream(patient).publish(MessageCounterIT.incr("cnt.x", "1")), 60,
                    "an increment").getVal();
            assertEquals(Integer.toString(i), val);
        }
        String old = a.jetStreamManagement().getStreamInfo("CNT").getClusterInfo().getLeader();
        Message down = a.request("$JS.API.STREAM.LEADER.STEPDOWN.CNT", new byte[0], TIMEOUT);
        assertTrue(new String(down.getData(), StandardCharsets.UTF_8).contains("\"success\":true"),
                new String(down.getData(), StandardCharsets.UTF_8));
        eventually(() -> {
            String l = a.jetStreamManagement().getStreamInfo("CNT").getClusterInfo().getLeader();
            return l == null || l.equals(old) ? null : l;
        }, 60, "a new leader of CNT");
        Connection c2 = conns.get("C");
        for (int i = 1; i <= 3; i++) {
            // the new leader adds to the total the old one reached (503s while it settles are not applied)
            String val = eventually(() -> c2.jetStream(patient).publish(MessageCounterIT.incr("cnt.x", "10")), 30,
                    "an increment").getVal();
            assertEquals(Integer.toString(5 + 10 * i), val);
        }
        String total = heldAt(a, "CNT", 8);
        assertTrue(total.startsWith("cnt.x ") && total.endsWith("{\"val\":\"35\"}"), total);
        for (Map.Entry<String, Connection> e : conns.entrySet()) {
            for (long seq = 1; seq <= 8; seq++) {
                assertEquals(heldAt(a, "CNT", seq), heldAt(e.getValue(), "CNT", seq),
                        "seq " + seq + " on " + e.getKey());
            }
        }
    }
}
