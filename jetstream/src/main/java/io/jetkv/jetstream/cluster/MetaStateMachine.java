package io.jetkv.jetstream.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.jetkv.jetstream.api.JsJson;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import org.apache.ratis.io.MD5Hash;
import org.apache.ratis.proto.RaftProtos;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.raftlog.RaftLog;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.StateMachineStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;
import org.apache.ratis.util.LifeCycle;
import org.apache.ratis.util.MD5FileUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The meta group's state machine (nats-server's meta group): the stream assignments of the whole cluster, by
 * {@link Assignment#key} (account and stream name), kept in memory and rebuilt when a node starts from the latest
 * snapshot (a JSON array of every assignment, one file in Ratis's {@link SimpleStateMachineStorage}) and the Raft
 * log after it. A follower that installs a snapshot from the leader creates and removes local replicas for what
 * changed ({@link #reinitialize}). Each applied change is handed to {@link JetStreamCluster}, which creates or
 * removes the local replica when this node is one of the stream's peers.
 *
 * <p>Threading: {@link #applyTransaction}, {@link #takeSnapshot} and {@link #reinitialize} run on Ratis's apply
 * thread, in log order; {@link #get} and {@link #all} from any thread.
 */
final class MetaStateMachine extends BaseStateMachine {
    private static final Logger LOG = LoggerFactory.getLogger(MetaStateMachine.class);

    private final JetStreamCluster cluster;
    private final Map<String, Assignment> streams = new ConcurrentSkipListMap<>();
    private final SimpleStateMachineStorage storage = new SimpleStateMachineStorage();

    MetaStateMachine(JetStreamCluster cluster) {
        this.cluster = cluster;
    }

    /** The assignment of the stream with this {@link Assignment#key}, or null. */
    Assignment get(String key) {
        return streams.get(key);
    }

    Map<String, Assignment> all() {
        return streams;
    }

    /** Entry proposing {@code a}. */
    static byte[] assign(Assignment a) {
        return JsJson.bytes(JsJson.object().put("op", "assign").set("a", a.toJson()));
    }

    /**
     * Entry replacing the configuration of {@code a}'s stream (the rest of the assignment stays), by the update
     * request answering at {@code reply} with {@code type}.
     */
    static byte[] update(Assignment a, String reply, String type) {
        com.fasterxml.jackson.databind.node.ObjectNode o = JsJson.object().put("op", "update");
        o.set("a", a.toJson());
        o.put("update_reply", reply);
        o.put("update_type", type);
        return JsJson.bytes(o);
    }

    /** Entry moving {@code a}'s stream to its (changed) peers, in the same Ratis group. */
    static byte[] peers(Assignment a) {
        return JsJson.bytes(JsJson.object().put("op", "peers").set("a", a.toJson()));
    }

    /** Entry removing the stream with this {@link Assignment#key}. */
    static byte[] remove(String key) {
        return JsJson.bytes(JsJson.object().put("op", "remove").put("stream", key));
    }

    @Override
    public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
        RaftProtos.LogEntryProto entry = trx.getLogEntry();
        try {
            JsonNode n = JsJson.MAPPER.readTree(entry.getStateMachineLogEntry().getLogData().toByteArray());
            switch (n.path("op").asText()) {
                case "assign" -> {
                    Assignment a = Assignment.fromJson(n.get("a"));
                    if (streams.putIfAbsent(a.key(), a) == null) {
                        cluster.assigned(a);
                    }
                }
                case "update" -> {
                    Assignment u = Assignment.fromJson(n.get("a"));
                    Assignment old = streams.get(u.key());
                    // only the stream as it still is: a delete (or delete and re-create) in between wins
                    if (old != null && old.group().equals(u.group())) {
                        // entries written before the update's reply had a field of its own carried it as "reply"
                        boolean apart = n.has("update_reply");
                        String reply = apart ? n.path("update_reply").textValue() : u.reply();
                        String type = apart ? n.path("update_type").textValue() : u.responseType();
                        Assignment now = old.updated(u.config(), reply, type, entry.getIndex());
                        streams.put(now.key(), now);
                        cluster.updated(now);
                    }
                }
                case "peers" -> {
                    Assignment u = Assignment.fromJson(n.get("a"));
                    Assignment old = streams.get(u.key());
                    if (old != null && old.group().equals(u.group())) {
                        Assignment now = old.withPeers(u.peers(), u.addresses());
                        streams.put(now.key(), now);
                        cluster.peersChanged(old, now);
                    }
                }
                case "remove" -> {
                    Assignment a = streams.remove(n.path("stream").asText());
                    if (a != null) {
                        cluster.removed(a);
                    }
                }
                default -> LOG.error("meta: unknown entry {}", n);
            }
        } catch (IOException | RuntimeException e) {
            LOG.error("meta: entry {} could not be applied", entry.getIndex(), e);
        }
        updateLastAppliedTermIndex(TermIndex.valueOf(entry));
        return CompletableFuture.completedFuture(Message.EMPTY);
    }

    @Override
    public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage) throws IOException {
        super.initialize(server, groupId, raftStorage);
        getLifeCycle().transition(LifeCycle.State.STARTING);
        storage.init(raftStorage);
        SingleFileSnapshotInfo latest = storage.getLatestSnapshot();
        if (latest != null) {
            load(latest);
        }
        getLifeCycle().transition(LifeCycle.State.RUNNING);
    }

    /** Apply thread: Ratis is about to install a snapshot from the leader; {@link #reinitialize} follows. */
    @Override
    public void pause() {
        getLifeCycle().transition(LifeCycle.State.PAUSING);
        getLifeCycle().transition(LifeCycle.State.PAUSED);
    }

    @Override
    public StateMachineStorage getStateMachineStorage() {
        return storage;
    }

    /** Apply thread, after Ratis installed a snapshot from the leader. */
    @Override
    public void reinitialize() throws IOException {
        SingleFileSnapshotInfo latest = storage.loadLatestSnapshot();
        if (latest == null) {
            throw new IOException("meta: no snapshot to install");
        }
        getLifeCycle().transition(LifeCycle.State.STARTING);
        load(latest);
        getLifeCycle().transition(LifeCycle.State.RUNNING);
    }

    /** Replaces the assignments with the snapshot's, telling the cluster what appeared and what went. */
    private void load(SingleFileSnapshotInfo snapshot) throws IOException {
        File file = snapshot.getFile().getPath().toFile();
        if (snapshot.getFile().getFileDigest() != null) {
            MD5FileUtil.verifySavedMD5(file, snapshot.getFile().getFileDigest());
        }
        Map<String, Assignment> loaded = new HashMap<>();
        for (JsonNode n : JsJson.MAPPER.readTree(file)) {
            Assignment a = Assignment.fromJson(n);
            loaded.put(a.key(), a);
        }
        for (Assignment old : streams.values()) {
            Assignment now = loaded.get(old.key());
            if (now == null || !now.group().equals(old.group())) {
                streams.remove(old.key());
                cluster.removed(old);
            }
        }
        for (Assignment a : loaded.values()) {
            Assignment old = streams.putIfAbsent(a.key(), a);
            if (old == null) {
                cluster.assigned(a);
            } else if (a.revision() > old.revision()) {
                // updated since: the stream's leader proposes the configuration to its group
                streams.put(a.key(), a);
                cluster.updated(a);
            } else if (!a.peers().equals(old.peers())) {
                streams.put(a.key(), a);
                cluster.peersChanged(old, a);
            }
        }
        setLastAppliedTermIndex(snapshot.getTermIndex());
        LOG.info("meta: {} stream assignments from snapshot {}", loaded.size(), snapshot.getTermIndex());
    }

    /** Apply thread: every assignment as of the last applied entry, to one file; the log before it is purged. */
    @Override
    public long takeSnapshot() throws IOException {
        TermIndex last = getLastAppliedTermIndex();
        if (last == null || last.getIndex() <= 0) {
            return RaftLog.INVALID_LOG_INDEX;
        }
        SingleFileSnapshotInfo previous = storage.getLatestSnapshot();
        if (previous != null && previous.getIndex() >= last.getIndex()) {
            return previous.getIndex();
        }
        ArrayNode all = JsJson.MAPPER.createArrayNode();
        for (Assignment a : streams.values()) {
            all.add(a.toJson());
        }
        File file = storage.getSnapshotFile(last.getTerm(), last.getIndex());
        File tmp = new File(file.getPath() + ".writing");
        Files.write(tmp.toPath(), JsJson.bytes(all));
        Files.move(tmp.toPath(), file.toPath(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        MD5Hash md5 = MD5FileUtil.computeAndSaveMd5ForFile(file);
        storage.updateLatestSnapshot(new SingleFileSnapshotInfo(new FileInfo(file.toPath(), md5), last));
        storage.cleanupOldSnapshots(StreamStateMachine.KEEP_TWO);
        LOG.info("meta: snapshot of {} stream assignments at Raft index {}", streams.size(), last.getIndex());
        return last.getIndex();
    }

    @Override
    public CompletableFuture<Message> query(Message request) {
        return CompletableFuture.completedFuture(Message.EMPTY);
    }

    @Override
    public void notifyLeaderChanged(RaftGroupMemberId member, RaftPeerId leader) {
        cluster.metaLeaderChanged(leader);
    }

    /** Ratis calls it as it applies the leader's first entry of its term: every earlier entry is applied. */
    @Override
    public void notifyLeaderReady() {
        cluster.metaLeaderReady();
    }
}
