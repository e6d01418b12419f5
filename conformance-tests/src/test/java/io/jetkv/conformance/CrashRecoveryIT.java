package io.jetkv.conformance;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.JetStreamManagement;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.api.MessageInfo;
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
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pub acks are a durability promise: every message the server acknowledged is still there after the server
 * process dies by SIGKILL mid-stream and restarts on the same store. The server runs as its own JVM
 * ({@code io.jetkv.server.Main}, the classpath of this test JVM), so the kill takes RocksDB and every
 * server thread down with no shutdown hook. A process kill leaves the OS page cache alone, so this proves
 * the ack ordering (ack after the write-ahead log write, or after fsync with {@code sync_always}), not
 * survival of a power cut.
 */
class CrashRecoveryIT {
    private static final String STREAM = "CRASH";
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    // Kill once this many acks came back in a cycle; the publisher is well short of its cap by then.
    private static final int ACKS_BEFORE_KILL = 4_000;
    private static final int MAX_PUBLISHES_PER_CYCLE = 200_000;
    // Outstanding pub acks (and direct gets while verifying): enough to keep group commits full.
    private static final int WINDOW = 512;

    @TempDir
    Path store;

    /** What the test believes the stream must hold: acknowledged stream sequence to payload. */
    private final ConcurrentSkipListMap<Long, byte[]> acked = new ConcurrentSkipListMap<>();

    @Test
    void ackedMessagesSurviveRepeatedKills() throws Exception {
        for (int cycle = 1; cycle <= 3; cycle++) {
            crashCycle(cycle);
        }
        // One more clean start: the store holds everything acknowledged over all three kills.
        try (ServerProcess server = ServerProcess.start(store)) {
            verify(server, 4);
        }
    }

    @Test
    void ackedMessagesSurviveKillWithSyncAlways() throws Exception {
        crashCycle(1, "jetstream { sync_always: true }");
        try (ServerProcess server = ServerProcess.start(store)) {
            verify(server, 2);
        }
    }

    private void crashCycle(int cycle, String... configLines) throws Exception {
        Path config = null;
        if (configLines.length > 0) {
            config = Files.writeString(store.resolve("crash.conf"), String.join("\n", configLines) + "\n");
        }
        try (ServerProcess server = ServerProcess.start(store, config)) {
            if (cycle == 1) {
                createStream(server);
            } else {
                verify(server, cycle);
            }
            publishUntilKilled(server, cycle);
        }
    }

    private static void createStream(ServerProcess server) throws Exception {
        try (Connection nc = connect(server)) {
            nc.jetStreamManagement().addStream(StreamConfiguration.builder()
                    .name(STREAM)
                    .subjects("crash.>")
                    .storageType(StorageType.File)
                    .allowDirect(true)
                    .build());
        }
    }

