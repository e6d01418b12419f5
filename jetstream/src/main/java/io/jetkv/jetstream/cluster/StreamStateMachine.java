package io.jetkv.jetstream.cluster;

import io.jetkv.jetstream.stream.Stream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
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
 * The state machine of one replicated stream's Ratis group: each committed entry is a batch of publishes
 * (proposed by the leader's writer, see {@code Stream#propose}) prefixed with the proposer's peer id. It is
 * applied by the local {@link Stream}'s writer to the local RocksDB store; the proposer's replica also sends
 * the pub acks. The apply future completes after the store flush, so Ratis's applied index (and with it a
 * linearizable read, {@link #query}) never runs ahead of what the store holds.
 *
 * <p>Threading: {@link #applyTransaction} runs on Ratis's apply thread and only queues; the writer completes
 * the future. Leader changes are handed to {@link JetStreamCluster}'s own thread.
 */
final class StreamStateMachine extends BaseStateMachine {
    private static final Logger LOG = LoggerFactory.getLogger(StreamStateMachine.class);

    private final JetStreamCluster cluster;
    private final String stream;
    // guarded by this: the last entry handed to the writer, the last it flushed, and the reads waiting for it
    private long submitted;
    private long flushed;
    private final java.util.ArrayDeque<Waiter> waiters = new java.util.ArrayDeque<>();

    private record Waiter(long index, CompletableFuture<Message> done) {}

    StreamStateMachine(JetStreamCluster cluster, String stream) {
        this.cluster = cluster;
        this.stream = stream;
    }

    /** Entry bytes: proposer peer id (8 ASCII bytes) then the stream's batch. */
    static byte[] entry(String proposer, byte[] batch) {
        byte[] id = proposer.getBytes(StandardCharsets.US_ASCII);
        byte[] out = Arrays.copyOf(id, id.length + batch.length);
        System.arraycopy(batch, 0, out, id.length, batch.length);
        return out;
    }

    @Override
    public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
        RaftProtos.LogEntryProto entry = trx.getLogEntry();
        TermIndex ti = TermIndex.valueOf(entry);
        byte[] data = entry.getStateMachineLogEntry().getLogData().toByteArray();
        Stream s = cluster.localStream(stream);
        CompletableFuture<Message> done = new CompletableFuture<>();
        synchronized (this) {
            submitted = entry.getIndex();
        }
        if (s == null || data.length < 8) {
            LOG.error("stream {}: entry {} has no local stream to apply to", stream, ti);
            advanceApplied(ti);
            flushed(ti.getIndex());
            done.complete(Message.EMPTY);
            return done;
        }
        String proposer = new String(data, 0, 8, StandardCharsets.US_ASCII);
        byte[] batch = Arrays.copyOfRange(data, 8, data.length);
        s.applyCommitted(batch, entry.getIndex(), proposer.equals(cluster.selfPeerId()), () -> {
            advanceApplied(ti);
            flushed(ti.getIndex());
            done.complete(Message.EMPTY);
        });
        return done;
    }

    /** The writer flushed the entry at {@code index} (entries complete in log order): reads behind it may go. */
    private void flushed(long index) {
        List<CompletableFuture<Message>> ready = new ArrayList<>();
        synchronized (this) {
            flushed = Math.max(flushed, index);
            while (!waiters.isEmpty() && waiters.peekFirst().index() <= flushed) {
                ready.add(waiters.pollFirst().done());
            }
        }
        ready.forEach(f -> f.complete(Message.EMPTY));
    }

    /**
     * The writer completes entries in log order, but Ratis moves the applied index itself past entries that are
     * not ours (configuration changes, a new leader's first entry) meanwhile: only ever move it forward.
     */
    private synchronized void advanceApplied(TermIndex ti) {
        TermIndex last = getLastAppliedTermIndex();
        if (last == null || ti.getIndex() > last.getIndex()) {
            try {
                updateLastAppliedTermIndex(ti);
            } catch (IllegalStateException raced) {
                // Ratis advanced it past this entry at the same moment: nothing to do
            }
        }
    }

    /**
     * A read barrier. Ratis calls it once its applied index reached the read index, but that index is not ours:
     * Ratis counts an entry that is not the state machine's (a new leader's first entry, a configuration) as
     * applied at once, even while earlier entries still wait in the stream's writer, so that after a leader
     * change a read could overtake committed writes (a stale read, found by KvLinearizabilityIT). Every entry up
     * to the read index has been handed to {@link #applyTransaction} by now, so the read also waits until the
     * writer flushed everything handed to it so far.
     */
    @Override
    public CompletableFuture<Message> query(Message request) {
        synchronized (this) {
            if (flushed >= submitted) {
                return CompletableFuture.completedFuture(Message.EMPTY);
            }
            Waiter w = new Waiter(submitted, new CompletableFuture<>());
            waiters.addLast(w);
            return w.done();
        }
    }

    @Override
    public void notifyLeaderReady() {
        cluster.streamLeaderReady(stream, getGroupId());
    }

    @Override
    public void notifyLeaderChanged(RaftGroupMemberId member, RaftPeerId leader) {
        cluster.streamLeaderChanged(stream, member.getGroupId(), leader);
    }
}
