package io.jetkv.server;

import io.jetkv.config.ClusterConfig;
import io.jetkv.config.JetStreamConfig;
import io.jetkv.config.ServerConfig;
import io.jetkv.jetstream.cluster.JetStreamCluster;
import io.jetkv.jetstream.AccountLimits;
import io.jetkv.jetstream.JetStreamOptions;
import io.jetkv.jetstream.JetStreamService;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts and stops JetStream for the server, bridging the server's configuration to the jetstream module.
 *
 * <p>Threading: {@link #start} runs on the {@code js-start} thread while the server already listens, and
 * {@link #close} on the thread that closes the server; they are serialised, so a close during start-up
 * waits for the store to open and then closes it, and a start after close does nothing.
 */
final class JetStreamHost {
    private static final Logger LOG = LoggerFactory.getLogger(JetStreamHost.class);

    /** System property: the Ratis address other nodes dial, when a proxy stands in front of ours (tests). */
    static final String RAFT_ADVERTISE_PROPERTY = "jetkv.cluster.raft_advertise";

    private final JetStreamConfig config;
    private final Router router;
    private final ServerConfig serverConfig;
    /** The routes, when this server is in a cluster: JetStream then replicates through Ratis. */
    private volatile Cluster cluster;
    /** The router of each account's subject space. */
    private volatile java.util.function.Function<String, Router> routers;
    /** Written by the start and close thread, read by the monitoring thread. */
    private volatile JetStreamCluster jsCluster;
    /** Written by the start and close thread, read by the monitoring thread. */
    private volatile JetStreamService service;
    private boolean closed;

    JetStreamHost(ServerConfig serverConfig, Router router) {
        this.config = serverConfig.jetstream();
        this.serverConfig = serverConfig;
        this.router = router;
    }

    /**
     * Clustered JetStream needs a stable {@code server_name} (the Raft peer id derives from it) and a fixed
     * {@code cluster.name} (the meta group's id does): refused at start-up, with nats-server's words.
     */
    void checkClusterSettings() {
        if (!serverConfig.cluster().enabled()) {
            return;
        }
        if (serverConfig.serverName() == null || serverConfig.serverName().isEmpty()) {
            throw new IllegalStateException("jetstream cluster requires `server_name` to be set");
        }
        if (serverConfig.cluster().name() == null) {
            throw new IllegalStateException("jetstream cluster requires `cluster.name` to be set");
        }
    }

    void setCluster(Cluster c) {
        this.cluster = c;
    }

    /** Where each account's subject space is: JetStream answers an account's {@code $JS.API} in its own. */
    void setRouters(java.util.function.Function<String, Router> routers) {
        this.routers = routers;
    }

    /**
     * Each account's place in JetStream, as nats-server decides it: without configured accounts (the system
     * account aside) the global account {@code $G} has JetStream with the server's limits; with them, exactly the
     * accounts with a {@code jetstream} key have it, each with its limits. Every other account (the system
     * account, {@code $G}) gets an API that answers "JetStream not enabled for account". Null: only {@code $G},
     * as a server without accounts.
     */
    private java.util.List<JetStreamService.AccountSetup> accountSetups() {
        String sys = serverConfig.ops().systemAccount();
        java.util.List<io.jetkv.config.AccountConfig> accounts = serverConfig.auth().accounts();
        if (accounts.isEmpty()) {
            return null;
        }
        boolean globalOnly = accounts.stream().allMatch(a -> a.name().equals(sys));
        java.util.List<JetStreamService.AccountSetup> out = new java.util.ArrayList<>();
        out.add(new JetStreamService.AccountSetup(io.jetkv.config.AccountConfig.GLOBAL, router, globalOnly, null));
        for (io.jetkv.config.AccountConfig a : accounts) {
            // the system account never has JetStream
            io.jetkv.config.AccountConfig.JetStreamLimits l = a.name().equals(sys) ? null : a.jetstream();
            AccountLimits limits = l == null ? AccountLimits.UNLIMITED
                    : new AccountLimits(l.maxMemory(), l.maxStore(), l.maxStreams(), l.maxConsumers(), l.maxAckPending(),
                            l.memoryMaxStreamBytes(), l.storeMaxStreamBytes(), l.maxBytesRequired());
            out.add(new JetStreamService.AccountSetup(a.name(), routers.apply(a.name()), l != null, limits,
                    a.name().equals(sys)));
        }
        return out;
    }

    /**
     * Creates the store directory, on the bootstrap thread before the bind: the common start-up failure (a
     * bad path, no permission) then stops the server before it ever listens, as nats-server's would, at the
     * cost of a system call rather than of opening the store.
     */
    void prepareStoreDir() {
        Path dir = config.storeDir().resolve("jetstream");
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new IllegalStateException("cannot create store directory " + dir, e);
        }
    }

    synchronized void start() {
        if (closed) {
            throw new IllegalStateException("server closed while JetStream was starting");
        }
        LOG.info("Starting JetStream");
        LOG.info("  Store Directory: \"{}\"", config.storeDir().resolve("jetstream"));
        LOG.info("  Sync:            {}", config.syncAlways() ? "always (fsync before every ack)"
                : "acks after the write-ahead log write; fsync left to the OS");
        Cluster c = cluster;
        JetStreamOptions options = new JetStreamOptions(config.storeDir(), config.maxMemoryStore(),
                config.maxFileStore(), config.syncAlways(), null, config.strict());
        java.util.List<JetStreamService.AccountSetup> accounts = accountSetups();
        if (accounts == null) {
            accounts = java.util.List.of(new JetStreamService.AccountSetup(JetStreamService.GLOBAL_ACCOUNT, router,
                    true, null));
        }
        // clustered: silent until the cluster layer installs its gate, so that a restarted node never answers
        // from its restored (possibly stale) streams as if it were a single server (the other nodes answer)
        service = c == null ? JetStreamService.start(options, accounts)
                : JetStreamService.start(options, accounts, (op, args, reply) -> null);
        if (c != null) {
            ClusterConfig cc = serverConfig.cluster();
            String host = cc.host() == null || cc.host().isEmpty() || cc.host().equals("0.0.0.0") ? "127.0.0.1"
                    : cc.host();
            JetStreamCluster.Routes routes = new JetStreamCluster.Routes() {
                @Override
                public JetStreamCluster.ConfiguredRoutes configured() {
                    Cluster.ConfiguredRoutes r = c.configuredRoutes();
                    return new JetStreamCluster.ConfiguredRoutes(r.total(), r.self(), r.peers());
                }

                @Override
                public void advertiseMeta(java.util.Map<String, String> members) {
                    c.advertiseRaftMeta(members);
                }
            };
            // a test hook, not configuration: the fault tests put a proxy in front of each node's Ratis port
            String advertise = System.getProperty(RAFT_ADVERTISE_PROPERTY);
            jsCluster = JetStreamCluster.start(new JetStreamCluster.Settings(serverConfig.serverName(), cc.name(), host,
                    routes, advertise, serverConfig.serverTags()), service, config.storeDir());
            JetStreamCluster js = jsCluster;
            c.startRaftPeering(js.endpoint(), new Cluster.RaftPeers() {
                @Override
                public void seen(String serverName, String raftEndpoint, java.util.Map<String, String> meta,
                        java.util.List<String> tags) {
                    js.peerSeen(serverName, raftEndpoint, meta, tags);
                }

                @Override
                public void gone(String serverName) {
                    js.peerGone(serverName);
                }
            });
        }
    }

    /** A config reload changed {@code server_tags}: this server's own tags, for the placements it decides. */
    void tagsChanged(java.util.List<String> tags) {
        JetStreamCluster c = jsCluster;
        if (c != null) {
            c.setTags(tags);
        }
    }

    /** The meta group's leader (server name) when clustered JetStream runs and knows one; else null. */
    String metaLeader() {
        JetStreamCluster c = jsCluster;
        return c == null ? null : c.metaLeaderName();
    }

    synchronized JetStreamService service() {
        return service;
    }

    synchronized void close() {
        closed = true;
        if (jsCluster != null) {
            jsCluster.close();
            jsCluster = null;
        }
        if (service != null) {
            service.close();
            service = null;
        }
    }
}
