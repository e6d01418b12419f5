package io.jetkv.conformance.faults;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A server process ({@code ./jetkv} or {@code nats-server}) whose log is drained for its whole life: the ports
 * it chose are read back from the log lines both kinds print, and the last lines are kept for failure messages.
 * Signals are sent by pid ({@code kill -STOP}, ...). Every process started here is also killed when the test
 * JVM exits, so a failing test leaves nothing behind. Used from test threads.
 */
public final class LoggedProcess implements AutoCloseable {
    private static final Pattern CLIENT = Pattern.compile("Listening for client connections on [^ ]*:(\\d+)");
    private static final Pattern ROUTE = Pattern.compile("Listening for route connections on [^ ]*:(\\d+)");
    private static final Pattern MONITOR = Pattern.compile("Starting http monitor on [^ ]*:(\\d+)");
    /** JetKV's clustered JetStream: the port its Ratis server listens on. */
    private static final Pattern RAFT = Pattern.compile("Ratis peer .* listening on [^ ,]*:(\\d+)");
    private static final int LOG_LINES_KEPT = 400;
    private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            for (Process p : LIVE) {
                p.destroyForcibly();
            }
        }, "kill-leftover-servers"));
    }

    private final String name;
    private final Process process;
    private final Deque<String> log = new ArrayDeque<>();
    private final CompletableFuture<Integer> clientPort = new CompletableFuture<>();
    private final CompletableFuture<Integer> routePort = new CompletableFuture<>();
    private final CompletableFuture<Integer> monitorPort = new CompletableFuture<>();
    private final CompletableFuture<Integer> raftPort = new CompletableFuture<>();
    private volatile boolean paused;

    private LoggedProcess(String name, Process process) {
        this.name = name;
        this.process = process;
    }

    /** Starts {@code command} (stderr into stdout) with {@code env} added to this JVM's environment. */
    public static LoggedProcess start(String name, List<String> command, Map<String, String> env) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().putAll(env);
        LoggedProcess lp = new LoggedProcess(name, pb.start());
        LIVE.add(lp.process);
        Thread reader = new Thread(lp::drain, name + "-log");
        reader.setDaemon(true);
        reader.start();
        return lp;
    }

    public static LoggedProcess start(String name, List<String> command) throws IOException {
        return start(name, command, Map.of());
    }

    private void drain() {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                synchronized (log) {
                    log.addLast(line);
                    if (log.size() > LOG_LINES_KEPT) {
                        log.removeFirst();
                    }
                }
                complete(CLIENT, line, clientPort);
                complete(ROUTE, line, routePort);
                complete(MONITOR, line, monitorPort);
                complete(RAFT, line, raftPort);
            }
        } catch (IOException ignored) {
            // the process ended
        }
        IOException ended = new IOException(name + " ended before it logged this port");
        clientPort.completeExceptionally(ended);
        routePort.completeExceptionally(ended);
        monitorPort.completeExceptionally(ended);
        raftPort.completeExceptionally(ended);
    }

    private static void complete(Pattern p, String line, CompletableFuture<Integer> port) {
        Matcher m = p.matcher(line);
        if (m.find()) {
            port.complete(Integer.parseInt(m.group(1)));
        }
    }

    public String name() {
        return name;
    }

    public long pid() {
        return process.pid();
    }

    /** The client port from the log; waits for the line up to 120 s (a JVM start on a loaded machine). */
    public int clientPort() throws IOException {
        return port(clientPort, "client");
    }

    public int routePort() throws IOException {
        return port(routePort, "route");
    }

    public int monitorPort() throws IOException {
        return port(monitorPort, "monitor");
    }

    /** JetKV's Ratis port once the log showed it, else -1 (JetStream starts after the client port). */
    public int raftPortNow() {
        return raftPort.isDone() && !raftPort.isCompletedExceptionally() ? raftPort.join() : -1;
    }

    private int port(CompletableFuture<Integer> f, String what) throws IOException {
        try {
            return f.get(120, TimeUnit.SECONDS);
        } catch (Exception e) {
            process.destroyForcibly();
            throw new IOException(name + " did not log its " + what + " port: " + e + "\n" + recentLog(), e);
        }
    }

    /** The last lines of the log. */
    public List<String> log() {
        synchronized (log) {
            return new ArrayList<>(log);
        }
    }

    public String recentLog() {
        List<String> l = log();
        return String.join("\n", l.subList(Math.max(0, l.size() - 40), l.size()));
    }

    public boolean alive() {
        return process.isAlive();
    }

    public boolean paused() {
        return paused;
    }

    /** {@code kill -<signal> <pid>}, e.g. {@code "STOP"}. */
    public void signal(String signal) throws IOException, InterruptedException {
        Process k = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).inheritIO().start();
        if (!k.waitFor(10, TimeUnit.SECONDS) || k.exitValue() != 0) {
            throw new IOException("kill -" + signal + " " + process.pid() + " failed");
        }
    }

    /** SIGSTOP: the process keeps its sockets but does nothing, like a long GC pause or a frozen VM. */
    public void pause() throws IOException, InterruptedException {
        signal("STOP");
        paused = true;
    }

    /** SIGCONT. */
    public void resume() throws IOException, InterruptedException {
        signal("CONT");
        paused = false;
    }

    /** SIGKILL (a stopped process too), then waits until it is gone. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException(name + " survived SIGKILL");
        }
        LIVE.remove(process);
    }

    /** SIGTERM and waits for a graceful exit; SIGKILL after 20 s. Returns the exit code. */
    public int terminate() throws InterruptedException, IOException {
        if (paused) {
            resume();
        }
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            kill();
        }
        LIVE.remove(process);
        return process.exitValue();
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            kill();
        }
        LIVE.remove(process);
    }
}
