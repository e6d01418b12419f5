package io.jetkv.conformance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nats.client.Connection;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.PublishOptions;
import io.nats.client.api.MessageInfo;
import io.nats.client.api.PublishAck;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.impl.Headers;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Snapshots and log compaction of a replicated stream on a three-process JetKV cluster (A the seed, B and C
 * routed to it; {@code -Djetkv.raft.snapshot.threshold=32} so that a group snapshots and purges its Raft log
 * every few dozen entries): C is stopped, the stream moves on far past C's log, C restarts and catches up by
 * installing the leader's snapshot, then holds exactly the same messages under the same sequences.
 */
class ReplicatedSnapshotIT {
    private static final Pattern CLIENT_PORT = Pattern.compile("Listening for client connections on [^:]+:(\\d+)");
    private static final Pattern ROUTE_PORT = Pattern.compile("Listening for route connections on [^:]+:(\\d+)");
    private static final Path LAUNCHER = Path.of("..", "jetkv").toAbsolutePath().normalize();
    private static final int SNAPSHOT_THRESHOLD = 32;

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
                // a stopped node's connection
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
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("JETKV_JAVA_OPTS", "-Djetkv.raft.snapshot.threshold=" + SNAPSHOT_THRESHOLD);
        Process p = pb.start();
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

    /**
     * Publishes message {@code i} until acknowledged: its msg id makes a retry after a leader change (503, or a
     * lost ack) a duplicate rather than a second message, so message i is always sequence i.
     */
    private static void publish(Connection c, int i) throws Exception {
        Headers h = new Headers().add("i", Integer.toString(i));
        byte[] body = ("message " + i).getBytes(StandardCharsets.UTF_8);
        PublishAck ack = eventually(() -> c.jetStream().publish("snap." + (i % 5), h, body,
                PublishOptions.builder().messageId("m" + i).build()), 60, "ack of message " + i);
        assertEquals(i, ack.getSeqno(), "message " + i);
    }

    /** The message at {@code seq} as the requesting node's replica has it (after its read index), or null. */
    private static MessageInfo get(JetStreamManagement jsm, long seq) throws Exception {
        try {
            return jsm.getMessage("SNAP", seq);
        } catch (JetStreamApiException e) {
            if (e.getApiErrorCode() == 10037) {
                return null; // no message found
            }
            throw e;
        }
    }

    /** Snapshot files of every Raft group on a node, and whether some group's log no longer starts at index 0. */
    private static boolean compacted(Path store) throws IOException {
        Path data = store.resolve("ratis").resolve("data");
        if (!Files.isDirectory(data)) {
            return false;
        }
        try (Stream<Path> groups = Files.list(data)) {
            for (Path g : groups.toList()) {
                Path sm = g.resolve("sm");
                Path current = g.resolve("current");
                if (!Files.isDirectory(sm) || !Files.isDirectory(current)) {
                    continue;
                }
                boolean snapshot;
                try (Stream<Path> files = Files.list(sm)) {
                    snapshot = files.anyMatch(f -> f.getFileName().toString().matches("snapshot\\.\\d+_\\d+"));
                }
                boolean fromZero;
                try (Stream<Path> files = Files.list(current)) {
                    fromZero = files.anyMatch(f -> f.getFileName().toString().startsWith("log_0-")
                            || f.getFileName().toString().equals("log_inprogress_0"));
                }
                if (snapshot && !fromZero) {
                    return true;
                }
            }
        }
        return false;
    }

    @Test
    void stoppedReplicaCatchesUpFromSnapshotAfterLogPurge() throws Exception {
        Node a = start("A", null);
        Node b = start("B", a.routePort());
        Node c = start("C", a.routePort());
        Connection ca = connect(a);
        // max_msgs: the oldest messages go while C is away, so the snapshot must remove them on C too
        eventually(() -> ca.jetStreamManagement().addStream(StreamConfiguration.builder().name("SNAP")
                .subjects("snap.>").replicas(3).maxMessages(150).storageType(StorageType.File).build()),
                120, "R3 stream SNAP");
        int before = 20;
        for (int i = 1; i <= before; i++) {
            publish(ca, i);
        }
        // C has the first messages (its own replica answers a client on C after its read index)
        Connection cc = connect(c);
        assertNotNull(eventually(() -> get(cc.jetStreamManagement(), before), 30, "message 20 on C"));

        c.process().destroy();
        assertTrue(c.process().waitFor(30, TimeUnit.SECONDS), "C stopped");
        connections.remove(cc);

        int total = 400;
        for (int i = before + 1; i <= total; i++) {
            publish(ca, i);
        }
        // A and B snapshotted and purged the stream's log past everything C has
        try {
            eventually(() -> compacted(tmp.resolve("A")) && compacted(tmp.resolve("B")) ? true : null, 60,
                    "snapshots and a purged log on A and B");
        } catch (AssertionError e) {
            List<String> files;
            try (Stream<Path> all = Files.walk(tmp.resolve("A").resolve("ratis"))) {
                files = all.map(Path::toString).toList();
            }
            throw new AssertionError(e.getMessage() + "; A's Raft files: " + files + "; A's snapshot log: "
                    + a.log().stream().filter(l -> l.contains("napshot") || l.contains("purge")).toList(), e);
        }

        Node c2 = start("C", a.routePort());
        try {
            eventually(() -> c2.log().stream().anyMatch(l -> l.contains("stream SNAP: snapshot installed")) ? true
                    : null, 120, "C to install the stream's snapshot");
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; C's log: " + c2.log(), e);
        }
        Connection cc2 = connect(c2);
        JetStreamManagement onC = cc2.jetStreamManagement();
        JetStreamManagement onA = ca.jetStreamManagement();
        try {
            assertNotNull(eventually(() -> get(onC, total), 60, "the last message on C"));
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; C's log: " + c2.log().stream()
                    .filter(l -> l.contains("[ERR]") || l.contains("[WRN]") || l.contains("SNAP")).toList(), e);
        }
        int present = 0;
        for (long seq = 1; seq <= total; seq++) {
            MessageInfo x = get(onA, seq);
            MessageInfo y = get(onC, seq);
            assertEquals(x == null, y == null, "seq " + seq + " stored on A and C alike");
            if (x == null) {
                continue;
            }
            present++;
            assertEquals(seq, y.getSeq());
            assertEquals(x.getSubject(), y.getSubject(), "subject of " + seq);
            assertArrayEquals(x.getData(), y.getData(), "payload of " + seq);
            assertEquals(x.getHeaders().getFirst("i"), y.getHeaders().getFirst("i"), "headers of " + seq);
            assertEquals(Long.toString(seq), y.getHeaders().getFirst("i"));
            assertEquals(x.getTime(), y.getTime(), "timestamp of " + seq);
        }
        assertEquals(150, present, "max_msgs kept the newest 150 on both");

        // C then follows the log as usual, and a retried msg id is still a duplicate after the install
        publish(ca, total + 1);
        assertNotNull(eventually(() -> get(onC, total + 1), 30, "a message after the install on C"));
        PublishAck dup = cc2.jetStream().publish("snap.0", "again".getBytes(StandardCharsets.UTF_8),
                PublishOptions.builder().messageId("m" + total).build());
        assertTrue(dup.isDuplicate(), "msg id m400 is still in the dedupe window");
    }
}
