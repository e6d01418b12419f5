package io.jetkv.jetstream.stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jetkv.jetstream.MessageBus;
import io.jetkv.jetstream.api.JsApiException;
import io.jetkv.jetstream.api.JsError;
import io.jetkv.jetstream.api.JsJson;
import io.jetkv.jetstream.store.StreamStore;
import io.jetkv.protocol.Subject;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The account's streams: names, subject ownership (no two streams capture the same subject), persisted
 * configurations and the internal subscriptions that feed publishes to each stream's writer.
 *
 * <p>Threading: lookups ({@link #get}, {@link #all}) from any thread, lock-free. Mutations (create,
 * update, delete, restore) are serialised by this object's monitor and run on API workers; they never
 * touch a stream's store, which belongs to its writer.
 */
public final class StreamManager {
    private static final Logger LOG = LoggerFactory.getLogger(StreamManager.class);

    /** The saved form of a file stream: {@code {"config":{...},"created":<epoch nanos>}}. */
    private static final String CONFIG = "config";
    private static final String CREATED = "created";

    private final MessageBus bus;
    private final StorageBackend storage;
    private final ExecutorService[] writers;
    private final int queueCapacity;
    private final Stream.Context ctx;
    private final long maxMemory;
    private final long maxStore;
    private final io.jetkv.jetstream.AccountLimits limits;
    private volatile String account = "$G";
    private final ConcurrentSkipListMap<String, Stream> streams = new ConcurrentSkipListMap<>();
    /** Subject pattern subscriptions per stream; guarded by this. */
    private final Map<Stream, Map<String, MessageBus.Subscription>> subscriptions = new HashMap<>();
    private final Map<String, Boolean> deleting = new ConcurrentHashMap<>();
    /** Names of streams whose store is being filled from a snapshot; guarded by this. */
    private final java.util.Set<String> restoring = new java.util.HashSet<>();

    public StreamManager(MessageBus bus, StorageBackend storage, ExecutorService[] writers, int queueCapacity,
            Stream.Context ctx, long maxMemory, long maxStore) {
        this(bus, storage, writers, queueCapacity, ctx, maxMemory, maxStore, io.jetkv.jetstream.AccountLimits.UNLIMITED);
    }

    /**
     * @param maxMemory server-wide memory storage limit (&lt;= 0: none)
     * @param maxStore  server-wide file storage limit (&lt;= 0: none)
     * @param limits    the account's own limits, checked on create, update and restore
     */
    public StreamManager(MessageBus bus, StorageBackend storage, ExecutorService[] writers, int queueCapacity,
            Stream.Context ctx, long maxMemory, long maxStore, io.jetkv.jetstream.AccountLimits limits) {
        this.limits = limits;
        this.bus = bus;
        this.storage = storage;
        this.writers = writers;
        this.queueCapacity = queueCapacity;
        this.ctx = ctx;
        this.maxMemory = maxMemory;
        this.maxStore = maxStore;
    }

    /** The live stream called {@code name}, or null. */
    public Stream get(String name) {
        Stream s = streams.get(name);
        return s == null || s.isClosed() || deleting.containsKey(name) ? null : s;
    }

    /** Live streams sorted by name. */
    public List<Stream> all() {
        List<Stream> out = new ArrayList<>();
        for (Stream s : streams.values()) {
            if (!s.isClosed() && !deleting.containsKey(s.name())) {
                out.add(s);
            }
        }
        return out;
    }

    /** Result of {@link #create}. */
    public record Created(Stream stream, boolean isNew) {}

    /**
     * Creates a stream, or returns the existing one when its configuration is identical.
     *
     * @throws JsApiException 10058 (exists, different config), 10065 (subjects overlap), resource limits
     */
    public synchronized Created create(StreamConfig cfg) {
        if (deleting.containsKey(cfg.name())) {
            throw new JsApiException(JsError.STREAM_CREATE_FAILED, "stream is being deleted");
        }
        if (restoring.contains(cfg.name())) {
            throw new JsApiException(JsError.STREAM_CREATE_FAILED, "stream is being restored");
        }
        Stream existing = streams.get(cfg.name());
        if (existing != null && existing.config().equals(cfg.withLevelOf(existing.config()))) {
            return new Created(existing, false);
        }
        checkStreamBytes(cfg);
        // before the name check: a changed re-create at the limit is 10027 in nats-server 2.9 too
        checkStreamCount();
        if (existing != null) {
            throw new JsApiException(JsError.STREAM_NAME_EXIST);
        }
        checkOverlap(cfg, null);
        checkResources(cfg);
        checkReservation(cfg, null);
        checkExternal(cfg);
        StreamStore store = storage.openStore(cfg.name(), cfg.storage());
        long created = nowNanos();
        Stream stream;
        try {
            stream = new Stream(cfg, created, store, reopenerFor(cfg), writerFor(cfg.name()), queueCapacity, ctx);
            stream.manager = this;
            persist(stream, cfg);
        } catch (RuntimeException e) {
            store.close(); // not shared yet: release it so the name can be opened again
            throw e;
        }
        streams.put(cfg.name(), stream);
        subscribe(stream, cfg);
        startSourcing(stream, cfg);
        // streams that mirror or source this name (created earlier, or whose origin was deleted) start copying
        for (Stream other : streams.values()) {
            Sourcing src = other.sourcing();
            if (src != null) {
                src.kickAll(cfg.name());
            }
        }
        LOG.info("stream {}: created ({} storage, subjects {})", cfg.name(), cfg.storage().json, cfg.subjects());
        return new Created(stream, true);
    }

    /** Fills the store of a stream being restored, before anyone else can reach it. */
    @FunctionalInterface
    public interface StoreFiller {
        void fill(StreamStore store);
    }

    /**
     * Creates a stream whose messages come from a snapshot: the name is reserved, a fresh store is filled by
     * {@code filler} on the calling thread (a restore's own thread, never a writer or API worker: it may take
     * long) and flushed, and only then does the stream go live and capture its subjects.
     *
     * @throws JsApiException 10058 when the name is taken, 10065 on overlapping subjects, resource limits, or
     *                        whatever {@code filler} throws (the half-filled store is destroyed)
     */
    public Stream createRestored(StreamConfig cfg, long created, StoreFiller filler) {
        String name = cfg.name();
        synchronized (this) {
            if (deleting.containsKey(name) || restoring.contains(name) || streams.get(name) != null) {
                throw new JsApiException(JsError.STREAM_NAME_EXIST);
            }
            checkStreamBytes(cfg);
            checkStreamCount();
            checkOverlap(cfg, null);
            checkResources(cfg);
            checkReservation(cfg, null);
            checkExternal(cfg);
            restoring.add(name);
        }
        StreamStore store = null;
        try {
            store = storage.openStore(name, cfg.storage());
            filler.fill(store);
            store.flush(true);
            synchronized (this) {
                Stream stream = new Stream(cfg, created, store, reopenerFor(cfg), writerFor(name), queueCapacity, ctx);
                stream.manager = this;
                persist(stream, cfg);
                streams.put(name, stream);
                restoring.remove(name);
                subscribe(stream, cfg);
                startSourcing(stream, cfg);
                for (Stream other : streams.values()) {
                    Sourcing src = other.sourcing();
                    if (src != null) {
                        src.kickAll(name);
                    }
                }
                LOG.info("stream {}: restored from a snapshot, {} messages", name, stream.stats().msgs());
                return stream;
            }
        } catch (RuntimeException e) {
            if (store != null) {
                try {
                    store.destroy();
                } catch (RuntimeException destroyFailed) {
                    LOG.error("stream {}: removing a failed restore's store failed", name, destroyFailed);
                }
            }
            synchronized (this) {
                restoring.remove(name);
            }
            throw e;
        }
    }

    /**
     * Replaces the configuration of {@code stream} after the update rules and overlap checks; the caller
     * then queues the limit enforcement on the writer.
     *
     * @return the configuration stored, which a sealing update adjusts ({@link StreamConfig#sealedAdjusted})
     */
    public synchronized StreamConfig update(Stream stream, StreamConfig requested) {
        requested.validateUpdateFrom(stream.config());
        StreamConfig cfg = requested.sealedAdjusted();
        checkStreamBytes(cfg);
        checkOverlap(cfg, stream);
        checkResources(cfg);
        checkReservation(cfg, stream);
        checkExternal(cfg);
        StreamConfig old = stream.config();
        persist(stream, cfg);
        stream.setConfig(cfg);
        subscribe(stream, cfg);
        if (!java.util.Objects.equals(old.sources(), cfg.sources())) {
            // sources kept as they were resume from their saved positions; new ones start per their options
            startSourcing(stream, cfg);
        }
        LOG.info("stream {}: updated", stream.name());
        return cfg;
    }

    /**
     * Writer thread of a replicated stream, applying a committed configuration update ({@link StreamOp.Config}): the
     * meta leader checked it against the whole cluster, so every replica takes it as it is, at the same place in the
     * stream's log. The caller enforces the limits.
     */
    synchronized StreamConfig applyReplicatedUpdate(Stream stream, StreamConfig cfg) {
        StreamConfig old = stream.config();
        persist(stream, cfg);
        stream.setConfig(cfg);
        subscribe(stream, cfg);
        if (!java.util.Objects.equals(old.sources(), cfg.sources())) {
            startSourcing(stream, cfg);
        }
        LOG.info("stream {}: updated (replicated)", stream.name());
        return cfg;
    }

    /**
     * Stops routing to {@code stream} and forgets its configuration. The caller queues the destroy on the
     * writer and calls {@link #deleted} when it ran; until then the name stays reserved.
     */
    public synchronized void beginDelete(Stream stream) {
        deleting.put(stream.name(), Boolean.TRUE);
        unsubscribeAll(stream);
        Sourcing gone = stream.sourcing();
        stream.setSourcing(null);
        if (gone != null) {
            gone.deleteConsumersNotIn(null);
        }
        if (stream.config().storage() == StreamEnums.Storage.FILE) {
            storage.deleteStreamMeta(stream.name());
        }
    }

    /** Writer thread, after the store was destroyed. */
    public synchronized void deleted(Stream stream) {
        streams.remove(stream.name(), stream);
        deleting.remove(stream.name());
        LOG.info("stream {}: deleted", stream.name());
    }

    /** Writer thread of {@code stream}: destroys it (the delete task). */
    public void destroy(Stream stream) {
        stream.destroy();
        deleted(stream);
    }

    /** Memory stores cannot fail a flush, and reopening one would lose its messages. */
    private StorageBackend reopenerFor(StreamConfig cfg) {
        return cfg.storage() == StreamEnums.Storage.FILE ? storage : null;
    }

    /** Start: reopens every persisted file stream and subscribes its subjects. */
    public synchronized void restore() {
        for (Map.Entry<String, byte[]> e : storage.streamMetas().entrySet()) {
            try {
                JsonNode saved = JsJson.MAPPER.readTree(e.getValue());
                StreamConfig cfg = StreamConfig.fromJson((ObjectNode) saved.get(CONFIG));
                long created = saved.path(CREATED).asLong(nowNanos());
                StreamStore store = storage.openStore(cfg.name(), cfg.storage());
                Stream stream = new Stream(cfg, created, store, reopenerFor(cfg), writerFor(cfg.name()), queueCapacity,
                        ctx);
                stream.manager = this;
                streams.put(cfg.name(), stream);
                subscribe(stream, cfg);
                LOG.info("stream {}: restored, {} messages", cfg.name(), stream.stats().msgs());
            } catch (IOException | RuntimeException ex) {
                LOG.error("stream {}: could not be restored", e.getKey(), ex);
            }
        }
        // after all are back, so that each finds its origin
        for (Stream s : streams.values()) {
            try {
                startSourcing(s, s.config());
            } catch (RuntimeException ex) {
                LOG.error("stream {}: mirror/sources could not be started", s.name(), ex);
            }
        }
    }

    /** Shutdown step one: no more routing; queued work still runs. */
    public synchronized void stopAll() {
        for (Stream s : streams.values()) {
            unsubscribeAll(s);
            s.setSourcing(null);
            s.stopAccepting();
        }
    }

    /** Shutdown step two: each writer drains its streams' queues, flushes and closes the stores. */
    public void drainAndCloseAll() {
        for (Stream s : streams.values()) {
            s.writer().execute(s::drainAndClose);
        }
    }

    private ExecutorService writerFor(String name) {
        return writers[Math.floorMod(name.hashCode(), writers.length)];
    }

    private void checkOverlap(StreamConfig cfg, Stream self) {
        for (Stream other : streams.values()) {
            if (other == self || other.isClosed()) {
                continue;
            }
            for (String a : cfg.subjects()) {
                for (String b : other.config().subjects()) {
                    if (Subject.collide(a, b)) {
                        throw new JsApiException(JsError.STREAM_SUBJECT_OVERLAP);
                    }
                }
            }
        }
    }

    /**
     * Mirrors and sources are copied within this server only: an {@code external} API prefix is accepted
     * when it names this server's own API (default or its domain's), refused otherwise.
     */
    private void checkExternal(StreamConfig cfg) {
        List<StreamSource> all = new ArrayList<>(cfg.sourceList());
        StreamSource m = cfg.mirrorSource();
        if (m != null) {
            all.add(m);
        }
        String domain = ctx.domain();
        for (StreamSource s : all) {
            String api = s.externalApi();
            if (api == null || api.equals("$JS.API")
                    || (domain != null && !domain.isEmpty() && api.equals("$JS." + domain + ".API"))) {
                continue;
            }
            throw new JsApiException(JsError.STREAM_INVALID_CONFIG,
                    "stream " + (m == s ? "mirror" : "source") + " external api prefix " + api
                            + " is not supported: only streams of this server can be mirrored or sourced");
        }
    }

    /** Creates (or replaces) the copier of {@code stream} and wakes it. */
    private void startSourcing(Stream stream, StreamConfig cfg) {
        Sourcing old = stream.sourcing();
        if (cfg.mirror() == null && cfg.sources() == null) {
            stream.setSourcing(null);
            if (old != null) {
                old.deleteConsumersNotIn(null);
            }
            return;
        }
        Sourcing src = new Sourcing(stream, cfg, this::get);
        stream.setSourcing(src);
        if (old != null) {
            old.deleteConsumersNotIn(src);
        }
        src.kickAll(null);
    }

    private void checkResources(StreamConfig cfg) {
        long limit = cfg.storage() == StreamEnums.Storage.MEMORY ? maxMemory : maxStore;
        if (limit > 0 && cfg.maxBytes() > limit) {
            throw new JsApiException(cfg.storage() == StreamEnums.Storage.MEMORY
                    ? JsError.MEMORY_RESOURCES_EXCEEDED
                    : JsError.STORAGE_RESOURCES_EXCEEDED);
        }
    }

    /** The account's per-stream rules on {@code max_bytes} (nats-server checks them with the config). */
    private void checkStreamBytes(StreamConfig cfg) {
        if (limits.maxBytesRequired() && cfg.maxBytes() <= 0) {
            throw new JsApiException(JsError.STREAM_MAX_BYTES_REQUIRED);
        }
        long most = cfg.storage() == StreamEnums.Storage.MEMORY ? limits.memoryMaxStreamBytes()
                : limits.storeMaxStreamBytes();
        if (most > 0 && cfg.maxBytes() > most) {
            throw new JsApiException(JsError.STREAM_MAX_STREAM_BYTES_EXCEEDED);
        }
    }

    private void checkStreamCount() {
        if (limits.maxStreams() > 0 && all().size() + restoring.size() >= limits.maxStreams()) {
            throw new JsApiException(JsError.MAXIMUM_STREAMS_LIMIT);
        }
    }

    /**
     * The account's byte limits count what its streams reserve ({@code max_bytes} where set, as nats-server's
     * {@code storeReserved}), plus the new or updated stream's {@code max_bytes} (1 when it sets none).
     */
    private void checkReservation(StreamConfig cfg, Stream self) {
        boolean memory = cfg.storage() == StreamEnums.Storage.MEMORY;
        long limit = memory ? limits.maxMemory() : limits.maxStore();
        if (limit < 0) {
            return;
        }
        long reserved = 0;
        for (Stream s : streams.values()) {
            StreamConfig c = s.config();
            if (s != self && !s.isClosed() && c.storage() == cfg.storage() && c.maxBytes() > 0) {
                reserved += c.maxBytes();
            }
        }
        long add = cfg.maxBytes() > 0 ? cfg.maxBytes() : 1;
        if (reserved + add > limit) {
            throw new JsApiException(memory ? JsError.MEMORY_RESOURCES_EXCEEDED : JsError.STORAGE_RESOURCES_EXCEEDED);
        }
    }

    /** The account these streams belong to (metadata of the consumers made for sourcing). */
    public void setAccount(String name) {
        this.account = name;
    }

    String account() {
        return account;
    }

    /** The account's limits. */
    public io.jetkv.jetstream.AccountLimits limits() {
        return limits;
    }

    private void persist(Stream stream, StreamConfig cfg) {
        if (cfg.storage() != StreamEnums.Storage.FILE) {
            return;
        }
        ObjectNode saved = JsJson.object();
        saved.set(CONFIG, cfg.toJson());
        saved.put(CREATED, stream.created());
        storage.putStreamMeta(cfg.name(), JsJson.bytes(saved));
    }

    /**
     * Makes the stream's subscriptions match {@code cfg.subjects()}: unchanged patterns keep their
     * subscription (no gap, no double delivery), new ones are added, dropped ones removed.
     */
    private void subscribe(Stream stream, StreamConfig cfg) {
        if (cfg.numReplicas() > 1 && !capturing.contains(stream.name())) {
            return; // a replicated stream captures its subjects only on its leader (setCapturing)
        }
        Map<String, MessageBus.Subscription> subs = subscriptions.computeIfAbsent(stream, k -> new HashMap<>());
        for (String pattern : cfg.subjects()) {
            if (!subs.containsKey(pattern)) {
                subs.put(pattern, bus.subscribe(pattern, (subject, reply, headers, payload) -> {
                    capture(stream, pattern, subject, reply, headers, payload);
                    return true;
                }));
            }
        }
        subs.entrySet().removeIf(e -> {
            if (cfg.subjects().contains(e.getKey())) {
                return false;
            }
            e.getValue().unsubscribe();
            return true;
        });
    }

    /** Names of replicated streams this server leads, which therefore capture their subjects; guarded by this. */
    private final java.util.Set<String> capturing = new java.util.HashSet<>();

    /**
     * Cluster layer: a replicated stream captures its subjects (publishes reach its writer) only while this
     * server leads its group, so that a publish is stored once, by the leader.
     */
    public synchronized void setCapturing(Stream stream, boolean on) {
        if (on) {
            capturing.add(stream.name());
            if (get(stream.name()) == stream) {
                subscribe(stream, stream.config());
            }
        } else {
            capturing.remove(stream.name());
            unsubscribeAll(stream);
        }
    }

    private void unsubscribeAll(Stream stream) {
        Map<String, MessageBus.Subscription> subs = subscriptions.remove(stream);
        if (subs != null) {
            subs.values().forEach(MessageBus.Subscription::unsubscribe);
        }
    }

    /**
     * Event loop: a publish on one of the stream's subjects. When two of the stream's own patterns match
     * (e.g. {@code a.>} and {@code a.b}), only the first one stores it.
     */
    private void capture(Stream stream, String pattern, String subject, String reply, byte[] headers, byte[] payload) {
        String first = null;
        for (String p : stream.config().subjects()) {
            if (Subject.matches(p, subject)) {
                first = p;
                break;
            }
        }
        if (!pattern.equals(first)) {
            return; // another of its patterns stores it, or this one was just removed by an update
        }
        if (!stream.offerPublish(subject, reply, headers, payload) && reply != null && !stream.isClosed()) {
            bus.publish(reply, null, null, stream.pubAckError(new JsApiException(JsError.TOO_MANY_REQUESTS)));
        }
    }

    private static long nowNanos() {
        Instant i = Instant.now();
        return i.getEpochSecond() * 1_000_000_000L + i.getNano();
    }
}
