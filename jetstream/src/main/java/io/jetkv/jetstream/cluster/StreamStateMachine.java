package io.jetkv.jetstream.cluster;

import io.jetkv.jetstream.stream.Stream;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
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
 * The state machine of one replicated stream's Ratis group: each committed entry is a batch of publishes
 * (proposed by the leader's writer, see {@code Stream#propose}) prefixed with the proposer's peer id. It is
 * applied by the local {@link Stream}'s writer to the local RocksDB store; the proposer's replica also sends
 * the pub acks. The apply future completes after the store flush, so Ratis's applied index (and with it a
 * linearizable read, {@link #query}) never runs ahead of what the store holds.
 *
 * <p>Snapshots ({@link #takeSnapshot}, Ratis's convention of one file per snapshot in
 * {@link SimpleStateMachineStorage}): the stream's writer dumps its store ({@code StreamSnapshot}: every message
 * under its sequence) in order with the committed batches, so the file is the state after exactly one Raft
 * index; Ratis then purges the log up to it. A replica that is new or fell behind the leader's purged log gets
 * the file from the leader (Ratis's install-snapshot) and its writer merges it into the local store
 * ({@link #reinitialize}); the log after the snapshot follows as usual. A restart whose store is behind the
 * latest local snapshot (a memory stream, a lost flush) installs it too ({@link #initialize}).
 *
 * <p>Threading: {@link #applyTransaction} runs on Ratis's apply thread and only queues; the writer completes
 * the future. {@link #takeSnapshot} and {@link #reinitialize} run on that thread too and wait (bounded) for the
 * writer. Leader changes are handed to {@link JetStreamCluster}'s own thread.
 */
final class StreamStateMachine extends BaseStateMachine {
    private static final Logger LOG = LoggerFactory.getLogger(StreamStateMachine.class);

    /** How long the apply thread waits for the writer to write or install a snapshot. */
    private static final long SNAPSHOT_WAIT_SECONDS = 120;

    /** The latest snapshot and the one before it (a follower may still be fetching that one). */
    static final org.apache.ratis.statemachine.SnapshotRetentionPolicy KEEP_TWO =
            new org.apache.ratis.statemachine.SnapshotRetentionPolicy() {
                @Override
                public int getNumSnapshotsRetained() {
                    return 2;
                }
            };

    private final JetStreamCluster cluster;
    private final String stream;
    // guarded by this: the last entry (or snapshot) handed to the writer, the last it flushed, and the reads
    // waiting for it
    private long submitted;
    private long flushed;
    private final java.util.ArrayDeque<Waiter> waiters = new java.util.ArrayDeque<>();

    private record Waiter(long index, CompletableFuture<Message> done) {}

    private final SimpleStateMachineStorage storage = new SimpleStateMachineStorage();
    private volatile RaftStorage raftStorage;

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

    @Override
    public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage) throws IOException {
        super.initialize(server, groupId, raftStorage);
        getLifeCycle().transition(LifeCycle.State.STARTING);
        this.raftStorage = raftStorage;
        storage.init(raftStorage);
        SingleFileSnapshotInfo latest = storage.getLatestSnapshot();
        if (latest != null) {
            // Ratis applies the log from just after this snapshot: a store behind it must catch up from the file.
            // Not waited for (the server is still starting); the writer runs it before any entry applied later.
            // Ratis's applied index starts at the snapshot's, so a read may arrive before the writer got there:
            // the read barrier waits for the install as for an entry.
            Stream s = cluster.localStream(stream);
            snapshotSubmitted(latest.getTermIndex());
            if (s == null) {
                LOG.error("stream {}: no local stream for snapshot {}", stream, latest);
            } else {
                s.installCommitted(latest.getFile().getPath()).whenComplete((index, err) -> {
                    if (err != null) {
                        LOG.error("stream {}: the store could not catch up from snapshot {}", stream, latest, err);
                    } else {
                        flushed(latest.getIndex());
                    }
                });
            }
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

    /** Apply thread, after Ratis installed a snapshot from the leader into the storage directory. */
    @Override
    public void reinitialize() throws IOException {
        SingleFileSnapshotInfo latest = storage.loadLatestSnapshot();
        if (latest == null) {
            throw new IOException("stream " + stream + ": no snapshot to install");
        }
        getLifeCycle().transition(LifeCycle.State.STARTING);
        install(latest);
        // the store now holds everything up to the snapshot (flushed): Ratis resumes applying after it, so the
        // read barrier and the applied index move there too, or reads would wait for entries never applied here
        snapshotSubmitted(latest.getTermIndex());
        flushed(latest.getIndex());
        getLifeCycle().transition(LifeCycle.State.RUNNING);
    }

    /** A snapshot replaces the entries up to its index: they count as handed to the writer, and as applied. */
    private synchronized void snapshotSubmitted(TermIndex ti) {
        submitted = Math.max(submitted, ti.getIndex());
        TermIndex last = getLastAppliedTermIndex();
        if (last == null || ti.getIndex() > last.getIndex()) {
            setLastAppliedTermIndex(ti);
        }
    }

    private void install(SingleFileSnapshotInfo snapshot) throws IOException {
        Stream s = cluster.localStream(stream);
        if (s == null) {
            throw new IOException("stream " + stream + ": no local stream to install snapshot " + snapshot + " into");
        }
        File file = snapshot.getFile().getPath().toFile();
        if (snapshot.getFile().getFileDigest() != null) {
            MD5FileUtil.verifySavedMD5(file, snapshot.getFile().getFileDigest());
        }
        long index = await(s.installCommitted(file.toPath()), "install snapshot " + snapshot);
        LOG.info("stream {}: store at Raft index {} after snapshot {}", stream, index, snapshot.getTermIndex());
    }

    /**
     * Apply thread (Ratis's snapshot trigger): the writer writes the store to a new snapshot file; returns the
     * Raft index it holds, up to which Ratis may purge the log.
     */
    @Override
    public long takeSnapshot() throws IOException {
        Stream s = cluster.localStream(stream);
        RaftStorage rs = raftStorage;
        if (s == null || rs == null) {
            return RaftLog.INVALID_LOG_INDEX;
        }
        File tmpDir = rs.getStorageDir().getTmpDir();
        Files.createDirectories(tmpDir.toPath());
        Path tmp = Files.createTempFile(tmpDir.toPath(), "stream-snapshot", ".tmp");
        try {
            long index = await(s.snapshotCommitted(tmp), "snapshot");
            SingleFileSnapshotInfo previous = storage.getLatestSnapshot();
            if (index <= 0 || (previous != null && previous.getIndex() >= index)) {
                return previous == null ? RaftLog.INVALID_LOG_INDEX : previous.getIndex();
            }
            TermIndex ti = getServer().join().getDivision(getGroupId()).getRaftLog().getTermIndex(index);
            if (ti == null) {
                LOG.warn("stream {}: no term known for Raft index {}, no snapshot", stream, index);
                return RaftLog.INVALID_LOG_INDEX;
            }
            File file = storage.getSnapshotFile(ti.getTerm(), ti.getIndex());
            Files.move(tmp, file.toPath(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            MD5Hash md5 = MD5FileUtil.computeAndSaveMd5ForFile(file);
            storage.updateLatestSnapshot(new SingleFileSnapshotInfo(new FileInfo(file.toPath(), md5), ti));
            storage.cleanupOldSnapshots(KEEP_TWO);
            LOG.info("stream {}: snapshot at Raft index {} ({} bytes)", stream, index, file.length());
            return index;
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private long await(CompletableFuture<Long> f, String what) throws IOException {
        try {
            return f.get(SNAPSHOT_WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("stream " + stream + ": " + what + " interrupted", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IOException("stream " + stream + ": " + what + " failed", e);
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