    /**
     * Publishes asynchronously on another thread with at most {@link #WINDOW} acks outstanding, records each
     * successful ack, and kills the server once {@link #ACKS_BEFORE_KILL} acks arrived in this cycle.
     */
    private void publishUntilKilled(ServerProcess server, int cycle) throws Exception {
        CountDownLatch enoughAcks = new CountDownLatch(ACKS_BEFORE_KILL);
        AtomicReference<String> duplicate = new AtomicReference<>();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger published = new AtomicInteger();
        CompletableFuture<Void> publisher;
        try (Connection nc = connect(server)) {
            JetStream js = nc.jetStream();
            Semaphore window = new Semaphore(WINDOW);
            publisher = CompletableFuture.runAsync(() -> {
                try {
                    for (int i = 0; i < MAX_PUBLISHES_PER_CYCLE && !stop.get(); i++) {
                        if (!window.tryAcquire(TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                            return; // the server is gone and the outstanding acks timed out
                        }
                        byte[] payload = payload(cycle, i);
                        js.publishAsync("crash." + (i % 16), payload).whenComplete((ack, error) -> {
                            window.release();
                            if (error == null && !ack.hasError()) {
                                byte[] before = acked.putIfAbsent(ack.getSeqno(), payload);
                                if (before != null) {
                                    duplicate.compareAndSet(null, "seq " + ack.getSeqno() + " acked twice");
                                }
                                enoughAcks.countDown();
                            }
                        });
                        published.incrementAndGet();
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (IllegalStateException e) {
                    // the connection closed under the publisher: expected once the server was killed
                }
            });
            boolean reached = enoughAcks.await(TIMEOUT.toSeconds() * 2, TimeUnit.SECONDS);
            server.kill();
            stop.set(true);
            assertTrue(reached, "cycle " + cycle + ": only " + (ACKS_BEFORE_KILL - enoughAcks.getCount())
                    + " acks before the deadline; server log:\n" + server.recentLog());
            assertTrue(published.get() < MAX_PUBLISHES_PER_CYCLE, "killed after the publisher had finished");
        }
        publisher.get(TIMEOUT.toSeconds() * 2, TimeUnit.SECONDS);
        assertNull(duplicate.get());
    }

    /** After a restart: every acknowledged sequence holds its payload, and no sequence went backwards. */
    private void verify(ServerProcess server, int cycle) throws Exception {
        try (Connection nc = connect(server)) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            StreamInfo info = jsm.getStreamInfo(STREAM);
            long maxAcked = acked.lastKey();
            assertTrue(info.getStreamState().getLastSequence() >= maxAcked, "restart " + cycle + ": last seq "
                    + info.getStreamState().getLastSequence() + " < highest acked seq " + maxAcked);
            assertTrue(info.getStreamState().getMsgCount() >= acked.size(),
                    "restart " + cycle + ": " + info.getStreamState().getMsgCount() + " messages, "
                            + acked.size() + " acked");

            // Direct gets, pipelined in a bounded window: sequential round trips would take minutes here.
            String subject = "$JS.API.DIRECT.GET." + STREAM;
            Semaphore window = new Semaphore(WINDOW);
            List<String> problems = new ArrayList<>();
            Map<Long, CompletableFuture<Void>> pending = new ConcurrentHashMap<>();
            for (Map.Entry<Long, byte[]> e : acked.entrySet()) {
                long seq = e.getKey();
                byte[] want = e.getValue();
                assertTrue(window.tryAcquire(TIMEOUT.toSeconds(), TimeUnit.SECONDS), "direct get stalled");
                CompletableFuture<Void> check = nc.requestWithTimeout(
                                subject, ("{\"seq\":" + seq + "}").getBytes(StandardCharsets.UTF_8), TIMEOUT)
                        .thenAccept(reply -> checkMessage(reply, seq, want, problems))
                        .whenComplete((v, error) -> {
                            window.release();
                            pending.remove(seq);
                        });
                pending.put(seq, check);
            }
            for (CompletableFuture<Void> check : List.copyOf(pending.values())) {
                try {
                    check.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    synchronized (problems) {
                        problems.add(e.getCause().toString());
                    }
                }
            }
            synchronized (problems) {
                assertTrue(problems.isEmpty(), "restart " + cycle + ", " + problems.size() + " of " + acked.size()
                        + " acked messages wrong, first: " + problems.subList(0, Math.min(5, problems.size())));
            }
        }
    }

    private static void checkMessage(Message reply, long seq, byte[] want, List<String> problems) {
        String problem = null;
        // A miss comes back as a status-only reply (404), which MessageInfo would parse as an empty message.
        MessageInfo got = reply.isStatusMessage() ? null : new MessageInfo(reply, STREAM, true);
        if (got == null) {
            problem = "seq " + seq + ": " + reply.getStatus();
        } else if (got.getSeq() != seq) {
            problem = "seq " + seq + ": got seq " + got.getSeq();
        } else if (!Arrays.equals(want, got.getData())) {
            problem = "seq " + seq + ": payload " + new String(got.getData(), StandardCharsets.UTF_8);
        }
        if (problem != null) {
            synchronized (problems) {
                problems.add(problem);
            }
        }
    }

    private static byte[] payload(int cycle, int i) {
        return ("cycle " + cycle + " msg " + i + " " + "x".repeat(64)).getBytes(StandardCharsets.UTF_8);
    }

    private static Connection connect(ServerProcess server) throws Exception {
        return Nats.connect(Options.builder()
                .server("nats://127.0.0.1:" + server.port())
                .noReconnect()
                .connectionTimeout(TIMEOUT)
                .build());
    }

    /** {@code io.jetkv.server.Main} in a JVM of its own, on a port it picked ({@code -p -1}). */
    private static final class ServerProcess implements AutoCloseable {
        private static final Pattern LISTENING =
                Pattern.compile("Listening for client connections on [^:]+:(\\d+)");
        private static final int LOG_LINES_KEPT = 40;

        private final Process process;
        private final Deque<String> log;
        private final int port;

        private ServerProcess(Process process, Deque<String> log, int port) {
            this.process = process;
            this.log = log;
            this.port = port;
        }

        static ServerProcess start(Path store) throws IOException {
            return start(store, null);
        }

        static ServerProcess start(Path store, Path config) throws IOException {
            List<String> cmd = new ArrayList<>(List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx256m",
                    "-cp", System.getProperty("java.class.path"),
                    "io.jetkv.server.Main",
                    "-js", "-sd", store.toString(), "-a", "127.0.0.1", "-p", "-1"));
            if (config != null) {
                cmd.addAll(List.of("-c", config.toString()));
            }
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            Deque<String> log = new ArrayDeque<>();
            CompletableFuture<Integer> port = new CompletableFuture<>();
            // Drains the log for the process's whole life: a full pipe would block the server.
            Thread reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(
                        new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        synchronized (log) {
                            log.addLast(line);
                            if (log.size() > LOG_LINES_KEPT) {
                                log.removeFirst();
                            }
                        }
                        Matcher m = LISTENING.matcher(line);
                        if (m.find()) {
                            port.complete(Integer.parseInt(m.group(1)));
                        }
                    }
                } catch (IOException ignored) {
                    // the process ended
                }
                port.completeExceptionally(new IOException("jetkv exited before listening"));
            }, "jetkv-log");
            reader.setDaemon(true);
            reader.start();
            try {
                // Generous: a JVM start plus RocksDB recovery on a busy two-core machine.
                return new ServerProcess(p, log, port.get(60, TimeUnit.SECONDS));
            } catch (Exception e) {
                p.destroyForcibly();
                String recent;
                synchronized (log) {
                    recent = String.join("\n", log);
                }
                throw new IOException("jetkv did not start: " + e + "\n" + recent, e);
            }
        }

        int port() {
            return port;
        }

        /** SIGKILL, then waits for the process to be gone. */
        void kill() throws InterruptedException {
            process.destroyForcibly();
            if (!process.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                fail("jetkv survived SIGKILL for " + TIMEOUT);
            }
        }

        String recentLog() {
            synchronized (log) {
                return String.join("\n", log);
            }
        }

        /** A clean stop (SIGTERM) for a server that was not killed; SIGKILL if that hangs. */
        @Override
        public void close() throws InterruptedException {
            if (!process.isAlive()) {
                return;
            }
            process.destroy();
            if (!process.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            }
        }
    }
}
