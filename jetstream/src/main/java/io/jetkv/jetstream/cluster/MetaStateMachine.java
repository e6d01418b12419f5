package io.jetkv.jetstream.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import io.jetkv.jetstream.api.JsJson;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import org.apache.ratis.proto.RaftProtos;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The meta group's state machine (nats-server's meta group): the stream assignments of the whole cluster, by
 * {@link Assignment#key} (account and stream name),
 * kept in memory and rebuilt from the Raft log when a node starts (no snapshots yet: the meta log only grows
 * with creates and deletes). Each applied change is handed to {@link JetStreamCluster}, which creates or
 * removes the local replica when this node is one of the stream's peers.
 *
 * <p>Threading: {@link #applyTransaction} runs on Ratis's apply thread, in log order; {@link #get} and
 * {@link #all} from any thread.
 */
final class MetaStateMachine extends BaseStateMachine {
    private static final Logger LOG = LoggerFactory.getLogger(MetaStateMachine.class);

    private final JetStreamCluster cluster;
    private final Map<String, Assignment> streams = new ConcurrentSkipListMap<>();

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

    /** Entry replacing the configuration of {@code a}'s stream (the rest of the assignment stays). */
    static byte[] update(Assignment a) {
        return JsJson.bytes(JsJson.object().put("op", "update").set("a", a.toJson()));
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
                        Assignment now = old.updated(u.config(), u.reply(), u.responseType(), entry.getIndex());
                        streams.put(now.key(), now);
                        cluster.updated(now);
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
