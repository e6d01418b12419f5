package io.jetkv.jetstream.stream;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jetkv.jetstream.MessageBus;
import io.jetkv.jetstream.api.JsApiException;
import io.jetkv.jetstream.api.JsError;
import io.jetkv.jetstream.api.JsJson;
import io.jetkv.jetstream.store.MessageTtl;
import io.jetkv.jetstream.store.StoreException;
import io.jetkv.jetstream.store.StoredMessage;
import io.jetkv.jetstream.store.StreamState;
import io.jetkv.jetstream.store.StreamStore;
import io.jetkv.jetstream.store.SubjectState;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One stream: its configuration, its store and the single writer that owns both (nats-server's
 * {@code stream.go}). Publishes and API operations are queued on a bounded queue and drained on the
 * stream's pinned executor in batches: every task of a batch runs, then one {@code store.flush}, then the
 * acks and replies of the whole batch go out (group commit: replies follow durability). When the flush
 * fails, the batch's acks become 10077 errors, the store is reopened at its last completed flush and the
 * writer's derived state (dedupe window, source positions) is rebuilt from it; if reopening fails too, the
 * stream refuses publishes and the timer retries.
 *
 * <p>Threading: {@link #offerPublish}, {@link #execute}, {@link #config()}, {@link #stats()} are safe from
 * any thread and never block. Everything touching the store, and every {@link Task}, runs on the writer.
 */
public final class Stream {
    private static final Logger LOG = LoggerFactory.getLogger(Stream.class);

    /** Most tasks drained into one group commit. */
    static final int BATCH_CAP = 256;
    /** How often an unavailable stream tries to reopen its store. */
    private static final long REOPEN_RETRY_NANOS = 1_000_000_000L;
    /** Headers larger than this are refused (10097). */
    private static final int MAX_HEADER_SIZE = 65535;

    /** Work for the writer thread. */
    public interface Task {
        void run(Batch batch);

        /** The stream was deleted before the task ran. */
        default void rejected(Batch batch) {}
    }

    /**
     * Settings and usage counters shared by all streams of a server, and of the streams' account.
     *
     * @param maxMemory bytes all memory streams may hold together (&lt;= 0: no limit)
     * @param maxStore  bytes all file streams may hold together (&lt;= 0: no limit)
     * @param writes    group-commit latency and batch sizes, for the metrics endpoint
     * @param openAtomicBatches atomic publish batches open on the whole server (at most 1000)
     * @param openFastBatches fast-ingest batches open on the whole server (at most 50 000)
     * @param account   the account's own limits and usage, or null when only the server's apply
     */
    public record Context(MessageBus bus, boolean syncAlways, String domain, long maxMemory, long maxStore,
            AtomicLong memoryUsed, AtomicLong storeUsed, WriteMetrics writes, AtomicInteger openAtomicBatches,
            AtomicInteger openFastBatches, AccountUsage account) {

        public Context(MessageBus bus, boolean syncAlways, String domain) {
            this(bus, syncAlways, domain, -1, -1, new AtomicLong(), new AtomicLong(), new WriteMetrics());
        }

        /** @param writes group-commit metrics; the server's counts of open atomic and fast batches start at 0 */
        public Context(MessageBus bus, boolean syncAlways, String domain, long maxMemory, long maxStore,
                AtomicLong memoryUsed, AtomicLong storeUsed, WriteMetrics writes) {
            this(bus, syncAlways, domain, maxMemory, maxStore, memoryUsed, storeUsed, writes, new AtomicInteger(),
                    new AtomicInteger(), null);
        }

        AtomicLong used(StreamEnums.Storage storage) {
            return storage == StreamEnums.Storage.MEMORY ? memoryUsed : storeUsed;
        }

        long limit(StreamEnums.Storage storage) {
            return storage == StreamEnums.Storage.MEMORY ? maxMemory : maxStore;
        }

        /** Counts {@code delta} bytes for the server and the account. */
        void addUsed(StreamEnums.Storage storage, long delta) {
            used(storage).addAndGet(delta);
            if (account != null) {
                account.used(storage).addAndGet(delta);
            }
        }
    }

    /**
     * One account's own byte limits (-1: none) and what its streams hold, beside the server's.
     */
    public record AccountUsage(long maxMemory, long maxStore, AtomicLong memoryUsed, AtomicLong storeUsed) {
        AtomicLong used(StreamEnums.Storage storage) {
            return storage == StreamEnums.Storage.MEMORY ? memoryUsed : storeUsed;
        }

        long limit(StreamEnums.Storage storage) {
            return storage == StreamEnums.Storage.MEMORY ? maxMemory : maxStore;
        }
    }

    /**
     * Replies and side effects collected while a batch runs; sent after the flush. Writer thread only.
     */
    public final class Batch {
        private record Out(String subject, byte[] headers, byte[] payload, byte[] onFailure) {}

        private final List<Out> out = new ArrayList<>();
        private final List<Runnable> reads = new ArrayList<>();
        /** Run after the flush and the replies (a replicated apply completes here). */
        private List<Runnable> afterFlush;
        /** Publishes a replicated stream's leader proposes when the batch ends. */
        private List<Publish> proposals;
        private boolean dirty;
        private int tasks;

        /**
         * Runs {@code read} now when nothing in this batch waits for the flush, otherwise right after the
         * flush: a read must not answer with a change that a failed flush then loses (after a failure it runs
         * on the reopened store). What it sends goes out with the batch's other replies.
         */
        public void read(Runnable read) {
            if (dirty) {
                reads.add(read);
            } else {
                read.run();
            }
        }

        /** Sends {@code payload} to {@code subject} after the flush, or {@code onFailure} if it failed. */
        public void reply(String subject, byte[] payload, byte[] onFailure) {
            if (subject != null) {
                out.add(new Out(subject, null, payload, onFailure));
            }
        }

        /** A message with headers, sent after the flush whatever its outcome (reads, status replies). */
        public void send(String subject, byte[] headers, byte[] payload) {
            if (subject != null) {
                out.add(new Out(subject, headers, payload, null));
            }
        }

        /** A message sent only if the flush succeeds (republish). */
        void sendIfDurable(String subject, byte[] headers, byte[] payload) {
            out.add(new Out(subject, headers, payload, new byte[0]));
        }

        /** Runs {@code r} once the batch is flushed and its replies are out. */
        public void afterFlush(Runnable r) {
            if (afterFlush == null) {
                afterFlush = new ArrayList<>(2);
            }
            afterFlush.add(r);
        }

        /** The store was changed: flush before replying. */
        public void markDirty() {
            dirty = true;
        }

        public Stream stream() {
            return Stream.this;
        }
    }

    /**
     * A publish; {@code timestamp} is 0 until the writer (or, replicated, the proposing leader) assigns it.
     *
     * @param sourced copied from a source: stored as the origin had it, without the TTL checks
     */
    private record Publish(String subject, String reply, byte[] headers, byte[] payload, long timestamp,
            boolean sourced)
            implements Task {
        @Override
        public void run(Batch batch) {
            batch.stream().processPublish(this, batch);
        }

        @Override
        public void rejected(Batch batch) {
            batch.reply(reply, batch.stream().pubAckError(new JsApiException(JsError.STREAM_NOT_FOUND)), null);
        }
    }

    private final String name;
    private final long created;
    /** Writer thread: replaced when a failed flush forces a reopen. */
    private StreamStore store;
    /** Reopens the store after a failed flush; null when the store cannot fail a flush (memory). */
    private final StorageBackend reopener;
    private final Executor writer;
    private final Context ctx;
    private final TaskQueue<Task> queue;
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private final AtomicBoolean maintenancePending = new AtomicBoolean();
    private final AtomicInteger consumerCount = new AtomicInteger();
    private final List<StreamListener> listeners = new CopyOnWriteArrayList<>();
    private volatile StreamConfig config;
    private volatile boolean accepting = true;
    private volatile boolean closed;
    private volatile boolean deleted;
    private volatile StreamState stats;
    private volatile long nextExpiry = Long.MAX_VALUE;
    private volatile long nextDedupePrune = Long.MAX_VALUE;
    /** The earliest entry of the store's schedule index when schedules are allowed, else Long.MAX_VALUE. */
    private volatile long nextSchedule = Long.MAX_VALUE;
    /** Writer thread: message schedules (2.12, ADR-51). */
    private final MessageScheduler scheduler = new MessageScheduler(this);
    /**
     * Most messages one maintenance run expires. A run that leaves more due queues the next run behind the tasks
     * already waiting, so that a backlog of expiries and the publishes share the writer turn by turn: a publish waits
     * behind a few runs of this many, never behind the whole backlog.
     */
    static final int EXPIRY_CAP = BATCH_CAP;
    /** Writer thread: a maintenance run left expiries due; the next run is queued when the batch is done. */
    private boolean maintainAfterBatch;
    /** Copies the mirror or sources into this stream; null when it has none. Set by the registry. */
    private volatile Sourcing sourcing;

    // Writer-confined state.
    /** Null: the stream commits locally. Set by the cluster layer for a replicated stream. */
    private volatile Replicator replicator;
    /** The {@code cluster} block of stream info, or null (single server). */
    private volatile java.util.function.Supplier<ObjectNode> clusterInfo;
    /** The group's leader and replicas for advisories, or null (not replicated). */
    private volatile java.util.function.Supplier<ObjectNode> groupView;
    /** Committed batches of a replicated stream, ahead of {@link #queue}; never refused (Ratis paces them). */
    private final java.util.concurrent.ConcurrentLinkedQueue<Task> committed =
            new java.util.concurrent.ConcurrentLinkedQueue<>();
    /** Writer thread: the Raft index of the last committed batch applied to the store; -1 until read. */
    private long appliedIndex = -1;
    /** Writer thread: the last timestamp handed to a proposal, so that proposals keep time order. */
    private long lastProposedTs;
    /** Ops this replica proposed, by op id, waiting for their apply to answer ({@link #perform}). */
    private final java.util.concurrent.ConcurrentHashMap<Long, OpReply> pendingOps =
            new java.util.concurrent.ConcurrentHashMap<>();
    /** The registry that made this stream: a replicated configuration update is applied through it. */
    volatile StreamManager manager;
    private final LinkedHashMap<String, long[]> dedupe = new LinkedHashMap<>(); // msg id -> {seq, timestamp}
    /** Writer thread: open atomic batches by id, least recently active first. */
    private final LinkedHashMap<String, AtomicBatch> atomicBatches = new LinkedHashMap<>();
    /** When the least recently active open batch times out; read by the timer. */
    private volatile long nextBatchTimeout = Long.MAX_VALUE;
    /** Writer thread: open fast-ingest batches (2.14). */
    private final FastBatch fastBatches;
    private String lastMsgId;
    /**
     * Writer thread: the stored messages below this sequence are all exempt from {@code max_age} ({@code Nats-TTL:
     * never}); age expiry starts here. 0 after (re)opening the store.
     */
    private long ageScanFrom;
    private long lastTimestamp;
    /** Writer thread: the start of every pub ack, up to the sequence's digits; null until the first. */
    private byte[] ackPrefix;
    private static final byte[] PLAIN_TAIL = {'}'};
    private static final byte[] DUPLICATE_TAIL = ",\"duplicate\": true}".getBytes(StandardCharsets.US_ASCII);
    /** Writer thread: {@link #storeFailedAck()}, null until first needed. */
    private byte[] storeFailedAck;
    /** Writer thread (set by the consumer side from any thread): who decides what interest and work-queue retention keep. */
    private volatile Interest interest;
    /** A replicated stream's consumers, whose state travels in the stream's group; null otherwise. */
    private volatile ReplicatedConsumers replicatedConsumers;
    /** Writer thread: a message was retired outside a running batch's tasks; the next finish flushes it. */
    private boolean unflushedRetire;
    /**
     * Writer thread: the last sequence of the last completed flush. Consumers deliver nothing above it, so a
     * failed flush can never take back a message someone has already seen.
     */
    private long durableLastSeq;
    /** The store failed and could not be reopened yet: writes are refused, the timer retries. */
    private volatile boolean unavailable;
    private volatile long lastReopenAttempt;
    private final AtomicBoolean reopenPending = new AtomicBoolean();

    /**
     * Call on the thread that may touch {@code store} before it is shared (creation/restore); the stream
     * then belongs to {@code writer}.
     */
    public Stream(StreamConfig config, long created, StreamStore store, Executor writer, int queueCapacity, Context ctx) {
        this(config, created, store, null, writer, queueCapacity, ctx);
    }

    /**
     * As above; {@code reopener} (null: none) gives a fresh store when a flush fails, see
     * {@link StorageBackend#reopenStore}.
     */
    public Stream(StreamConfig config, long created, StreamStore store, StorageBackend reopener, Executor writer,
            int queueCapacity, Context ctx) {
        this.name = config.name();
        this.config = config;
        this.created = created;
        this.store = store;
        this.reopener = reopener;
        this.writer = writer;
        this.ctx = ctx;
        this.fastBatches = new FastBatch(new FastBatchHost(), ctx.openFastBatches());
        this.queue = new TaskQueue<>(queueCapacity);
        this.stats = store.state();
        this.durableLastSeq = stats.lastSeq();
        ctx.addUsed(config.storage(), stats.bytes());
        recoverWriterState();
        fastBatches.restore(store.getAux(FAST_BATCHES_KEY));
        updateTimers(this.stats);
    }

    public String name() {
        return name;
    }

    /** The server's message bus (internal subscriptions and publishes). */
    MessageBus bus() {
        return ctx.bus();
    }

    public StreamConfig config() {
        return config;
    }

    /** Creation time, epoch nanos; kept across updates and restarts. */
    public long created() {
        return created;
    }

    /** The store. Writer thread only. */
    public StreamStore store() {
        return store;
    }

    /**
     * Writer thread: the highest sequence known to be on disk (memory streams: stored). Readers that hand
     * messages out (consumers) stop there; the running batch's messages follow after its flush.
     */
    public long durableLastSeq() {
        return durableLastSeq;
    }

    /** True while the store failed and could not be reopened: publishes get 10077 errors. */
    public boolean isUnavailable() {
        return unavailable;
    }

    /** Counters as of the last group commit; any thread. */
    public StreamState stats() {
        return stats;
    }

    /** Consumers attached; maintained by the consumer side, reported in stream and account info. */
    public AtomicInteger consumerCount() {
        return consumerCount;
    }

    /** Writer thread: who keeps messages of an interest or work-queue stream (null: nobody yet). */
    public void setInterest(Interest i) {
        this.interest = i;
    }

    /**
     * Writer thread: removes a message no consumer needs any more (interest and work-queue retention). The
     * removal is flushed with the running batch, or with the next one when it happens after a flush
     * (consumers deliver from {@link StreamListener#afterFlush}); until then a crash brings it back, and it
     * is delivered again, as any unacknowledged message. {@code subject} and {@code size} are the message's when it
     * was loaded ({@link StreamStore#remove(long, String, long, boolean)}).
     */
    public void retire(long seq, String subject, long size) {
        if (store.remove(seq, subject, size, false)) {
            unflushedRetire = true;
        }
    }

    /**
     * Writer thread, after an update changed the retention policy (only between {@code limits} and {@code interest}):
     * becoming an interest stream applies interest retention to what is stored; without any consumer nothing is
     * wanted, so everything goes.
     */
    public void retentionChanged(StreamEnums.Retention from) {
        if (from != StreamEnums.Retention.LIMITS || config.retention() != StreamEnums.Retention.INTEREST) {
            return;
        }
        if (interest != null) {
            interest.becameInterest();
        } else {
            store.purge(null, 0, 0);
        }
    }

    public void addListener(StreamListener l) {
        listeners.add(l);
    }

    public void removeListener(StreamListener l) {
        listeners.remove(l);
    }

    public boolean isClosed() {
        return closed;
    }

    /** True once the stream was deleted (not merely closed at shutdown): listeners drop persisted state. */
    public boolean isDeleted() {
        return deleted;
    }

    /** Registry only: the new configuration takes effect for the next task the writer runs. */
    void setConfig(StreamConfig c) {
        this.config = c;
    }

    Sourcing sourcing() {
        return sourcing;
    }

    /** The JetStream domain, or null. */
    String domain() {
        String d = ctx.domain();
        return d == null || d.isEmpty() ? null : d;
    }

    /** Registry only: replaces the copier (creation, restore, update); the old one is stopped. */
    void setSourcing(Sourcing s) {
        Sourcing old = sourcing;
        sourcing = s;
        if (old != null) {
            old.stop();
        }
    }

    /** Event loop: queue a publish; false when the queue is full (caller answers 429) or the stream is gone. */
    public boolean offerPublish(String subject, String reply, byte[] headers, byte[] payload) {
        return execute(new Publish(subject, reply, headers, payload, 0, false));
    }

    /** Any thread: queue a task for the writer; false when the queue is full or the stream is gone. */
    public boolean execute(Task task) {
        if (!accepting || !queue.offer(task)) {
            return false;
        }
        schedule();
        return true;
    }

    /** Builds the pub-ack error JSON for this stream. */
    public byte[] pubAckError(JsApiException e) {
        ObjectNode o = JsJson.object();
        o.set("error", JsJson.error(e));
        o.put("stream", name);
        o.put("seq", 0);
        return JsJson.bytes(o);
    }

    /**
     * Cluster layer: makes this a replicated stream (publishes are proposed, and stored when they come back
     * committed through {@link #applyCommitted}) or, with null, one that commits locally.
     */
    public void setReplicator(Replicator r) {
        this.replicator = r;
    }

    /** Whether publishes go through consensus (a replicated stream). Any thread. */
    public boolean isReplicated() {
        return replicator != null;
    }

    /** Consumer side, any thread: the consumers of this replicated stream (see {@link ReplicatedConsumers}). */
    public void setReplicatedConsumers(ReplicatedConsumers rc) {
        this.replicatedConsumers = rc;
    }

    /**
     * Cluster layer, any thread: this replica now leads the stream's group, or no longer does. The consumers hear
     * of it on the writer after every entry committed so far (Ratis's leader-ready follows their apply); open atomic
     * batches are dropped.
     */
    public void setLeading(boolean leader) {
        committed.add(batch -> {
            // atomic batches are staged on the leader only: a leadership change abandons them, as in nats-server
            // 2.12+, so the batch's next message or commit gets 10176 "batch is incomplete" from whoever leads now
            dropAtomicBatches();
            ReplicatedConsumers rc = replicatedConsumers;
            if (rc != null) {
                rc.leading(leader);
            }
        });
        schedule();
    }

    /** Cluster layer: supplies the {@code cluster} block of stream info. */
    public void setClusterInfo(java.util.function.Supplier<ObjectNode> s) {
        this.clusterInfo = s;
    }

    /**
     * Cluster layer: supplies what a replicated stream's leader-elected and quorum-lost advisories say of its
     * group, {@code {"leader", "replicas"}} with every peer (the leader too), or null without a group.
     */
    public void setGroupView(java.util.function.Supplier<ObjectNode> s) {
        this.groupView = s;
    }

    /** The group's leader and replicas for advisories (see {@link #setGroupView}), or null. Any thread. */
    public ObjectNode groupView() {
        java.util.function.Supplier<ObjectNode> s = groupView;
        return s == null ? null : s.get();
    }

    /**
     * Any thread: a cluster advisory of the stream's group ({@code consumer} null) or of one of its consumers (whose
     * group is the stream's), as nats-server sends them: {@code event} {@code LEADER_ELECTED} (from the new leader,
     * with {@code leader}) or {@code QUORUM_LOST} (from a leader stepping down without a quorum). Nothing without a
     * group view.
     */
    public void announceGroup(String event, String consumer) {
        ObjectNode view = groupView();
        if (view == null) {
            return;
        }
        String kind = consumer == null ? "stream" : "consumer";
        ObjectNode o = JsJson.object();
        o.put("type", "io.nats.jetstream.advisory.v1." + kind + "_" + event.toLowerCase(java.util.Locale.ROOT));
        o.put("id", AtomicBatch.advisoryId());
        o.put("timestamp", JsJson.time(nowNanos()));
        o.put("stream", name);
        if (consumer != null) {
            o.put("consumer", consumer);
        }
        if (event.equals("LEADER_ELECTED") && view.hasNonNull("leader")) {
            o.set("leader", view.get("leader"));
        }
        o.set("replicas", view.get("replicas"));
        if (ctx.domain() != null && !ctx.domain().isEmpty()) {
            o.put("domain", ctx.domain());
        }
        String subject = "$JS.EVENT.ADVISORY." + kind.toUpperCase(java.util.Locale.ROOT) + "." + event + "." + name
                + (consumer == null ? "" : "." + consumer);
        ctx.bus().publish(subject, null, null, JsJson.bytes(o));
    }

    /** Writer thread: the names of the consumers the stream's group committed (none on an unreplicated stream). */
    public java.util.Collection<String> committedConsumers() {
        ReplicatedConsumers rc = replicatedConsumers;
        return rc == null ? java.util.List.of() : rc.committedNames();
    }

    /** The {@code cluster} block, or null when not in a cluster. Any thread. */
    public ObjectNode clusterInfo() {
        java.util.function.Supplier<ObjectNode> s = clusterInfo;
        return s == null ? null : s.get();
    }

    /**
     * Any thread (the Raft apply thread): queues a committed batch of publishes for the writer, which stores
     * it exactly as every other replica does (same sequences, timestamps and check outcomes: the checks run
     * here, on committed input, not before the proposal). Pub acks go out only when {@code sendAcks} (the
     * replica that proposed it). {@code applied} runs after the store flush. A batch at or below the index
     * already in the store (a log replayed after a restart) is skipped.
     */
    public void applyCommitted(byte[] entry, long index, boolean sendAcks, Runnable applied) {
        committed.add(batch -> {
            if (StreamOp.isOp(entry)) {
                OpReply reply = sendAcks ? pendingOps.remove(StreamOp.opId(entry)) : null;
                if (index > appliedIndex()) {
                    applyOp(StreamOp.decode(entry), reply, batch);
                    appliedIndex = index;
                    store.putAux(APPLIED_KEY, ReplicatedBatch.longBytes(index));
                    batch.markDirty();
                }
            } else if (entry.length > 0 && entry[0] == CONSUMER_ENTRY) {
                // applied again when the log is replayed (the consumers' committed view lives in memory): its ops
                // set state and remove messages already gone, so a second apply changes nothing
                ReplicatedConsumers rc = replicatedConsumers;
                if (rc != null) {
                    rc.applyCommitted(java.util.Arrays.copyOfRange(entry, 1, entry.length), batch);
                } else {
                    LOG.error("stream {}: consumer entry {} with no consumers to apply it to", name, index);
                }
                if (index > appliedIndex()) {
                    appliedIndex = index;
                    store.putAux(APPLIED_KEY, ReplicatedBatch.longBytes(index));
                }
                batch.markDirty();
            } else if (index > appliedIndex()) {
                StreamConfig cfg = config;
                for (Publish p : ReplicatedBatch.decode(entry, (s, r, h, b, t) -> new Publish(s, r, h, b, t, false))) {
                    if (FastBatch.isFastBatchReply(p.reply) && !config.noAck()) {
                        // its reply subject carries the batch's control data: every replica needs it, the proposer answers
                        fastBatches.publish(p.subject, p.reply, p.headers, p.payload, batch,
                                Math.max(p.timestamp, lastTimestamp), sendAcks, true);
                    } else {
                        processPublish(sendAcks ? p : new Publish(p.subject, null, p.headers, p.payload, p.timestamp,
                                p.sourced), batch);
                    }
                }
                saveFastBatches();
                appliedIndex = index;
                store.putAux(APPLIED_KEY, ReplicatedBatch.longBytes(index));
                batch.markDirty();
            }
            batch.afterFlush(applied);
        });
        schedule();
    }

    /** Aux key holding a replicated stream's open fast-ingest batches ({@link FastBatch#encode}). */
    private static final String FAST_BATCHES_KEY = "raft.fastbatches";

    /** Writer thread, applying: stages the open fast batches with the entry's changes when they changed. */
    private void saveFastBatches() {
        if (fastBatches.takeChanged()) {
            store.putAux(FAST_BATCHES_KEY, fastBatches.encode());
        }
    }

    /** First byte of a consumer entry; a publish batch starts with its version (1). */
    private static final byte CONSUMER_ENTRY = 0x43;

    /**
     * Writer thread, leader, at the end of a batch: the consumers' changes of this batch (acks, deliveries, creates
     * and deletes) go out as one proposal, so that a burst of acks costs one Raft round.
     */
    private void proposeConsumerChanges() {
        ReplicatedConsumers rc = replicatedConsumers;
        Replicator r = replicator;
        if (rc == null || r == null || closed) {
            return;
        }
        ReplicatedConsumers.Changes ch = rc.takeChanges();
        if (ch == null) {
            return;
        }
        byte[] entry = new byte[ch.ops().length + 1];
        entry[0] = CONSUMER_ENTRY;
        System.arraycopy(ch.ops(), 0, entry, 1, ch.ops().length);
        r.propose(entry).whenComplete((ok, err) -> {
            if (err != null) {
                LOG.warn("stream {}: consumer proposal failed: {}", name, err.toString());
            }
            ch.done().accept(err == null);
        });
    }

    /** Aux key holding the Raft index of the last applied batch, flushed with that batch's messages. */
    private static final String APPLIED_KEY = "raft.applied";

    /** Aux key holding the meta revision of the last replicated configuration applied ({@link StreamOp.Config}). */
    private static final String CONFIG_REVISION_KEY = "raft.config";

    /** Who hears how an op ended ({@link #perform}). */
    public interface OpReply {
        /**
         * Writer thread, after the op was applied (on a replicated stream: committed, and on the replica that proposed
         * it): {@code body} on success, else {@code error}. Replies sent through {@code batch} go out after the flush.
         */
        void applied(Batch batch, ObjectNode body, JsApiException error);

        /** Any thread: the op was never applied (not proposed: no leader, no quorum; or the stream went). */
        void failed(JsApiException error);
    }

    /**
     * Any thread: applies {@code op} on the writer, or on a replicated stream proposes it and applies it on every
     * replica when committed, answering {@code reply} on this one. False when the writer's queue is full or the stream
     * is gone (nothing happens; the caller answers).
     */
    public boolean perform(StreamOp op, OpReply reply) {
        Replicator r = replicator;
        if (r == null) {
            return execute(new Task() {
                @Override
                public void run(Batch batch) {
                    applyOp(op, reply, batch);
                }

                @Override
                public void rejected(Batch batch) {
                    reply.applied(batch, null, new JsApiException(JsError.STREAM_NOT_FOUND));
                }
            });
        }
        if (closed) {
            return false;
        }
        long id;
        do {
            id = java.util.concurrent.ThreadLocalRandom.current().nextLong();
        } while (pendingOps.putIfAbsent(id, reply) != null);
        long opId = id;
        r.propose(StreamOp.encode(opId, op)).whenComplete((ok, err) -> {
            if (err != null && pendingOps.remove(opId) != null) {
                LOG.warn("stream {}: proposal of {} failed: {}", name, op.getClass().getSimpleName(), err.toString());
                reply.failed(new JsApiException(JsError.CLUSTER_NOT_AVAILABLE));
            }
        });
        return true;
    }

    /** Writer thread: applies an op to the store, identically on every replica; answers {@code reply} (null: none). */
    private void applyOp(StreamOp op, OpReply reply, Batch batch) {
        ObjectNode body;
        try {
            body = applyOp(op, batch);
        } catch (JsApiException e) {
            if (reply != null) {
                reply.applied(batch, null, e);
            }
            return;
        } catch (StoreException e) {
            LOG.error("stream {}: applying {} failed", name, op.getClass().getSimpleName(), e);
            batch.markDirty();
            if (reply != null) {
                reply.applied(batch, null, new JsApiException(JsError.STREAM_STORE_FAILED, "stream store failed"));
            }
            return;
        } catch (RuntimeException e) {
            // a bug, not the op's outcome: still the apply completes (Ratis waits for it), with an error reply
            LOG.error("stream {}: applying {} failed", name, op.getClass().getSimpleName(), e);
            if (reply != null) {
                reply.applied(batch, null, new JsApiException(JsError.STREAM_GENERAL_ERROR, "internal error"));
            }
            return;
        }
        if (reply != null) {
            reply.applied(batch, body, null);
        }
    }

    private ObjectNode applyOp(StreamOp op, Batch batch) {
        if (op instanceof StreamOp.Purge p) {
            long purged = store.purge(p.filter(), p.seq(), p.keep());
            // purge to a sequence beyond everything stored moves the stream's first sequence there
            if (p.filter() == null && p.keep() == 0 && p.seq() > 0 && store.state().msgs() == 0
                    && p.seq() > store.state().lastSeq() + 1) {
                store.skipTo(p.seq());
            }
            batch.markDirty();
            ObjectNode ok = JsJson.object();
            ok.put("success", true);
            ok.put("purged", purged);
            return ok;
        }
        if (op instanceof StreamOp.Delete d) {
            if (config.storage() == StreamEnums.Storage.FILE) {
                // the reference's file store finds no block outside [first, last] and says why
                StreamState st = store.state();
                if (d.seq() > st.lastSeq()) {
                    throw new JsApiException(JsError.STREAM_MSG_DELETE_FAILED, "stream store EOF");
                }
                if (st.msgs() == 0 || d.seq() < st.firstSeq()) {
                    throw new JsApiException(JsError.STREAM_MSG_DELETE_FAILED, "no message found");
                }
            }
            if (!store.remove(d.seq(), d.erase())) {
                throw new JsApiException(JsError.SEQUENCE_NOT_FOUND, d.seq());
            }
            batch.markDirty();
            ObjectNode ok = JsJson.object();
            ok.put("success", true);
            return ok;
        }
        if (op instanceof StreamOp.Config c) {
            byte[] saved = store.getAux(CONFIG_REVISION_KEY);
            long held = saved == null ? 0 : ReplicatedBatch.readLong(saved);
            if (c.revision() > held) {
                StreamEnums.Retention before = config.retention();
                StreamConfig applied = manager.applyReplicatedUpdate(this, c.config());
                retentionChanged(before);
                updated();
                enforceLimits(applied, null);
                store.putAux(CONFIG_REVISION_KEY, ReplicatedBatch.longBytes(c.revision()));
                batch.markDirty();
                return StreamInfoJson.info(this, store.state());
            }
            return null; // held already (a log or meta entry applied again): answered when it was first applied
        }
        if (op instanceof StreamOp.Atomic a) {
            long last = commitAtomic(config, a.messages(), batch);
            return AtomicBatch.commitAck(name, ctx.domain(), last, a.id(), a.messages().size());
        }
        if (op instanceof StreamOp.Schedules s) {
            StreamConfig cfg = config;
            if (cfg.allowMsgSchedules() && !cfg.sealed()) {
                scheduler.fireDue(s.now(), batch);
            }
            return null;
        }
        if (op instanceof StreamOp.Expire e) {
            // markers are never timed before the last message, as a publish is not
            boolean more = expireDue(config, Math.max(e.now(), lastTimestamp), e.limit(), batch);
            saveFastBatches();
            batch.markDirty(); // the TTL index changed even when nothing was removed
            if (more && replicator != null && replicator.leads()) {
                maintainSoon(); // proposes the next expiry once this one's proposal is done
            }
            return null;
        }
        if (op instanceof StreamOp.Copy c) {
            storeCopied(c, batch);
            return null;
        }
        throw new IllegalStateException("unknown op " + op);
    }

    /**
     * Writer thread: what a mirror or source entry's copier took, stored as {@link #storeMirrored} or
     * {@link #storeSourced} store it, and the entry's new position with it (in the same flush). An entry the
     * configuration no longer has keeps nothing.
     */
    void storeCopied(StreamOp.Copy c, Batch batch) {
        StreamConfig.CopyEntry entry = null;
        for (StreamConfig.CopyEntry e : config.copyEntries()) {
            if (e.positionKey().equals(c.positionKey())) {
                entry = e;
            }
        }
        if (entry == null) {
            return;
        }
        byte[] saved = store.getAux(c.positionKey());
        // nothing copied yet: the position that names no origin message
        long held = saved != null && saved.length == 8 ? ReplicatedBatch.readLong(saved) : c.bias();
        if (held < c.from()) {
            // an earlier copy of this entry failed to commit: storing this one would leave a gap (and ack it)
            throw new JsApiException(JsError.STREAM_GENERAL_ERROR,
                    "copy from position " + c.from() + " out of order at " + held);
        }
        long time = c.time();
        for (StoredMessage m : c.messages()) {
            if (m.seq() + c.bias() <= held) {
                continue; // copied before
            }
            if (entry.mirror()) {
                String mapped = entry.source().mapSubject(m.subject());
                if (mapped != null) {
                    storeMirrored(mapped, m, batch);
                }
            } else {
                storeSourced(entry.source(), m, batch, time++);
            }
        }
        if (c.position() > held) {
            store.putAux(c.positionKey(), ReplicatedBatch.longBytes(c.position()));
            batch.markDirty();
        }
    }

    /**
     * Writer thread, leader of a replicated stream: proposes what a mirror or source entry's copier took from
     * position {@code from}, with the entry's new position ({@link StreamOp.Copy}), stamped with this leader's clock; {@code reply} hears when it was
     * applied here. False when the stream is gone.
     */
    boolean proposeCopy(String positionKey, long from, long position, int bias, List<StoredMessage> messages,
            OpReply reply) {
        long ts = Math.max(now(), lastProposedTs + 1);
        lastProposedTs = ts + Math.max(0, messages.size() - 1);
        return perform(new StreamOp.Copy(positionKey, from, position, bias, ts, messages), reply);
    }

    /**
     * Whether this replica's mirror and source copiers run: always on a single server or R1 stream, only on the
     * leader of a replicated one (which proposes what they copy). Any thread.
     */
    boolean leadsCopies() {
        Replicator r = replicator;
        // a replicated stream is made, or restored, before the cluster layer gives it its replicator: until then
        // it copies nothing, or each replica would store copies of its own
        return r != null ? r.leads() : config.numReplicas() <= 1;
    }

    /** Writer thread: the Raft index of the last batch in the store (0: none). */
    private long appliedIndex() {
        if (appliedIndex < 0) {
            byte[] saved = store.getAux(APPLIED_KEY);
            appliedIndex = saved == null ? 0 : ReplicatedBatch.readLong(saved);
        }
        return appliedIndex;
    }

    /**
     * Any thread (the Raft state machine): the writer writes every stored message to {@code file}
     * ({@link StreamSnapshot}) in order after the committed batches queued before this call, so the file holds
     * exactly the state after the batch whose Raft index the future completes with (0: none yet).
     */
    public CompletableFuture<Long> snapshotCommitted(Path file) {
        CompletableFuture<Long> done = new CompletableFuture<>();
        committed.add(batch -> {
            try {
                long index = appliedIndex();
                ReplicatedConsumers rc = replicatedConsumers;
                StreamSnapshot.write(file, index, store, rc == null ? null : rc.snapshot(), replicaState());
                done.complete(index);
            } catch (IOException | RuntimeException e) {
                done.completeExceptionally(e);
            }
        });
        schedule();
        return done;
    }

    /** The Raft index a snapshot file holds the state after. Any thread. */
    public static long snapshotIndex(Path file) throws IOException {
        return StreamSnapshot.header(file).index();
    }

    /**
     * Any thread (the Raft state machine, after a snapshot was installed from the leader, or at start when the
     * store is behind the latest local snapshot): the writer makes the store hold exactly the snapshot's
     * messages under the same sequences, in order with the committed batches around it. Messages the store
     * already holds are kept (a replica's store is always a prefix of the committed history), those the
     * snapshot no longer has (removed by limits since) are removed, newer ones appended. A snapshot at or below
     * the store's own Raft index changes nothing. The future completes after the flush with that index.
     */
    public CompletableFuture<Long> installCommitted(Path file) {
        CompletableFuture<Long> done = new CompletableFuture<>();
        committed.add(batch -> {
            try {
                StreamSnapshot.Header header = StreamSnapshot.header(file);
                long index = header.index();
                ReplicatedConsumers rc = replicatedConsumers;
                if (rc != null && header.consumers() != null) {
                    // even when the store is ahead: the committed consumers live in memory, and the log is replayed
                    // from just after the snapshot, so they start from its state
                    rc.installSnapshot(header.consumers());
                }
                if (index <= appliedIndex()) {
                    done.complete(appliedIndex());
                    return;
                }
                install(file);
                appliedIndex = index;
                store.putAux(APPLIED_KEY, ReplicatedBatch.longBytes(index));
                batch.markDirty();
                batch.afterFlush(() -> done.complete(index));
            } catch (IOException | RuntimeException e) {
                done.completeExceptionally(e);
            }
        });
        schedule();
        return done;
    }

    /**
     * Writer thread: what a snapshot holds besides the messages: the configuration with its replicated revision, the
     * schedule index and the open fast-ingest batches. The index has no read-only walk: it is taken whole and put
     * back, staged in the same write batch, so the store ends as it was.
     */
    private StreamSnapshot.State replicaState() {
        byte[] saved = store.getAux(CONFIG_REVISION_KEY);
        List<long[]> schedules = new ArrayList<>();
        if (store.nextScheduleDeadline() != Long.MAX_VALUE) {
            schedules.addAll(store.takeDueSchedules(Long.MAX_VALUE - 1, Integer.MAX_VALUE));
            for (long[] e : schedules) {
                store.indexSchedule(e[1], e[0]);
            }
            unflushedRetire = true; // the next batch flushes the (unchanged) rows
        }
        java.util.Map<String, Long> positions = new java.util.LinkedHashMap<>();
        for (StreamConfig.CopyEntry e : config.copyEntries()) {
            byte[] p = store.getAux(e.positionKey());
            if (p != null && p.length == 8) {
                positions.put(e.positionKey(), ReplicatedBatch.readLong(p));
            }
        }
        return new StreamSnapshot.State(saved == null ? 0 : ReplicatedBatch.readLong(saved),
                JsJson.bytes(config.toJson()), schedules, fastBatches.encode(), positions);
    }

    /**
     * Writer thread, installing a snapshot: its schedule index and open fast batches (a version 3 file) replace the
     * local ones, and a configuration of a newer revision than the local one is applied as a replicated update
     * would be.
     */
    private void installReplicaState(StreamSnapshot.State state) {
        if (state.fastBatches() != null) {
            fastBatches.restore(state.fastBatches());
            store.putAux(FAST_BATCHES_KEY, state.fastBatches());
        }
        if (store.nextScheduleDeadline() != Long.MAX_VALUE) {
            store.takeDueSchedules(Long.MAX_VALUE - 1, Integer.MAX_VALUE);
        }
        for (long[] e : state.schedules()) {
            store.indexSchedule(e[1], e[0]);
        }
        for (Map.Entry<String, Long> e : state.positions().entrySet()) {
            byte[] p = store.getAux(e.getKey());
            if (p == null || p.length != 8 || ReplicatedBatch.readLong(p) < e.getValue()) {
                store.putAux(e.getKey(), ReplicatedBatch.longBytes(e.getValue()));
            }
        }
        byte[] saved = store.getAux(CONFIG_REVISION_KEY);
        long held = saved == null ? 0 : ReplicatedBatch.readLong(saved);
        if (state.configRevision() > held && state.config() != null) {
            StreamConfig cfg = StreamConfig.fromJson(JsJson.decode(state.config()));
            StreamEnums.Retention before = config.retention();
            manager.applyReplicatedUpdate(this, cfg);
            retentionChanged(before);
            updated();
            store.putAux(CONFIG_REVISION_KEY, ReplicatedBatch.longBytes(state.configRevision()));
        }
    }

    /** Writer thread: merges the snapshot into the store (see {@link #installCommitted}). */
    private void install(Path file) throws IOException {
        long localLast = store.state().lastSeq();
        boolean schedules = config.allowMsgSchedules();
        long[] next = {1}; // the lowest local sequence not yet compared with the snapshot
        StreamSnapshot.State[] replicaState = new StreamSnapshot.State[1];
        StreamSnapshot.Header h = StreamSnapshot.read(file, m -> {
            if (m.seq() <= localLast) {
                removeLocal(next[0], m.seq());
                next[0] = m.seq() + 1;
                return;
            }
            if (next[0] <= localLast) {
                removeLocal(next[0], localLast + 1);
                next[0] = localLast + 1;
            }
            store.advanceTo(m.seq());
            long seq = store.append(m.subject(), m.headers(), m.payload(), m.timestamp());
            if (seq != m.seq()) {
                throw new IllegalStateException("snapshot message " + m.seq() + " stored as " + seq);
            }
            // a version 1 snapshot carries messages, not the schedule index: index an appended schedule as a restore
            // does (a version 2 one replaces the index below)
            long due = schedules && m.headers() != null
                    ? io.jetkv.jetstream.schedule.MessageSchedule.firstDeadline(m.headers(), m.timestamp())
                    : -1;
            if (due >= 0) {
                store.indexSchedule(seq, due);
            }
        }, state -> replicaState[0] = state);
        if (next[0] <= localLast) {
            removeLocal(next[0], localLast + 1);
        }
        if (replicaState[0] != null) {
            // a version 2 file: its schedule index and configuration are the group's, not re-derived
            installReplicaState(replicaState[0]);
        }
        if (h.lastSeq() < localLast) {
            LOG.error("stream {}: snapshot ends at seq {}, before the store's {}", name, h.lastSeq(), localLast);
        } else {
            store.advanceTo(h.lastSeq() + 1);
        }
        // what the writer derived from the old contents
        ageScanFrom = 0;
        dedupe.clear();
        lastMsgId = null;
        nextDedupePrune = Long.MAX_VALUE;
        recoverWriterState();
        LOG.info("stream {}: snapshot installed, last seq {}", name, store.state().lastSeq());
    }

    /** Writer thread: removes the stored messages with {@code from <= seq < to}. */
    private void removeLocal(long from, long to) {
        for (StoredMessage m = store.loadNext(from, null); m != null && m.seq() < to;
                m = store.loadNext(m.seq() + 1, null)) {
            store.remove(m.seq(), false);
        }
    }

    private void schedule() {
        if (scheduled.compareAndSet(false, true)) {
            try {
                writer.execute(this::drain);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                scheduled.set(false); // shutting down: drainAndClose runs what is left
            }
        }
    }

    // ---- writer thread ----

    private void drain() {
        try {
            drainOnce();
            queueMaintenanceAsked();
        } finally {
            scheduled.set(false);
            if (!queue.isEmpty() || !committed.isEmpty()) {
                schedule(); // yield to other streams on this executor, then continue
            }
        }
    }

    private void drainOnce() {
        Batch batch = new Batch();
        Task t;
        int n = 0;
        MessageBus bus = ctx.bus();
        while (n < BATCH_CAP && ((t = committed.poll()) != null || (t = queue.poll()) != null)) {
            n++;
            batch.tasks = n;
            Task task = t;
            // what one task delivers (a consumer's run of up to 512 messages) reaches each client in one flush;
            // per task, not per batch, so that a reply never waits behind other tasks' deliveries
            bus.batch(() -> runTask(task, batch));
        }
        bus.batch(() -> finish(batch));
    }

    private void runTask(Task t, Batch batch) {
        if (closed) {
            t.rejected(batch);
            return;
        }
        try {
            t.run(batch);
        } catch (StoreException e) {
            LOG.error("stream {}: store failure", name, e);
            batch.markDirty();
        } catch (RuntimeException e) {
            LOG.error("stream {}: task failed", name, e);
        }
    }

    private void finish(Batch batch) {
        if (batch.proposals != null) {
            propose(batch.proposals);
        }
        if (unflushedRetire) {
            batch.markDirty();
            unflushedRetire = false;
        }
        boolean ok = true;
        boolean reopened = false;
        if (batch.dirty && !closed) {
            if (unavailable) {
                ok = false; // the failed store refused the changes already; nothing to flush
            } else {
                try {
                    long start = System.nanoTime();
                    store.flush(ctx.syncAlways());
                    ctx.writes().flushed(batch.tasks, System.nanoTime() - start);
                } catch (StoreException e) {
                    ok = false;
                    LOG.error("stream {}: flush of seq {} to {} failed, {} replies turned into errors; reopening the"
                            + " store", name, stats.lastSeq() + 1, store.state().lastSeq(), batch.out.size(), e);
                    reopened = reopenStore();
                }
            }
        }
        if (!closed && !unavailable) {
            StreamState st = store.state();
            ctx.addUsed(config.storage(), st.bytes() - stats.bytes());
            stats = st;
            updateTimers(st);
            if (ok || reopened) {
                durableLastSeq = st.lastSeq();
            }
            // only after a flush that worked (or a reopen): consumers must not hand out what the failure lost
            if (batch.dirty && (ok || reopened)) {
                notifyAfterFlush();
            }
        }
        for (Runnable read : batch.reads) {
            if (closed || unavailable) {
                break; // no store to read: as a read on a failed store, no reply
            }
            try {
                read.run();
            } catch (RuntimeException e) { // a StoreException too: this read has no reply, the others run
                LOG.error("stream {}: read after the flush failed", name, e);
            }
        }
        MessageBus bus = ctx.bus();
        for (Batch.Out o : batch.out) {
            if (ok || o.onFailure == null) {
                bus.publish(o.subject, null, o.headers, o.payload);
            } else if (o.onFailure.length > 0) {
                bus.publish(o.subject, null, null, o.onFailure);
            }
        }
        if (batch.afterFlush != null) {
            for (Runnable r : batch.afterFlush) {
                try {
                    r.run();
                } catch (RuntimeException e) {
                    LOG.error("stream {}: after-flush action failed", name, e);
                }
            }
        }
        // last: what the consumers delivered after this flush is in it too
        proposeConsumerChanges();
    }

    /**
     * Writer thread, leader of a replicated stream: hands the batch's publishes to consensus in one proposal
     * (group commit). Nothing is stored or acknowledged here: the committed batch comes back through
     * {@link #applyCommitted}. A proposal that fails (leadership lost, no quorum) answers each publisher
     * 503/10008, so that clients retry rather than wait for a timeout.
     */
    private void propose(List<Publish> proposals) {
        Replicator r = replicator;
        byte[] entry = ReplicatedBatch.encode(proposals, Publish::subject, Publish::reply, Publish::headers,
                Publish::payload, Publish::timestamp);
        java.util.concurrent.CompletionStage<?> f = r == null
                ? java.util.concurrent.CompletableFuture.failedFuture(new IllegalStateException("not replicated"))
                : r.propose(entry);
        f.whenComplete((ok, err) -> {
            if (err == null) {
                return;
            }
            LOG.warn("stream {}: proposal of {} messages failed: {}", name, proposals.size(), err.toString());
            byte[] nak = pubAckError(new JsApiException(JsError.CLUSTER_NOT_AVAILABLE));
            for (Publish p : proposals) {
                if (p.reply != null) {
                    ctx.bus().publish(p.reply, null, null, nak);
                }
            }
        });
    }

    private void notifyAfterFlush() {
        for (StreamListener l : listeners) {
            try {
                l.afterFlush(this);
            } catch (RuntimeException e) {
                LOG.error("stream {}: listener failed", name, e);
            }
        }
    }

    /**
     * Writer thread, after a failed flush: swaps the failed store for a reopened one holding the last
     * completed flush and rebuilds what the writer derived from the lost batch (dedupe window, last msg id,
     * source positions). If reopening fails the stream is unavailable and {@link #tick} retries.
     *
     * @return true when the stream serves again
     */
    private boolean reopenStore() {
        if (reopener == null) {
            // a store without a way back keeps refusing writes, as before; cannot happen with our stores
            LOG.error("stream {}: store failed and cannot be reopened", name);
            return false;
        }
        lastReopenAttempt = nowNanos();
        try {
            store = reopener.reopenStore(name, store);
        } catch (RuntimeException e) {
            if (!unavailable) {
                LOG.error("stream {}: reopening the store failed; unavailable until a retry works", name, e);
            }
            unavailable = true;
            return false;
        }
        unavailable = false;
        ageScanFrom = 0;
        dedupe.clear();
        lastMsgId = null;
        nextDedupePrune = Long.MAX_VALUE;
        recoverWriterState();
        fastBatches.restore(store.getAux(FAST_BATCHES_KEY));
        Sourcing src = sourcing;
        if (src != null) {
            src.storeReopened();
        }
        Interest i = interest;
        if (i != null) {
            i.storeReopened();
        }
        LOG.info("stream {}: store reopened, last seq {}", name, store.state().lastSeq());
        return true;
    }

    /** Writer thread: a retry from the timer while unavailable. */
    private void retryReopen(Batch batch) {
        reopenPending.set(false);
        if (unavailable && !closed && reopenStore()) {
            batch.markDirty(); // nothing is staged; finish refreshes the counters and wakes the consumers
        }
    }

    private void updateTimers(StreamState st) {
        StreamConfig cfg = config;
        long maxAge = cfg.maxAge();
        long next = Long.MAX_VALUE;
        if (maxAge > 0 && st.msgs() > 0) {
            long oldest = st.firstTimestamp();
            if (ageScanFrom > st.firstSeq()) {
                // messages that never expire lie before ageScanFrom: the oldest that may is the next after them
                StoredMessage m = store.loadNext(ageScanFrom, null);
                oldest = m == null ? Long.MAX_VALUE - maxAge : m.timestamp();
            }
            next = oldest + maxAge;
        }
        if (cfg.allowMsgTtl()) {
            next = Math.min(next, store.nextTtlDeadline());
        }
        nextExpiry = next;
        nextSchedule = cfg.allowMsgSchedules() ? store.nextScheduleDeadline() : Long.MAX_VALUE;
    }

    /** Runs the publish checks in nats-server's order, stores, enforces limits and queues the ack. */
    private void processPublish(Publish p, Batch batch) {
        if (p.timestamp == 0 && !p.sourced && FastBatch.isFastBatchReply(p.reply) && !config.noAck()) {
            if (replicator == null) {
                fastBatches.publish(p.subject, p.reply, p.headers, p.payload, batch, nowNanos(), true, false);
                return;
            }
            if (fastBatches.refusedBeforeProposal(p.reply, batch)) {
                return;
            }
            // proposed as any publish, reply subject and all: every replica runs the batch on apply (applyPublish)
        }
        if (p.timestamp == 0 && !p.sourced && mayBeBatched(p.headers)) {
            Map<String, String> h = HeaderBlock.parse(p.headers);
            String id = h.get(AtomicBatch.ID);
            if (id != null) {
                atomicPublish(p, h, id, batch);
                return;
            }
        }
        if (p.timestamp == 0 && replicator != null) {
            // leader: assign the time now, so every replica stores the same; propose at the end of the batch
            long ts = Math.max(now(), lastProposedTs + 1);
            lastProposedTs = ts;
            if (batch.proposals == null) {
                batch.proposals = new ArrayList<>();
            }
            batch.proposals.add(new Publish(p.subject, p.reply, p.headers, p.payload, ts, p.sourced));
            return;
        }
        StreamConfig cfg = config;
        String reply = cfg.noAck() ? null : p.reply;
        try {
            byte[] ack = store(cfg, p, batch);
            if (reply != null && ack != null) {
                batch.reply(reply, ack, storeFailedAck());
            }
        } catch (JsApiException e) {
            if (reply != null) {
                batch.send(reply, null, pubAckError(e));
            }
        } catch (StoreException e) {
            LOG.error("stream {}: storing a message on {} failed", name, p.subject, e);
            batch.markDirty();
            if (reply != null) {
                batch.send(reply, null, pubAckError(new JsApiException(JsError.STREAM_STORE_FAILED, "stream store failed")));
            }
        }
    }

    // ---- atomic batch publish (2.12, ADR-50) ----

    private static final byte[] BATCH_ID_BYTES = AtomicBatch.ID.getBytes(StandardCharsets.US_ASCII);

    /** Whether a header block may carry {@code Nats-Batch-Id}: a byte search, so plain publishes pay no parse. */
    private static boolean mayBeBatched(byte[] headers) {
        if (headers == null) {
            return false;
        }
        outer:
        for (int i = 0; i + BATCH_ID_BYTES.length <= headers.length; i++) {
            for (int j = 0; j < BATCH_ID_BYTES.length; j++) {
                if (headers[i + j] != BATCH_ID_BYTES[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    /**
     * A message of an atomic batch: checked for the batch headers, staged, and on {@code Nats-Batch-Commit: 1} the
     * whole batch is checked against the stream as it is and then stored, or nothing is. Staged messages with a reply
     * subject get an empty reply; the commit gets {@code {"stream","seq","batch","count"}} or the error that
     * rejected the batch. Sequence gaps, an unknown batch with a sequence above 1, and headers a batch may not use
     * abandon the batch.
     */
    private void atomicPublish(Publish p, Map<String, String> h, String id, Batch batch) {
        StreamConfig cfg = config;
        String reply = cfg.noAck() ? null : p.reply;
        if (!cfg.allowAtomic()) {
            dropAtomicBatches();
            batchError(reply, batch, new JsApiException(JsError.ATOMIC_PUBLISH_DISABLED));
            return;
        }
        if (id.isEmpty() || id.length() > AtomicBatch.MAX_ID_LENGTH) {
            batchError(reply, batch, new JsApiException(JsError.ATOMIC_PUBLISH_INVALID_BATCH_ID));
            return;
        }
        long seq = AtomicBatch.sequenceOf(h);
        if (seq < 0) {
            batchError(reply, batch, new JsApiException(JsError.ATOMIC_PUBLISH_MISSING_SEQ));
            return;
        }
        AtomicBatch open = atomicBatches.get(id);
        String commit = h.get(AtomicBatch.COMMIT);
        // 2.14's "eob" commits what was staged without this message, which is neither stored nor counted
        boolean eob = AtomicBatch.COMMIT_EOB.equals(commit);
        if (commit != null && !commit.equals("1") && !eob) {
            abandon(open, "incomplete");
            batchError(reply, batch, new JsApiException(JsError.ATOMIC_PUBLISH_INVALID_COMMIT));
            return;
        }
        if (!io.jetkv.jetstream.api.ApiLevel.satisfied(p.headers, io.jetkv.jetstream.api.ApiLevel.SERVER)) {
            abandon(open, "unsupported");
            batchError(reply, batch, new JsApiException(JsError.REQUIRED_API_LEVEL));
            return;
        }
        long now = nowNanos();
        if (open == null) {
            if (seq != 1 || eob) {
                batchError(reply, batch, seq > AtomicBatch.MAX_MESSAGES
                        ? new JsApiException(JsError.ATOMIC_PUBLISH_TOO_LARGE, AtomicBatch.MAX_MESSAGES)
                        : new JsApiException(JsError.ATOMIC_PUBLISH_INCOMPLETE_BATCH));
                return;
            }
            if (atomicBatches.size() >= AtomicBatch.MAX_PER_STREAM
                    || ctx.openAtomicBatches().get() >= AtomicBatch.MAX_PER_SERVER) {
                batchError(reply, batch, new JsApiException(JsError.ATOMIC_PUBLISH_TOO_MANY_INFLIGHT));
                return;
            }
            open = new AtomicBatch(id, now);
            atomicBatches.put(id, open);
            ctx.openAtomicBatches().incrementAndGet();
        } else if (seq != open.nextSeq()) {
            abandon(open, "incomplete");
            batchError(reply, batch, new JsApiException(JsError.ATOMIC_PUBLISH_INCOMPLETE_BATCH));
            return;
        }
        if (seq > AtomicBatch.MAX_MESSAGES + (eob ? 1 : 0)) {
            abandon(open, "large");
            batchError(reply, batch, new JsApiException(JsError.ATOMIC_PUBLISH_TOO_LARGE, AtomicBatch.MAX_MESSAGES));
            return;
        }
        if (h.containsKey("Nats-Expected-Last-Msg-Id")) {
            abandon(open, "incomplete");
            batchError(reply, batch,
                    new JsApiException(JsError.ATOMIC_PUBLISH_UNSUPPORTED_HEADER, "Nats-Expected-Last-Msg-Id"));
            return;
        }
        if (!eob) {
            open.messages.add(new AtomicBatch.Message(p.subject, reply, p.headers, p.payload));
        }
        open.lastActivity = now;
        atomicBatches.remove(id); // kept in order of last activity, oldest first, for the idle timeout
        atomicBatches.put(id, open);
        nextBatchTimeout = atomicBatches.values().iterator().next().lastActivity + AtomicBatch.IDLE_TIMEOUT_NANOS;
        if (commit == null) {
            if (reply != null) {
                batch.send(reply, null, new byte[0]);
            }
            return;
        }
        forget(open);
        commitAtomicBatch(cfg, open, reply, batch);
    }

    /** Checks every message of {@code b} against the stream as the earlier ones leave it, then stores them all. */
    private void commitAtomicBatch(StreamConfig cfg, AtomicBatch b, String reply, Batch batch) {
        List<StreamOp.Message> messages = new ArrayList<>(b.messages.size());
        for (AtomicBatch.Message m : b.messages) {
            messages.add(new StreamOp.Message(0, m.subject(), m.headers(), m.payload()));
        }
        if (replicator != null) {
            proposeAtomicBatch(b.id, messages, reply, batch);
            return;
        }
        long last;
        try {
            last = commitAtomic(cfg, messages, batch);
        } catch (JsApiException e) {
            batchError(reply, batch, e);
            return;
        }
        if (reply != null) {
            batch.reply(reply, JsJson.bytes(AtomicBatch.commitAck(name, ctx.domain(), last, b.id, messages.size())),
                    storeFailedAck());
        }
    }

    /**
     * Leader of a replicated stream: the whole batch becomes one Raft entry, its messages timed now, after the
     * publishes this writer batch proposes before it; every replica checks and stores it on apply
     * ({@link #commitAtomic}), all or nothing, and this replica answers the commit.
     */
    private void proposeAtomicBatch(String id, List<StreamOp.Message> staged, String reply, Batch batch) {
        if (batch.proposals != null) {
            propose(batch.proposals); // earlier publishes of this writer batch keep their place before the batch
            batch.proposals = null;
        }
        List<StreamOp.Message> timed = new ArrayList<>(staged.size());
        for (StreamOp.Message m : staged) {
            long ts = Math.max(now(), lastProposedTs + 1);
            lastProposedTs = ts;
            timed.add(new StreamOp.Message(ts, m.subject(), m.headers(), m.payload()));
        }
        perform(new StreamOp.Atomic(id, timed), new OpReply() {
            @Override
            public void applied(Batch applyBatch, ObjectNode body, JsApiException error) {
                if (error != null) {
                    batchError(reply, applyBatch, error);
                } else if (reply != null) {
                    applyBatch.reply(reply, JsJson.bytes(body), storeFailedAck());
                }
            }

            @Override
            public void failed(JsApiException error) {
                if (reply != null) {
                    ctx.bus().publish(reply, null, null, pubAckError(error));
                }
            }
        });
    }

    /**
     * Checks every message of an atomic batch against the stream as the earlier ones leave it, then stores them all
     * and returns the last sequence; a failed check stores nothing. A message's timestamp is 0 on a single server
     * (the writer's clock), the leader's on a replicated stream.
     */
    private long commitAtomic(StreamConfig cfg, List<StreamOp.Message> messages, Batch batch) {
        AtomicBatch.Staged staged = new AtomicBatch.Staged();
        List<Prepared> prepared = new ArrayList<>(messages.size());
        for (StreamOp.Message m : messages) {
            // the batch's own headers (and a satisfied level requirement) are not stored
            byte[] hdr = HeaderBlock.without(m.headers(), "Nats-Batch-", io.jetkv.jetstream.api.ApiLevel.REQUIRED_HEADER);
            if (hdr != null && HeaderBlock.parse(hdr).isEmpty()) {
                hdr = null;
            }
            prepared.add(prepare(cfg, new Publish(m.subject(), null, hdr, m.payload(), m.timestamp(), false), staged));
        }
        long last = 0;
        for (Prepared prep : prepared) {
            last = apply(cfg, prep, batch);
        }
        return last;
    }

    private void batchError(String reply, Batch batch, JsApiException e) {
        if (reply != null) {
            batch.send(reply, null, pubAckError(e));
        }
    }

    /** Removes an open batch from the stream's and the server's count. */
    private void forget(AtomicBatch b) {
        if (atomicBatches.remove(b.id) != null) {
            ctx.openAtomicBatches().decrementAndGet();
        }
        nextBatchTimeout = atomicBatches.isEmpty() ? Long.MAX_VALUE
                : atomicBatches.values().iterator().next().lastActivity + AtomicBatch.IDLE_TIMEOUT_NANOS;
    }

    /** Drops an open batch (null: none) and announces it on {@code $JS.EVENT.ADVISORY.STREAM.BATCH_ABANDONED.<S>}. */
    private void abandon(AtomicBatch b, String reason) {
        if (b == null) {
            return;
        }
        forget(b);
        ObjectNode o = JsJson.object();
        o.put("type", "io.nats.jetstream.advisory.v1.stream_batch_abandoned");
        o.put("id", AtomicBatch.advisoryId());
        o.put("timestamp", JsJson.time(nowNanos()));
        o.put("stream", name);
        if (ctx.domain() != null && !ctx.domain().isEmpty()) {
            o.put("domain", ctx.domain());
        }
        o.put("batch", b.id);
        o.put("reason", reason);
        ctx.bus().publish("$JS.EVENT.ADVISORY.STREAM.BATCH_ABANDONED." + name, null, null, JsJson.bytes(o));
    }

    /** Writer thread, after an update: turning atomic or fast batch publish off drops the open batches. */
    void updated() {
        if (!config.allowAtomic()) {
            dropAtomicBatches();
        }
        if (!config.allowBatched()) {
            fastBatches.dropAll();
        }
    }

    /** What {@link FastBatch} needs from this stream; writer thread. */
    private final class FastBatchHost implements FastBatch.Host {
        @Override
        public String name() {
            return name;
        }

        @Override
        public String domain() {
            return ctx.domain();
        }

        @Override
        public StreamConfig config() {
            return config;
        }

        @Override
        public long lastSeq() {
            return store.state().lastSeq();
        }

        @Override
        public long store(String subject, byte[] headers, byte[] payload, long timestamp, Batch batch) {
            StreamConfig cfg = config;
            try {
                Prepared prep = prepare(cfg, new Publish(subject, null, headers, payload, timestamp, false), null);
                return prep.reply != null ? 0 : apply(cfg, prep, batch);
            } catch (StoreException e) {
                LOG.error("stream {}: storing a message on {} failed", name, subject, e);
                batch.markDirty();
                throw new JsApiException(JsError.STREAM_STORE_FAILED, "stream store failed");
            }
        }

        @Override
        public byte[] pubAckError(JsApiException e) {
            return Stream.this.pubAckError(e);
        }
    }

    /** Writer thread: drops every open batch (atomic publish turned off, the stream closing). */
    private void dropAtomicBatches() {
        while (!atomicBatches.isEmpty()) {
            forget(atomicBatches.values().iterator().next());
        }
    }

    /** Writer thread: abandons the batches idle for longer than the timeout, and all when atomic publish is off. */
    private void expireAtomicBatches(long now) {
        if (!config.allowAtomic()) {
            dropAtomicBatches();
            return;
        }
        while (!atomicBatches.isEmpty()) {
            AtomicBatch oldest = atomicBatches.values().iterator().next();
            if (oldest.lastActivity + AtomicBatch.IDLE_TIMEOUT_NANOS > now) {
                break;
            }
            abandon(oldest, "timeout");
        }
    }

    /** The pub ack (JSON) to send once the batch is flushed, or null when the message is dropped silently. */
    private byte[] store(StreamConfig cfg, Publish p, Batch batch) {
        Prepared prep = prepare(cfg, p, null);
        if (prep.reply != null) {
            return prep.reply.length == 0 ? null : prep.reply;
        }
        long seq = apply(cfg, prep, batch);
        return prep.total != null ? ack(seq, MessageCounter.ackTail(prep.total)) : ack(seq);
    }

    /**
     * A publish that passed its checks: what to store, or ({@code reply} set) what to answer without storing (a
     * duplicate's ack; empty: dropped silently).
     */
    private record Prepared(String subject, byte[] hdr, byte[] payload, long now, String msgId, boolean rollupSub,
            boolean rollupAll, java.math.BigInteger total, boolean skip, byte[] reply) {
        static Prepared answer(byte[] reply) {
            return new Prepared(null, null, null, 0, null, false, false, null, false, reply);
        }
    }

    /**
     * The publish checks in nats-server's order, without changing anything. {@code staged} is null for a single
     * publish; for a message of an atomic batch being committed it is what the batch's earlier messages added, so the
     * checks see the stream as they leave it, and the batch-only rules apply: no duplicate message id at all (10201),
     * expected sequences only against what the batch has not written (10164), roll-ups only on a subject's first
     * message ({@code sub}) or the batch's first ({@code all}).
     */
    private Prepared prepare(StreamConfig cfg, Publish p, AtomicBatch.Staged staged) {
        if (unavailable) {
            throw new JsApiException(JsError.STREAM_STORE_FAILED, "stream store failed");
        }
        if (cfg.sealed()) {
            throw new JsApiException(JsError.STREAM_SEALED);
        }
        String subject = p.subject;
        byte[] hdr = p.headers;
        // as nats-server: the requester information a service import adds (or a client wrote) is not stored, and a
        // block left with nothing in it goes too
        byte[] withoutInfo = HeaderBlock.without(hdr, "Nats-Request-Info:");
        if (withoutInfo != hdr) {
            hdr = HeaderBlock.parse(withoutInfo).isEmpty() ? null : withoutInfo;
        }
        Map<String, String> h = HeaderBlock.parse(hdr);
        // a committed publish carries the leader's time; never before the previous message's, on every replica
        long now = p.timestamp != 0 ? Math.max(p.timestamp, lastTimestamp) : now();
        // 2.12 counters: a client's Nats-Incr is checked before anything else it says
        String incrValue = h.get(MessageCounter.INCR);
        java.math.BigInteger incr = null;
        if (incrValue != null && !p.sourced) {
            incr = MessageCounter.checkIncrement(incrValue, h, cfg.allowMsgCounter(), p.payload.length);
        }

        String expectedStream = h.get("Nats-Expected-Stream");
        if (expectedStream != null && !expectedStream.equals(name)) {
            throw new JsApiException(JsError.STREAM_NOT_MATCH);
        }
        // 2.11 per-message TTL: a valid one on a stream without TTLs is refused first, an invalid one after the limits
        String ttlValue = p.sourced ? null : h.get(MessageTtl.HEADER);
        long ttl = ttlValue == null ? 0 : MessageTtl.parse(ttlValue);
        if (ttlValue != null && ttl != MessageTtl.INVALID && !cfg.allowMsgTtl()) {
            throw new JsApiException(JsError.MESSAGE_TTL_DISABLED);
        }
        String msgId = h.get("Nats-Msg-Id");
        if (msgId != null && msgId.isEmpty()) {
            msgId = null;
        }
        if (msgId != null) {
            long[] seen = dedupe.get(msgId);
            boolean inWindow = seen != null && seen[1] >= now - cfg.duplicateWindow();
            if (staged != null && (inWindow || !staged.msgIds.add(msgId))) {
                throw new JsApiException(JsError.ATOMIC_PUBLISH_DUPLICATE_MSG_ID);
            }
            if (inWindow) {
                return Prepared.answer(ack(seen[0], DUPLICATE_TAIL));
            }
        }
        String expLastSubj = h.get("Nats-Expected-Last-Subject-Sequence");
        String expLastSubjSubject = h.get("Nats-Expected-Last-Subject-Sequence-Subject");
        if (expLastSubj != null) {
            String on = expLastSubjSubject == null || expLastSubjSubject.isEmpty() ? subject : expLastSubjSubject;
            if (staged != null && writtenByBatch(staged, on)) {
                throw new JsApiException(JsError.STREAM_WRONG_LAST_SEQUENCE_CONSTANT);
            }
            long actual = lastSeqOn(on);
            if (parseSeq(expLastSubj) != actual) {
                throw new JsApiException(JsError.STREAM_WRONG_LAST_SEQUENCE, actual);
            }
        } else if (expLastSubjSubject != null) {
            throw new JsApiException(JsError.STREAM_EXPECTED_LAST_SEQ_PER_SUBJECT_INVALID);
        }
        String expLast = h.get("Nats-Expected-Last-Sequence");
        if (expLast != null) {
            if (staged != null && !staged.first) {
                throw new JsApiException(JsError.STREAM_WRONG_LAST_SEQUENCE_CONSTANT);
            }
            long actual = store.state().lastSeq();
            if (parseSeq(expLast) != actual) {
                throw new JsApiException(JsError.STREAM_WRONG_LAST_SEQUENCE, actual);
            }
        }
        // 2.12 message schedules: a schedule's headers, then a cancel's; a schedule gets Nats-Rollup: sub
        byte[] checked = scheduler.checkPublish(cfg, subject, hdr, h, p.sourced);
        if (checked != hdr) {
            hdr = checked;
            h = HeaderBlock.parse(hdr);
        }
        String expLastId = h.get("Nats-Expected-Last-Msg-Id");
        if (expLastId != null && !expLastId.equals(lastMsgId == null ? "" : lastMsgId)) {
            throw new JsApiException(JsError.STREAM_WRONG_LAST_MSG_ID, lastMsgId == null ? "" : lastMsgId);
        }
        String rollup = h.get("Nats-Rollup");
        boolean rollupSub = false;
        boolean rollupAll = false;
        if (rollup != null) {
            if (!cfg.allowRollupHdrs() || cfg.denyPurge()) {
                throw new JsApiException(JsError.STREAM_ROLLUP_FAILED, "rollup not permitted");
            }
            switch (rollup.toLowerCase()) {
                case "sub" -> rollupSub = true;
                case "all" -> rollupAll = true;
                default -> {
                    if (staged != null) {
                        throw new JsApiException(JsError.STREAM_ROLLUP_FAILED, "rollup value invalid: " + rollup);
                    }
                    // 2.10 drops such a message without a pub ack (only 2.12's batch-aware checks answer 10111)
                    LOG.debug("stream {}: dropped a message on {} with rollup value {}", name, subject, rollup);
                    return Prepared.answer(new byte[0]);
                }
            }
            // in a batch a roll-up may only remove what came before the batch
            if (staged != null && ((rollupSub && staged.subjects.contains(subject)) || (rollupAll && !staged.first))) {
                throw new JsApiException(JsError.STREAM_ROLLUP_FAILED, "batch rollup not permitted");
            }
        }
        byte[] payload = p.payload;
        java.math.BigInteger total = null;
        if (cfg.allowMsgCounter()) {
            // the total so far is the subject's last message (a purge resets it); sourced totals arrive as increments
            java.math.BigInteger batchTotal = staged == null ? null : staged.totals.get(subject);
            StoredMessage last = batchTotal != null ? null : store.loadLast(subject);
            byte[] lastHeaders = batchTotal != null ? staged.totalHeaders.get(subject) : last == null ? null : last.headers();
            if (p.sourced && incrValue != null) {
                incr = MessageCounter.parse(incrValue);
            }
            if (incr == null) {
                throw new JsApiException(JsError.MESSAGE_INCR_MISSING);
            }
            java.math.BigInteger before = batchTotal != null ? batchTotal
                    : last == null ? java.math.BigInteger.ZERO : MessageCounter.valueOf(last.payload());
            total = before.add(incr);
            payload = MessageCounter.body(total);
            // what was seen from sources stays with the subject's latest message, whoever adds to it next
            String seen = lastHeaders == null || p.sourced ? null : HeaderBlock.parse(lastHeaders).get(MessageCounter.SOURCES);
            if (seen != null && !h.containsKey(MessageCounter.SOURCES)) {
                hdr = HeaderBlock.append(hdr, MessageCounter.SOURCES, seen);
            }
        }
        int hdrLen = hdr == null ? 0 : hdr.length;
        if (hdrLen > MAX_HEADER_SIZE) {
            throw new JsApiException(JsError.STREAM_HEADER_EXCEEDS_MAXIMUM);
        }
        if (cfg.maxMsgSize() > 0 && (long) hdrLen + payload.length > cfg.maxMsgSize()) {
            throw new JsApiException(JsError.STREAM_MESSAGE_EXCEEDS_MAXIMUM);
        }
        if (cfg.retention() == StreamEnums.Retention.INTEREST && (interest == null || !interest.anyInterest(subject))) {
            // nobody would ever read it: the sequence is used, nothing is stored (the reference's SkipMsg)
            if (staged != null) {
                staged.first = false;
            }
            return new Prepared(subject, hdr, payload, now, msgId, false, false, null, true, null);
        }
        checkDiscardNew(cfg, subject, hdrLen + payload.length, staged);
        long pendingBytes = staged == null ? 0 : staged.bytes;
        AccountUsage account = ctx.account();
        if (account != null && account.limit(cfg.storage()) >= 0 && account.used(cfg.storage()).get() + pendingBytes
                + hdrLen + payload.length > account.limit(cfg.storage())) {
            // the account's own max_mem/max_file (nats-server's jsa.limitsExceeded)
            throw new JsApiException(JsError.ACCOUNT_RESOURCES_EXCEEDED);
        }
        long limit = ctx.limit(cfg.storage());
        if (limit > 0 && ctx.used(cfg.storage()).get() + pendingBytes + hdrLen + payload.length > limit) {
            // the server-wide memory/file store limit, as nats-server's limitsExceeded check
            throw new JsApiException(JsError.INSUFFICIENT_RESOURCES);
        }
        if (ttl == MessageTtl.INVALID) {
            throw new JsApiException(JsError.MESSAGE_TTL_INVALID);
        }
        long markerSecs = cfg.subjectDeleteMarkerTtl() / 1_000_000_000L;
        if (ttl > 0 && ttl < markerSecs && cfg.maxMsgsPerSubject() != 1) {
            // the TTL floor: a message must outlive the marker that may replace it; rewritten as integer seconds
            hdr = HeaderBlock.append(HeaderBlock.without(hdr, MessageTtl.HEADER + ":"), MessageTtl.HEADER,
                    Long.toString(markerSecs));
        }
        if (staged != null) {
            staged.add(subject, (hdr == null ? 0 : hdr.length) + payload.length);
            staged.first = false;
            if (total != null) {
                staged.totals.put(subject, total);
                staged.totalHeaders.put(subject, hdr);
            }
        }
        return new Prepared(subject, hdr, payload, now, msgId, rollupSub, rollupAll, total, false, null);
    }

    /** Whether a batch's earlier messages wrote {@code subject} (or, for a wildcard, a subject it matches). */
    private static boolean writtenByBatch(AtomicBatch.Staged staged, String subject) {
        if (!io.jetkv.protocol.Subject.hasWildcard(subject)) {
            return staged.subjects.contains(subject);
        }
        for (String s : staged.subjects) {
            if (io.jetkv.protocol.Subject.matches(subject, s)) {
                return true;
            }
        }
        return false;
    }

    /** Stores a prepared publish, applies its roll-up and the limits; returns its sequence. */
    private long apply(StreamConfig cfg, Prepared prep, Batch batch) {
        long now = prep.now;
        if (prep.skip) {
            store.advanceTo(store.state().lastSeq() + 2);
            batch.markDirty();
            lastTimestamp = now;
            lastMsgId = prep.msgId;
            rememberMsgId(cfg, prep.msgId, store.state().lastSeq(), now);
            return store.state().lastSeq();
        }
        String subject = prep.subject;
        SubjectState before = cfg.republish() != null ? store.subjectState(subject) : null;
        long seq = store.append(subject, prep.hdr, prep.payload, now);
        batch.markDirty();
        lastTimestamp = now;
        lastMsgId = prep.msgId;
        rememberMsgId(cfg, prep.msgId, seq, now);
        if (prep.rollupSub) {
            store.purge(subject, seq, 0);
        } else if (prep.rollupAll) {
            store.purge(null, seq, 0);
        }
        if (cfg.allowMsgSchedules()) {
            scheduler.stored(subject, HeaderBlock.parse(prep.hdr), seq, now);
        }
        enforceLimits(cfg, subject);
        if (cfg.republish() != null) {
            republish(cfg, subject, prep.hdr, prep.payload, seq, now, before, batch);
        }
        return seq;
    }

    /** Writer thread, for {@link MessageScheduler}: stores a message a schedule produced, as a publish without reply. */
    void storeProduced(String subject, byte[] headers, byte[] payload, long timestamp, Batch batch) {
        store(config, new Publish(subject, null, headers, payload, timestamp, false), batch);
    }

    /** The last sequence stored on {@code subject}, across all matches for a wildcard; 0 when none. */
    private long lastSeqOn(String subject) {
        if (!io.jetkv.protocol.Subject.hasWildcard(subject)) {
            SubjectState ss = store.subjectState(subject);
            return ss.msgs() > 0 ? ss.lastSeq() : 0;
        }
        StoredMessage last = store.loadLast(subject);
        return last == null ? 0 : last.seq();
    }

    private void rememberMsgId(StreamConfig cfg, String msgId, long seq, long now) {
        if (replicator != null) {
            pruneDedupe(cfg, now); // committed time: every replica forgets the same ids at the same point
        }
        if (msgId != null) {
            dedupe.remove(msgId);
            dedupe.put(msgId, new long[] {seq, now});
            if (nextDedupePrune == Long.MAX_VALUE && replicator == null) {
                nextDedupePrune = now + cfg.duplicateWindow();
            }
        }
    }

    /**
     * A pub ack in the reference's exact bytes, which {@code nats req} shows: nats-server writes it with a format
     * string, not a JSON encoder ({@code {"stream":"S", "seq":7}}, {@code ..., "domain":"d", "seq":7} and
     * {@code ...,"duplicate": true}). The constant part is built once per stream, then the sequence's digits.
     */
    private byte[] ack(long seq) {
        return ack(seq, PLAIN_TAIL);
    }

    private byte[] ack(long seq, byte[] tail) {
        byte[] prefix = ackPrefix;
        if (prefix == null) {
            StringBuilder sb = new StringBuilder("{\"stream\":").append(JsJson.quote(name));
            if (ctx.domain() != null && !ctx.domain().isEmpty()) {
                sb.append(", \"domain\":").append(JsJson.quote(ctx.domain()));
            }
            prefix = ackPrefix = sb.append(", \"seq\":").toString().getBytes(StandardCharsets.UTF_8);
        }
        String digits = Long.toString(seq);
        byte[] out = Arrays.copyOf(prefix, prefix.length + digits.length() + tail.length);
        for (int i = 0; i < digits.length(); i++) {
            out[prefix.length + i] = (byte) digits.charAt(i);
        }
        System.arraycopy(tail, 0, out, prefix.length + digits.length(), tail.length);
        return out;
    }

    /** The reply a pub ack turns into when its batch's flush fails; the same for every message, built once. */
    private byte[] storeFailedAck() {
        if (storeFailedAck == null) {
            storeFailedAck = pubAckError(new JsApiException(JsError.STREAM_STORE_FAILED, "stream store failed"));
        }
        return storeFailedAck;
    }

    /**
     * {@code discard: new}: refuse instead of dropping old messages. A message that will replace the oldest
     * of its own subject (per-subject limit) does not grow the stream, so it passes {@code max_msgs}, as in
     * the reference.
     */
    private void checkDiscardNew(StreamConfig cfg, String subject, long size, AtomicBatch.Staged staged) {
        if (cfg.discard() != StreamEnums.Discard.NEW) {
            return;
        }
        // an atomic batch's earlier messages count as stored (none of them replaces an old one: that is not known yet)
        long addedMsgs = staged == null ? 0 : staged.msgs;
        long addedBytes = staged == null ? 0 : staged.bytes;
        long addedOnSubject = staged == null ? 0 : staged.perSubject.getOrDefault(subject, 0L);
        boolean atSubjectLimit = false;
        SubjectState ss = null;
        if (cfg.maxMsgsPerSubject() > 0) {
            ss = store.subjectState(subject);
            atSubjectLimit = ss.msgs() + addedOnSubject >= cfg.maxMsgsPerSubject();
        }
        if (atSubjectLimit && cfg.discardNewPerSubject()) {
            throw new JsApiException(JsError.STREAM_STORE_FAILED, "maximum messages per subject exceeded");
        }
        StreamState st = store.state();
        if (cfg.maxMsgs() > 0 && st.msgs() + addedMsgs >= cfg.maxMsgs() && !atSubjectLimit) {
            throw new JsApiException(JsError.STREAM_STORE_FAILED, "maximum messages exceeded");
        }
        if (cfg.maxBytes() > 0 && st.bytes() + addedBytes + size >= cfg.maxBytes()) {
            boolean replacesBigger = false;
            if (atSubjectLimit) {
                StoredMessage oldest = store.load(ss.firstSeq());
                long oldSize = oldest == null
                        ? 0
                        : (oldest.headers() == null ? 0 : oldest.headers().length) + oldest.payload().length;
                replacesBigger = oldSize >= size;
            }
            if (!replacesBigger) {
                throw new JsApiException(JsError.STREAM_STORE_FAILED, "maximum bytes exceeded");
            }
        }
    }

    /**
     * Drops the oldest messages until the limits hold: per subject always (also with discard new), and
     * {@code max_msgs}/{@code max_bytes} (with discard new only after an update lowered them).
     *
     * @param subject the subject just stored, or null to check every subject (after an update)
     */
    public void enforceLimits(StreamConfig cfg, String subject) {
        long maxPer = cfg.maxMsgsPerSubject();
        if (maxPer > 0) {
            if (subject != null) {
                trimSubject(subject, maxPer);
            } else {
                store.forEachSubject(null, (subj, msgs) -> {
                    if (msgs > maxPer) {
                        trimSubject(subj, maxPer);
                    }
                });
            }
        }
        while (true) {
            StreamState st = store.state();
            boolean over = (cfg.maxMsgs() > 0 && st.msgs() > cfg.maxMsgs())
                    || (cfg.maxBytes() > 0 && st.bytes() > cfg.maxBytes());
            if (!over || st.msgs() == 0) {
                break;
            }
            removeOldest(st.firstSeq());
        }
    }

    private void trimSubject(String subject, long maxPer) {
        SubjectState ss;
        while ((ss = store.subjectState(subject)).msgs() > maxPer) {
            if (!store.removeFirst(subject)) {
                StoredMessage m = store.loadNext(ss.firstSeq(), subject);
                if (m == null || !store.remove(m.seq(), false)) {
                    LOG.error("stream {}: per-subject limit could not remove from {}", name, subject);
                    return;
                }
            }
        }
    }

    private void removeOldest(long firstSeq) {
        if (!store.remove(firstSeq, false)) {
            StoredMessage m = store.loadNext(firstSeq, null);
            if (m == null || !store.remove(m.seq(), false)) {
                throw new StoreException("stream " + name + ": cannot remove oldest message at " + firstSeq);
            }
        }
    }

    private void republish(StreamConfig cfg, String subject, byte[] hdr, byte[] payload, long seq, long ts,
            SubjectState before, Batch batch) {
        StreamConfig.Republish rp = cfg.republish();
        if (!io.jetkv.protocol.Subject.matches(rp.source(), subject)) {
            return;
        }
        String dest = SubjectMapping.map(rp.source(), rp.dest(), subject);
        long lastOnSubject = before.msgs() > 0 ? before.lastSeq() : 0;
        byte[] headers;
        byte[] body;
        if (rp.headersOnly()) {
            headers = HeaderBlock.append(hdr, "Nats-Stream", name, "Nats-Subject", subject, "Nats-Sequence",
                    Long.toString(seq), "Nats-Time-Stamp", JsJson.time(ts), "Nats-Last-Sequence",
                    Long.toString(lastOnSubject), "Nats-Msg-Size", Integer.toString(payload.length));
            body = new byte[0];
        } else {
            headers = HeaderBlock.append(hdr, "Nats-Stream", name, "Nats-Subject", subject, "Nats-Sequence",
                    Long.toString(seq), "Nats-Time-Stamp", JsJson.time(ts), "Nats-Last-Sequence",
                    Long.toString(lastOnSubject));
            body = payload;
        }
        batch.sendIfDurable(dest, headers, body);
    }

    /**
     * Writer thread, for the mirror copier: stores an origin message under its origin sequence (skipped
     * origin sequences become interior deletes) with its original timestamp. Publish checks do not apply;
     * the limits do.
     */
    void storeMirrored(String subject, StoredMessage m, Batch batch) {
        StreamConfig cfg = config;
        if (m.seq() <= store.state().lastSeq()) {
            return; // already copied
        }
        store.advanceTo(m.seq());
        store.append(subject, m.headers(), m.payload(), m.timestamp());
        batch.markDirty();
        lastTimestamp = Math.max(lastTimestamp, m.timestamp());
        enforceLimits(cfg, subject);
    }

    /**
     * Writer thread, for a source copier: stores an origin message as if published to the mapped subject,
     * as nats-server does: dedupe and limits apply, {@code Nats-Expected-*} headers are dropped (they were
     * checked by the origin), and {@code Nats-Stream-Source} names where it came from. A message the
     * stream refuses (e.g. too large) is skipped and logged.
     */
    void storeSourced(StreamSource src, StoredMessage m, Batch batch) {
        storeSourced(src, m, batch, 0);
    }

    /** As above, stored at {@code timestamp} (0: now). */
    private void storeSourced(StreamSource src, StoredMessage m, Batch batch, long timestamp) {
        String subject = src.mapSubject(m.subject());
        if (subject == null) {
            return;
        }
        byte[] hdr = HeaderBlock.append(HeaderBlock.without(m.headers(), "Nats-Expected-", "Nats-Stream-Source"),
                "Nats-Stream-Source", src.name() + " " + m.seq());
        byte[] payload = m.payload();
        try {
            if (config.allowMsgCounter()) {
                // a counter sourced into a counter stream adds what changed since the last total seen from it
                StoredMessage last = store.loadLast(subject);
                hdr = MessageCounter.sourcedHeaders(hdr, m.payload(), src.name(), m.subject(),
                        last == null ? null : last.headers());
                payload = new byte[0];
            }
            store(config, new Publish(subject, null, hdr, payload, timestamp, true), batch);
        } catch (JsApiException e) {
            LOG.warn("stream {}: message {} of {} not sourced: {}", name, m.seq(), src.name(), e.getMessage());
        }
    }

    static long nowNanos() {
        Instant i = Instant.now();
        return i.getEpochSecond() * 1_000_000_000L + i.getNano();
    }

    /** Publish time in epoch nanos, never before the previous message's. */
    private long now() {
        Instant i = Instant.now();
        long t = i.getEpochSecond() * 1_000_000_000L + i.getNano();
        return Math.max(t, lastTimestamp);
    }

    private static long parseSeq(String v) {
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            return -1; // the reference's parse failure, which never matches
        }
    }

    /**
     * Restores the last msg id and the dedupe window from the stored messages (startup). The window's messages are
     * read only when the store's {@link StreamStore#lastMsgIdSeq} says one of them may carry an id: a KV bucket's
     * restart reads none, however many keys were put within the window.
     */
    private void recoverWriterState() {
        StreamState st = store.state();
        lastTimestamp = st.lastTimestamp();
        if (st.msgs() == 0) {
            if (store.lastMsgIdSeq() == Long.MAX_VALUE && st.lastSeq() > 0) {
                store.msgIdsScanned(st.lastSeq()); // nothing stored, so no id to find above the last sequence
            }
            return;
        }
        StoredMessage last = store.loadLast(null);
        if (last != null && last.headers() != null) {
            lastMsgId = HeaderBlock.parse(last.headers()).get("Nats-Msg-Id");
        }
        // from the last message's time, not the clock: a replica replaying its log after a restart must still know the
        // ids the replayed messages are checked against (a later clock only keeps more ids, which time out by themselves)
        long cutoff = lastTimestamp - config.duplicateWindow();
        // Timestamps grow with sequences: binary-search the first message inside the window.
        long lo = st.firstSeq();
        long hi = st.lastSeq();
        while (lo < hi) {
            long mid = lo + (hi - lo) / 2;
            StoredMessage m = store.loadNext(mid, null);
            if (m == null || m.timestamp() >= cutoff) {
                hi = mid;
            } else {
                lo = m.seq() + 1;
            }
        }
        long idsUpTo = store.lastMsgIdSeq();
        if (idsUpTo < lo) {
            return; // no message of the window carries an id
        }
        // the window's messages in runs (one store iterator per run, not per message): after a burst of writes
        // just before a restart the window can hold every message of a large bucket
        List<StoredMessage> run = new ArrayList<>();
        long lastWithId = lo - 1;
        for (long from = lo; from <= st.lastSeq(); ) {
            run.clear();
            if (store.loadNextBatch(from, st.lastSeq(), null, 1024, Long.MAX_VALUE, run) == 0) {
                break;
            }
            for (StoredMessage m : run) {
                if (m.headers() != null && m.timestamp() >= cutoff) {
                    String id = HeaderBlock.parse(m.headers()).get("Nats-Msg-Id");
                    if (id != null && !id.isEmpty()) {
                        dedupe.put(id, new long[] {m.seq(), m.timestamp()});
                        lastWithId = m.seq();
                    }
                }
            }
            from = run.get(run.size() - 1).seq() + 1;
        }
        if (idsUpTo == Long.MAX_VALUE) {
            store.msgIdsScanned(lastWithId); // every message from lo on was read
        }
        if (!dedupe.isEmpty()) {
            nextDedupePrune = dedupe.values().iterator().next()[1] + config.duplicateWindow();
        }
    }

    /**
     * Timer thread: queue expiry of {@code max_age} and pruning of the dedupe window when due. Cheap: two
     * volatile reads when nothing is due.
     */
    public void tick(long nowNanos) {
        if (unavailable && nowNanos - lastReopenAttempt >= REOPEN_RETRY_NANOS && reopenPending.compareAndSet(false, true)) {
            if (!execute(this::retryReopen)) {
                reopenPending.set(false);
            }
        }
        Sourcing src = sourcing;
        if (src != null) {
            src.tick(nowNanos);
        }
        if ((nowNanos >= nextExpiry || nowNanos >= nextDedupePrune || nowNanos >= nextBatchTimeout
                || nowNanos >= nextSchedule || nowNanos >= fastBatches.nextTimeout())
                && maintenancePending.compareAndSet(false, true)) {
            if (!execute(batch -> maintain(batch))) {
                maintenancePending.set(false);
            }
        }
    }

    private void maintain(Batch batch) {
        maintenancePending.set(false);
        StreamConfig cfg = config;
        long now = now();
        if (now >= nextBatchTimeout) {
            expireAtomicBatches(nowNanos());
        }
        Replicator r = replicator;
        if (r == null) {
            if (expireDue(cfg, now, EXPIRY_CAP, batch)) {
                maintainSoon();
            }
        } else if (r.leads() && (now >= nextExpiry || now >= fastBatches.nextTimeout())) {
            // a replicated stream expires only what its leader proposes, at the leader's time, on every replica alike:
            // markers then get the same sequences and timestamps everywhere, and followers never expire on their own
            expiry.propose(ts -> new StreamOp.Expire(ts, EXPIRY_CAP), now);
        }
        if (cfg.allowMsgSchedules() && !cfg.sealed()) {
            fireSchedules(now, batch);
        }
        if (r == null) {
            pruneDedupe(cfg, now);
        }
    }

    /**
     * Writer thread: asks for another maintenance run after this batch, behind the tasks waiting then. Not within
     * the batch: its replies wait for its flush, so runs queued inside it would hold them for the whole backlog.
     */
    private void maintainSoon() {
        maintainAfterBatch = true;
    }

    /** Writer thread, between batches: queues the maintenance run asked for (unless one is queued already). */
    private void queueMaintenanceAsked() {
        if (maintainAfterBatch) {
            maintainAfterBatch = false;
            if (maintenancePending.compareAndSet(false, true) && !execute(this::maintain)) {
                maintenancePending.set(false); // the queue is full: the timer comes back
            }
        }
    }

    /**
     * Writer thread: expires what is due at {@code now}, at most {@code limit} messages: idle fast-ingest batches,
     * {@code max_age}, per-message TTLs. On a replicated stream only when a committed {@link StreamOp.Expire} is
     * applied, with the leader's time and limit. True when it stopped at the limit with more due.
     */
    private boolean expireDue(StreamConfig cfg, long now, int limit, Batch batch) {
        if (now >= fastBatches.nextTimeout()) {
            fastBatches.expire(now);
        }
        int left = limit;
        if (cfg.maxAge() > 0) {
            left -= expireByAge(cfg, now, left, batch);
        }
        boolean ttl = cfg.allowMsgTtl() && !cfg.sealed();
        if (ttl && left > 0) {
            left -= expireByTtl(cfg, now, left, batch);
        }
        return left <= 0 || (ttl && store.nextTtlDeadline() <= now);
    }

    /**
     * Forgets the message ids older than the duplicate window before {@code now}. A replicated stream prunes as it
     * applies publishes, against the committed message's time, so that no replica's clock decides what is a duplicate.
     */
    private void pruneDedupe(StreamConfig cfg, long now) {
        long windowStart = now - cfg.duplicateWindow();
        Iterator<long[]> it = dedupe.values().iterator();
        while (it.hasNext()) {
            long[] e = it.next();
            if (e[1] >= windowStart) {
                break;
            }
            it.remove();
        }
        nextDedupePrune = dedupe.isEmpty() || replicator != null
                ? Long.MAX_VALUE
                : dedupe.values().iterator().next()[1] + cfg.duplicateWindow();
    }

    /**
     * A replicated stream's leader proposes an op that takes effect at a time (firing schedules, expiring): one at a
     * time, with a time after every proposal before it, and again after {@link #TIMED_RETRY_NANOS} unanswered (a lost
     * proposal; a duplicate does no harm, as an op applies only what is due). Writer thread.
     */
    private final class TimedProposal {
        private volatile long proposedAt;

        void propose(java.util.function.LongFunction<StreamOp> op, long now) {
            long since = proposedAt;
            if (since != 0 && nowNanos() - since < TIMED_RETRY_NANOS) {
                return;
            }
            long at = nowNanos();
            proposedAt = at;
            long ts = Math.max(now, lastProposedTs + 1);
            lastProposedTs = ts;
            Runnable done = () -> {
                if (proposedAt == at) {
                    proposedAt = 0;
                }
            };
            if (!perform(op.apply(ts), new OpReply() {
                @Override
                public void applied(Batch applyBatch, ObjectNode body, JsApiException error) {
                    done.run();
                }

                @Override
                public void failed(JsApiException error) {
                    done.run();
                }
            })) {
                done.run();
            }
        }
    }

    private final TimedProposal schedules = new TimedProposal();
    private final TimedProposal expiry = new TimedProposal();

    /**
     * Fires the due message schedules. A replicated stream's leader proposes the firing instead, with its clock's
     * time, and every replica fires what its schedule index holds as due then on apply: the index and the produced
     * messages stay the same everywhere, and a schedule fired (its index entry taken) before a leader change is not
     * fired again by the next leader. Followers fire nothing.
     */
    private void fireSchedules(long now, Batch batch) {
        Replicator r = replicator;
        if (r == null) {
            scheduler.fireDue(now, batch);
            return;
        }
        if (r.leads() && store.nextScheduleDeadline() <= now) {
            schedules.propose(StreamOp.Schedules::new, now);
        }
    }

    /** How long the leader waits for a timed proposal (schedules, expiry) before proposing again. */
    private static final long TIMED_RETRY_NANOS = 5_000_000_000L;

    /**
     * {@code max_age}: removes the oldest messages while they are too old, at most {@code limit}; returns how many.
     * A message whose {@code Nats-TTL} is {@code never} stays; {@link #ageScanFrom} remembers where such messages
     * end, so the next run does not walk them again.
     */
    private int expireByAge(StreamConfig cfg, long now, int limit, Batch batch) {
        long cutoff = now - cfg.maxAge();
        int removed = 0;
        StoredMessage m = store.loadNext(Math.max(ageScanFrom, store.state().firstSeq()), null);
        while (m != null && m.timestamp() <= cutoff && removed < limit) {
            long next = m.seq() + 1;
            if (!MessageTtl.isNever(m.headers())) {
                expire(cfg, m, now);
                removed++;
            }
            ageScanFrom = next;
            m = store.loadNext(next, null);
        }
        if (removed > 0) {
            batch.markDirty();
        }
        return removed;
    }

    /**
     * Per-message TTLs: removes the messages whose own deadline passed, taking at most {@code limit} rows of the
     * store's index; returns how many of them were still stored.
     */
    private int expireByTtl(StreamConfig cfg, long now, int limit, Batch batch) {
        if (store.nextTtlDeadline() > now) {
            return 0;
        }
        List<StoredMessage> due = new ArrayList<>(store.takeExpiredTtl(now, limit));
        // in sequence order, so that markers come in the order their subjects' last messages were stored
        due.sort(java.util.Comparator.comparingLong(StoredMessage::seq));
        for (StoredMessage m : due) {
            if (store.load(m.seq()) != null) { // a marker's rollup may have taken it already
                expire(cfg, m, now);
            }
        }
        batch.markDirty(); // the index changed even when every message had gone another way
        return due.size();
    }

    /**
     * Removes a message by age or TTL. With {@code subject_delete_marker_ttl}, the last message of a subject that
     * is not itself a marker is replaced by a subject delete marker instead (nats-server 2.11.2+): an empty
     * message on the subject with {@code Nats-Marker-Reason: MaxAge}, its own {@code Nats-TTL} and
     * {@code Nats-Rollup: sub}, which removes the expiring message and anything older on the subject. Watchers
     * see the marker; when its TTL ends it goes like any message, without a marker of its own.
     */
    private void expire(StreamConfig cfg, StoredMessage m, long now) {
        long markerTtl = cfg.subjectDeleteMarkerTtl();
        if (markerTtl > 0 && store.subjectState(m.subject()).lastSeq() == m.seq() && !isMarker(m.headers())) {
            byte[] marker = HeaderBlock.append(null, "Nats-Marker-Reason", "MaxAge", MessageTtl.HEADER,
                    MessageTtl.formatSeconds(markerTtl / 1_000_000_000L), "Nats-Rollup", "sub");
            long seq = store.append(m.subject(), marker, new byte[0], now);
            lastTimestamp = now;
            store.purge(m.subject(), seq, 0);
            enforceLimits(cfg, m.subject());
        } else {
            store.remove(m.seq(), false);
        }
    }

    /** A subject delete marker or a KV purge: their expiry writes no marker. */
    private static boolean isMarker(byte[] headers) {
        if (headers == null) {
            return false;
        }
        Map<String, String> h = HeaderBlock.parse(headers);
        return h.containsKey("Nats-Marker-Reason") || "PURGE".equals(h.get("KV-Operation"));
    }

    /**
     * Writer thread: removes the stream's data for good. Later tasks are rejected.
     */
    void destroy() {
        accepting = false;
        deleted = true;
        closed = true;
        dropAtomicBatches();
        fastBatches.dropAll();
        ctx.addUsed(config.storage(), -stats.bytes());
        for (StreamListener l : listeners) {
            try {
                l.streamClosed(this);
            } catch (RuntimeException e) {
                LOG.error("stream {}: listener failed on close", name, e);
            }
        }
        store.destroy();
    }

    /** Stops accepting new work (shutdown step one); already queued tasks still run. */
    void stopAccepting() {
        accepting = false;
    }

    /** Writer thread, at shutdown: runs what is still queued, flushes and closes the store. */
    void drainAndClose() {
        while (!queue.isEmpty() || !committed.isEmpty()) {
            Batch batch = new Batch();
            Task t;
            int n = 0;
            while (n < BATCH_CAP && ((t = committed.poll()) != null || (t = queue.poll()) != null)) {
                n++;
                runTask(t, batch);
            }
            finish(batch);
        }
        if (!closed) {
            closed = true;
            dropAtomicBatches();
            fastBatches.dropAll();
            for (StreamListener l : listeners) {
                try {
                    l.streamClosed(this);
                } catch (RuntimeException e) {
                    LOG.error("stream {}: listener failed on close", name, e);
                }
            }
            try {
                store.close();
            } catch (RuntimeException e) {
                LOG.error("stream {}: close failed", name, e);
            }
        }
    }

    /** The writer executor this stream is pinned to (for code that must run after its queued work). */
    public Executor writer() {
        return writer;
    }
}
