package io.jetkv.jetstream.stream;

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
import io.jetkv.jetstream.store.StoredMessage;
import io.jetkv.jetstream.store.StreamState;
import io.jetkv.jetstream.store.StreamStore;
import io.jetkv.protocol.Subject;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The stream half of the {@code $JS.API}: account info, stream create/update/info/delete/names/list,
 * purge, message get/delete and direct get (nats-server's {@code jsStream*Request} handlers).
 *
 * <p>Threading: handlers run on API workers (direct get inline on the event loop); whatever reads or
 * changes a store is queued as a {@link Stream.Task} on the stream's writer, which sends the reply after
 * its group commit. Plain stream info comes from the counters of the last commit, so it needs no hop.
 */
public final class StreamApi {
    /** The one account of a server without accounts, as nats-server names it. */
    private static final String GLOBAL_ACCOUNT = "$G";

    private final String account;

    private final StreamManager streams;
    private final MessageBus bus;
    private final String domain;
    private final long maxMemory;
    private final long maxStore;
    private JsApi api;

    public StreamApi(StreamManager streams, MessageBus bus, String domain, long maxMemory, long maxStore) {
        this(GLOBAL_ACCOUNT, streams, bus, domain, maxMemory, maxStore);
    }

    /** @param account the account whose streams these are (its name in {@code ACCOUNT.PURGE}) */
    public StreamApi(String account, StreamManager streams, MessageBus bus, String domain, long maxMemory,
            long maxStore) {
        this.account = account;
        this.streams = streams;
        this.bus = bus;
        this.domain = domain == null || domain.isEmpty() ? null : domain;
        this.maxMemory = maxMemory;
        this.maxStore = maxStore;
    }

    /** Registers every stream route; the consumer routes come from {@code ConsumerManager}. */
    public void registerWith(JsApi api) {
        this.api = api;
        api.register(JsApiSubjects.INFO, 0, 0, JsApiSubjects.ACCOUNT_INFO_RESPONSE, this::accountInfo);
        api.register(JsApiSubjects.STREAM_CREATE, 1, 1, JsApiSubjects.STREAM_CREATE_RESPONSE, this::create);
        api.register(JsApiSubjects.STREAM_UPDATE, 1, 1, JsApiSubjects.STREAM_UPDATE_RESPONSE, this::update);
        api.register(JsApiSubjects.STREAM_INFO, 1, 1, JsApiSubjects.STREAM_INFO_RESPONSE, this::info);
        api.register(JsApiSubjects.STREAM_DELETE, 1, 1, JsApiSubjects.STREAM_DELETE_RESPONSE, this::delete);
        api.register(JsApiSubjects.STREAM_NAMES, 0, 0, JsApiSubjects.STREAM_NAMES_RESPONSE, this::names);
        api.register(JsApiSubjects.STREAM_LIST, 0, 0, JsApiSubjects.STREAM_LIST_RESPONSE, this::list);
        api.register(JsApiSubjects.STREAM_PURGE, 1, 1, JsApiSubjects.STREAM_PURGE_RESPONSE, this::purge);
        api.register(JsApiSubjects.STREAM_MSG_GET, 1, 1, JsApiSubjects.STREAM_MSG_GET_RESPONSE, this::msgGet);
        api.register(JsApiSubjects.STREAM_MSG_DELETE, 1, 1, JsApiSubjects.STREAM_MSG_DELETE_RESPONSE, this::msgDelete);
        api.register(JsApiSubjects.DIRECT_GET, 1, Integer.MAX_VALUE, "", this::directGet, true);
        api.register(JsApiSubjects.ACCOUNT_PURGE, 1, 1, JsApiSubjects.ACCOUNT_PURGE_RESPONSE, this::accountPurge);
    }

    // ---- account ----

    private void accountInfo(ApiRequest req) {
        long memory = 0;
        long storage = 0;
        int consumers = 0;
        List<Stream> all = streams.all();
        for (Stream s : all) {
            if (s.config().storage() == StreamEnums.Storage.MEMORY) {
                memory += s.stats().bytes();
            } else {
                storage += s.stats().bytes();
            }
            consumers += s.consumerCount().get();
        }
        ObjectNode o = JsJson.object();
        o.put("memory", memory);
        o.put("storage", storage);
        o.put("streams", all.size());
        o.put("consumers", consumers);
        io.jetkv.jetstream.AccountLimits l = streams.limits();
        ObjectNode limits = o.putObject("limits");
        // $G of a server without accounts has the server's limits; a configured account shows its own (or -1)
        limits.put("max_memory", l.maxMemory());
        limits.put("max_storage", l.maxStore());
        limits.put("max_streams", l.maxStreams());
        limits.put("max_consumers", l.maxConsumers());
        limits.put("max_ack_pending", l.maxAckPending());
        limits.put("memory_max_stream_bytes", l.memoryMaxStreamBytes());
        limits.put("storage_max_stream_bytes", l.storeMaxStreamBytes());
        limits.put("max_bytes_required", l.maxBytesRequired());
        if (domain != null) {
            o.put("domain", domain);
        }
        ObjectNode apiStats = o.putObject("api");
        apiStats.put("level", ApiLevel.SERVER); // 2.11+; nats-server 2.10 has no level
        apiStats.put("total", api.total());
        apiStats.put("errors", api.errors());
        req.respond(o);
    }

    // ---- create / update / delete ----

    private void create(ApiRequest req) {
        String name = req.arg(0);
        ObjectNode raw = req.decode();
        StreamConfig requested = StreamConfig.fromJson(raw);
        if (!name.equals(requested.name())) {
            throw new JsApiException(JsError.STREAM_MISMATCH);
        }
        requested.validate();
        if (JsJson.getBool(raw, "pedantic")) {
            requested.checkPedantic(raw, this::configOf);
        }
        StreamConfig cfg = requested.withMarkerDefaults().withScheduleDefaults().withApiMetadata(ApiLevel.SERVER)
                .checkMetadataSize();
        if (cfg.sealed()) {
            throw new JsApiException(JsError.STREAM_INVALID_CONFIG, "stream configuration for create can not be sealed");
        }
        StreamManager.Created created = streams.create(cfg);
        Stream stream = created.stream();
        hop(req, stream, batch -> {
            if (created.isNew() && cfg.firstSeq() > 1 && stream.store().state().lastSeq() == 0) {
                stream.store().skipTo(cfg.firstSeq());
                batch.markDirty();
            }
            ObjectNode body = StreamInfoJson.info(stream, stream.store().state());
            body.put("did_create", true);
            reply(req, batch, body);
        });
    }

    private void update(ApiRequest req) {
        String name = req.arg(0);
        ObjectNode raw = req.decode();
        StreamConfig cfg = StreamConfig.fromJson(raw);
        // unlike create, the reference checks the whole config before the name in the subject
        cfg.validate();
        if (JsJson.getBool(raw, "pedantic")) {
            cfg.checkPedantic(raw, this::configOf);
        }
        if (!name.equals(cfg.name())) {
            throw new JsApiException(JsError.STREAM_MISMATCH);
        }
        Stream stream = require(name);
        if (cfg.firstSeq() == 0 && stream.config().firstSeq() > 0) {
            cfg = cfg.keepingFirstSeq(stream.config().firstSeq());
        }
        cfg.validate();
        cfg = cfg.withMarkerDefaults().withScheduleDefaults().withApiMetadata(ApiLevel.SERVER).checkMetadataSize();
        StreamEnums.Retention before = stream.config().retention();
        StreamConfig applied = streams.update(stream, cfg);
        hop(req, stream, batch -> {
            stream.retentionChanged(before);
            stream.updated();
            stream.enforceLimits(applied, null);
            batch.markDirty();
            reply(req, batch, StreamInfoJson.info(stream, stream.store().state()));
        });
    }

    /** The configuration of stream {@code name} on this server, or null. */
    private StreamConfig configOf(String name) {
        Stream s = streams.get(name);
        return s == null ? null : s.config();
    }

    private void delete(ApiRequest req) {
        req.requireEmpty();
        Stream stream = require(req.arg(0));
        ObjectNode ok = JsJson.object();
        ok.put("success", true);
        byte[] okBytes = req.responseBytes(ok);
        destroy(stream, batch -> batch.send(req.reply(), null, okBytes),
                batch -> batch.send(req.reply(), null, req.errorBytes(new JsApiException(JsError.STREAM_NOT_FOUND))),
                () -> req.respond(ok));
    }

    /**
     * {@code $JS.API.ACCOUNT.PURGE.<account>}: deletes every stream of the account, with their consumers, when it
     * names the requester's own account; the reference answers {@code initiated} for any name.
     */
    private void accountPurge(ApiRequest req) {
        if (account.equals(req.arg(0))) {
            for (Stream stream : streams.all()) {
                destroy(stream, batch -> {}, batch -> {}, () -> {});
            }
        }
        ObjectNode out = JsJson.object();
        out.put("initiated", true);
        req.respond(out);
    }

    /**
     * Stops the stream taking publishes and destroys it on its writer, behind what is queued; {@code done} runs
     * there after the destroy, {@code gone} when the stream went first, {@code doneLater} when the queue was full
     * and the destroy runs behind the writer's current work instead.
     */
    private void destroy(Stream stream, Consumer<Stream.Batch> done, Consumer<Stream.Batch> gone, Runnable doneLater) {
        streams.beginDelete(stream);
        Stream.Task task = new Stream.Task() {
            @Override
            public void run(Stream.Batch batch) {
                streams.destroy(stream);
                done.accept(batch);
            }

            @Override
            public void rejected(Stream.Batch batch) {
                gone.accept(batch);
            }
        };
        if (!stream.execute(task)) {
            stream.writer().execute(() -> {
                streams.destroy(stream);
                doneLater.run();
            });
        }
    }

    // ---- info / names / list ----

    private void info(ApiRequest req) {
        ObjectNode body = req.body(); // decoded before the stream is looked up, as the reference does
        Stream stream = require(req.arg(0));
        boolean deletedDetails = JsJson.getBool(body, "deleted_details");
        String subjectsFilter = JsJson.getString(body, "subjects_filter");
        long offset = Math.max(0, JsJson.getLong(body, "offset", 0));
        if (!deletedDetails && subjectsFilter == null) {
            // the reference's info response always carries the (unused) paging fields
            ObjectNode out = JsJson.object();
            out.put("total", 0);
            out.put("offset", 0);
            out.put("limit", 0);
            out.setAll(StreamInfoJson.info(stream, stream.stats()));
            req.respond(out);
            return;
        }
        if (subjectsFilter != null && !Subject.isValid(subjectsFilter)) {
            throw new JsApiException(JsError.BAD_REQUEST);
        }
        hop(req, stream, batch -> {
            StreamStore store = stream.store();
            ObjectNode out = JsJson.object();
            ObjectNode info = StreamInfoJson.info(stream, store.state());
            ObjectNode state = (ObjectNode) info.get("state");
            out.put("total", 0);
            out.put("offset", 0);
            out.put("limit", 0);
            if (subjectsFilter != null) {
                // one page of subjects is held, however many match: the total comes from the same walk
                ObjectNode subjects = JsJson.object();
                long[] total = {0};
                store.forEachSubject(subjectsFilter, (subject, msgs) -> {
                    long i = total[0]++;
                    if (i >= offset && i < offset + JsApiSubjects.SUBJECTS_LIMIT) {
                        subjects.put(subject, msgs);
                    }
                });
                if (total[0] > 0) {
                    // the paging fields stay zero when nothing matched, as the reference leaves them
                    out.put("total", total[0]);
                    out.put("offset", Math.min(offset, total[0])); // an offset past the end reads as the end
                    out.put("limit", JsApiSubjects.SUBJECTS_LIMIT);
                    if (!subjects.isEmpty()) {
                        state.set("subjects", subjects); // an offset past the end leaves it out, as the reference
                    }
                }
            }
            if (deletedDetails) {
                long[] deleted = store.deletedSequences();
                if (deleted.length > 0) {
                    ArrayNode a = state.putArray("deleted");
                    for (long d : deleted) {
                        a.add(d);
                    }
                }
            }
            out.setAll(info);
            reply(req, batch, out);
        });
    }

    private void names(ApiRequest req) {
        ObjectNode body = req.body();
        List<Stream> page = filtered(body);
        int offset = offset(body, page.size());
        ObjectNode out = JsJson.object();
        out.put("total", page.size());
        out.put("offset", offset);
        out.put("limit", JsApiSubjects.NAMES_LIMIT);
        ArrayNode names = out.putArray("streams");
        for (int i = offset; i < page.size() && i < offset + JsApiSubjects.NAMES_LIMIT; i++) {
            names.add(page.get(i).name());
        }
        req.respond(out);
    }

    private void list(ApiRequest req) {
        ObjectNode body = req.body();
        List<Stream> page = filtered(body);
        int offset = offset(body, page.size());
        ObjectNode out = JsJson.object();
        out.put("total", page.size());
        out.put("offset", offset);
        out.put("limit", JsApiSubjects.LIST_LIMIT);
        ArrayNode infos = out.putArray("streams");
        for (int i = offset; i < page.size() && i < offset + JsApiSubjects.LIST_LIMIT; i++) {
            Stream s = page.get(i);
            infos.add(StreamInfoJson.info(s, s.stats(), false)); // lists show the stored config
        }
        req.respond(out);
    }

    private List<Stream> filtered(ObjectNode body) {
        String subject = JsJson.getString(body, "subject");
        List<Stream> all = streams.all();
        if (subject == null) {
            return all;
        }
        return all.stream()
                .filter(s -> s.config().subjects().stream().anyMatch(x -> Subject.collide(x, subject)))
                .toList();
    }

    private static int offset(ObjectNode body, int total) {
        long o = JsJson.getLong(body, "offset", 0);
        return (int) Math.max(0, Math.min(o, total));
    }

    // ---- purge / msg get / msg delete ----

    private void purge(ApiRequest req) {
        ObjectNode body = req.body();
        String filter = JsJson.getString(body, "filter");
        long seq = JsJson.getUnsigned(body, "seq", 0);
        long keep = JsJson.getUnsigned(body, "keep", 0);
        if ((seq > 0 && keep > 0) || (filter != null && !Subject.isValid(filter))) {
            throw new JsApiException(JsError.BAD_REQUEST);
        }
        Stream stream = require(req.arg(0)); // after the request itself is checked, as the reference does
        StreamConfig cfg = stream.config();
        if (cfg.sealed()) {
            throw new JsApiException(JsError.STREAM_SEALED);
        }
        if (cfg.denyPurge()) {
            throw new JsApiException(JsError.STREAM_PURGE_FAILED, "stream purge not permitted");
        }
        String f = filter == null || filter.equals(">") ? null : filter;
        perform(req, stream, new StreamOp.Purge(f, seq, keep));
    }

    private void msgGet(ApiRequest req) {
        if (req.isEmptyRequest()) {
            throw new JsApiException(JsError.BAD_REQUEST);
        }
        ObjectNode body = req.decode();
        MsgGet get = MsgGet.parse(body);
        // batch and max_bytes belong to direct gets
        if (get.shape() != MsgGet.Shape.VALID || JsJson.getLong(body, "batch", 0) > 0
                || JsJson.getLong(body, "max_bytes", 0) > 0) {
            throw new JsApiException(JsError.BAD_REQUEST);
        }
        boolean noHdr = JsJson.getBool(body, "no_hdr");
        Stream stream = require(req.arg(0)); // after the request itself is checked, as the reference does
        hop(req, stream, batch -> batch.read(() -> {
            StoredMessage m = get.lookup(stream.store());
            if (m == null) {
                batch.send(req.reply(), null, req.errorBytes(new JsApiException(JsError.NO_MESSAGE_FOUND)));
                return;
            }
            ObjectNode msg = JsJson.object();
            msg.put("subject", m.subject());
            msg.put("seq", m.seq());
            if (m.headers() != null && m.headers().length > 0 && !noHdr) { // 2.12's no_hdr leaves them out
                msg.put("hdrs", Base64.getEncoder().encodeToString(m.headers()));
            }
            if (m.payload().length > 0) {
                msg.put("data", Base64.getEncoder().encodeToString(m.payload()));
            }
            msg.put("time", JsJson.time(m.timestamp()));
            ObjectNode out = JsJson.object();
            out.set("message", msg);
            batch.send(req.reply(), null, req.responseBytes(out));
        }));
    }

    private void msgDelete(ApiRequest req) {
        if (req.isEmptyRequest()) {
            throw new JsApiException(JsError.BAD_REQUEST);
        }
        ObjectNode body = req.decode();
        long seq = JsJson.getUnsigned(body, "seq", 0);
        boolean noErase = JsJson.getBool(body, "no_erase");
        Stream stream = require(req.arg(0));
        StreamConfig cfg = stream.config();
        if (cfg.sealed()) {
            throw new JsApiException(JsError.STREAM_SEALED);
        }
        if (cfg.denyDelete()) {
            throw new JsApiException(JsError.STREAM_MSG_DELETE_FAILED, "message delete not permitted");
        }
        perform(req, stream, new StreamOp.Delete(seq, !noErase));
    }

    /**
     * One message get, by {@code STREAM.MSG.GET} or a direct get's body: by sequence, the last of a subject, the
     * next of a subject from a sequence, or the first at or after {@code start_time} (2.11; jnats'
     * {@code getFirstMessage(stream, time)} sends it), optionally of a subject.
     */
    record MsgGet(long seq, String last, String next, boolean byTime, long startTime) {
        enum Shape { VALID, EMPTY, BAD }

        static MsgGet parse(ObjectNode body) {
            String start = JsJson.getString(body, "start_time");
            return new MsgGet(JsJson.getUnsigned(body, "seq", 0), JsJson.getString(body, "last_by_subj"),
                    JsJson.getString(body, "next_by_subj"), start != null, start == null ? 0 : JsJson.parseTime(start));
        }

        /** Nothing to look for, a combination the reference forbids, or a request it serves. */
        Shape shape() {
            if (seq == 0 && last == null && next == null && !byTime) {
                return Shape.EMPTY;
            }
            if ((seq > 0 && (last != null || byTime)) || (last != null && (next != null || byTime))) {
                return Shape.BAD;
            }
            return Shape.VALID;
        }

        StoredMessage lookup(StreamStore store) {
            return lookup(store, last, next);
        }

        /** As {@link #lookup(StreamStore)}, with other subjects (a KV mirror's origin prefix). */
        StoredMessage lookup(StreamStore store, String last, String next) {
            if (last != null) {
                return store.loadLast(last);
            }
            if (byTime) {
                return store.loadNext(store.firstSeqAtOrAfter(startTime), next);
            }
            if (next != null) {
                return store.loadNext(Math.max(seq, 1), next);
            }
            return store.load(seq);
        }
    }

    // ---- direct get (event loop) ----

    /**
     * {@code $JS.API.DIRECT.GET.<S>[.<subject>]}: answered only while the stream has {@code allow_direct};
     * otherwise silence, like a server where nobody subscribed the direct get subject.
     */
    private void directGet(ApiRequest req) {
        Stream stream = streams.get(req.arg(0));
        String reply = req.reply();
        if (reply == null) {
            return;
        }
        if (stream == null || !stream.config().allowDirect()) {
            stream = directMirror(req.arg(0));
            if (stream == null) {
                return;
            }
        }
        List<String> args = req.args();
        String bySubject = args.size() > 1 ? String.join(".", args.subList(1, args.size())) : null;
        String[] kvOrigin = kvMirrorOrigin(stream.config());
        byte[] payload = req.payload() == null ? new byte[0] : req.payload();
        Stream target = stream;
        boolean queued = stream.execute(batch -> batch.read(() -> {
            byte[] status = null;
            StoredMessage m = null;
            boolean noHdr = false;
            if (bySubject != null) {
                // 2.12: an optional body, in which only no_hdr may be set
                if (payload.length > 0 && !JsJson.isEmptyRequest(payload)) {
                    try {
                        ObjectNode body = JsJson.decode(payload);
                        MsgGet get = MsgGet.parse(body);
                        DirectBatchGet more = DirectBatchGet.parse(body);
                        if (get.seq() > 0 || get.last() != null || get.next() != null || get.byTime() || more.batch() > 0
                                || more.maxBytes() > 0 || more.isMulti() || more.upToSeq() > 0 || more.hasUpToTime()) {
                            status = HeaderBlock.status(408, "Bad Request");
                        }
                        noHdr = more.noHdr();
                    } catch (JsApiException e) {
                        status = HeaderBlock.status(408, "Malformed Request");
                    }
                }
                if (status == null) {
                    m = loadLastKv(target.store(), bySubject, kvOrigin);
                }
            } else if (payload.length == 0) {
                status = HeaderBlock.status(408, "Empty Request");
            } else {
                try {
                    ObjectNode body = JsJson.decode(payload);
                    MsgGet get = MsgGet.parse(body);
                    DirectBatchGet more = DirectBatchGet.parse(body);
                    status = more.refusal(get);
                    if (status == null && more.isBatch()) {
                        more.serve(target.store(), target.name(), get, reply, batch);
                        return;
                    }
                    if (status == null) {
                        noHdr = more.noHdr();
                        m = get.lookup(target.store());
                        if (m == null && kvOrigin != null && (get.last() != null || get.next() != null)) {
                            m = get.lookup(target.store(), toOrigin(get.last(), kvOrigin), toOrigin(get.next(), kvOrigin));
                        }
                    }
                } catch (JsApiException e) {
                    status = HeaderBlock.status(408, "Malformed Request");
                }
            }
            if (status == null && m == null) {
                status = HeaderBlock.status(404, "Message Not Found");
            }
            if (status != null) {
                batch.send(reply, status, new byte[0]);
                return;
            }
            if (noHdr) {
                batch.send(reply, null, m.payload()); // 2.12's no_hdr: the payload alone
                return;
            }
            byte[] headers = HeaderBlock.append(m.headers(),
                    "Nats-Stream", target.name(),
                    "Nats-Subject", m.subject(),
                    "Nats-Sequence", Long.toString(m.seq()),
                    "Nats-Time-Stamp", JsJson.time(m.timestamp()));
            batch.send(reply, headers, m.payload());
        }));
        if (!queued) {
            bus.publish(reply, null, HeaderBlock.status(429, "Too Many Requests"), new byte[0]);
        }
    }

    /**
     * A stream with {@code mirror_direct} that mirrors {@code origin}: it answers the origin's direct gets
     * when the origin does not (deleted, or without {@code allow_direct}).
     */
    private Stream directMirror(String origin) {
        for (Stream s : streams.all()) {
            StreamConfig c = s.config();
            if (c.mirrorDirect() && c.allowDirect() && c.mirror() != null && origin.equals(c.mirror().path("name").asText())) {
                return s;
            }
        }
        return null;
    }

    /**
     * For a KV bucket mirroring another bucket ({@code KV_m} mirroring {@code KV_o}): the key prefixes,
     * own and origin's. jnats reads a mirror bucket with its own prefix ({@code $KV.m.key}) while the copy
     * holds the origin's subjects ({@code $KV.o.key}), so a miss under the own prefix retries the origin's.
     */
    private static String[] kvMirrorOrigin(StreamConfig c) {
        if (c.mirror() == null || !c.name().startsWith("KV_")) {
            return null;
        }
        String origin = c.mirror().path("name").asText("");
        if (!origin.startsWith("KV_")) {
            return null;
        }
        return new String[] {"$KV." + c.name().substring(3) + ".", "$KV." + origin.substring(3) + "."};
    }

    private static String toOrigin(String subject, String[] prefixes) {
        if (subject == null || !subject.startsWith(prefixes[0])) {
            return subject;
        }
        return prefixes[1] + subject.substring(prefixes[0].length());
    }

    private static StoredMessage loadLastKv(StreamStore store, String subject, String[] kvOrigin) {
        StoredMessage m = store.loadLast(subject);
        if (m == null && kvOrigin != null) {
            String mapped = toOrigin(subject, kvOrigin);
            if (!mapped.equals(subject)) {
                m = store.loadLast(mapped);
            }
        }
        return m;
    }

    // ---- helpers ----

    private Stream require(String name) {
        Stream s = streams.get(name);
        if (s == null) {
            throw new JsApiException(JsError.STREAM_NOT_FOUND);
        }
        return s;
    }

    /** Sends a success reply after the flush, or a store error if the flush failed. */
    private static void reply(ApiRequest req, Stream.Batch batch, ObjectNode body) {
        if (req.reply() == null) {
            return;
        }
        batch.reply(req.reply(), req.responseBytes(body),
                req.uncountedErrorBytes(new JsApiException(JsError.STREAM_STORE_FAILED, "stream store failed")));
    }

    /**
     * Applies {@code op} through {@link Stream#perform} (on a replicated stream: once committed, on every replica) and
     * answers after the flush with its result or its error.
     */
    private static void perform(ApiRequest req, Stream stream, StreamOp op) {
        boolean queued = stream.perform(op, new Stream.OpReply() {
            @Override
            public void applied(Stream.Batch batch, ObjectNode body, JsApiException error) {
                if (error != null) {
                    batch.send(req.reply(), null, req.errorBytes(error));
                } else {
                    reply(req, batch, body);
                }
            }

            @Override
            public void failed(JsApiException error) {
                req.fail(error);
            }
        });
        if (!queued) {
            req.fail(stream.isClosed() ? JsError.STREAM_NOT_FOUND : JsError.TOO_MANY_REQUESTS);
        }
    }

    /** Runs {@code work} on the stream's writer; its {@link JsApiException}s become the error reply. */
    private static void hop(ApiRequest req, Stream stream, Consumer<Stream.Batch> work) {
        Stream.Task task = new Stream.Task() {
            @Override
            public void run(Stream.Batch batch) {
                try {
                    work.accept(batch);
                } catch (JsApiException e) {
                    batch.send(req.reply(), null, req.errorBytes(e));
                }
            }

            @Override
            public void rejected(Stream.Batch batch) {
                batch.send(req.reply(), null, req.errorBytes(new JsApiException(JsError.STREAM_NOT_FOUND)));
            }
        };
        if (!stream.execute(task)) {
            req.fail(stream.isClosed() ? JsError.STREAM_NOT_FOUND : JsError.TOO_MANY_REQUESTS);
        }
    }

    static long nowNanos() {
        Instant i = Instant.now();
        return i.getEpochSecond() * 1_000_000_000L + i.getNano();
    }
}
