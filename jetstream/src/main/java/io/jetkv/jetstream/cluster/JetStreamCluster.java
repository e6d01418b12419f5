package io.jetkv.jetstream.cluster;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jetkv.jetstream.JetStreamAccount;
import io.jetkv.jetstream.JetStreamService;
import io.jetkv.jetstream.MessageBus;
import io.jetkv.jetstream.api.ApiRequest;
import io.jetkv.jetstream.api.JsApi;
import io.jetkv.jetstream.api.JsApiException;
import io.jetkv.jetstream.api.JsApiSubjects;
import io.jetkv.jetstream.api.JsError;
import io.jetkv.jetstream.api.JsJson;
import io.jetkv.jetstream.stream.Stream;
import io.jetkv.jetstream.stream.StreamConfig;
import io.jetkv.jetstream.stream.StreamInfoJson;
import io.jetkv.jetstream.stream.StreamManager;
import io.jetkv.protocol.Subject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.grpc.GrpcFactory;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.proto.RaftProtos;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.GroupManagementRequest;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.SetConfigurationRequest;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.statemachine.StateMachine;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Clustered JetStream on Apache Ratis: one Ratis server per node hosting many groups (multi-Raft), the meta
 * group holding stream assignments ({@link MetaStateMachine}) and one group per replicated stream
 * ({@link StreamStateMachine}). It also decides which server answers each {@code $JS.API} request (every
 * server receives every request over the routes) and places new streams.
 *
 * <p>Peers: a node's Raft peer id is {@link PeerIds#of} its {@code server_name}; its Ratis address (gRPC,
 * on the cluster listen host, a port chosen once and kept in the store directory) travels in the route INFO
 * ({@link #peerSeen}), with the members of its meta group once it has one ({@code jetkv_meta}). Forming the
 * meta group ({@link #formMeta}): a node with the group in its Ratis storage rejoins it; one listed in a
 * peer's announced group joins with that membership; one whose peers have a group without it waits for the
 * meta leader to add it (Ratis group add on the new server, then a configuration change); otherwise it starts
 * the group with itself and the servers behind its configured routes once they are all up, or a quorum of
 * them for {@link #FORM_GRACE_NANOS}. Every node that lists the same routes so arrives at the same members.
 *
 * <p>Threading: {@link #admit} runs on event loops and never blocks; Ratis notifications are handed to the
 * single {@code js-cluster} thread, which also does membership changes and local stream creation (it may
 * wait on Ratis; nothing else waits on it). Proposals are asynchronous.
 */
public final class JetStreamCluster implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(JetStreamCluster.class);

    /**
     * What the server tells the cluster layer.
     *
     * @param serverName this server's {@code server_name} (required)
     * @param clusterName the cluster's name
     * @param host       the address Ratis listens on (the cluster listen host)
     * @param routes     the configured routes' state and the route INFO's meta group field
     * @param advertise  the Ratis address the other servers dial ({@code host:port}), when it is not the one
     *                   Ratis listens on (a proxy in front of it); null for that one
     * @param tags       this server's {@code server_tags} (lower case), for stream placement
     */
    public record Settings(String serverName, String clusterName, String host, Routes routes, String advertise,
            List<String> tags) {

        public Settings {
            tags = tags == null ? List.of() : List.copyOf(tags);
        }

        public Settings(String serverName, String clusterName, String host, Routes routes, String advertise) {
            this(serverName, clusterName, host, routes, advertise, List.of());
        }
    }

    /** The server's routes, as the meta group's formation needs them. Any thread; must not block for long. */
    public interface Routes {
        /** How far the configured routes are resolved. */
        ConfiguredRoutes configured();

        /** Announces our meta group's members (peer id to Ratis address; empty for none) in the route INFO. */
        void advertiseMeta(Map<String, String> members);
    }

    /**
     * The configured routes: {@code total} distinct URLs, {@code self} of them found to lead back to this server,
     * and the names of the servers behind the others whose routes are up.
     */
    public record ConfiguredRoutes(int total, int self, Set<String> peers) {}

    /**
     * How long a quorum of the configured servers must be up, without all of them, before it starts the meta
     * group on its own (the others are added when they come). All of them up forms the group at once.
     */
    static final long FORM_GRACE_NANOS = TimeUnit.SECONDS.toNanos(10);

    /** A server up this long that knows no leader answers requests 503/10008 itself, as nats-server does. */
    private static final long LEADERLESS_ANSWER_NANOS = TimeUnit.SECONDS.toNanos(10);

    /** How long a server being added to a group may go without answering before the change is abandoned. */
    static final long STAGING_TIMEOUT_SECONDS = 30;

    private static final AtomicLong CALL_IDS = new AtomicLong();

    /**
     * Applied entries between snapshots of a group ({@code -Djetkv.raft.snapshot.threshold}, for tests that need
     * a purged log quickly): about nats-server's 65,536-entry stream snapshot trigger.
     */
    static final long SNAPSHOT_THRESHOLD = Long.getLong("jetkv.raft.snapshot.threshold", 65_536);

    private final Settings settings;
    private final JetStreamService js;
    private final Path dir;
    private final RaftPeerId selfId;
    private final RaftGroupId metaGroup;
    private final MetaStateMachine meta;
    private final ClientId clientId = ClientId.randomId();
    private final RaftProperties properties = new RaftProperties();
    private final java.util.concurrent.ScheduledExecutorService executor;
    /** Ratis addresses of the JetStream servers currently routed to, by server name. */
    private final Map<String, String> online = new ConcurrentHashMap<>();
    /** Servers removed by {@code SERVER.REMOVE}, not added back to the meta group until their route goes. */
    private final Set<String> removedServers = ConcurrentHashMap.newKeySet();
    /** This server's {@code server_tags}: {@link Settings#tags} until a config reload changes them. */
    private volatile List<String> ownTags;
    /** The {@code server_tags} of each routed JetStream server, by server name. */
    private final Map<String, List<String>> peerTags = new ConcurrentHashMap<>();
    /** The meta group members each routed JetStream server announced, by server name (empty: it has none). */
    private final Map<String, Map<String, String>> peerMetas = new ConcurrentHashMap<>();
    /** js-cluster thread: this server has been in the meta group's configuration (its removal can be noticed). */
    private boolean wasMetaMember;
    /** js-cluster thread: since when a quorum of the configured servers has been up (0: not). */
    private long quorumSince;
    private final long startedAt = System.nanoTime();
    /** Server names by peer id, for every server ever seen (leader names in infos). */
    private final Map<String, String> names = new ConcurrentHashMap<>();
    /**
     * Stream keys ({@link Assignment#key}: account and name) by Ratis group, for the state machine registry
     * (persisted under {@code dir/groups}). Every map below that is keyed by stream uses that key too.
     */
    private final Map<RaftGroupId, String> groupStreams = new ConcurrentHashMap<>();
    /** The leader of each replicated stream this node holds. */
    private final Map<String, RaftPeerId> streamLeaders = new ConcurrentHashMap<>();
    /** Replicated streams whose leader-elected advisories this node sent for its current leadership. */
    private final Set<String> announcedLeadership = ConcurrentHashMap.newKeySet();
    /** When this node last sent a stream's quorum-lost advisory (nanoTime), sent at most every 10 s. */
    private final Map<String, Long> quorumLostSent = new ConcurrentHashMap<>();
    /** The creates this node answered, by the created stream's group (see {@link Assignment}). */
    private final Set<UUID> answeredCreates = ConcurrentHashMap.newKeySet();
    /** The update revisions ({@code <group>@<revision>}) this server answered, so that each is answered once. */
    private final Set<String> answeredUpdates = ConcurrentHashMap.newKeySet();
    /**
     * Stream groups Ratis opened from its storage at startup, not yet reopened with their peers. Ratis opens such
     * a group with an empty peer list as its initial configuration (the configuration itself comes from the log).
     * Installing a leader's snapshot drops the follower's configurations at or after the snapshot's
     * configuration index before it sets the snapshot's: for a moment the division is back at its initial
     * configuration, and if its election timer fires then (the leader sends nothing while the install is
     * answered; a loaded machine) the election finds itself not in an empty configuration and Ratis shuts the
     * division down for good (NOT_IN_CONF). Reopened with its peers, the initial configuration is the real one.
     */
    private final Set<RaftGroupId> openedFromStorage = ConcurrentHashMap.newKeySet();
    /** The meta group's members as last saved ({@link #saveMetaMembers}); js-cluster thread after the start. */
    private volatile Map<String, String> savedMeta = Map.of();
    /** Set once the Ratis server started: its groups can be closed and reopened from then on. */
    private volatile boolean started;
    private volatile RaftPeerId metaLeader;
    private volatile boolean metaLeaderReady;
    private volatile RaftServer server;
    private volatile String endpoint;
    private volatile boolean closed;

    private JetStreamCluster(Settings settings, JetStreamService js, Path dir) {
        this.settings = settings;
        this.ownTags = settings.tags();
        this.js = js;
        this.dir = dir;
        this.selfId = RaftPeerId.valueOf(PeerIds.of(settings.serverName()));
        this.metaGroup = RaftGroupId.valueOf(
                UUID.nameUUIDFromBytes(("jetkv-meta:" + settings.clusterName()).getBytes(StandardCharsets.UTF_8)));
        this.meta = new MetaStateMachine(this);
        this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "js-cluster");
            t.setDaemon(true);
            return t;
        });
        names.put(selfId.toString(), settings.serverName());
    }

    /**
     * Starts the Ratis server under {@code storeDir/ratis}, installs the API gate and the clustered handlers of
     * every account with JetStream, and (on the seed, first start) creates the meta group. Called once JetStream
     * restored its streams.
     */
    public static JetStreamCluster start(Settings settings, JetStreamService js, Path storeDir) {
        JetStreamCluster c = new JetStreamCluster(settings, js, storeDir.resolve("ratis"));
        try {
            c.startRaft();
        } catch (IOException e) {
            c.close();
            throw new UncheckedIOException("cannot start Ratis", e);
        }
        for (JetStreamAccount a : js.accounts()) {
            if (a.enabled()) {
                c.install(a, a == js.primary());
            }
        }
        return c;
    }

    // ---- accounts: one meta group for all of them, each stream keyed by account and name ----

    /** The account of a stream key; null when this server has no such account with JetStream. */
    private JetStreamAccount accountOf(String key) {
        JetStreamAccount a = js.account(Assignment.accountOf(key));
        return a != null && a.enabled() ? a : null;
    }

    /** The local replica of the stream with this key, or null. */
    Stream localStream(String key) {
        JetStreamAccount a = accountOf(key);
        return a == null ? null : a.streams().get(Assignment.streamOf(key));
    }

    private StreamManager streamsOf(String key) {
        JetStreamAccount a = accountOf(key);
        return a == null ? null : a.streams();
    }

    /** The subject space a stream's replies go out in. */
    private MessageBus busOf(String key) {
        JetStreamAccount a = js.account(Assignment.accountOf(key));
        return a == null ? js.primary().bus() : a.bus();
    }

    private void startRaft() throws IOException {
        Files.createDirectories(dir.resolve("groups"));
        Path portFile = dir.resolve("port");
        int port = Files.exists(portFile) ? Integer.parseInt(Files.readString(portFile).trim()) : 0;
        for (Path p : Files.newDirectoryStream(dir.resolve("groups"))) {
            groupStreams.put(RaftGroupId.valueOf(UUID.fromString(p.getFileName().toString())), Files.readString(p));
        }
        RaftServerConfigKeys.setStorageDir(properties, List.of(dir.resolve("data").toFile()));
        GrpcConfigKeys.Server.setHost(properties, settings.host());
        GrpcConfigKeys.Server.setPort(properties, port);
        RaftTuning.apply(properties, js.options().syncAlways(), SNAPSHOT_THRESHOLD, STAGING_TIMEOUT_SECONDS);
        StateMachine.Registry registry = gid -> {
            if (gid.equals(metaGroup)) {
                return meta;
            }
            String stream = groupStreams.get(gid);
            if (stream == null) {
                throw new IllegalStateException("unknown Ratis group " + gid);
            }
            Stream local = localStream(stream);
            if (local != null) {
                // a restart starts the groups before the meta log is replayed: the consumer entries the group
                // applies meanwhile need the consumers' side of the stream already
                accountOf(stream).consumers().replicate(local);
            }
            return new StreamStateMachine(this, stream);
        };
        // building the server loads the meta snapshot, which queues local replica creation on js-cluster: that
        // thread waits until the server it works with is set
        java.util.concurrent.CountDownLatch built = new java.util.concurrent.CountDownLatch(1);
        executor.execute(() -> {
            try {
                built.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        try {
            RaftServer.Builder builder = RaftServer.newBuilder()
                    .setServerId(selfId)
                    .setProperties(properties)
                    .setParameters(new Parameters())
                    .setStateMachineRegistry(registry);
            List<RaftPeer> metaPeers = savedMetaMembers();
            if (!metaPeers.isEmpty()) {
                // opened from its storage like any group, the meta group's initial configuration would be empty, the
                // fallback a snapshot install passes through (see openedFromStorage): open it with its members
                LOG.info("JetStream cluster: opening the meta group from its storage with its members {}", metaPeers);
                builder.setGroup(RaftGroup.valueOf(metaGroup, metaPeers))
                        .setOption(org.apache.ratis.server.storage.RaftStorage.StartupOption.RECOVER);
                savedMeta = membersOf(metaPeers);
            }
            server = builder.build();
            for (RaftGroupId g : server.getGroupIds()) {
                if (!g.equals(metaGroup)) {
                    openedFromStorage.add(g);
                }
            }
        } finally {
            built.countDown();
        }
        server.start();
        started = true;
        int bound = server.getServerRpc().getInetSocketAddress().getPort();
        Files.writeString(portFile, Integer.toString(bound));
        endpoint = settings.advertise() != null ? settings.advertise() : settings.host() + ":" + bound;
        LOG.info("JetStream cluster: Ratis peer {} ({}) listening on {}:{}{}", selfId, settings.serverName(),
                settings.host(), bound, settings.advertise() != null ? ", advertised as " + endpoint : "");
        if (hasMeta()) {
            LOG.info("JetStream cluster: rejoining the meta group from the Ratis storage");
        }
        // a server without other configured routes starts the meta group now, so that its first route INFO
        // announces it (nothing else runs on the cluster thread yet: the routes hear of us after this returns)
        tick();
        executor.scheduleWithFixedDelay(this::tick, 1, 1, TimeUnit.SECONDS);
    }

    /** Where the meta group's members are kept for the next start: one {@code <peer id> <address>} a line. */
    private Path metaMembersFile() {
        return dir.resolve("meta-members");
    }

    /**
     * The meta group's members as last saved, when the group is in the Ratis storage and the file lists this server;
     * else none (the group is opened as Ratis opens any group, or formed or joined anew).
     */
    private List<RaftPeer> savedMetaMembers() {
        Path file = metaMembersFile();
        if (!Files.isDirectory(dir.resolve("data").resolve(metaGroup.getUuid().toString())) || !Files.exists(file)) {
            return List.of();
        }
        try {
            List<RaftPeer> peers = new ArrayList<>();
            boolean self = false;
            for (String line : Files.readAllLines(file)) {
                String[] f = line.strip().split(" ");
                if (f.length == 2) {
                    peers.add(RaftPeer.newBuilder().setId(f[0]).setAddress(f[1]).build());
                    self |= f[0].equals(selfId.toString());
                }
            }
            return self ? peers : List.of();
        } catch (IOException | RuntimeException e) {
            LOG.warn("JetStream cluster: the meta group's saved members could not be read: {}", e.toString());
            return List.of();
        }
    }

    private static Map<String, String> membersOf(List<RaftPeer> peers) {
        Map<String, String> m = new java.util.TreeMap<>();
        peers.forEach(p -> m.put(p.getId().toString(), p.getAddress()));
        return m;
    }

    /** js-cluster thread: saves the meta group's members when they changed (written aside, then moved in place). */
    private void saveMetaMembers(Map<String, String> members) {
        if (members.equals(savedMeta)) {
            return;
        }
        StringBuilder sb = new StringBuilder();
        members.forEach((id, address) -> sb.append(id).append(' ').append(address).append('\n'));
        try {
            Path tmp = dir.resolve("meta-members.writing");
            Files.writeString(tmp, sb.toString());
            Files.move(tmp, metaMembersFile(), java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            savedMeta = Map.copyOf(members);
        } catch (IOException e) {
            LOG.warn("JetStream cluster: the meta group's members could not be saved: {}", e.toString());
        }
    }

    private boolean hasMeta() {
        RaftServer s = server;
        if (s == null) {
            return false;
        }
        try {
            for (RaftGroupId g : s.getGroupIds()) {
                if (g.equals(metaGroup)) {
                    return true;
                }
            }
        } catch (RuntimeException e) {
            // closing
        }
        return false;
    }

    /** js-cluster thread, every second and on route news: forms or joins the meta group, announces it. */
    private void tick() {
        if (closed) {
            return;
        }
        try {
            if (!hasMeta()) {
                formMeta();
            }
            if (hasMeta()) {
                RaftServer.Division d = server.getDivision(metaGroup);
                Map<String, String> members = new java.util.TreeMap<>();
                for (RaftPeer p : d.getRaftConf().getCurrentPeers()) {
                    members.put(p.getId().toString(), p.getAddress());
                }
                if (members.containsKey(selfId.toString())) {
                    wasMetaMember = true;
                    saveMetaMembers(members);
                } else if (wasMetaMember) {
                    // SERVER.REMOVE: the meta group went on without us (a server being added sees configurations
                    // without itself while it catches up, so only one that was a member). Its storage goes, so that
                    // a restart rejoins (the leader adds every server it meets, except one it removed, until that
                    // one's route goes)
                    LOG.warn("JetStream being DISABLED, our server was removed from the cluster");
                    wasMetaMember = false;
                    metaLeader = null;
                    metaLeaderReady = false;
                    server.groupManagement(GroupManagementRequest.newRemove(clientId, selfId, CALL_IDS.incrementAndGet(),
                            metaGroup, true, false));
                    Files.deleteIfExists(metaMembersFile());
                    savedMeta = Map.of();
                    settings.routes().advertiseMeta(Map.of());
                    return;
                }
                settings.routes().advertiseMeta(members);
                RaftPeerId leader = d.getInfo().getLeaderId();
                if (!java.util.Objects.equals(leader, metaLeader)) {
                    metaLeaderChanged(leader); // a missed notification (the group was joined after its election)
                }
                if (d.getInfo().isLeader() && d.getInfo().isLeaderReady()) {
                    metaLeaderReady = true;
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("JetStream cluster: meta group check failed: {}", e.toString());
        }
        checkLostLeaderships();
    }

    /**
     * js-cluster thread, every second: the streams this node leads whose Ratis division no longer leads. Ratis tells
     * the state machine of a new leader only, not of a leader stepping down with none to follow it (its leader steps
     * down once an election timeout passes without heartbeat answers from a majority): the step-down is noticed
     * here, so the node stops taking the stream's publishes and sends the quorum-lost advisories, as nats-server's
     * leader does when it steps down without a quorum.
     */
    private void checkLostLeaderships() {
        for (Map.Entry<String, RaftPeerId> e : streamLeaders.entrySet()) {
            if (!selfId.equals(e.getValue())) {
                continue;
            }
            Assignment a = meta.get(e.getKey());
            if (a == null || !a.replicated()) {
                continue;
            }
            RaftGroupId gid = RaftGroupId.valueOf(a.group());
            try {
                org.apache.ratis.server.DivisionInfo info = server.getDivision(gid).getInfo();
                if (!info.isLeader()) {
                    streamLeaderChanged(e.getKey(), gid, info.getLeaderId());
                }
            } catch (IOException | RuntimeException ex) {
                // the group is going away (a delete): its removal cleans up
            }
        }
    }

    /**
     * js-cluster thread, no meta group in the Ratis storage: decides whether this node joins one, waits to be
     * added, or starts it (see the class comment). Deterministic: every node listing the same routes starts
     * the group with the same members, and a node that hears of a group never starts another.
     */
    private void formMeta() throws IOException {
        for (Map.Entry<String, Map<String, String>> e : peerMetas.entrySet()) {
            Map<String, String> m = e.getValue();
            if (m.containsKey(selfId.toString())) {
                List<RaftPeer> peers = new ArrayList<>();
                for (Map.Entry<String, String> p : m.entrySet()) {
                    String address = p.getKey().equals(selfId.toString()) ? endpoint : p.getValue();
                    peers.add(RaftPeer.newBuilder().setId(p.getKey()).setAddress(address).build());
                }
                addMeta(peers, "joining the meta group " + m.keySet() + " that " + e.getKey() + " announced");
                return;
            }
        }
        for (Map<String, String> m : peerMetas.values()) {
            if (!m.isEmpty()) {
                quorumSince = 0;
                return; // a group without us: its leader adds us (addMissingMetaPeers)
            }
        }
        ConfiguredRoutes r = settings.routes().configured();
        int others = r.total() - r.self();
        List<String> up = new ArrayList<>();
        for (String n : r.peers()) {
            if (online.containsKey(n)) {
                up.add(n);
            }
        }
        if (up.size() >= others) {
            startMeta(up, others == 0 ? "no other configured server" : "every configured server is up");
            return;
        }
        int expected = others + 1;
        if (up.size() + 1 > expected / 2) {
            long now = System.nanoTime();
            if (quorumSince == 0) {
                quorumSince = now;
                LOG.info("JetStream cluster: {} of {} configured servers up; the meta group starts without the "
                        + "others in {} s unless they come", up.size() + 1, expected,
                        TimeUnit.NANOSECONDS.toSeconds(FORM_GRACE_NANOS));
            } else if (now - quorumSince >= FORM_GRACE_NANOS) {
                startMeta(up, "a quorum of the configured servers is up");
            }
        } else {
            quorumSince = 0;
        }
    }

    private void startMeta(List<String> others, String why) throws IOException {
        List<RaftPeer> peers = new ArrayList<>();
        peers.add(selfPeer());
        for (String n : others) {
            peers.add(peer(n, online.get(n)));
        }
        addMeta(peers, "starting the meta group (" + why + ")");
    }

    private void addMeta(List<RaftPeer> peers, String what) throws IOException {
        LOG.info("JetStream cluster: {} with {}", what, peers);
        RaftClientReply r = server.groupManagement(GroupManagementRequest.newAdd(clientId, selfId,
                CALL_IDS.incrementAndGet(), RaftGroup.valueOf(metaGroup, peers)));
        if (!r.isSuccess()) {
            throw new IOException("meta group add failed: " + r.getException());
        }
    }

    /** {@code host:port} of this node's Ratis server, advertised to the other servers over the routes. */
    public String endpoint() {
        return endpoint;
    }

    String selfPeerId() {
        return selfId.toString();
    }

    private RaftPeer selfPeer() {
        return RaftPeer.newBuilder().setId(selfId).setAddress(endpoint).build();
    }

    private static RaftPeer peer(String name, String address) {
        return RaftPeer.newBuilder().setId(PeerIds.of(name)).setAddress(address).build();
    }

    // ---- membership (route events) ----

    /**
     * Any thread: a JetStream server with Ratis at {@code address} is routed to (route INFO); {@code meta} are
     * the members of its meta group (peer id to Ratis address), empty while it has none.
     */
    public void peerSeen(String name, String address, Map<String, String> meta) {
        peerSeen(name, address, meta, List.of());
    }

    /** Any thread: a config reload changed this server's {@code server_tags} (lower case). */
    public void setTags(List<String> tags) {
        ownTags = List.copyOf(tags);
    }

    /** As {@link #peerSeen(String, String, Map)}, with the server's {@code server_tags}. */
    public void peerSeen(String name, String address, Map<String, String> meta, List<String> tags) {
        if (name == null || address == null || name.equals(settings.serverName())) {
            return;
        }
        peerTags.put(name, tags == null ? List.of() : List.copyOf(tags));
        Map<String, String> m = meta == null ? Map.of() : Map.copyOf(meta);
        // on the cluster thread, so that formMeta sees a server's address and its meta group change together
        onClusterThread(() -> {
            names.put(PeerIds.of(name), name);
            Map<String, String> metaBefore = peerMetas.put(name, m);
            String before = online.put(name, address);
            if (!address.equals(before) || !m.equals(metaBefore)) {
                tick();
                addMissingMetaPeers();
            }
        });
    }

    /** Any thread: the route to {@code name} is gone. */
    public void peerGone(String name) {
        if (name != null) {
            onClusterThread(() -> {
                online.remove(name);
                peerMetas.remove(name);
                removedServers.remove(name); // a removed server that restarts rejoins
            });
        }
    }

    private void onClusterThread(Runnable r) {
        try {
            executor.execute(r);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closed
        }
    }

    /** js-cluster thread: the meta leader adds every online JetStream server not yet in the meta group. */
    private void addMissingMetaPeers() {
        if (closed || !isMetaLeader()) {
            return;
        }
        try {
            RaftServer.Division d = server.getDivision(metaGroup);
            List<RaftPeer> peers = new ArrayList<>(d.getRaftConf().getCurrentPeers());
            if (!d.getInfo().isLeaderReady()) {
                retryMetaPeers(); // a configuration change needs the leader's first entry committed
                return;
            }
            List<RaftPeer> added = new ArrayList<>();
            for (Map.Entry<String, String> e : online.entrySet()) {
                String id = PeerIds.of(e.getKey());
                if (!removedServers.contains(e.getKey())
                        && peers.stream().noneMatch(p -> p.getId().toString().equals(id))) {
                    added.add(peer(e.getKey(), e.getValue()));
                }
            }
            if (added.isEmpty()) {
                return;
            }
            if (added.size() > 1) {
                // Ratis refuses a change that adds a majority at once: one server per change, the rest next round
                added = List.of(added.get(0));
                retryMetaPeers();
            }
            peers.addAll(added);
            for (RaftPeer p : added) {
                // the new server must host the group before the leader replicates to it; with no peers, so that
                // it never starts an election of its own before the configuration change reaches it
                try (RaftClient c = client(RaftGroup.valueOf(metaGroup, p))) {
                    RaftClientReply r = c.getGroupManagementApi(p.getId()).add(RaftGroup.valueOf(metaGroup));
                    LOG.info("JetStream cluster: meta group added on {}: {}", names.get(p.getId().toString()),
                            r.isSuccess() ? "ok" : r.getException());
                } catch (IOException e) {
                    // AlreadyExists after a restart is fine: it rejoins with its own log
                    LOG.info("JetStream cluster: adding the meta group on {}: {}", p.getId(), e.toString());
                }
            }
            // asynchronous: the change waits for the new server to catch up (up to the staging timeout), and the
            // cluster thread must not stall meanwhile; a change while one is in progress is refused and retried
            int size = peers.size();
            server.setConfigurationAsync(new SetConfigurationRequest(clientId, selfId, metaGroup,
                    CALL_IDS.incrementAndGet(), peers)).whenComplete((r, err) -> {
                        boolean ok = err == null && r.isSuccess();
                        LOG.info("JetStream cluster: meta group now {} peers: {}", size,
                                ok ? "ok" : err != null ? err.toString() : r.getException());
                        if (!ok) {
                            retryMetaPeers();
                        }
                    });
        } catch (IOException | RuntimeException e) {
            LOG.warn("JetStream cluster: adding meta peers failed: {}", e.toString());
            retryMetaPeers();
        }
    }

    private void retryMetaPeers() {
        if (!closed) {
            executor.schedule(this::addMissingMetaPeers, 2, TimeUnit.SECONDS);
        }
    }

    private RaftClient client(RaftGroup group) {
        return RaftClient.newBuilder()
                .setProperties(properties)
                .setRaftGroup(group)
                .setClientRpc(new GrpcFactory(new Parameters()).newRaftClientRpc(ClientId.randomId(), properties))
                .build();
    }

    // ---- leadership ----

    /**
     * Whether this node answers as meta leader: it leads, and its meta state machine applied the whole log
     * (Ratis's leader-ready comes with the apply of the leader's first entry of its term). A leader elected just
     * after a restart has not replayed the assignments yet: taking a stream it does not know yet for unknown
     * would let it answer from a stale local copy (KvLinearizabilityIT found stale KV gets that way).
     */
    private boolean answersAsMetaLeader() {
        return isMetaLeader() && metaLeaderReady;
    }

    /** Ratis apply thread: this node leads the meta group and applied everything before its term. */
    void metaLeaderReady() {
        metaLeaderReady = true;
    }

    boolean isMetaLeader() {
        RaftPeerId l = metaLeader;
        return l != null && l.equals(selfId);
    }

    /** Ratis thread: the meta group's leader changed. */
    void metaLeaderChanged(RaftPeerId leader) {
        if (!selfId.equals(leader)) {
            metaLeaderReady = false;
        }
        metaLeader = leader;
        LOG.info("JetStream cluster: meta leader is {}", leader == null ? "none" : nameOf(leader));
        if (selfId.equals(leader)) {
            executor.execute(this::addMissingMetaPeers);
        }
    }

    /** Ratis thread: a replicated stream's leader changed. */
    void streamLeaderChanged(String stream, RaftGroupId group, RaftPeerId leader) {
        if (!current(stream, group)) {
            return; // the group of a deleted stream of the same name, shutting down
        }
        boolean wasLeader = selfId.equals(streamLeaders.get(stream));
        if (leader == null) {
            streamLeaders.remove(stream);
        } else {
            streamLeaders.put(stream, leader);
        }
        if (!selfId.equals(leader)) {
            announcedLeadership.remove(stream);
        }
        executor.execute(() -> {
            if (wasLeader && !selfId.equals(leader)) {
                checkQuorumLost(stream);
            }
            LOG.info("stream {}: leader is {}", stream, leader == null ? "none" : nameOf(leader));
            Stream s = localStream(stream);
            if (s != null && !selfId.equals(streamLeaders.get(stream))) {
                streamsOf(stream).setCapturing(s, false);
                s.setLeading(false);
            }
        });
    }

    /**
     * Ratis thread: this node leads the stream's group and its first entry of the term is committed, so it can
     * propose: only now does it capture the stream's subjects (and answer a pending create), so that the first
     * publish after a create or a failover is not refused as "leader not ready".
     */
    void streamLeaderReady(String stream, RaftGroupId group) {
        if (current(stream, group)) {
            executor.execute(() -> startLeading(stream));
        }
    }

    /** True when {@code group} replicates the stream now assigned under that name. */
    private boolean current(String stream, RaftGroupId group) {
        Assignment a = meta.get(stream);
        return a != null && a.replicated() && RaftGroupId.valueOf(a.group()).equals(group);
    }

    /** js-cluster thread. */
    private void startLeading(String stream) {
        Stream s = localStream(stream);
        Assignment a = meta.get(stream);
        if (s == null || a == null || !isStreamLeader(stream)) {
            return;
        }
        streamLeaders.put(stream, selfId); // the leader-changed notification may come after leader-ready
        streamsOf(stream).setCapturing(s, true);
        s.setLeading(true);
        reconfigure(a); // a peer change the previous leader did not finish
        if (announcedLeadership.add(stream)) {
            // as nats-server's new leader: the stream's, then each consumer's (their group is the stream's)
            s.announceGroup("LEADER_ELECTED", null);
            s.execute(batch -> s.committedConsumers().forEach(c -> s.announceGroup("LEADER_ELECTED", c)));
        }
        answerCreate(a, s);
        // an update the previous leader had no time to propose: nobody answered it (a leader is ready only once it
        // applied everything committed, so a revision the old leader applied is here too), so this one does
        proposeConfig(stream, !s.config().equals(a.config()));
    }

    /**
     * js-cluster thread, this node just stopped leading {@code stream}: when a majority of its peers is out of
     * reach (Ratis's leader steps down after an election timeout without a majority's heartbeat answers), the
     * stream and its consumers lost their quorum; nats-server's leader says so when the group is older than 5 s,
     * at most every 10 s.
     */
    private void checkQuorumLost(String stream) {
        Assignment a = meta.get(stream);
        Stream s = localStream(stream);
        if (a == null || s == null || !a.replicated() || nowNanos() - a.created() < TimeUnit.SECONDS.toNanos(5)) {
            return;
        }
        int reachable = 0;
        for (String p : a.peers()) {
            if (p.equals(settings.serverName()) || online.containsKey(p)) {
                reachable++;
            }
        }
        if (reachable > a.peers().size() / 2) {
            return; // an ordinary leader change
        }
        long now = System.nanoTime();
        Long last = quorumLostSent.get(stream);
        if (last != null && now - last < TimeUnit.SECONDS.toNanos(10)) {
            return;
        }
        quorumLostSent.put(stream, now);
        LOG.warn("JetStream cluster stream '{}' has NO quorum, stalled", stream);
        s.announceGroup("QUORUM_LOST", null);
        s.execute(batch -> s.committedConsumers().forEach(c -> s.announceGroup("QUORUM_LOST", c)));
    }

    private boolean isStreamLeader(String stream) {
        return selfId.equals(streamLeaders.get(stream));
    }

    private String nameOf(RaftPeerId id) {
        String n = names.get(id.toString());
        return n == null ? "Server name unknown at this time (peerID: " + id + ")" : n;
    }

    // ---- assignments (meta apply) ----

    /** Ratis apply thread: a stream was assigned; create the local replica when this node is a peer. */
    void assigned(Assignment a) {
        for (int i = 0; i < a.peers().size(); i++) {
            names.put(PeerIds.of(a.peers().get(i)), a.peers().get(i));
        }
        if (!a.peers().contains(settings.serverName())) {
            if (a.replicated() && groupStreams.containsKey(RaftGroupId.valueOf(a.group()))) {
                // this server was removed from the stream's peers while it was down: its replica goes
                executor.execute(() -> dropLocal(a));
            }
            return;
        }
        executor.execute(() -> createLocal(a, false));
    }

    /**
     * Ratis apply thread (meta): {@code now} moved {@code old}'s stream to other peers (a peer removal). A new peer
     * creates its replica and hosts the group empty, so that it never starts an election of its own (the stream
     * leader's configuration change adds it and catches it up); the leader changes the group's configuration; a
     * removed peer drops its replica, once the change is committed when it leads.
     */
    void peersChanged(Assignment old, Assignment now) {
        for (String p : now.peers()) {
            names.put(PeerIds.of(p), p);
        }
        String self = settings.serverName();
        executor.execute(() -> {
            if (now.peers().contains(self) && !old.peers().contains(self)) {
                createLocal(now, true);
            } else if (now.peers().contains(self) || old.peers().contains(self)) {
                reconfigure(now);
            }
        });
    }

    /**
     * js-cluster thread, on the stream leader: makes the group's configuration the assignment's peers (after a peer
     * removal, or on becoming leader while one is unfinished); a leader that is no longer a peer drops its replica
     * once the change is committed. Elsewhere a server that is no longer a peer drops its replica now.
     */
    private void reconfigure(Assignment a) {
        boolean member = a.peers().contains(settings.serverName());
        RaftGroupId gid = RaftGroupId.valueOf(a.group());
        if (!leadsReady(a)) {
            if (!member) {
                dropWhenOut(a, System.nanoTime());
            }
            return;
        }
        List<RaftPeer> target = new ArrayList<>();
        boolean last;
        try {
            List<RaftPeer> conf = new ArrayList<>(server.getDivision(gid).getRaftConf().getCurrentPeers());
            Set<String> confIds = new java.util.TreeSet<>();
            conf.forEach(p -> confIds.add(p.getId().toString()));
            Set<String> wanted = new java.util.TreeSet<>();
            List<RaftPeer> added = new ArrayList<>();
            for (int i = 0; i < a.peers().size(); i++) {
                RaftPeer p = peer(a.peers().get(i), a.addresses().get(i));
                wanted.add(p.getId().toString());
                if (!confIds.contains(p.getId().toString())) {
                    added.add(p);
                }
            }
            if (confIds.equals(wanted)) {
                return;
            }
            // Ratis refuses a change of a majority at once (replacing one of two): first the new peers join, then
            // the removed ones leave
            if (!added.isEmpty()) {
                target.addAll(conf);
                target.addAll(added);
                last = target.size() == wanted.size();
            } else {
                conf.removeIf(p -> !wanted.contains(p.getId().toString()));
                target.addAll(conf);
                last = true;
            }
        } catch (IOException e) {
            return;
        }
        List<String> names = new ArrayList<>();
        target.forEach(p -> names.add(nameOf(p.getId())));
        LOG.info("stream {}: group peers change to {}", a.name(), names);
        CompletableFuture<RaftClientReply> change;
        try {
            change = server.setConfigurationAsync(new SetConfigurationRequest(clientId, selfId, gid,
                    CALL_IDS.incrementAndGet(), target));
        } catch (IOException e) {
            change = CompletableFuture.failedFuture(e);
        }
        change.whenComplete((r, err) -> {
            boolean ok = err == null && r.isSuccess();
            LOG.info("stream {}: group peers now {}: {}", a.name(), names,
                    ok ? "ok" : err != null ? err.toString() : String.valueOf(r.getException()));
            Assignment current = meta.get(a.key());
            if (current == null || !current.group().equals(a.group())) {
                return;
            }
            if (!ok) {
                // a new peer still catching up, or a change in flight: again, while it is still wanted
                executor.schedule(() -> reconfigure(current), 2, TimeUnit.SECONDS);
            } else if (!last) {
                executor.execute(() -> reconfigure(current));
            } else if (!current.peers().contains(settings.serverName())) {
                executor.execute(() -> dropLocal(current));
            }
        });
    }

    /**
     * js-cluster thread, a removed follower: keeps its replica (its vote counts for the leader's configuration change
     * until the change is committed) until its group's configuration no longer lists it, or for a minute at most
     * (the leader stops sending to a removed peer once the change is committed, so it may never hear of it).
     */
    private void dropWhenOut(Assignment a, long since) {
        Assignment now = meta.get(a.key());
        if (now == null || !now.group().equals(a.group()) || now.peers().contains(settings.serverName())) {
            return; // deleted (dropped by the removal), or a peer again
        }
        boolean listed = false;
        try {
            for (RaftPeer p : server.getDivision(RaftGroupId.valueOf(a.group())).getRaftConf().getCurrentPeers()) {
                listed |= p.getId().equals(selfId);
            }
        } catch (IOException | RuntimeException e) {
            listed = false;
        }
        if (listed && System.nanoTime() - since < TimeUnit.MINUTES.toNanos(1)) {
            executor.schedule(() -> dropWhenOut(a, since), 2, TimeUnit.SECONDS);
            return;
        }
        dropLocal(now);
    }

    private void createLocal(Assignment a, boolean joining) {
        try {
            JetStreamAccount account = accountOf(a.key());
            if (account == null) {
                LOG.error("stream {}: assigned here, but account {} has no JetStream on this server", a.name(),
                        a.account());
                return;
            }
            StreamManager streams = account.streams();
            Stream s = streams.get(a.name());
            if (s == null) {
                s = streams.create(a.config()).stream();
            }
            // the assignment as it is when asked (a peer removal changes the peers)
            s.setClusterInfo(() -> clusterInfo(current(a)));
            if (a.replicated()) {
                s.setGroupView(() -> groupView(current(a)));
            }
            if (!a.replicated()) {
                answerCreate(a, s);
                return;
            }
            RaftGroupId gid = RaftGroupId.valueOf(a.group());
            s.setReplicator(new io.jetkv.jetstream.stream.Replicator() {
                @Override
                public CompletionStage<?> propose(byte[] entry) {
                    return JetStreamCluster.this.propose(gid, StreamStateMachine.entry(selfId.toString(), entry));
                }

                @Override
                public boolean leads() {
                    return leadsReady(a);
                }
            });
            // before the group applies anything: consumer entries need the consumers' side of the stream
            account.consumers().replicate(s);
            if (!groupStreams.containsKey(gid)) {
                groupStreams.put(gid, a.key());
                Files.writeString(dir.resolve("groups").resolve(a.group().toString()), a.key());
            }
            boolean hosted = false;
            for (RaftGroupId g : server.getGroupIds()) {
                hosted |= g.equals(gid);
            }
            List<RaftPeer> peers = new ArrayList<>();
            for (int i = 0; i < a.peers().size(); i++) {
                peers.add(peer(a.peers().get(i), a.addresses().get(i)));
            }
            if (!hosted) {
                RaftClientReply r = server.groupManagement(GroupManagementRequest.newAdd(clientId, selfId,
                        CALL_IDS.incrementAndGet(), joining ? RaftGroup.valueOf(gid) : RaftGroup.valueOf(gid, peers)));
                if (!r.isSuccess()) {
                    LOG.error("stream {}: Ratis group could not be added: {}", a.name(), r.getException());
                }
            } else if (openedFromStorage.contains(gid)) {
                reopenWithPeers(a.name(), gid, peers);
            }
            LOG.info("stream {}: replica on {} of {}", a.name(), settings.serverName(), a.peers());
            // leadership may predate the assignment here (a restart replays the meta log after the groups started)
            org.apache.ratis.server.DivisionInfo info = server.getDivision(gid).getInfo();
            if (info.getLeaderId() != null) {
                streamLeaders.put(a.key(), info.getLeaderId());
            }
            if (info.isLeader() && info.isLeaderReady()) {
                startLeading(a.key());
            }
        } catch (IOException | RuntimeException e) {
            LOG.error("stream {}: local replica could not be created", a.name(), e);
        }
    }

    /**
     * js-cluster thread: closes a group Ratis opened from its storage (keeping the storage) and opens it again from
     * the same storage with its peers as the initial configuration (see {@link #openedFromStorage}).
     */
    private void reopenWithPeers(String stream, RaftGroupId gid, List<RaftPeer> peers) throws IOException {
        if (!started) {
            // the meta snapshot queued this while the server is still being started
            executor.schedule(() -> {
                try {
                    reopenWithPeers(stream, gid, peers);
                } catch (IOException | RuntimeException e) {
                    LOG.error("stream {}: Ratis group could not be reopened with its peers", stream, e);
                }
            }, 50, TimeUnit.MILLISECONDS);
            return;
        }
        if (closed || !openedFromStorage.remove(gid)) {
            return;
        }
        LOG.info("stream {}: reopening Ratis group {} with its peers {}", stream, gid, peers);
        RaftClientReply removed = server.groupManagement(GroupManagementRequest.newRemove(clientId, selfId,
                CALL_IDS.incrementAndGet(), gid, false, false));
        if (!removed.isSuccess()) {
            LOG.error("stream {}: Ratis group could not be closed to reopen it with its peers: {}", stream,
                    removed.getException());
            return;
        }
        RaftClientReply added = server.groupManagement(GroupManagementRequest.newAdd(clientId, selfId,
                CALL_IDS.incrementAndGet(), RaftGroup.valueOf(gid, peers), false));
        if (!added.isSuccess()) {
            LOG.error("stream {}: Ratis group could not be reopened from its storage: {}", stream,
                    added.getException());
        }
    }

    /** js-cluster thread: the leader (or an R1 stream's server) answers the create request once. */
    private void answerCreate(Assignment a, Stream s) {
        // by group, not name: a stream deleted and created again under its name is a new create to answer
        if (a.reply() == null || !answeredCreates.add(a.group())) {
            return;
        }
        ObjectNode out = JsJson.object();
        out.put("type", a.responseType());
        out.setAll(StreamInfoJson.info(s, s.stats()));
        out.put("did_create", true);
        busOf(a.key()).publish(a.reply(), null, null, JsJson.bytes(out));
    }

    /** Ratis apply thread: a stream was deleted. */
    void removed(Assignment a) {
        if (!a.peers().contains(settings.serverName())) {
            if (a.replicated() && groupStreams.containsKey(RaftGroupId.valueOf(a.group()))) {
                executor.execute(() -> dropLocal(a)); // a replica it was removed from, not dropped yet
            }
            return;
        }
        executor.execute(() -> dropLocal(a));
    }

    /** js-cluster thread: removes this server's replica of {@code a}'s stream, its Ratis group and its store. */
    private void dropLocal(Assignment a) {
        if (a.replicated()) {
            RaftGroupId gid = RaftGroupId.valueOf(a.group());
            openedFromStorage.remove(gid);
            try {
                server.groupManagement(GroupManagementRequest.newRemove(clientId, selfId,
                        CALL_IDS.incrementAndGet(), gid, true, false));
                Files.deleteIfExists(dir.resolve("groups").resolve(a.group().toString()));
            } catch (IOException | RuntimeException e) {
                LOG.warn("stream {}: removing its Ratis group failed: {}", a.name(), e.toString());
            }
            groupStreams.remove(gid);
            streamLeaders.remove(a.key());
        }
        answeredCreates.remove(a.group());
        StreamManager streams = streamsOf(a.key());
        Stream s = streams == null ? null : streams.get(a.name());
        if (s != null) {
            streams.beginDelete(s);
            CompletableFuture<Void> gone = new CompletableFuture<>();
            Stream.Task destroy = new Stream.Task() {
                @Override
                public void run(Stream.Batch batch) {
                    streams.destroy(s);
                    gone.complete(null);
                }

                @Override
                public void rejected(Stream.Batch batch) {
                    gone.complete(null);
                }
            };
            if (!s.execute(destroy)) {
                LOG.warn("stream {}: delete waits behind a full writer queue", a.name());
                s.writer().execute(() -> {
                    streams.destroy(s);
                    gone.complete(null);
                });
            }
            try {
                // this thread creates replicas next: a create of the same name must find the old one gone
                gone.get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                LOG.warn("stream {}: delete did not finish in time: {}", a.name(), e.toString());
            }
        }
    }

    // ---- proposals and reads ----

    private CompletableFuture<RaftClientReply> submit(RaftGroupId gid, RaftClientRequest.Type type, byte[] data) {
        RaftClientRequest req = RaftClientRequest.newBuilder()
                .setClientId(clientId)
                .setServerId(selfId)
                .setGroupId(gid)
                .setCallId(CALL_IDS.incrementAndGet())
                .setMessage(Message.valueOf(ByteString.copyFrom(data)))
                .setType(type)
                .build();
        try {
            return server.submitClientRequestAsync(req).thenApply(r -> {
                if (!r.isSuccess()) {
                    throw new IllegalStateException(String.valueOf(r.getException()));
                }
                return r;
            });
        } catch (IOException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private CompletionStage<?> propose(RaftGroupId gid, byte[] entry) {
        return submit(gid, RaftClientRequest.writeRequestType(), entry);
    }

    /** Completes once this replica applied everything committed before now (Ratis read index). */
    private CompletionStage<?> readBarrier(Assignment a) {
        // without a quorum the read index never comes: answer 503 rather than leave the client waiting
        return submit(RaftGroupId.valueOf(a.group()), RaftClientRequest.readRequestType(), new byte[0])
                .orTimeout(5, TimeUnit.SECONDS);
    }

    // ---- API ----

    /**
     * The clustered handlers of one account's API: every account with JetStream shares the meta group, its streams
     * keyed by account and name; the meta leader step-down belongs to the primary account's API.
     */
    private void install(JetStreamAccount account, boolean primary) {
        JsApi api = account.api();
        String acc = account.name();
        account.streams().setClustered(true);
        api.setGate((op, args, reply) -> admit(acc, op, args, reply));
        api.register(JsApiSubjects.STREAM_CREATE, 1, 1, JsApiSubjects.STREAM_CREATE_RESPONSE,
                req -> create(acc, req));
        api.register(JsApiSubjects.STREAM_DELETE, 1, 1, JsApiSubjects.STREAM_DELETE_RESPONSE,
                req -> delete(acc, req));
        api.register(JsApiSubjects.STREAM_NAMES, 0, 0, JsApiSubjects.STREAM_NAMES_RESPONSE, req -> names(acc, req));
        // every stream, not only this server's: each one's info from its leader
        api.register(JsApiSubjects.STREAM_LIST, 0, 0, JsApiSubjects.STREAM_LIST_RESPONSE,
                req -> ClusteredStreamList.answer(req, meta.all().values().stream()
                        .filter(a -> a.account().equals(acc)).toList(), account.bus(), executor));
        api.register(JsApiSubjects.STREAM_LEADER_STEPDOWN, 1, 1, JsApiSubjects.STREAM_LEADER_STEPDOWN_RESPONSE,
                req -> streamStepdown(acc, req));
        if (primary) {
            api.register(JsApiSubjects.META_LEADER_STEPDOWN, 0, 0, JsApiSubjects.META_LEADER_STEPDOWN_RESPONSE,
                    this::metaStepdown);
            // peer and server removal act on the cluster, as the reference's system-account requests
            api.register(JsApiSubjects.STREAM_PEER_REMOVE, 1, 1, JsApiSubjects.STREAM_REMOVE_PEER_RESPONSE,
                    req -> peerRemove(acc, req));
            api.register(JsApiSubjects.SERVER_REMOVE, 0, 0, JsApiSubjects.META_SERVER_REMOVE_RESPONSE,
                    this::serverRemove);
        }
        api.register(JsApiSubjects.CONSUMER_LEADER_STEPDOWN, 2, 2, JsApiSubjects.CONSUMER_LEADER_STEPDOWN_RESPONSE,
                req -> consumerStepdown(acc, req));
        // purge and message delete need nothing here: the stream leader's handler proposes them (Stream#perform)
        api.register(JsApiSubjects.STREAM_UPDATE, 1, 1, JsApiSubjects.STREAM_UPDATE_RESPONSE,
                req -> update(acc, req));
    }

    private static final CompletableFuture<Void> NOW = CompletableFuture.completedFuture(null);

    /**
     * Event loop: who answers (see the class comment and the README's cluster section). Without a leader, as
     * nats-server: a server up for a while that knows no meta leader answers meta requests, and the replicas of
     * a leaderless stream answer its requests, with 503/10008 "JetStream system temporarily unavailable", half a
     * second late so that a leader elected meanwhile answers first.
     */
    CompletionStage<?> admit(String account, String op, List<String> args, String reply) {
        String name = streamOf(op, args);
        String stream = name == null ? null : Assignment.key(account, name);
        Assignment a = stream == null ? null : meta.get(stream);
        if (a == null) {
            // the meta leader answers, also "stream not found"
            if (answersAsMetaLeader()) {
                return NOW;
            }
            return metaLeader == null && System.nanoTime() - startedAt > LEADERLESS_ANSWER_NANOS
                    ? unavailableUnless(() -> metaLeader != null) : null;
        }
        if (op.equals("STREAM.UPDATE")) {
            // the meta leader checks and proposes it, as a create (the stream leader, or an R1 stream's server,
            // answers once applied), so that the assignment always holds the stream's configuration
            if (answersAsMetaLeader()) {
                return NOW;
            }
            return metaLeader == null && System.nanoTime() - startedAt > LEADERLESS_ANSWER_NANOS
                    ? unavailableUnless(() -> metaLeader != null) : null;
        }
        if (!a.replicated()) {
            return a.peers().get(0).equals(settings.serverName()) ? NOW : null;
        }
        boolean replica = a.peers().contains(settings.serverName());
        if (op.equals("DIRECT.GET") || op.equals("STREAM.MSG.GET")) {
            // the replica on the requester's server answers; else the leader. Either waits for the read index.
            String where = reply == null ? null : busOf(stream).interestServer(reply);
            boolean answer = "".equals(where) ? replica
                    : isStreamLeader(stream) && (where == null || !a.peers().contains(where));
            return answer ? readBarrier(a) : null;
        }
        if (isStreamLeader(stream)) {
            return NOW;
        }
        return replica && !streamLeaders.containsKey(stream)
                ? unavailableUnless(() -> streamLeaders.containsKey(stream)) : null;
    }

    /** Fails (503/10008) after half a second unless {@code led} turns true by then; then another server answers. */
    private CompletionStage<?> unavailableUnless(java.util.function.BooleanSupplier led) {
        CompletableFuture<Void> f = new CompletableFuture<>();
        try {
            executor.schedule(() -> {
                if (!led.getAsBoolean()) {
                    f.completeExceptionally(new IllegalStateException("no leader"));
                }
            }, 500, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            return null;
        }
        return f;
    }

    /** The stream a request is about, or null for the meta leader's requests. */
    private static String streamOf(String op, List<String> args) {
        if (args.isEmpty()) {
            return null;
        }
        if (op.startsWith("STREAM.")) {
            return switch (op) {
                // the meta leader answers these, as in nats-server
                case "STREAM.CREATE", "STREAM.DELETE", "STREAM.NAMES", "STREAM.LIST", "STREAM.PEER.REMOVE" -> null;
                default -> args.get(0);
            };
        }
        return op.startsWith("CONSUMER.") || op.startsWith("DIRECT.") ? args.get(0) : null;
    }

    /** Meta leader: validates, places and proposes; the stream leader answers once elected. */
    private void create(String account, ApiRequest req) {
        String name = req.arg(0);
        String key = Assignment.key(account, name);
        StreamConfig cfg = StreamConfig.fromJson(req.decode());
        if (!name.equals(cfg.name())) {
            throw new JsApiException(JsError.STREAM_MISMATCH);
        }
        cfg.validate(true);
        cfg = cfg.withMarkerDefaults().withScheduleDefaults().withApiMetadata(io.jetkv.jetstream.api.ApiLevel.SERVER)
                .checkMetadataSize();
        if (cfg.sealed()) {
            throw new JsApiException(JsError.STREAM_INVALID_CONFIG, "stream configuration for create can not be sealed");
        }
        Assignment existing = meta.get(key);
        if (existing != null) {
            if (!existing.config().equals(cfg.withLevelOf(existing.config()))) {
                throw new JsApiException(JsError.STREAM_NAME_EXIST);
            }
            ObjectNode out = JsJson.object();
            Stream local = localStream(key);
            out.setAll(local != null ? StreamInfoJson.info(local, local.stats()) : configOnlyInfo(existing));
            req.respond(out);
            return;
        }
        checkOverlap(account, cfg);
        checkStreamCount(account);
        List<String> peers = place(Math.max(1, cfg.numReplicas()), cfg.placement(), List.of());
        List<String> addresses = new ArrayList<>();
        for (String p : peers) {
            addresses.add(p.equals(settings.serverName()) ? endpoint : online.get(p));
        }
        Assignment a = new Assignment(account, cfg, peers, addresses, UUID.randomUUID(), nowNanos(), req.reply(),
                req.responseType());
        RaftGroupId gid = metaGroup;
        submit(gid, RaftClientRequest.writeRequestType(), MetaStateMachine.assign(a)).whenComplete((r, err) -> {
            if (err != null) {
                req.fail(JsError.CLUSTER_NOT_AVAILABLE);
            }
        });
    }

    /**
     * 10027 when the account has its {@code max_streams} already, counted over the cluster's assignments (an
     * assigned server that found its local count full could only log it, and the create would go unanswered).
     */
    private void checkStreamCount(String account) {
        JetStreamAccount acc = js.account(account);
        int max = acc == null ? -1 : acc.limits().maxStreams();
        if (max <= 0) {
            return;
        }
        long n = meta.all().values().stream().filter(a -> a.account().equals(account)).count();
        if (n >= max) {
            throw new JsApiException(JsError.MAXIMUM_STREAMS_LIMIT);
        }
    }

    /** 10065 when {@code cfg}'s subjects overlap another assigned stream's of the same account. */
    private void checkOverlap(String account, StreamConfig cfg) {
        for (Assignment other : meta.all().values()) {
            if (!other.account().equals(account) || other.name().equals(cfg.name())) {
                continue; // each account is a subject space of its own
            }
            for (String x : cfg.subjects()) {
                for (String y : other.config().subjects()) {
                    if (Subject.collide(x, y)) {
                        throw new JsApiException(JsError.STREAM_SUBJECT_OVERLAP);
                    }
                }
            }
        }
    }

    /**
     * {@code STREAM.UPDATE} of a replicated stream, on the meta leader (nats-server's clustered update): checked
     * against the assignment's configuration, then proposed to the meta group; every replica then applies it at one
     * place in the stream's own log ({@link #updated}) and the stream leader answers. Other streams go to the local
     * handler (an R1 stream's server). Changing the replica count is refused (10061): JetKV does not move a stream
     * between groups yet.
     */
    private void update(String account, ApiRequest req) {
        String name = req.arg(0);
        Assignment a = meta.get(Assignment.key(account, name));
        ObjectNode raw = req.decode();
        StreamConfig cfg = StreamConfig.fromJson(raw);
        // unlike create, the reference checks the whole config before the name in the subject
        cfg.validate(true);
        if (JsJson.getBool(raw, "pedantic")) {
            cfg.checkPedantic(raw, n -> {
                Assignment o = meta.get(Assignment.key(account, n));
                return o == null ? null : o.config();
            });
        }
        if (!name.equals(cfg.name())) {
            throw new JsApiException(JsError.STREAM_MISMATCH);
        }
        if (a == null) {
            throw new JsApiException(JsError.STREAM_NOT_FOUND);
        }
        StreamConfig current = a.config();
        if (cfg.firstSeq() == 0 && current.firstSeq() > 0) {
            cfg = cfg.keepingFirstSeq(current.firstSeq());
        }
        cfg = cfg.withMarkerDefaults().withScheduleDefaults().withApiMetadata(io.jetkv.jetstream.api.ApiLevel.SERVER)
                .checkMetadataSize();
        cfg.validateUpdateFrom(current);
        if (Math.max(1, cfg.numReplicas()) != Math.max(1, current.numReplicas())) {
            throw new JsApiException(JsError.STREAM_REPLICAS_NOT_UPDATABLE);
        }
        cfg = cfg.sealedAdjusted();
        checkOverlap(account, cfg);
        submit(metaGroup, RaftClientRequest.writeRequestType(),
                MetaStateMachine.update(a.updated(cfg, null, null, 0), req.reply(), req.responseType()))
                .whenComplete((r, err) -> {
                    if (err != null) {
                        req.fail(JsError.CLUSTER_NOT_AVAILABLE);
                    }
                });
    }

    /**
     * Ratis apply thread (meta): a stream's configuration changed; a replicated stream's leader proposes it to the
     * group, an R1 stream's server applies it (the same op, committed locally).
     */
    void updated(Assignment a) {
        if (a.peers().contains(settings.serverName())) {
            executor.execute(() -> proposeConfig(a.key(), true));
        }
    }

    /**
     * js-cluster thread, on the stream's leader: proposes the assignment's configuration to the stream's group when
     * the local replica does not hold it yet (after an update, or when it became leader with an update pending); the
     * replicas apply it in log order. With {@code answer}, the update request is answered after the apply.
     */
    private void proposeConfig(String stream, boolean answer) {
        Stream s = localStream(stream);
        Assignment a = meta.get(stream);
        if (s == null || a == null) {
            return;
        }
        if (a.replicated() ? !leadsReady(a) : !a.peers().get(0).equals(settings.serverName())) {
            return;
        }
        if (!answer && s.config().equals(a.config())) {
            return;
        }
        // each revision's requester is answered once by this server (the meta apply and a leadership start may both
        // get here); a replica that held the revision already (a replayed log) answers nothing: see StreamOp.Config
        String reply = answer && a.updateReply() != null && answeredUpdates.add(a.group() + "@" + a.revision())
                ? a.updateReply() : null;
        String type = a.updateType();
        boolean queued = s.perform(new io.jetkv.jetstream.stream.StreamOp.Config(a.revision(), a.config()),
                new Stream.OpReply() {
                    @Override
                    public void applied(Stream.Batch batch, ObjectNode body, JsApiException error) {
                        if (reply == null || (body == null && error == null)) {
                            return;
                        }
                        ObjectNode out = JsJson.object();
                        out.put("type", type);
                        if (error != null) {
                            out.set("error", JsJson.error(error));
                        } else {
                            out.setAll(body);
                        }
                        batch.send(reply, null, JsJson.bytes(out));
                    }

                    @Override
                    public void failed(JsApiException error) {
                        if (reply != null) {
                            ObjectNode out = JsJson.object();
                            out.put("type", type);
                            out.set("error", JsJson.error(error));
                            busOf(stream).publish(reply, null, null, JsJson.bytes(out));
                        }
                    }
                });
        if (!queued) {
            LOG.warn("stream {}: configuration revision {} could not be proposed", stream, a.revision());
        }
    }

    /** Whether this node leads {@code a}'s group and its leadership's first entry is applied. */
    private boolean leadsReady(Assignment a) {
        try {
            org.apache.ratis.server.DivisionInfo info =
                    server.getDivision(RaftGroupId.valueOf(a.group())).getInfo();
            return info.isLeader() && info.isLeaderReady();
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /**
     * {@code STREAM.LEADER.STEPDOWN.<stream>}, on the stream leader (the gate): leadership moves to the most
     * caught-up other peer that is up; R1 streams answer success, as nats-server's do.
     */
    private void streamStepdown(String account, ApiRequest req) {
        Assignment a = meta.get(Assignment.key(account, req.arg(0)));
        if (a == null) {
            throw new JsApiException(JsError.STREAM_NOT_FOUND);
        }
        if (!req.isEmptyRequest()) {
            throw new JsApiException(JsError.BAD_REQUEST);
        }
        if (!a.replicated()) {
            respondSuccess(req);
            return;
        }
        transferLeadership(RaftGroupId.valueOf(a.group()), req);
    }

    /**
     * {@code CONSUMER.LEADER.STEPDOWN.<stream>.<consumer>}, on the stream leader: a consumer of a replicated stream
     * runs on its stream's leader (its state is in the stream's group), so its leadership moves with the stream's
     * to the most caught-up other peer; the reference's checks and replies (404/10059, 404/10014, 400/10003).
     */
    private void consumerStepdown(String account, ApiRequest req) {
        Assignment a = meta.get(Assignment.key(account, req.arg(0)));
        Stream s = a == null ? null : localStream(a.key());
        JetStreamAccount acc = a == null ? null : accountOf(a.key());
        if (s == null || acc == null) {
            throw new JsApiException(JsError.STREAM_NOT_FOUND);
        }
        acc.consumers().withConsumer(req, s, req.arg(1), () -> {
            if (!req.isEmptyRequest()) {
                throw new JsApiException(JsError.BAD_REQUEST);
            }
            if (!a.replicated()) {
                respondSuccess(req);
            } else {
                transferLeadership(RaftGroupId.valueOf(a.group()), req);
            }
        });
    }

    /** {@code META.LEADER.STEPDOWN} ({@code {}} or a placement without tags), on the meta leader. */
    private void metaStepdown(ApiRequest req) {
        com.fasterxml.jackson.databind.JsonNode tags = req.body().path("placement").path("tags");
        if (tags.isArray() && !tags.isEmpty()) {
            throw new JsApiException(JsError.CLUSTER_TAGS);
        }
        transferLeadership(metaGroup, req);
    }

    /** Hands this node's leadership of {@code gid} to its most caught-up peer that is up; answers when done. */
    private void transferLeadership(RaftGroupId gid, ApiRequest req) {
        RaftPeerId target = null;
        long best = -1;
        try {
            for (RaftProtos.CommitInfoProto ci : server.getDivision(gid).getCommitInfos()) {
                RaftPeerId id = RaftPeerId.valueOf(ci.getServer().getId());
                if (!id.equals(selfId) && online.containsKey(nameOf(id)) && ci.getCommitIndex() > best) {
                    best = ci.getCommitIndex();
                    target = id;
                }
            }
            if (target == null) {
                throw new JsApiException(JsError.CLUSTER_NOT_AVAILABLE);
            }
            LOG.info("JetStream cluster: leadership of {} handed to {} on request", gid, nameOf(target));
            server.transferLeadershipAsync(new org.apache.ratis.protocol.TransferLeadershipRequest(clientId, selfId,
                    gid, CALL_IDS.incrementAndGet(), target, 10_000)).whenComplete((r, err) -> {
                        if (err != null || !r.isSuccess()) {
                            LOG.info("JetStream cluster: leadership transfer of {} failed: {}", gid,
                                    err != null ? err.toString() : String.valueOf(r.getException()));
                            req.fail(JsError.CLUSTER_NOT_AVAILABLE);
                        } else {
                            respondSuccess(req);
                        }
                    });
        } catch (IOException e) {
            throw new JsApiException(JsError.CLUSTER_NOT_AVAILABLE);
        }
    }

    /**
     * {@code STREAM.PEER.REMOVE.<stream>} {@code {"peer":"<server name>"}}, on the meta leader: the peer leaves the
     * stream's group and, as nats-server does, another server that fits the stream's placement takes its place
     * (the stream leader's configuration change catches it up); with no spare server the peer is removed all the
     * same and the answer is 503/10075 "peer remap failed". An R1 stream cannot move (its data is on that server
     * only): 10075 too.
     */
    private void peerRemove(String account, ApiRequest req) {
        if (req.isEmptyRequest()) {
            throw new JsApiException(JsError.BAD_REQUEST);
        }
        String peer = JsJson.getString(req.decode(), "peer");
        if (peer == null) {
            throw new JsApiException(JsError.BAD_REQUEST);
        }
        Assignment a = meta.get(Assignment.key(account, req.arg(0)));
        if (a == null) {
            throw new JsApiException(JsError.STREAM_NOT_FOUND);
        }
        if (!a.peers().contains(peer)) {
            throw new JsApiException(JsError.CLUSTER_PEER_NOT_MEMBER);
        }
        if (!a.replicated()) {
            throw new JsApiException(JsError.PEER_REMAP);
        }
        Assignment moved = withoutPeer(a, peer, List.of());
        boolean remapped = moved.peers().size() == a.peers().size();
        submit(metaGroup, RaftClientRequest.writeRequestType(), MetaStateMachine.peers(moved)).whenComplete((r, err) -> {
            if (err != null) {
                req.fail(JsError.CLUSTER_NOT_AVAILABLE);
            } else if (!remapped) {
                req.fail(JsError.PEER_REMAP);
            } else {
                respondSuccess(req);
            }
        });
    }

    /** {@code a} with {@code peer} replaced by a server that fits its placement (none of {@code avoid}), or dropped. */
    private Assignment withoutPeer(Assignment a, String peer, List<String> avoid) {
        List<String> peers = new ArrayList<>(a.peers());
        List<String> addresses = new ArrayList<>(a.addresses());
        int i = peers.indexOf(peer);
        List<String> exclude = new ArrayList<>(a.peers());
        exclude.addAll(avoid);
        try {
            String spare = place(1, a.config().placement(), exclude).get(0);
            peers.set(i, spare);
            addresses.set(i, spare.equals(settings.serverName()) ? endpoint : online.get(spare));
            LOG.info("stream {}: peer {} replaced by {}", a.name(), peer, spare);
        } catch (JsApiException e) {
            peers.remove(i);
            addresses.remove(i);
            LOG.warn("stream {}: peer {} removed, no server to replace it", a.name(), peer);
        }
        return a.withPeers(peers, addresses);
    }

    /**
     * {@code SERVER.REMOVE} {@code {"peer":"<server name>"}} (or {@code "peer_id"}), on the meta leader: the
     * server's replicas move to other servers (as {@link #peerRemove}), then it leaves the meta group. While its
     * route stays up it is not added back; a restart of it rejoins (as nats-server's). JetKV's clusters have one
     * account, so there is no system account to confine this to.
     */
    private void serverRemove(ApiRequest req) {
        if (req.isEmptyRequest()) {
            throw new JsApiException(JsError.BAD_REQUEST);
        }
        ObjectNode body = req.decode();
        String name = JsJson.getString(body, "peer");
        String id = JsJson.getString(body, "peer_id");
        String found = null;
        try {
            for (RaftPeer p : server.getDivision(metaGroup).getRaftConf().getCurrentPeers()) {
                String pid = p.getId().toString();
                if (pid.equals(id) || (name != null && pid.equals(PeerIds.of(name)) && name.equals(nameOf(p.getId())))) {
                    found = pid;
                }
            }
        } catch (IOException e) {
            throw new JsApiException(JsError.CLUSTER_NOT_AVAILABLE);
        }
        if (found == null) {
            throw new JsApiException(JsError.CLUSTER_SERVER_NOT_MEMBER);
        }
        String removed = nameOf(RaftPeerId.valueOf(found));
        String removedId = found;
        removedServers.add(removed);
        List<CompletableFuture<RaftClientReply>> moves = new ArrayList<>();
        for (Assignment a : meta.all().values()) {
            if (a.replicated() && a.peers().contains(removed)) {
                moves.add(submit(metaGroup, RaftClientRequest.writeRequestType(),
                        MetaStateMachine.peers(withoutPeer(a, removed, List.of(removed)))));
            }
        }
        // its replicas move while it still applies the meta log (it drops them), then it leaves the meta group
        CompletableFuture.allOf(moves.toArray(CompletableFuture[]::new)).handle((v, err) -> {
            onClusterThread(() -> removeMetaPeer(removedId, req));
            return null;
        });
    }

    /** js-cluster thread, meta leader: the meta group's configuration without {@code id}; answers {@code req}. */
    private void removeMetaPeer(String id, ApiRequest req) {
        try {
            List<RaftPeer> peers = new ArrayList<>();
            for (RaftPeer p : server.getDivision(metaGroup).getRaftConf().getCurrentPeers()) {
                if (!p.getId().toString().equals(id)) {
                    peers.add(p);
                }
            }
            server.setConfigurationAsync(new SetConfigurationRequest(clientId, selfId, metaGroup,
                    CALL_IDS.incrementAndGet(), peers)).whenComplete((r, err) -> {
                        boolean ok = err == null && r.isSuccess();
                        LOG.info("JetStream cluster: {} removed from the meta group: {}", nameOf(RaftPeerId.valueOf(id)),
                                ok ? "ok" : err != null ? err.toString() : r.getException());
                        if (ok) {
                            respondSuccess(req);
                        } else {
                            req.fail(JsError.CLUSTER_NOT_AVAILABLE);
                        }
                    });
        } catch (IOException | RuntimeException e) {
            req.fail(JsError.CLUSTER_NOT_AVAILABLE);
        }
    }

    private static void respondSuccess(ApiRequest req) {
        ObjectNode ok = JsJson.object();
        ok.put("success", true);
        req.respond(ok);
    }

    /**
     * Peers for a new stream (or {@code replicas} replacements, none of {@code exclude}): the least loaded of the
     * servers in the meta group that are up and match the stream's {@code placement} (its {@code cluster} is this
     * one, each has every one of its {@code tags}); else 400/10005 with nats-server's text.
     */
    private List<String> place(int replicas, com.fasterxml.jackson.databind.JsonNode placement, List<String> exclude) {
        String wantCluster = placement == null ? null : JsJson.getString(placement, "cluster");
        List<String> wantTags = new ArrayList<>();
        if (placement != null && placement.path("tags").isArray()) {
            placement.path("tags").forEach(t -> wantTags.add(t.asText().strip().toLowerCase(java.util.Locale.ROOT)));
        }
        if (wantCluster != null && !wantCluster.isEmpty() && !wantCluster.equals(settings.clusterName())) {
            throw new JsApiException(JsError.CLUSTER_NO_PEERS, "no suitable peers for placement");
        }
        List<String> candidates = new ArrayList<>();
        candidates.add(settings.serverName());
        Set<String> metaPeers = ConcurrentHashMap.newKeySet();
        try {
            for (RaftPeer p : server.getDivision(metaGroup).getRaftConf().getCurrentPeers()) {
                metaPeers.add(p.getId().toString());
            }
        } catch (IOException e) {
            throw new JsApiException(JsError.CLUSTER_NOT_AVAILABLE);
        }
        for (String n : online.keySet()) {
            if (metaPeers.contains(PeerIds.of(n))) {
                candidates.add(n);
            }
        }
        candidates.removeAll(exclude);
        boolean tagsMissed = candidates.removeIf(n -> !tagsOf(n).containsAll(wantTags));
        if (candidates.size() < replicas) {
            LOG.debug("JetStream cluster: no suitable peers for R{}: meta group {}, routed {}, candidates {}",
                    replicas, metaPeers, online.keySet(), candidates);
            String text = "no suitable peers for placement";
            if (tagsMissed) {
                StringBuilder sb = new StringBuilder(text).append(", tags not matched [");
                for (int i = 0; i < wantTags.size(); i++) {
                    sb.append(i > 0 ? ", " : "").append('\'').append(wantTags.get(i)).append('\'');
                }
                text = sb.append(']').toString();
            }
            throw new JsApiException(JsError.CLUSTER_NO_PEERS, text);
        }
        Map<String, Integer> load = new ConcurrentHashMap<>();
        for (Assignment a : meta.all().values()) {
            for (String p : a.peers()) {
                load.merge(p, 1, Integer::sum);
            }
        }
        Collections.shuffle(candidates);
        candidates.sort(Comparator.comparingInt(n -> load.getOrDefault(n, 0)));
        List<String> out = new ArrayList<>(candidates.subList(0, replicas));
        Collections.sort(out);
        return out;
    }

    private List<String> tagsOf(String server) {
        return server.equals(settings.serverName()) ? ownTags : peerTags.getOrDefault(server, List.of());
    }

    private ObjectNode configOnlyInfo(Assignment a) {
        ObjectNode o = JsJson.object();
        o.set("config", a.config().toJson());
        o.put("created", JsJson.time(a.created()));
        o.set("state", StreamInfoJson.state(new io.jetkv.jetstream.store.StreamState(0, 0, 0, 0, 0, 0, 0, 0), 0));
        o.set("cluster", clusterInfo(a));
        o.put("ts", JsJson.time(nowNanos()));
        return o;
    }

    private void delete(String account, ApiRequest req) {
        req.requireEmpty();
        String key = Assignment.key(account, req.arg(0));
        if (meta.get(key) == null) {
            throw new JsApiException(JsError.STREAM_NOT_FOUND);
        }
        submit(metaGroup, RaftClientRequest.writeRequestType(), MetaStateMachine.remove(key)).whenComplete((r, err) -> {
            if (err != null) {
                req.fail(JsError.CLUSTER_NOT_AVAILABLE);
            } else {
                ObjectNode ok = JsJson.object();
                ok.put("success", true);
                req.respond(ok);
            }
        });
    }

    private void names(String account, ApiRequest req) {
        ObjectNode body = req.body();
        String subject = JsJson.getString(body, "subject");
        List<String> all = new ArrayList<>();
        for (Assignment a : meta.all().values()) {
            if (!a.account().equals(account)) {
                continue;
            }
            if (subject == null || a.config().subjects().stream().anyMatch(s -> Subject.collide(s, subject))) {
                all.add(a.name());
            }
        }
        ObjectNode out = JsJson.object();
        out.put("total", all.size());
        out.put("offset", 0);
        out.put("limit", JsApiSubjects.NAMES_LIMIT);
        ArrayNode arr = out.putArray("streams");
        all.forEach(arr::add);
        req.respond(out);
    }

    private Assignment current(Assignment a) {
        Assignment now = meta.get(a.key());
        return now != null && now.group().equals(a.group()) ? now : a;
    }

    /**
     * The group's leader and every peer (the leader too) with its progress, as nats-server's leader-elected and
     * quorum-lost advisories list them.
     */
    private ObjectNode groupView(Assignment a) {
        ObjectNode o = JsJson.object();
        RaftPeerId leader = streamLeaders.get(a.key());
        if (leader != null) {
            o.put("leader", nameOf(leader));
        }
        Progress progress = progress(a);
        ArrayNode replicas = o.putArray("replicas");
        List<String> all = new ArrayList<>(a.peers());
        Collections.sort(all);
        for (String p : all) {
            replica(replicas.addObject(), p, progress);
        }
        return o;
    }

    /** The commit index of each peer of {@code a}'s group as this replica knows it, and its own. */
    private record Progress(Map<String, Long> commits, long own) {}

    private Progress progress(Assignment a) {
        Map<String, Long> commits = new ConcurrentHashMap<>();
        long own = 0;
        try {
            RaftServer.Division d = server.getDivision(RaftGroupId.valueOf(a.group()));
            for (RaftProtos.CommitInfoProto ci : d.getCommitInfos()) {
                String id = RaftPeerId.valueOf(ci.getServer().getId()).toString();
                commits.put(id, ci.getCommitIndex());
                if (id.equals(selfId.toString())) {
                    own = ci.getCommitIndex();
                }
            }
        } catch (IOException e) {
            // no local division: the peers are listed without progress
        }
        return new Progress(commits, own);
    }

    /** One {@code replicas[]} entry (nats-server's PeerInfo, its field order). */
    private void replica(ObjectNode r, String p, Progress progress) {
        String id = PeerIds.of(p);
        boolean self = p.equals(settings.serverName());
        boolean up = self || online.containsKey(p);
        long lag = self ? 0 : Math.max(0, progress.own() - progress.commits().getOrDefault(id, 0L));
        r.put("name", p);
        r.put("current", up && lag == 0);
        if (!up) {
            r.put("offline", true);
        }
        r.put("active", up ? 1_000_000L : 0L);
        if (lag > 0) {
            r.put("lag", lag);
        }
        r.put("peer", id);
    }

    /** The {@code cluster} block of stream info, as the answering server sees it. */
    private ObjectNode clusterInfo(Assignment a) {
        ObjectNode o = JsJson.object();
        o.put("name", settings.clusterName());
        if (!a.replicated()) {
            o.put("leader", a.peers().get(0));
            return o;
        }
        RaftPeerId leader = streamLeaders.get(a.key());
        if (leader != null) {
            o.put("leader", nameOf(leader));
        }
        Progress progress = progress(a);
        ArrayNode replicas = o.putArray("replicas");
        List<String> others = new ArrayList<>(a.peers());
        if (leader != null && leader.equals(selfId)) {
            others.remove(settings.serverName());
        }
        Collections.sort(others);
        for (String p : others) {
            replica(replicas.addObject(), p, progress);
        }
        return o;
    }

    private static long nowNanos() {
        Instant i = Instant.now();
        return i.getEpochSecond() * 1_000_000_000L + i.getNano();
    }

    @Override
    public void close() {
        closed = true;
        executor.shutdownNow();
        RaftServer s = server;
        if (s != null) {
            try {
                s.close();
            } catch (IOException e) {
                LOG.warn("JetStream cluster: closing Ratis failed: {}", e.toString());
            }
        }
    }

    /** For the monitoring side and tests: the current meta leader's name, or null. */
    public String metaLeaderName() {
        RaftPeerId l = metaLeader;
        return l == null ? null : nameOf(l);
    }

}
