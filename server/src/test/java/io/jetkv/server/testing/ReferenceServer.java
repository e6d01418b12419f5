package io.jetkv.server.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Debian's nats-server (the reference), started on a random port for differential tests. Available only
 * where {@code nats-server} is installed; {@code .ci/run} installs it.
 */
public final class ReferenceServer implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile("Listening for client connections on [^:]+:(\\d+)");
    private static final Pattern MONITOR = Pattern.compile("Starting http monitor on [^:]+:(\\d+)");
    private static final Pattern WEBSOCKET = Pattern.compile("Listening for websocket clients on wss?://[^:]+:(\\d+)");

    private final Process process;
    private final int port;
    private final int monitorPort;
    private final int websocketPort;

    private ReferenceServer(Process process, int port, int monitorPort, int websocketPort) {
        this.process = process;
        this.port = port;
        this.monitorPort = monitorPort;
        this.websocketPort = websocketPort;
    }

    public static Path binary() {
        for (String p : List.of("/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server")) {
            if (Files.isExecutable(Path.of(p))) {
                return Path.of(p);
            }
        }
        return null;
    }

    /**
     * True when nats-server is installed. With {@code JETKV_REQUIRE_REFERENCE=1} (set by {@code .ci/run})
     * a missing binary is an error rather than a skip.
     */
    public static boolean available() {
        if (binary() == null && "1".equals(System.getenv("JETKV_REQUIRE_REFERENCE"))) {
            throw new IllegalStateException("nats-server is required (JETKV_REQUIRE_REFERENCE=1) but not installed");
        }
        return binary() != null;
    }

    /** Starts nats-server with {@code -p -1} (random port) plus {@code extraArgs}; returns once it listens. */
    public static ReferenceServer start(String... extraArgs) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(binary().toString(), "-a", "127.0.0.1", "-p", "-1"));
        cmd.addAll(List.of(extraArgs));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        CompletableFuture<Integer> port = new CompletableFuture<>();
        // the monitoring port (with -m) is logged before the client port
        int[] monitorPort = new int[1];
        // so is the websocket port
        int[] websocketPort = new int[1];
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    Matcher mon = MONITOR.matcher(line);
                    if (mon.find()) {
                        monitorPort[0] = Integer.parseInt(mon.group(1));
                    }
                    Matcher ws = WEBSOCKET.matcher(line);
                    if (ws.find()) {
                        websocketPort[0] = Integer.parseInt(ws.group(1));
                    }
                    Matcher m = LISTENING.matcher(line);
                    if (m.find()) {
                        port.complete(Integer.parseInt(m.group(1)));
                    }
                }
            } catch (IOException ignored) {
                // the process ended
            }
            port.completeExceptionally(new IOException("nats-server exited before listening"));
        }, "nats-server-log");
        reader.setDaemon(true);
        reader.start();
        try {
            int clientPort = port.get(10, TimeUnit.SECONDS);
            return new ReferenceServer(p, clientPort, monitorPort[0], websocketPort[0]);
        } catch (Exception e) {
            p.destroyForcibly();
            throw new IOException("nats-server did not start", e);
        }
    }

    public int port() {
        return port;
    }

    /** The monitoring port when started with {@code -m}, else 0. */
    public int monitorPort() {
        return monitorPort;
    }

    /** The websocket port when the config has a {@code websocket} block, else 0. */
    public int websocketPort() {
        return websocketPort;
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }
}
