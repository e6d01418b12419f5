package io.jetkv.conformance.faults;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jetkv.server.testing.ClusterProbes;
import io.nats.client.Connection;
import io.nats.client.Nats;
import io.nats.client.Options;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.StringJoiner;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * N server processes of one {@link ServerKind} forming a cluster on loopback, each with a generated config
 * (server_name, client/route/monitor ports chosen by the server and read back from its log, JetStream in its own
 * store directory), and the means to hurt it: kill -9, SIGTERM, SIGSTOP/SIGCONT and restart of a node on the
 * same store and client port, and network faults on the links between nodes.
 *
 * <p>Links: with {@link Builder#proxied}, node i reaches node j only through a {@link FaultProxy} of its own
 * ({@code i -> j}); every node lists all its proxies as routes and advertises an unreachable route address, so
 * that gossip cannot add a direct route around the proxies. A route between i and j is one TCP connection
 * through either {@code i -> j} or {@code j -> i}, so a cut blocks both. Without proxies, nodes list only
 * node 0 (the seed) and find each other by gossip.
 *
 * <p>JetKV's Raft traffic (Apache Ratis over gRPC) does not travel on routes as nats-server's does, so with
 * proxies and JetStream each JetKV node also reaches every other node's Ratis port through a proxy of its own,
 * and a network fault cuts both. Ratis has one address per peer, the same for every node, so the proxies of
 * target j all listen on one port, each on its own loopback address {@code 127.0.(i+1).(j+1)}, and node i
 * resolves j's advertised name {@code raft-nj} to its own proxy's address through a hosts file of its own
 * ({@code -Djdk.net.hosts.file}; the advertised name is set with {@code -Djetkv.cluster.raft_advertise}).
 *
 * <p>Used from the test thread; {@link #close} kills everything, whatever state the test left.
 */
public final class ProcessCluster implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private final ServerKind kind;
    private final Path dir;
    private final String clusterName;
    private final boolean jetStream;
    private final List<String> extraConfig;
    private final java.util.Map<Integer, List<String>> nodeConfig;
    private final List<Node> nodes = new ArrayList<>();
    private final FaultProxy[][] proxies; // [dialer][target], null without proxies
    private final FaultProxy[][] raftProxies; // [dialer][target], JetKV's Ratis links; null when not proxied
    private final int startFirst;

    public static Builder builder(ServerKind kind, int size, Path dir) {
        return new Builder(kind, size, dir);
    }

    /** How to start a cluster; {@link #start} starts every node at once and waits for the full mesh. */
    public static final class Builder {
        private final ServerKind kind;
        private final int size;
        private final Path dir;
        private String name = "FAULTS";
        private boolean jetStream;
        private boolean proxied;
        private int startFirst = -1;
        private final List<String> extraConfig = new ArrayList<>();
        private final java.util.Map<Integer, ServerKind> kinds = new java.util.HashMap<>();
        private final java.util.Map<Integer, List<String>> nodeConfig = new java.util.HashMap<>();

        private Builder(ServerKind kind, int size, Path dir) {
            this.kind = kind;
            this.size = size;
            this.dir = dir;
        }

        public Builder name(String clusterName) {
            this.name = clusterName;
            return this;
        }

        public Builder jetStream(boolean on) {
            this.jetStream = on;
            return this;
        }

        public Builder proxied(boolean on) {
            this.proxied = on;
            return this;
        }

        /**
         * Starts only the first {@code count} nodes (with proxies, so that every node's config lists every other
         * node); the test starts the others with {@link Node#restart}.
         */
        public Builder startFirst(int count) {
            this.startFirst = count;
            return this;
        }

        /** Runs node {@code node} (0-based) as {@code k} instead of the cluster's kind: a mixed cluster. */
        public Builder kind(int node, ServerKind k) {
            kinds.put(node, k);
            return this;
        }

        /** A top-level config line for every node, e.g. {@code ping_interval: "1s"}. */
        public Builder config(String line) {
            extraConfig.add(line);
            return this;
        }

        /** A top-level config line for node {@code node} only, e.g. {@code server_tags: ["az1"]}. */
        public Builder nodeConfig(int node, String line) {
            nodeConfig.computeIfAbsent(node, n -> new ArrayList<>()).add(line);
            return this;
        }

        public ProcessCluster start() throws Exception {
            ProcessCluster c = new ProcessCluster(this);
            try {
                c.startAll();
                return c;
            } catch (Exception | Error e) {
                c.close();
                throw e;
            }
        }
    }

    private ProcessCluster(Builder b) throws IOException {
        this.kind = b.kind;
        this.dir = b.dir;
        this.clusterName = b.name;
        this.jetStream = b.jetStream;
        this.extraConfig = List.copyOf(b.extraConfig);
        this.nodeConfig = java.util.Map.copyOf(b.nodeConfig);
        this.startFirst = b.startFirst < 0 ? b.size : b.startFirst;
        if (startFirst < b.size && !b.proxied) {
            throw new IllegalArgumentException("startFirst needs proxies (the seed-routed config needs node 0 first)");
        }
        for (int i = 0; i < b.size; i++) {
            nodes.add(new Node(i, b.kinds.getOrDefault(i, b.kind)));
        }
        if (b.proxied) {
            proxies = new FaultProxy[b.size][b.size];
            for (int i = 0; i < b.size; i++) {
                for (int j = 0; j < b.size; j++) {
                    if (i != j) {
                        Node target = nodes.get(j);
                        proxies[i][j] = new FaultProxy(nodes.get(i).name + "->" + target.name, target::routeAddress);
                    }
                }
            }
        } else {
            proxies = null;
        }
        raftProxies = b.proxied && b.jetStream && kind == ServerKind.JETKV ? raftProxies(b.size) : null;
    }

    private FaultProxy[][] raftProxies(int size) throws IOException {
        FaultProxy[][] p = new FaultProxy[size][size];
        try {
            for (int j = 0; j < size; j++) {
                Node target = nodes.get(j);
                int port = 0;
                for (int i = 0; i < size; i++) {
                    if (i != j) {
                        java.net.InetAddress at = java.net.InetAddress.getByName("127.0." + (i + 1) + "." + (j + 1));
                        p[i][j] = new FaultProxy(nodes.get(i).name + "->" + target.name + " (raft)", at, port,
                                target::raftAddress);
                        port = p[i][j].port(); // the first picks the port; the others share it on their addresses
                        target.raftAdvertisePort = port;
                    }
                }
            }
            return p;
        } catch (IOException | RuntimeException e) {
            for (FaultProxy[] row : p) {
                for (FaultProxy f : row) {
                    if (f != null) {
                        f.close();
                    }
                }
            }
            throw e;
        }
    }

    /** Every proxy of the link from {@code dialer} to {@code target}: its route proxy, and its Ratis proxy. */
    private List<FaultProxy> links(int dialer, int target) {
        List<FaultProxy> l = new ArrayList<>();
        l.add(proxy(dialer, target));
        if (raftProxies != null) {
            l.add(raftProxies[dialer][target]);
        }
        return l;
    }

    private void startAll() throws Exception {
        if (proxies == null) {
            nodes.get(0).start(); // the seed: the others need its route port
        }
        // JVMs start in parallel: on two cores, five one after the other would take twice as long
        ExecutorService pool = Executors.newFixedThreadPool(nodes.size());
        try {
            List<Future<Void>> started = new ArrayList<>();
            for (Node n : nodes.subList(0, startFirst)) {
                if (n.process == null) {
                    started.add(pool.submit(() -> {
                        n.start();
                        return null;
                    }));
                }
            }
            for (Future<Void> f : started) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        awaitFullMesh(60);
    }

    public ServerKind kind() {
        return kind;
    }

    public List<Node> nodes() {
        return nodes;
    }

    public Node node(int i) {
        return nodes.get(i);
    }

    public int size() {
        return nodes.size();
    }

    /** Every node's client URL, for a client that should fail over between them. */
    public String[] clientUrls() {
        return nodes.stream().map(Node::clientUrl).toArray(String[]::new);
    }

    /** The proxy node {@code dialer} reaches node {@code target} through. */
    public FaultProxy proxy(int dialer, int target) {
        if (proxies == null) {
            throw new IllegalStateException("started without proxies");
        }
        return proxies[dialer][target];
    }

    /** Two-way partition: nothing flows between {@code side} and the other nodes (links kept, bytes held). */
    public void partition(int... side) {
        Set<Integer> a = new HashSet<>();
        Arrays.stream(side).forEach(a::add);
        for (int i = 0; i < size(); i++) {
            for (int j = 0; j < size(); j++) {
                if (i != j && a.contains(i) != a.contains(j)) {
                    for (FaultProxy p : links(i, j)) {
                        p.blackhole(FaultProxy.Direction.UPSTREAM);
                        p.blackhole(FaultProxy.Direction.DOWNSTREAM);
                    }
                }
            }
        }
    }

    /** Cuts {@code node} off from every other node. */
    public void isolate(int node) {
        partition(node);
    }

    /** One-way: bytes from {@code from} no longer reach {@code to}; the other direction still flows. */
    public void cutOneWay(int from, int to) {
        links(from, to).forEach(p -> p.blackhole(FaultProxy.Direction.UPSTREAM));
        links(to, from).forEach(p -> p.blackhole(FaultProxy.Direction.DOWNSTREAM));
    }

    /** Resets (RST) every connection between {@code node} and the others and refuses new ones until healed. */
    public void resetLinks(int node) {
        for (int j = 0; j < size(); j++) {
            if (j != node) {
                links(node, j).forEach(FaultProxy::reset);
                links(j, node).forEach(FaultProxy::reset);
            }
        }
    }

    /** Adds {@code delay} to both directions of the link between {@code a} and {@code b}. */
    public void delay(int a, int b, Duration delay) {
        links(a, b).forEach(p -> p.delay(delay));
        links(b, a).forEach(p -> p.delay(delay));
    }

    /** Removes every network fault. */
    public void heal() {
        for (FaultProxy[][] matrix : Arrays.asList(proxies, raftProxies)) {
            if (matrix != null) {
                for (FaultProxy[] row : matrix) {
                    for (FaultProxy p : row) {
                        if (p != null) {
                            p.heal();
                        }
                    }
                }
            }
        }
    }

    /** Waits until every running node routes to every other running node (polls each one's /routez). */
    public void awaitFullMesh(int seconds) {
        ClusterProbes.await(() -> {
            List<Node> up = nodes.stream().filter(Node::running).toList();
            for (Node n : up) {
                if (n.routes() != up.size() - 1) {
                    return false;
                }
            }
            return true;
        }, "a full mesh of the running nodes of " + this, seconds);
    }

    /** A jnats connection to {@code node} that fails over to the others (and reconnects forever). */
    public Connection connect(int node) throws IOException, InterruptedException {
        List<String> servers = new ArrayList<>();
        servers.add(node(node).clientUrl());
        for (Node n : nodes) {
            if (n.index != node) {
                servers.add(n.clientUrl());
            }
        }
        return Nats.connect(Options.builder().servers(servers.toArray(String[]::new)).noRandomize()
                .maxReconnects(-1).reconnectWait(Duration.ofMillis(200)).connectionTimeout(Duration.ofSeconds(5))
                .build());
    }

    @Override
    public String toString() {
        StringJoiner j = new StringJoiner(", ", kind + " cluster [", "]");
        for (Node n : nodes) {
            j.add(n.toString());
        }
        return j.toString();
    }

    @Override
    public void close() throws InterruptedException {
        for (Node n : nodes) {
            if (n.process != null) {
                n.process.close();
            }
        }
        for (FaultProxy[][] matrix : Arrays.asList(proxies, raftProxies)) {
            if (matrix != null) {
                for (FaultProxy[] row : matrix) {
                    for (FaultProxy p : row) {
                        if (p != null) {
                            p.close();
                        }
                    }
                }
            }
        }
    }

    /** One node: its name, store and config stay across restarts; so does its client port. */
    public final class Node {
        private final int index;
        private final String name;
        /** What runs this node: the cluster's kind unless the builder mixed in another. */
        private final ServerKind nodeKind;
        private final Path storeDir;
        private final Path config;
        private volatile LoggedProcess process;
        private volatile int clientPort = -1;
        private volatile int routePort = -1;
        private volatile int monitorPort = -1;
        /** The port every Ratis proxy in front of this node listens on; 0 without them. */
        private volatile int raftAdvertisePort;
        private int starts;

        private Node(int index, ServerKind nodeKind) {
            this.index = index;
            this.nodeKind = nodeKind;
            this.name = "n" + (index + 1);
            this.storeDir = dir.resolve(name);
            this.config = dir.resolve(name + ".conf");
        }

        public int index() {
            return index;
        }

        public String name() {
            return name;
        }

        public LoggedProcess process() {
            return process;
        }

        public ServerKind kind() {
            return nodeKind;
        }

        public String clientUrl() {
            return "nats://127.0.0.1:" + clientPort;
        }

        public int clientPort() {
            return clientPort;
        }

        public int monitorPort() {
            return monitorPort;
        }

        /** Started and not killed; a paused (SIGSTOP) node is running. */
        public boolean running() {
            return process != null && process.alive();
        }

        /** Where this node's Ratis server listens, once its log said; null before. */
        InetSocketAddress raftAddress() {
            LoggedProcess p = process;
            int port = p == null || !p.alive() ? -1 : p.raftPortNow();
            return port > 0 ? new InetSocketAddress("127.0.0.1", port) : null;
        }

        /** The environment of this node's process: with Ratis proxies, its hosts file and advertised name. */
        private java.util.Map<String, String> environment() throws IOException {
            java.util.Map<String, String> env = new java.util.HashMap<>(nodeKind.environment());
            if (raftProxies == null) {
                return env;
            }
            // the JVM then resolves names from this file only: loopback and this machine's own name as well
            StringBuilder hosts = new StringBuilder("127.0.0.1 localhost\n");
            hosts.append("127.0.0.1 ").append(java.net.InetAddress.getLocalHost().getHostName()).append('\n');
            hosts.append("127.0.0.1 raft-").append(name).append('\n');
            for (Node other : nodes) {
                if (other != this) {
                    hosts.append("127.0.").append(index + 1).append('.').append(other.index + 1).append(" raft-")
                            .append(other.name).append('\n');
                }
            }
            Path file = dir.resolve(name + ".hosts");
            Files.writeString(file, hosts.toString());
            String opts = env.getOrDefault("JETKV_JAVA_OPTS", "") + " -Djdk.net.hosts.file=" + file
                    + " -Djetkv.cluster.raft_advertise=raft-" + name + ":" + raftAdvertisePort;
            env.put("JETKV_JAVA_OPTS", opts.trim());
            return env;
        }

        InetSocketAddress routeAddress() {
            return running() && routePort > 0 ? new InetSocketAddress("127.0.0.1", routePort) : null;
        }

        private synchronized void start() throws IOException {
            Files.createDirectories(storeDir);
            Files.writeString(config, config());
            starts++;
            process = LoggedProcess.start(name + (starts > 1 ? "-" + starts : ""), nodeKind.command(config),
                    environment());
            clientPort = process.clientPort();
            routePort = process.routePort();
            monitorPort = process.monitorPort();
        }

        /** Kept ports on a restart (the client port, so that clients find the node where it was). */
        private String config() {
            StringBuilder c = new StringBuilder();
            c.append("server_name: \"").append(name).append("\"\n");
            c.append("listen: \"127.0.0.1:").append(clientPort).append("\"\n");
            c.append("http: \"127.0.0.1:").append(monitorPort).append("\"\n");
            for (String line : extraConfig) {
                c.append(line).append('\n');
            }
            for (String line : nodeConfig.getOrDefault(index, List.of())) {
                c.append(line).append('\n');
            }
            if (jetStream) {
                c.append("jetstream {\n  store_dir: \"").append(storeDir).append("\"\n}\n");
            }
            c.append("cluster {\n  name: \"").append(clusterName).append("\"\n");
            List<String> routes = new ArrayList<>();
            if (proxies != null) {
                c.append("  listen: \"127.0.0.1:-1\"\n");
                // gossip would hand out this address; nothing listens there, so only the proxies carry routes
                c.append("  advertise: \"127.0.0.1:1\"\n");
                for (int j = 0; j < nodes.size(); j++) {
                    if (j != index) {
                        routes.add("nats-route://127.0.0.1:" + proxies[index][j].port());
                    }
                }
            } else {
                c.append("  listen: \"127.0.0.1:").append(routePort).append("\"\n");
                for (Node other : nodes) {
                    if (other != this && other.routePort > 0) {
                        routes.add("nats-route://127.0.0.1:" + other.routePort);
                    }
                }
                if (index != 0) {
                    routes.retainAll(List.of("nats-route://127.0.0.1:" + nodes.get(0).routePort));
                }
            }
            if (!routes.isEmpty()) {
                c.append("  routes: [\n");
                for (String r : routes) {
                    c.append("    \"").append(r).append("\"\n");
                }
                c.append("  ]\n");
            }
            c.append("}\n");
            return c.toString();
        }

        /** kill -9 and wait until the process is gone. */
        public void kill() throws InterruptedException {
            process.kill();
        }

        /** SIGTERM and wait for a clean exit; returns the exit code. */
        public int terminate() throws InterruptedException, IOException {
            return process.terminate();
        }

        public void pause() throws IOException, InterruptedException {
            process.pause();
        }

        public void resume() throws IOException, InterruptedException {
            process.resume();
        }

        /** Starts the node again (after kill or terminate) on the same store, name and client port. */
        public void restart() throws IOException, InterruptedException {
            if (running()) {
                process.kill();
            }
            start();
        }

        /** The node's route count from its /routez; -1 when it does not answer. */
        public int routes() {
            if (!running() || process.paused()) {
                return -1;
            }
            try {
                HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + monitorPort + "/routez")).timeout(Duration.ofSeconds(2))
                        .build(), HttpResponse.BodyHandlers.ofString());
                JsonNode z = JSON.readTree(r.body());
                return z.path("num_routes").asInt(-1);
            } catch (IOException e) {
                return -1;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new UncheckedIOException(new IOException(e));
            }
        }

        @Override
        public String toString() {
            return name + (running() ? (process.paused() ? " paused" : "") + " :" + clientPort : " down");
        }
    }
}
