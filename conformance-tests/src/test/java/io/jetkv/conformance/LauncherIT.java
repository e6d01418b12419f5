package io.jetkv.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nats.client.Connection;
import io.nats.client.JetStreamManagement;
import io.nats.client.Nats;
import io.nats.client.api.StreamConfiguration;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./jetkv} as a drop-in for {@code nats-server} in a test harness: started with nats-server's flags,
 * waited for, used, and stopped with SIGTERM. Runs the real launcher script against the jar this build made.
 */
class LauncherIT {
    private static final Pattern LISTENING = Pattern.compile("Listening for client connections on [^:]+:(\\d+)");
    private static final Path LAUNCHER = Path.of("..", "jetkv").toAbsolutePath().normalize();

    @TempDir
    Path store;

    @Test
    void versionAnswersInNatsServerShape() throws Exception {
        Process p = new ProcessBuilder(LAUNCHER.toString(), "--version").redirectErrorStream(false).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals("nats-server: v2.14.5\n", out);
    }

    @Test
    void harnessStartsUsesAndStopsLikeNatsServer() throws Exception {
        Process p = new ProcessBuilder(LAUNCHER.toString(), "-a", "127.0.0.1", "--port", "-1", "-js", "-sd",
                store.toString()).redirectErrorStream(true).start();
        List<String> log = new CopyOnWriteArrayList<>();
        CompletableFuture<Integer> port = new CompletableFuture<>();
        CompletableFuture<Void> exited = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    log.add(line);
                    Matcher m = LISTENING.matcher(line);
                    if (m.find()) {
                        port.complete(Integer.parseInt(m.group(1)));
                    }
                }
            } catch (IOException ignored) {
                // process ended
            }
            port.completeExceptionally(new IOException("launcher ended before listening: " + log));
            exited.complete(null);
        }, "launcher-log");
        reader.setDaemon(true);
        reader.start();
        try {
            int p0 = port.get(120, TimeUnit.SECONDS);
            try (Connection nc = Nats.connect("nats://127.0.0.1:" + p0)) {
                JetStreamManagement jsm = nc.jetStreamManagement();
                jsm.addStream(StreamConfiguration.builder().name("H").subjects("h.>").build());
                nc.jetStream().publish("h.1", "x".getBytes(StandardCharsets.UTF_8));
                assertEquals(1, jsm.getStreamInfo("H").getStreamState().getMsgCount());
            }
            // SIGTERM, as harnesses do (the launcher exec'd java, so the server gets it); Process.destroy() would
            // also close our end of its output, hiding the shutdown log
            p.toHandle().destroy();
            assertTrue(p.waitFor(20, TimeUnit.SECONDS), "stopped on SIGTERM");
            exited.get(5, TimeUnit.SECONDS);
            assertTrue(log.stream().anyMatch(l -> l.contains("Server is ready")), log.toString());
            assertTrue(log.stream().anyMatch(l -> l.contains("Server Exiting")), log.toString());
            assertTrue(Files.isDirectory(store.resolve("jetstream")), "data under <store_dir>/jetstream");
        } finally {
            p.destroyForcibly();
        }
    }
}
