package io.jetkv.jetstream.consumer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jetkv.jetstream.MessageBus;
import io.jetkv.jetstream.api.ApiLevel;
import io.jetkv.jetstream.api.ApiRequest;
import io.jetkv.jetstream.api.JsApi;
import io.jetkv.jetstream.api.JsApiException;
import io.jetkv.jetstream.api.JsApiSubjects;
import io.jetkv.jetstream.api.JsError;
import io.jetkv.jetstream.api.JsJson;
import io.jetkv.jetstream.stream.StorageBackend;
import io.jetkv.jetstream.stream.Stream;
import io.jetkv.jetstream.stream.StreamEnums;
import io.jetkv.jetstream.stream.StreamManager;
import io.jetkv.protocol.Subject;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * JetStream consumers of a server: the {@code $JS.API.CONSUMER.*} handlers, the internal subscriptions on
 * ack ({@code $JS.ACK.>}) and flow-control ({@code $JS.FC.>}) subjects, the timer that drives ack
 * deadlines and heartbeats, and the persisted form of durable consumers: configuration (JSON) under meta key
 * {@code consumer/<stream>/<name>}, delivery and ack state ({@link Consumer#stateBytes}) under
 * {@code consumer-state/<stream>/<name>}. Earlier versions kept the state inside the configuration's JSON;
 * such state is still read.
 *
 * <p>Threading: API handlers run on API workers and only validate; every change to a consumer is queued
 * on its stream's writer ({@link Stream#execute}). Ack and pull-request handlers run on Netty event loops
 * and only queue. The timer thread {@code js-consumer-timer} only queues ticks.
 */
public final class ConsumerManager implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ConsumerManager.class);
    private static final long TICK_MILLIS = 50;
    private static final String META_PREFIX = "consumer/";
    private static final String STATE_PREFIX = "consumer-state/";

    private final StreamManager streams;
    private final MessageBus bus;
    private final StorageBackend storage;
    private final Map<Stream, ConsumerSet> sets = new ConcurrentHashMap<>();
    private final List<MessageBus.Subscription> subscriptions = new ArrayList<>();
    private volatile ScheduledExecutorService timer;

    public ConsumerManager(StreamManager streams, MessageBus bus, StorageBackend storage) {
        this.streams = streams;
        this.bus = bus;
        this.storage = storage;
    }

    MessageBus bus() {
        return bus;
    }

    /** Registers the consumer routes, replacing the placeholders (same operations and token counts). */
    public void registerWith(JsApi api) {
        api.register(JsApiSubjects.CONSUMER_CREATE, 1, Integer.MAX_VALUE, JsApiSubjects.CONSUMER_CREATE_RESPONSE,
                this::create);
        api.register(JsApiSubjects.CONSUMER_DURABLE_CREATE, 2, 2, JsApiSubjects.CONSUMER_CREATE_RESPONSE,
                this::create);
        api.register(JsApiSubjects.CONSUMER_INFO, 2, 2, JsApiSubjects.CONSUMER_INFO_RESPONSE, this::info);
        api.register(JsApiSubjects.CONSUMER_DELETE, 2, 2, JsApiSubjects.CONSUMER_DELETE_RESPONSE, this::delete);
        api.register(JsApiSubjects.CONSUMER_NAMES, 1, 1, JsApiSubjects.CONSUMER_NAMES_RESPONSE, this::names);
        api.register(JsApiSubjects.CONSUMER_LIST, 1, 1, JsApiSubjects.CONSUMER_LIST_RESPONSE, this::list);
        api.register(JsApiSubjects.CONSUMER_MSG_NEXT, 2, 2, "", this::next, true);
        api.register(JsApiSubjects.CONSUMER_PAUSE, 2, 2, JsApiSubjects.CONSUMER_PAUSE_RESPONSE, this::pause);
        api.register(JsApiSubjects.CONSUMER_UNPIN, 2, 2, JsApiSubjects.CONSUMER_UNPIN_RESPONSE, this::unpin);
        api.register(JsApiSubjects.CONSUMER_RESET, 2, 2, JsApiSubjects.CONSUMER_RESET_RESPONSE, this::reset);
    }

    /** Restores durable consumers, subscribes ack and flow-control subjects, starts the timer. */
    public void start() {
        restore();
        subscriptions.add(bus.subscribe("$JS.ACK.>", this::onAck));
        subscriptions.add(bus.subscribe("$JS.FC.>", this::onFlowControl));
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "js-consumer-timer");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleAtFixedRate(this::tick, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** Shutdown step one: no more acks or ticks; the streams' close persists consumer state. */
    @Override
    public void close() {
        subscriptions.forEach(MessageBus.Subscription::unsubscribe);
        subscriptions.clear();
        if (timer != null) {
            timer.shutdownNow();
        }
    }

    /**
     * Runs {@code task} on the consumer timer after {@code delayNanos} (replay pacing); dropped once the manager is
     * closed or before it started, where the 50 ms tick would not run either.
     */
    void later(long delayNanos, Runnable task) {
        ScheduledExecutorService t = timer;
        if (t == null) {
            return;
        }
        try {
            t.schedule(task, delayNanos, TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // shutting down
        }
    }

    static long nowNanos() {
        Instant i = Instant.now();
        return i.getEpochSecond() * 1_000_000_000L + i.getNano();
    }

    // ---- sets ----

    /** Writer thread of {@code stream}: its set, attached on first use. */
    private ConsumerSet setFor(Stream stream) {
        return sets.computeIfAbsent(stream, s -> {
            ConsumerSet set = new ConsumerSet(this, s);
            s.addListener(set);
            s.setInterest(set);
            return set;
        });
    }

    /**
     * Cluster layer, any thread, before the replicated stream's group applies anything: the consumers of
     * {@code stream} keep their state in the stream's group ({@link ConsumerSet}'s replication) and run on the
     * stream leader only.
     */
    public void replicate(Stream stream) {
        ConsumerSet set = setFor(stream);
        set.replicate();
        stream.setReplicatedConsumers(set);
    }

    /**
     * Writer thread: sends {@code reply} now, or on a replicated stream once the consumer changes made so far
     * are committed ({@code failed} if they cannot be, null for no reply then).
     */
    private static void whenCommitted(ConsumerSet set, Runnable reply, Runnable failed) {
        if (!set.replicated()) {
            reply.run();
            return;
        }
        set.afterCommit(ok -> {
            if (ok) {
                reply.run();
            } else if (failed != null) {
                failed.run();
            }
        });
    }

    /**
     * Any thread: runs {@code then} on {@code stream}'s writer when it has a consumer {@code name}; otherwise answers
     * {@code req} 404/10014 (the cluster layer's consumer requests, e.g. {@code CONSUMER.LEADER.STEPDOWN}).
     */
    public void withConsumer(ApiRequest req, Stream stream, String name, Runnable then) {
        hop(req, stream, (set, now, batch) -> {
            // a new leader builds its live consumers from the committed ones a moment after it starts answering
            if (set.get(name) == null && !stream.committedConsumers().contains(name)) {
                throw new JsApiException(JsError.CONSUMER_NOT_FOUND);
            }
            then.run();
        });
    }

    void detach(ConsumerSet set) {
        sets.remove(set.stream(), set);
        set.stream().removeListener(set);
        set.stream().setInterest(null);
    }

    private void tick() {
        for (ConsumerSet set : sets.values()) {
            if (set.tickQueued.compareAndSet(false, true) && !set.stream().execute(b -> set.tick())) {
                set.tickQueued.set(false);
            }
        }
    }

    // ---- persistence ----

    private static String key(String stream, String name) {
        return META_PREFIX + stream + "/" + name;
    }

    private static String stateKey(String stream, String name) {
        return STATE_PREFIX + stream + "/" + name;
    }

    private boolean saved(Stream stream, Consumer c) {
        ConsumerSet set = sets.get(stream);
        if (set != null && set.replicated()) {
            return false;
        }
        // a replicated stream's consumers live in its Raft group, not in this server's meta keys
        return c.config().isDurable() && !c.config().memStorage()
                && stream.config().storage() == StreamEnums.Storage.FILE && !stream.isReplicated();
    }

    /** Writer thread: saves configuration and state (creation, configuration updates). */
    void persist(Stream stream, Consumer c) {
        ConsumerSet set = sets.get(stream);
        if (set != null && set.replicated()) {
            set.configChanged(c);
            return;
        }
        if (!saved(stream, c)) {
            return;
        }
        try {
            storage.putMeta(key(stream.name(), c.name()), JsJson.bytes(c.savedConfig()));
        } catch (RuntimeException e) {
            LOG.error("stream {}: saving consumer {} failed", stream.name(), c.name(), e);
        }
        persistState(stream, c);
    }

    /** Writer thread: saves the delivery and ack state alone (the tick, for a consumer that changed). */
    void persistState(Stream stream, Consumer c) {
        if (!saved(stream, c)) {
            return;
        }
        try {
            storage.putMeta(stateKey(stream.name(), c.name()), c.stateBytes());
        } catch (RuntimeException e) {
            LOG.error("stream {}: saving the state of consumer {} failed", stream.name(), c.name(), e);
        }
    }

    void forget(String stream, String name) {
        try {
            // configuration first: a state left behind by a crash in between is dropped at the next start
            storage.deleteMeta(key(stream, name));
            storage.deleteMeta(stateKey(stream, name));
        } catch (RuntimeException e) {
            LOG.error("stream {}: deleting saved consumer {} failed", stream, name, e);
        }
    }

    private void restore() {
        Map<String, byte[]> saved = storage.metaWithPrefix(META_PREFIX);
        Map<String, byte[]> states = storage.metaWithPrefix(STATE_PREFIX);
        for (String k : states.keySet()) {
            if (!saved.containsKey(META_PREFIX + k.substring(STATE_PREFIX.length()))) {
                storage.deleteMeta(k); // its consumer was deleted
            }
        }
        for (Map.Entry<String, byte[]> e : saved.entrySet()) {
            String rest = e.getKey().substring(META_PREFIX.length());
            int slash = rest.indexOf('/');
            if (slash < 0) {
                continue;
            }
            String streamName = rest.substring(0, slash);
            String name = rest.substring(slash + 1);
            Stream stream = streams.get(streamName);
            if (stream == null) {
                storage.deleteMeta(e.getKey());
                storage.deleteMeta(STATE_PREFIX + rest);
                continue;
            }
            try {
                JsonNode node = JsJson.MAPPER.readTree(e.getValue());
                ConsumerConfig cfg = ConsumerConfig.fromJson((ObjectNode) node.get("config"));
                long created = node.path("created").asLong(nowNanos());
                byte[] state = states.get(STATE_PREFIX + rest);
                JsonNode legacyState = node.get("state");
                stream.execute(b -> {
                    long now = nowNanos();
                    ConsumerSet set = setFor(stream);
                    Consumer c = new Consumer(set, name, cfg, created, now);
                    try {
                        if (state != null) {
                            c.restoreState(state, now);
                        } else if (legacyState != null) {
                            c.restoreState(legacyState, now);
                        }
                    } catch (IllegalArgumentException ex) {
                        // better everything again than nothing: the consumer starts over at its deliver policy
                        LOG.error("stream {}: consumer {} restored without its unreadable state", streamName, name, ex);
                    }
                    set.add(c);
                    LOG.info("stream {}: consumer {} restored", streamName, name);
                });
            } catch (IOException | RuntimeException ex) {
                LOG.error("stream {}: consumer {} could not be restored", streamName, name, ex);
            }
        }
    }

    // ---- monitoring ----

    /**
     * The consumer infos of {@code stream}, as {@code CONSUMER.INFO} answers them, for the monitoring
     * port's {@code /jsz?consumers=true}. Completes on the stream's writer (consumer state lives there);
     * an empty list when the stream is gone or its queue is full.
     */
    public java.util.concurrent.CompletableFuture<List<ObjectNode>> infos(Stream stream) {
        java.util.concurrent.CompletableFuture<List<ObjectNode>> f = new java.util.concurrent.CompletableFuture<>();
        boolean queued = stream.execute(new Stream.Task() {
            @Override
            public void run(Stream.Batch batch) {
                List<ObjectNode> out = new ArrayList<>();
                ConsumerSet set = sets.get(stream);
                if (set != null) {
                    long now = nowNanos();
                    for (Consumer c : set.publicConsumers()) {
                        out.add(c.info(now, false));
                    }
                }
                f.complete(out);
            }

            @Override
            public void rejected(Stream.Batch batch) {
                f.complete(List.of());
            }
        });
        if (!queued) {
            f.complete(List.of());
        }
        return f;
    }

    // ---- snapshots ----

    /**
     * Writer thread of {@code stream}: its durable consumers for a snapshot, each
     * {@code {"name", "created", "config", "state"}} with the state in {@link Consumer#stateJson}'s form.
     */
    public List<ObjectNode> exportDurables(Stream stream) {
        List<ObjectNode> out = new ArrayList<>();
        ConsumerSet set = sets.get(stream);
        if (set == null) {
            return out;
        }
        for (Consumer c : set.all()) {
            if (!c.config().isDurable()) {
                continue;
            }
            ObjectNode o = c.savedConfig();
            o.put("name", c.name());
            o.set("state", c.stateJson());
            out.add(o);
        }
        return out;
    }

    /**
     * Writer thread of {@code stream}: adds a consumer from an {@link #exportDurables} entry (a restore) and
     * saves it. An existing consumer of that name is left alone.
     *
     * @throws JsApiException when the entry's configuration is not valid
     */
    public void importConsumer(Stream stream, ObjectNode entry) {
        String name = JsJson.getString(entry, "name");
        ObjectNode cfgJson = JsJson.getObject(entry, "config");
        if (name == null || cfgJson == null) {
            throw new JsApiException(JsError.CONSUMER_CREATE_FAILED, "consumer entry without name or config");
        }
        checkName(name);
        ConsumerConfig cfg = ConsumerConfig.fromJson(cfgJson);
        long now = nowNanos();
        long created = JsJson.getLong(entry, "created", now);
        ConsumerSet set = setFor(stream);
        if (set.get(name) != null) {
            return;
        }
        Consumer c = new Consumer(set, name, cfg, created, now);
        JsonNode state = entry.get("state");
        if (state != null && state.isObject()) {
            c.restoreState(state, now);
        }
        set.add(c);
        persist(stream, c);
        c.deliverMore(now);
    }

    // ---- API ----

    private Stream requireStream(ApiRequest req) {
        Stream s = streams.get(req.arg(0));
        if (s == null) {
            throw new JsApiException(JsError.STREAM_NOT_FOUND);
        }
        return s;
    }

    /** Work for the stream's writer: the stream's consumers, the time, and the batch it runs in. */
    private interface WriterWork {
        void run(ConsumerSet set, long now, Stream.Batch batch);
    }

    /** Runs {@code work} on the stream's writer; its {@link JsApiException}s become the error reply. */
    private void hop(ApiRequest req, Stream stream, WriterWork work) {
        boolean queued = stream.execute(new Stream.Task() {
            @Override
            public void run(Stream.Batch batch) {
                try {
                    work.run(setFor(stream), nowNanos(), batch);
                } catch (JsApiException e) {
                    req.fail(e);
                }
            }

            @Override
            public void rejected(Stream.Batch batch) {
                req.fail(JsError.STREAM_NOT_FOUND);
            }
        });
        if (!queued) {
            req.fail(stream.isClosed() ? JsError.STREAM_NOT_FOUND : JsError.TOO_MANY_REQUESTS);
        }
    }

    /** Longest consumer name (nats-server's {@code JSMaxNameLen}, enforced on consumers since 2.10). */
    private static final int MAX_NAME = 255;

    private static void checkName(String name) {
        if (name == null || name.isEmpty()) {
            throw new JsApiException(JsError.CONSUMER_NAME_INVALID);
        }
        if (name.length() > MAX_NAME) {
            throw new JsApiException(JsError.CONSUMER_NAME_TOO_LONG, MAX_NAME);
        }
        for (int i = 0; i < name.length(); i++) {
            char ch = name.charAt(i);
            if (ch == '.' || ch == '*' || ch == '>' || ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == '\f') {
                throw new JsApiException(JsError.CONSUMER_NAME_INVALID);
            }
            if (ch == '/' || ch == '\\') {
                throw new JsApiException(JsError.CONSUMER_NAME_PATH_SEPARATORS);
            }
        }
    }

    /** All four create subjects (nats-server's {@code jsConsumerCreateRequest}). */
    private void create(ApiRequest req) {
        boolean durableSubject = req.subject().startsWith(JsApiSubjects.PREFIX + JsApiSubjects.CONSUMER_DURABLE_CREATE + ".");
        Stream stream;
        ObjectNode body = req.decode();
        String bodyStream = JsJson.getString(body, "stream_name");
        if (!req.arg(0).equals(bodyStream)) {
            throw new JsApiException(JsError.STREAM_MISMATCH);
        }
        stream = requireStream(req);
        ObjectNode cfgJson = JsJson.getObject(body, "config");
        if (cfgJson == null) {
            throw new JsApiException(JsError.CONSUMER_CREATE_FAILED, "consumer config required");
        }
        String action = JsJson.getString(body, "action");
        ConsumerConfig cfg = ConsumerConfig.fromJson(cfgJson);
        String name;
        // the name the config echoes: the one in the subject for the named create, the body's otherwise
        String configName = null;
        if (durableSubject) {
            name = req.arg(1);
            if (cfg.durableName() == null) {
                throw new JsApiException(JsError.CONSUMER_DURABLE_NAME_NOT_SET);
            }
            if (!cfg.durableName().equals(name)) {
                throw new JsApiException(JsError.CONSUMER_DURABLE_NAME_NOT_MATCH_SUBJECT);
            }
        } else if (req.args().size() == 1) {
            if (cfg.durableName() != null) {
                throw new JsApiException(JsError.CONSUMER_EPHEMERAL_WITH_DURABLE_NAME);
            }
            name = cfg.name() != null ? cfg.name() : Consumer.generateName();
            configName = name;
        } else {
            name = req.arg(1);
            configName = name;
            if (cfg.durableName() != null && !cfg.durableName().equals(name)) {
                throw new JsApiException(JsError.CONSUMER_DURABLE_NAME_NOT_MATCH_SUBJECT);
            }
            if (req.args().size() > 2) {
                if (cfg.filterSubjects() != null && !cfg.filterSubjects().isEmpty()) {
                    throw new JsApiException(JsError.CONSUMER_MULTIPLE_FILTERS_NOT_ALLOWED);
                }
                String filter = String.join(".", req.args().subList(2, req.args().size()));
                if (!filter.equals(cfg.filterSubject())) {
                    throw new JsApiException(JsError.CONSUMER_CREATE_FILTER_MISMATCH);
                }
            }
        }
        if (cfg.direct() && cfg.sourcing() && cfg.name() != null) {
            if (stream.config().retention() != StreamEnums.Retention.LIMITS) {
                // a work-queue or interest origin would drop what an ack-less ephemeral missed (ADR-60)
                cfg = cfg.asDurableSourcing();
            } else {
                // the sourcing server asks under a stable name; an ephemeral needs a unique one
                name = name + "-" + Consumer.generateName();
                configName = name;
            }
        }
        checkName(name);
        boolean pedantic = JsJson.getBool(body, "pedantic");
        if (pedantic) {
            cfg.checkPedantic(stream.config().consumerLimits());
        }
        ConsumerConfig full = cfg.withDefaults(configName, pedantic);
        full.validate();
        if (stream.config().retention() == StreamEnums.Retention.WORKQUEUE && !full.isPush()
                && full.ackPolicy() == ConsumerConfig.AckPolicy.NONE) {
            throw new JsApiException(JsError.CONSUMER_PULL_REQUIRES_ACK);
        }
        List<String> streamSubjects = stream.config().subjects();
        if (streamSubjects != null && !streamSubjects.isEmpty()) {
            for (String f : full.filters()) {
                boolean ok = false;
                for (String s : streamSubjects) {
                    if (Subject.collide(f, s)) {
                        ok = true;
                        break;
                    }
                }
                if (!ok) {
                    throw new JsApiException(JsError.CONSUMER_FILTER_NOT_SUBSET);
                }
            }
        }
        String consumerName = name;
        hop(req, stream, (set, now, batch) -> {
            Consumer existing = set.get(consumerName);
            if (existing != null) {
                // pause_until counts on creation only; afterwards only the pause API changes it
                ConsumerConfig wanted = full.withPauseUntil(existing.config().pauseUntil());
                boolean sourcing = wanted.sourcing() && wanted.isDurable();
                if (sourcing) {
                    // the sourcing server asks again from where it is; the durable keeps its own start
                    wanted = wanted.withStartOf(existing.config());
                }
                // the stored _nats.req.level is copied in, so that an identical re-create compares equal
                if (!existing.config().toJson().equals(wanted.withLevelOf(existing.config()).toJson())) {
                    if ("create".equals(action)) {
                        throw new JsApiException(JsError.CONSUMER_ALREADY_EXISTS);
                    }
                    wanted = wanted.withApiMetadata(ApiLevel.SERVER);
                    wanted.checkMetadataSize();
                    wanted.validateUpdateFrom(existing.config());
                    existing.update(wanted);
                    persist(stream, existing);
                }
                if (sourcing) {
                    // asking again implies a reset: delivery restarts after the ack floor (what was stored there)
                    existing.reset(0, now);
                    persistState(stream, existing);
                }
                ObjectNode info = existing.info(now);
                if (sourcing) {
                    answerReset(set, existing, () -> req.respond(info), () -> req.fail(JsError.CLUSTER_NOT_AVAILABLE),
                            now);
                    return;
                }
                whenCommitted(set, () -> req.respond(info), () -> req.fail(JsError.CLUSTER_NOT_AVAILABLE));
                existing.deliverMore(now);
                return;
            }
            if ("update".equals(action)) {
                throw new JsApiException(JsError.CONSUMER_DOES_NOT_EXIST);
            }
            // the stream's max_consumers, or the account's when that is lower (nats-server counts per stream)
            int most = stream.config().maxConsumers();
            int accountMost = streams.limits().maxConsumers();
            if (most <= 0 || (accountMost > 0 && accountMost < most)) {
                most = accountMost;
            }
            if (most > 0 && set.publicConsumers().size() >= most) {
                throw new JsApiException(JsError.MAXIMUM_CONSUMERS_LIMIT);
            }
            set.checkWorkQueue(consumerName, full);
            ConsumerConfig stored = full.withApiMetadata(ApiLevel.SERVER);
            stored.checkMetadataSize();
            Consumer c = new Consumer(set, consumerName, stored, now, now);
            set.add(c);
            persist(stream, c);
            if (c.paused(now)) {
                c.announcePause(now);
            }
            // the reply is a snapshot taken before anything is delivered (clients count the initial set from it)
            ObjectNode info = c.info(now);
            whenCommitted(set, () -> {
                // on a replicated stream the new consumer's leader is the stream leader, elected as it commits
                stream.announceGroup("LEADER_ELECTED", consumerName);
                req.respond(info);
            }, () -> req.fail(JsError.CLUSTER_NOT_AVAILABLE));
            c.deliverMore(now);
            set.persistIfDirty(c);
        });
    }

    private void info(ApiRequest req) {
        req.requireEmpty();
        Stream stream = requireStream(req);
        String name = req.arg(1);
        hop(req, stream, (set, now, batch) -> {
            Consumer c = set.get(name);
            if (c == null) {
                throw new JsApiException(JsError.CONSUMER_NOT_FOUND);
            }
            req.respond(c.info(now));
        });
    }

    private void delete(ApiRequest req) {
        req.requireEmpty();
        Stream stream = requireStream(req);
        String name = req.arg(1);
        hop(req, stream, (set, now, batch) -> {
            if (!set.remove(name)) {
                throw new JsApiException(JsError.CONSUMER_NOT_FOUND);
            }
            ObjectNode o = JsJson.object();
            o.put("success", true);
            // after the flush: on an interest stream the delete may have removed messages
            if (set.replicated()) {
                whenCommitted(set, () -> req.respond(o), () -> req.fail(JsError.CLUSTER_NOT_AVAILABLE));
            } else {
                batch.send(req.reply(), null, req.responseBytes(o));
            }
        });
    }

    private static int offset(ApiRequest req) {
        return Math.max(0, JsJson.getInt(req.body(), "offset", 0));
    }

    private void names(ApiRequest req) {
        int offset = offset(req); // the body is read before the stream is looked up, as the reference does
        Stream stream = requireStream(req);
        ConsumerSet set = sets.get(stream);
        List<String> all = set == null ? List.of() : set.publicNames();
        ObjectNode out = JsJson.object();
        out.put("total", all.size());
        out.put("offset", offset);
        out.put("limit", JsApiSubjects.NAMES_LIMIT);
        ArrayNode a = out.putArray("consumers");
        for (int i = offset; i < all.size() && i < offset + JsApiSubjects.NAMES_LIMIT; i++) {
            a.add(all.get(i));
        }
        req.respond(out);
    }

    private void list(ApiRequest req) {
        int offset = offset(req);
        Stream stream = requireStream(req);
        hop(req, stream, (set, now, batch) -> {
            List<Consumer> all = set.publicConsumers();
            ObjectNode out = JsJson.object();
            out.put("total", all.size());
            out.put("offset", offset);
            out.put("limit", JsApiSubjects.LIST_LIMIT);
            ArrayNode a = out.putArray("consumers");
            for (int i = offset; i < all.size() && i < offset + JsApiSubjects.LIST_LIMIT; i++) {
                a.add(all.get(i).info(now, false)); // lists show the stored config
            }
            req.respond(out);
        });
    }

    /**
     * {@code $JS.API.CONSUMER.PAUSE.<stream>.<consumer>} (2.11): {@code {"pause_until": <time>}} pauses, an empty
     * body, {@code {}} or a body that is not a JSON object or array resumes; a time in the past is kept but does
     * not pause.
     */
    private void pause(ApiRequest req) {
        Long until = null;
        byte[] payload = req.payload() == null ? new byte[0] : req.payload();
        String text = new String(payload, java.nio.charset.StandardCharsets.UTF_8).trim();
        if (text.startsWith("{") || text.startsWith("[")) {
            ObjectNode body = req.decode(); // an array is 10025, as Go's decoder refuses it
            until = ConsumerConfig.parsePauseUntil(JsJson.getString(body, "pause_until"));
        }
        Stream stream = requireStream(req);
        String name = req.arg(1);
        Long pauseUntil = until;
        hop(req, stream, (set, now, batch) -> {
            Consumer c = set.get(name);
            if (c == null) {
                throw new JsApiException(JsError.CONSUMER_NOT_FOUND);
            }
            c.pause(pauseUntil, now);
            persist(stream, c);
            ObjectNode out = JsJson.object();
            boolean paused = c.paused(now);
            out.put("paused", paused);
            out.put("pause_until", ConsumerConfig.pauseTime(pauseUntil));
            if (paused) {
                out.put("pause_remaining", pauseUntil - now);
            }
            req.respond(out);
        });
    }

    /** {@code $JS.API.CONSUMER.UNPIN.<stream>.<consumer>} (2.11): {@code {"group": <name>}} clears the group's pin. */
    private void unpin(ApiRequest req) {
        if (req.isEmptyRequest()) {
            throw new JsApiException(JsError.INVALID_JSON);
        }
        ObjectNode body = req.decode();
        String group = JsJson.getString(body, "group");
        if (group == null) {
            throw new JsApiException(JsError.INVALID_JSON_REASON, "consumer group not specified");
        }
        if (!ConsumerConfig.validGroupName(group)) {
            throw new JsApiException(JsError.CONSUMER_INVALID_GROUP_NAME);
        }
        Stream stream = requireStream(req);
        String name = req.arg(1);
        hop(req, stream, (set, now, batch) -> {
            Consumer c = set.get(name);
            if (c == null) {
                throw new JsApiException(JsError.CONSUMER_NOT_FOUND);
            }
            List<String> groups = c.config().priorityGroups();
            if (groups == null || !groups.contains(group)) {
                throw new JsApiException(JsError.CONSUMER_INVALID_PRIORITY_GROUP);
            }
            req.respond(JsJson.object());
            if (group.equals(c.config().firstGroup())) {
                c.unpin("admin", now);
            }
        });
    }

    /**
     * {@code $JS.API.CONSUMER.RESET.<stream>.<consumer>} (2.14): empty, {@code {}} or {@code {"seq": n}}. The
     * reference serves it on the consumer's own subscription, so a missing stream or consumer gets no reply.
     */
    private void reset(ApiRequest req) {
        long seq = req.isEmptyRequest() ? 0 : JsJson.getUnsigned(req.decode(), "seq", 0);
        Stream stream = streams.get(req.arg(0));
        ConsumerSet known = stream == null ? null : sets.get(stream);
        if (known == null || known.get(req.arg(1)) == null) {
            return;
        }
        String name = req.arg(1);
        hop(req, stream, (set, now, batch) -> {
            Consumer c = set.get(name);
            if (c == null) {
                return;
            }
            long from = c.reset(seq, now);
            persistState(stream, c);
            ObjectNode out = c.info(now);
            out.put("reset_seq", from);
            answerReset(set, c, () -> req.respond(out), () -> req.fail(JsError.CLUSTER_NOT_AVAILABLE), now);
        });
    }

    /**
     * Writer thread, right after {@code c} was reset: answers, then delivers from the new position. On a replicated
     * stream the answer waits for the commit of the consumer entry carrying the reset (a leader change before it
     * would bring the old position back after the client was told it moved), and delivery waits too, so that the
     * answer still comes first: a durable source drops what arrives before its reset is answered.
     */
    private static void answerReset(ConsumerSet set, Consumer c, Runnable reply, Runnable failed, long now) {
        if (!set.replicated()) {
            reply.run();
            c.deliverMore(now);
            return;
        }
        c.holdUntilResetCommits();
        set.afterCommit(ok -> {
            // on the thread that completed the proposal: the answer is sent before the writer is asked to deliver
            if (ok) {
                reply.run();
            } else {
                failed.run();
            }
            c.resetCommitted();
            // a full queue leaves it to the timer's tick; a consumer that lost its leadership delivers nothing
            set.stream().execute(b -> {
                if (set.get(c.name()) == c) {
                    c.deliverMore(nowNanos());
                }
            });
        });
    }

    /** Event loop: a pull request; no reply at all when the consumer does not exist (as the reference). */
    private void next(ApiRequest req) {
        Stream stream = streams.get(req.arg(0));
        if (stream == null || req.reply() == null) {
            return;
        }
        ConsumerSet set = sets.get(stream);
        if (set == null || set.get(req.arg(1)) == null) {
            return;
        }
        String name = req.arg(1);
        String reply = req.reply();
        byte[] body = req.payload();
        stream.execute(b -> {
            Consumer c = set.get(name);
            if (c != null) {
                c.pullRequest(reply, body, nowNanos());
            }
        });
    }

    /** Event loop: {@code $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>}. */
    private boolean onAck(String subject, String reply, byte[] headers, byte[] payload) {
        String[] t = subject.split("\\.");
        if (t.length != 9) {
            return false;
        }
        Stream stream = streams.get(t[2]);
        ConsumerSet set = stream == null ? null : sets.get(stream);
        if (set == null) {
            return false; // nobody serves this ack subject: an ack that wants a reply gets no-responders
        }
        long sseq;
        long cseq;
        try {
            sseq = Long.parseLong(t[5]);
            cseq = Long.parseLong(t[6]);
        } catch (NumberFormatException e) {
            return false;
        }
        String name = t[3];
        stream.execute(b -> {
            Consumer c = set.get(name);
            if (c == null) {
                return;
            }
            boolean confirm = c.ack(sseq, cseq, payload, reply, nowNanos());
            if (confirm && reply != null) {
                // after the flush: a message the ack retired (interest, work queue) is gone once confirmed; on a
                // replicated stream once the ack is committed (and the message gone on every replica)
                if (set.replicated()) {
                    whenCommitted(set, () -> bus.publish(reply, null, null, new byte[0]), null);
                } else {
                    b.send(reply, null, new byte[0]);
                }
            }
        });
        return true;
    }

    /** Event loop: a client answered {@code $JS.FC.<stream>.<consumer>.<token>}. */
    private boolean onFlowControl(String subject, String reply, byte[] headers, byte[] payload) {
        String[] t = subject.split("\\.");
        if (t.length < 5) {
            return false;
        }
        Stream stream = streams.get(t[2]);
        ConsumerSet set = stream == null ? null : sets.get(stream);
        if (set == null) {
            return false;
        }
        String name = t[3];
        stream.execute(b -> {
            Consumer c = set.get(name);
            if (c != null) {
                c.flowControlReply(subject, headers, nowNanos());
            }
        });
        return true;
    }
}
