package io.jetkv.jetstream.stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jetkv.jetstream.api.ApiLevel;
import io.jetkv.jetstream.api.JsApiException;
import io.jetkv.jetstream.api.JsError;
import io.jetkv.jetstream.api.JsJson;
import io.jetkv.jetstream.stream.StreamEnums.Compression;
import io.jetkv.jetstream.stream.StreamEnums.Discard;
import io.jetkv.jetstream.stream.StreamEnums.Retention;
import io.jetkv.jetstream.stream.StreamEnums.Storage;
import io.jetkv.protocol.Subject;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A stream's configuration after nats-server's defaults ({@code setStreamConfigDefaults}), as it is echoed
 * in every StreamInfo and persisted. {@link #fromJson} reads the clients' JSON (unknown fields ignored,
 * wrong types and bad enums 10025), {@link #toJson} writes the fields the reference always emits plus the
 * set optional ones, {@link #validate} applies {@code checkStreamCfg}'s rules.
 *
 * <p>Immutable; safe from any thread. Durations are nanoseconds.
 *
 * @param placement        echoed as given; a single server ignores it
 * @param mirror           echoed as given; its meaning is {@link #mirrorSource()}
 * @param sources          echoed as given; their meaning is {@link #sourceList()}
 * @param subjectTransform refused by {@link #validate}
 * @param consumerLimits   echoed as given ({@code {}} by default, as 2.10 does)
 * @param allowMsgTtl      2.11: messages may carry their own {@code Nats-TTL}
 * @param subjectDeleteMarkerTtl 2.11: when {@code max_age} or a TTL removes a subject's last message, a marker
 *                         with this TTL (nanoseconds, 0: none) takes its place
 * @param allowMsgCounter  2.12: each subject holds a counter, {@code Nats-Incr} publishes add to it (fixed at creation)
 * @param allowAtomic      2.12: {@code Nats-Batch-*} publishes are staged and stored all or nothing
 * @param asyncPersist     2.12 {@code persist_mode: "async"}: a hint that acks may precede the flush (fixed at creation)
 * @param allowMsgSchedules 2.12: a message with {@code Nats-Schedule} publishes a message on a schedule (ADR-51)
 * @param allowBatched     2.14: fast-ingest batches (control data in a {@code .$FI} reply subject) are accepted
 */
public record StreamConfig(
        String name,
        String description,
        List<String> subjects,
        Retention retention,
        int maxConsumers,
        long maxMsgs,
        long maxBytes,
        long maxAge,
        long maxMsgsPerSubject,
        int maxMsgSize,
        Discard discard,
        Storage storage,
        int numReplicas,
        boolean noAck,
        long duplicateWindow,
        JsonNode placement,
        JsonNode mirror,
        JsonNode sources,
        Compression compression,
        long firstSeq,
        JsonNode subjectTransform,
        Republish republish,
        boolean allowDirect,
        boolean mirrorDirect,
        boolean discardNewPerSubject,
        boolean sealed,
        boolean denyDelete,
        boolean denyPurge,
        boolean allowRollupHdrs,
        JsonNode consumerLimits,
        Map<String, String> metadata,
        boolean allowMsgTtl,
        long subjectDeleteMarkerTtl,
        boolean allowMsgCounter,
        boolean allowAtomic,
        boolean asyncPersist,
        boolean allowMsgSchedules,
        boolean allowBatched) {

    /** nats-server's {@code StreamDefaultDuplicatesWindow}. */
    public static final long DEFAULT_DUPLICATE_WINDOW = 120_000_000_000L;

    private static final long MIN_WINDOW = 100_000_000L;
    private static final int MAX_NAME = 255;
    private static final int MAX_REPLICAS = 5;
    private static final int MAX_DESCRIPTION = 4096;
    /** nats-server's {@code JSMaxMetadataLen}: keys and values together, the {@code _nats.*} keys included. */
    static final int MAX_METADATA = 128 * 1024;

    /** {@code republish}: copy stored messages matching {@code src} to the mapped {@code dest}. */
    public record Republish(String src, String dest, boolean headersOnly) {
        /** The source filter with its default. */
        public String source() {
            return src == null ? ">" : src;
        }
    }

    public StreamConfig {
        subjects = subjects == null ? List.of() : List.copyOf(subjects);
        metadata = metadata == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
    }

    /** Reads a request body and fills in the defaults. */
    /** 0 (unset) is one replica; negative counts are kept for {@link #validate} to refuse. */
    private static int replicas(int n) {
        return n == 0 ? 1 : n;
    }

    public static StreamConfig fromJson(ObjectNode o) {
        String name = JsJson.getString(o, "name");
        List<String> subjects = stringList(o, "subjects");
        JsonNode mirror = withTransformDests(nonNull(o.get("mirror")));
        JsonNode sources = nonNull(o.get("sources"));
        if (sources != null && sources.isArray() && sources.isEmpty()) {
            sources = null;
        }
        if (sources != null && sources.isArray()) {
            sources.forEach(StreamConfig::withTransformDests);
        }
        if (subjects.isEmpty() && mirror == null && sources == null && name != null) {
            subjects = List.of(name);
        }
        long maxAge = JsJson.getLong(o, "max_age", 0);
        long dup = JsJson.getLong(o, "duplicate_window", 0);
        if (dup == 0) {
            dup = maxAge != 0 && maxAge < DEFAULT_DUPLICATE_WINDOW ? maxAge : DEFAULT_DUPLICATE_WINDOW;
        }
        ObjectNode rp = JsJson.getObject(o, "republish");
        Republish republish = null;
        if (rp != null) {
            // an empty source means all subjects, and is echoed as ">" (checkStreamCfg fills it in)
            String src = JsJson.getString(rp, "src");
            republish = new Republish(src == null || src.isEmpty() ? ">" : src, JsJson.getString(rp, "dest"),
                    JsJson.getBool(rp, "headers_only"));
        }
        JsonNode consumerLimits = nonNull(o.get("consumer_limits"));
        if (consumerLimits != null && !consumerLimits.isObject()) {
            throw new JsApiException(JsError.INVALID_JSON);
        }
        return new StreamConfig(
                name,
                JsJson.getString(o, "description"),
                subjects,
                enumValue(o, "retention", Retention.LIMITS, Retention::parse),
                orUnlimited(JsJson.getInt(o, "max_consumers", 0)),
                orUnlimited(JsJson.getLong(o, "max_msgs", 0)),
                orUnlimited(JsJson.getLong(o, "max_bytes", 0)),
                maxAge,
                orUnlimited(JsJson.getLong(o, "max_msgs_per_subject", 0)),
                orUnlimited(JsJson.getInt(o, "max_msg_size", 0)),
                enumValue(o, "discard", Discard.OLD, Discard::parse),
                enumValue(o, "storage", Storage.FILE, Storage::parse),
                replicas(JsJson.getInt(o, "num_replicas", 0)),
                JsJson.getBool(o, "no_ack"),
                dup,
                placement(o.get("placement")),
                mirror,
                sources,
                enumValue(o, "compression", Compression.NONE, Compression::parse),
                JsJson.getLong(o, "first_seq", 0),
                nonNull(o.get("subject_transform")),
                republish,
                JsJson.getBool(o, "allow_direct"),
                JsJson.getBool(o, "mirror_direct"),
                JsJson.getBool(o, "discard_new_per_subject"),
                JsJson.getBool(o, "sealed"),
                JsJson.getBool(o, "deny_delete"),
                JsJson.getBool(o, "deny_purge"),
                JsJson.getBool(o, "allow_rollup_hdrs"),
                consumerLimits == null ? JsJson.object() : consumerLimits,
                stringMap(o, "metadata"),
                JsJson.getBool(o, "allow_msg_ttl"),
                JsJson.getLong(o, "subject_delete_marker_ttl", 0),
                JsJson.getBool(o, "allow_msg_counter"),
                JsJson.getBool(o, "allow_atomic"),
                persistMode(o),
                JsJson.getBool(o, "allow_msg_schedules"),
                JsJson.getBool(o, "allow_batched"));
    }

    /** {@code persist_mode}: {@code "default"} or empty, or {@code "async"}; anything else is 10025. */
    private static boolean persistMode(ObjectNode o) {
        String mode = JsJson.getString(o, "persist_mode");
        if (mode == null || mode.isEmpty() || mode.equals("default")) {
            return false;
        }
        if (mode.equals("async")) {
            return true;
        }
        throw new JsApiException(JsError.INVALID_JSON);
    }

    /**
     * {@code placement} as the reference echoes it: its members are {@code omitempty}, so an empty cluster
     * or tag list disappears while the object itself stays ({@code {}}).
     */
    private static JsonNode placement(JsonNode p) {
        p = nonNull(p);
        if (p == null || !p.isObject()) {
            return p;
        }
        ObjectNode out = JsJson.object();
        var it = p.fields();
        while (it.hasNext()) {
            var e = it.next();
            JsonNode v = e.getValue();
            boolean empty = v.isNull() || (v.isTextual() && v.textValue().isEmpty())
                    || (v.isContainerNode() && v.isEmpty());
            if (!empty) {
                out.set(e.getKey(), v);
            }
        }
        return out;
    }

    /**
     * The configuration a sealing update stores ({@code configUpdateCheck}): a sealed stream neither ages out,
     * nor accepts, deletes, purges or rolls up anything, and says so in its config.
     */
    public StreamConfig sealedAdjusted() {
        if (!sealed) {
            return this;
        }
        Builder b = toBuilder();
        b.maxAge = 0;
        b.discard = Discard.NEW;
        b.denyDelete = true;
        b.denyPurge = true;
        b.allowRollupHdrs = false;
        return b.build();
    }

    /** The configuration as StreamInfo's {@code config}. */
    public ObjectNode toJson() {
        ObjectNode o = JsJson.object();
        o.put("name", name);
        if (description != null) {
            o.put("description", description);
        }
        if (!subjects.isEmpty()) {
            ArrayNode a = o.putArray("subjects");
            subjects.forEach(a::add);
        }
        o.put("retention", retention.json);
        o.put("max_consumers", maxConsumers);
        o.put("max_msgs", maxMsgs);
        o.put("max_bytes", maxBytes);
        o.put("max_age", maxAge);
        o.put("max_msgs_per_subject", maxMsgsPerSubject);
        o.put("max_msg_size", maxMsgSize);
        o.put("discard", discard.json);
        o.put("storage", storage.json);
        o.put("num_replicas", numReplicas);
        if (noAck) {
            o.put("no_ack", true);
        }
        o.put("duplicate_window", duplicateWindow);
        if (placement != null) {
            o.set("placement", placement);
        }
        if (mirror != null) {
            o.set("mirror", mirror);
        }
        if (sources != null) {
            o.set("sources", sources);
        }
        o.put("compression", compression.json);
        if (firstSeq > 0) {
            o.put("first_seq", firstSeq);
        }
        if (subjectTransform != null) {
            o.set("subject_transform", subjectTransform);
        }
        if (republish != null) {
            ObjectNode r = o.putObject("republish");
            r.put("src", republish.source());
            r.put("dest", republish.dest());
            if (republish.headersOnly()) {
                r.put("headers_only", true);
            }
        }
        o.put("allow_direct", allowDirect);
        o.put("mirror_direct", mirrorDirect);
        if (discardNewPerSubject) {
            o.put("discard_new_per_subject", true);
        }
        o.put("sealed", sealed);
        o.put("deny_delete", denyDelete);
        o.put("deny_purge", denyPurge);
        o.put("allow_rollup_hdrs", allowRollupHdrs);
        o.set("consumer_limits", consumerLimits == null ? JsJson.object() : consumerLimits);
        if (allowMsgCounter) {
            o.put("allow_msg_counter", true);
        }
        if (allowAtomic) {
            o.put("allow_atomic", true);
        }
        if (asyncPersist) {
            o.put("persist_mode", "async");
        }
        if (allowMsgSchedules) {
            o.put("allow_msg_schedules", true);
        }
        if (allowBatched) {
            o.put("allow_batched", true);
        }
        o.put("allow_msg_ttl", allowMsgTtl); // 2.11+ always emits it
        if (subjectDeleteMarkerTtl != 0) {
            o.put("subject_delete_marker_ttl", subjectDeleteMarkerTtl);
        }
        if (!metadata.isEmpty()) {
            ObjectNode m = o.putObject("metadata");
            metadata.forEach(m::put);
        }
        return o;
    }

    /**
     * {@code checkStreamCfg}: the rules every created or updated configuration must meet, with the
     * reference's error and text. Overlap with other streams is checked by the registry.
     */
    public void validate() {
        validate(false);
    }

    /** nats-server's {@code isValidAssetName}: not empty, no whitespace, '.', '*', '>', '/' or '\\'. */
    static boolean isValidAssetName(String n) {
        return n != null && !n.isEmpty() && !containsAny(n, " \t\r\n\f.*>/\\");
    }

    /** As {@link #validate()}; {@code clustered} allows {@code num_replicas} above 1. */
    public void validate(boolean clustered) {
        if (name == null || name.isEmpty() || containsAny(name, " \t\r\n\f.*>")) {
            throw invalid("stream name is required and can not contain '.', '*', '>'");
        }
        if (name.indexOf('/') >= 0 || name.indexOf('\\') >= 0) {
            throw new JsApiException(JsError.STREAM_NAME_CONTAINS_PATH_SEPARATORS);
        }
        if (name.length() > MAX_NAME) {
            throw invalid("stream name is too long, maximum allowed is " + MAX_NAME);
        }
        if (description != null && description.length() > MAX_DESCRIPTION) {
            throw invalid("stream description is too long, maximum allowed is " + MAX_DESCRIPTION);
        }
        if (numReplicas > MAX_REPLICAS) {
            throw invalid("maximum replicas is " + MAX_REPLICAS);
        }
        if (numReplicas < 0) {
            throw new JsApiException(JsError.REPLICAS_COUNT_NEGATIVE);
        }
        if (mirror != null) {
            if (!subjects.isEmpty()) {
                throw new JsApiException(JsError.MIRROR_WITH_SUBJECTS);
            }
            if (sources != null) {
                throw new JsApiException(JsError.MIRROR_WITH_SOURCES);
            }
            if (firstSeq > 0) {
                throw invalid("stream mirrors can not have first sequence configured");
            }
            StreamSource m = mirrorSource();
            if (m.optStartSeq() > 0 && m.optStartTime() > 0) {
                throw new JsApiException(JsError.MIRROR_WITH_START_SEQ_AND_TIME);
            }
            if (m.name().equals(name)) {
                throw invalid("stream mirror can not mirror itself");
            }
            if (subjectDeleteMarkerTtl > 0) {
                throw invalid("subject delete markers forbidden on mirrors");
            }
            m.checkConsumer(true);
        }
        HashSet<String> sourceKeys = new HashSet<>();
        HashSet<String> sourceConsumers = new HashSet<>();
        for (StreamSource s : sourceList()) {
            if (s.name().equals(name) && s.externalApi() == null) {
                throw invalid("stream can not source itself");
            }
            if (!sourceKeys.add(s.positionKey(false))) {
                throw invalid("duplicate source configuration detected");
            }
            s.checkConsumer(false);
            // one consumer may feed only one source entry
            if (s.consumer() != null && !sourceConsumers.add(s.name() + " " + s.consumer().name())) {
                throw new JsApiException(JsError.SOURCE_DURABLE_CONSUMER_DUPLICATE);
            }
        }
        if (subjectTransform != null) {
            throw invalid("stream subject transforms are not supported");
        }
        if (maxAge > 0 && maxAge < MIN_WINDOW) {
            throw invalid("max age needs to be >= 100ms");
        }
        if (duplicateWindow < 0) {
            throw invalid("duplicates window can not be negative");
        }
        if (duplicateWindow < MIN_WINDOW) {
            throw invalid("duplicates window needs to be >= 100ms");
        }
        if (maxAge != 0 && duplicateWindow > maxAge) {
            throw invalid("duplicates window can not be larger then max age");
        }
        if (firstSeq < 0) {
            throw invalid("first sequence can not be negative");
        }
        if (denyPurge && allowRollupHdrs) {
            throw invalid("roll-ups require the purge permission");
        }
        if (discardNewPerSubject) {
            if (discard != Discard.NEW) {
                throw invalid("discard new per subject requires discard new policy to be set");
            }
            if (maxMsgsPerSubject <= 0) {
                throw invalid("discard new per subject requires max msgs per subject > 0");
            }
        }
        if (subjectDeleteMarkerTtl > 0 && subjectDeleteMarkerTtl < 1_000_000_000L) {
            throw invalid("subject delete marker TTL must be at least 1 second");
        }
        if (subjectDeleteMarkerTtl < 0) {
            throw invalid("subject delete marker TTL must not be negative");
        }
        if (subjects.isEmpty() && mirror == null && sources == null) {
            throw invalid("stream needs at least one configured subject or be a source/mirror");
        }
        HashSet<String> seen = new HashSet<>();
        for (String s : subjects) {
            if (!Subject.isValid(s)) {
                throw invalid("invalid subject");
            }
            if (!seen.add(s)) {
                throw invalid("duplicate subjects detected");
            }
            if (Subject.collide(s, "$JS.API.>")) {
                throw invalid("subjects overlap with jetstream api");
            }
        }
        if (republish != null) {
            String dest = republish.dest();
            if (dest == null || !Subject.isValid(dest) || !Subject.isValid(republish.source())) {
                throw invalid("stream configuration for republish destination is invalid");
            }
            boolean inStream = subjects.stream().anyMatch(s -> Subject.collide(republish.source(), s));
            if (!inStream) {
                throw invalid("stream configuration for republish source is not valid subset of subjects");
            }
            for (String s : subjects) {
                if (Subject.collide(dest, s)) {
                    throw invalid("stream configuration for republish destination forms a cycle");
                }
            }
        }
        // 2.12 counters: the value is the sum of a subject's increments, so nothing may drop or age them unasked
        if (allowMsgCounter) {
            if (discard == Discard.NEW) {
                throw invalid("counter stream cannot use discard new");
            }
            if (allowMsgTtl) {
                throw invalid("counter stream cannot use message TTLs");
            }
            if (allowMsgSchedules) {
                throw invalid("counter stream cannot use message schedules");
            }
            if (retention != Retention.LIMITS) {
                throw invalid("counter stream can only use limits retention");
            }
            if (mirror != null) {
                throw new JsApiException(JsError.MIRROR_WITH_COUNTERS);
            }
        }
        if (allowAtomic && mirror != null) {
            throw new JsApiException(JsError.MIRROR_WITH_ATOMIC_PUBLISH);
        }
        if (allowBatched && mirror != null) {
            throw new JsApiException(JsError.MIRROR_WITH_BATCH_PUBLISH);
        }
        if (asyncPersist) {
            if (storage != Storage.FILE) {
                throw invalid("async persist mode is only supported on file storage");
            }
            if (numReplicas > 1) {
                throw invalid("async persist mode is not supported on replicated streams");
            }
            if (allowAtomic) {
                throw invalid("async persist mode is not supported with atomic batch publish");
            }
        }
        // 2.12 message schedules: produced messages are stored into the stream itself, under its own sequence
        if (allowMsgSchedules) {
            if (mirror != null) {
                throw new JsApiException(JsError.MIRROR_WITH_MSG_SCHEDULES);
            }
            if (sources != null) {
                throw new JsApiException(JsError.SOURCE_WITH_MSG_SCHEDULES);
            }
            if (discard == Discard.NEW) {
                throw invalid("message scheduling cannot use discard new");
            }
        }
        // nats-server 2.11+ knows placement.preferred (a leader step-down's choice of server) but refuses it in a
        // stream's configuration, last of its config checks
        JsonNode preferred = placement == null ? null : placement.get("preferred");
        if (preferred != null && !(preferred.isTextual() && preferred.textValue().isEmpty()) && !preferred.isNull()) {
            throw invalid("preferred server not permitted in placement");
        }
        // after the whole config is checked, as the reference's create and update handlers do
        if (numReplicas > 1 && !clustered) {
            throw new JsApiException(JsError.STREAM_REPLICAS_NOT_SUPPORTED);
        }
    }

    /**
     * {@code pedantic: true} (2.11+): what nats-server's {@code checkStreamCfg} would adjust is refused instead,
     * in its order: 10157 for limits below -1, a duplicate window left to follow a short {@code max_age}, a mirror
     * whose {@code mirror_direct} differs from its origin's {@code allow_direct} and an empty republish source;
     * 10052 for subject delete markers or schedules without the settings they force. {@code raw} is the request as
     * sent (this configuration has its defaults filled in); {@code origin} finds a stream of this server. Call after
     * {@link #validate}.
     */
    public void checkPedantic(ObjectNode raw, java.util.function.Function<String, StreamConfig> origin) {
        for (String limit : List.of("max_msgs", "max_msgs_per_subject", "max_bytes", "max_msg_size", "max_consumers")) {
            if (JsJson.getLong(raw, limit, 0) < -1) {
                throw pedantic(limit + " must be set to -1");
            }
        }
        long maxAge = JsJson.getLong(raw, "max_age", 0);
        if (JsJson.getLong(raw, "duplicate_window", 0) == 0 && mirror == null && sources == null && maxAge != 0
                && maxAge < DEFAULT_DUPLICATE_WINDOW) {
            throw pedantic("duplicate window cannot be bigger than max age");
        }
        if (subjectDeleteMarkerTtl > 0) {
            if (!allowMsgTtl) {
                throw invalid("subject delete marker cannot be set if message TTLs are disabled");
            }
            if (!allowRollupHdrs) {
                throw invalid("subject delete marker cannot be set if roll-ups are disabled");
            }
        }
        if (allowMsgSchedules && !allowRollupHdrs) {
            throw invalid("message scheduling cannot be set if roll-ups are disabled");
        }
        StreamSource m = mirrorSource();
        if (m != null && m.externalApi() == null) {
            StreamConfig o = origin.apply(m.name());
            if (o != null && mirrorDirect != o.allowDirect()) {
                throw pedantic("origin stream has direct get set, mirror has it disabled");
            }
        }
        ObjectNode rp = JsJson.getObject(raw, "republish");
        if (rp != null) {
            String src = JsJson.getString(rp, "src");
            if (src == null || src.isEmpty()) {
                throw pedantic("republish source can not be empty");
            }
        }
    }

    private static JsApiException pedantic(String reason) {
        return new JsApiException(JsError.PEDANTIC, reason);
    }

    /**
     * The settings {@code subject_delete_marker_ttl} forces, as nats-server's non-pedantic {@code checkStreamCfg}
     * fills them in: message TTLs on, roll-ups allowed (and so purges). Call after {@link #validate}.
     */
    public StreamConfig withMarkerDefaults() {
        if (subjectDeleteMarkerTtl <= 0 || (allowMsgTtl && allowRollupHdrs && !denyPurge)) {
            return this;
        }
        // deny_purge with roll-ups allowed was refused by validate, so roll-ups on means purges allowed
        Builder b = toBuilder();
        b.denyPurge = false;
        b.allowRollupHdrs = true;
        b.allowMsgTtl = true;
        return b.build();
    }

    /**
     * The settings {@code allow_msg_schedules} forces, as the non-pedantic {@code checkStreamCfg} fills them in: a
     * schedule rolls up its own subject and a one-shot purges it, so roll-ups and purges are allowed. Call after
     * {@link #validate}.
     */
    public StreamConfig withScheduleDefaults() {
        if (!allowMsgSchedules || (allowRollupHdrs && !denyPurge)) {
            return this;
        }
        Builder b = toBuilder();
        b.denyPurge = false;
        b.allowRollupHdrs = true;
        return b.build();
    }

    /**
     * The API level this configuration needs (ADR-44): 4 with fast-ingest batches, 2 with counters, atomic batches, async persistence or
     * message schedules, 1 with message TTLs or subject delete markers, else 0.
     */
    public int requiredApiLevel() {
        if (allowBatched || durableSourcing()) {
            return 4;
        }
        if (allowMsgCounter || allowAtomic || asyncPersist || allowMsgSchedules) {
            return 2;
        }
        return allowMsgTtl || subjectDeleteMarkerTtl > 0 ? 1 : 0;
    }

    /**
     * As stored by a server at {@code serverLevel}: with {@code _nats.req.level} set and the response-only
     * {@code _nats.*} keys dropped from 2.11's level 1 on ({@link ApiLevel#stored}); unchanged at level 0.
     */
    public StreamConfig withApiMetadata(int serverLevel) {
        Map<String, String> m = ApiLevel.stored(metadata, requiredApiLevel(), serverLevel);
        if (m.equals(metadata)) {
            return this;
        }
        Builder b = toBuilder();
        b.metadata = m;
        return b.build();
    }

    /**
     * 10052 when the metadata's keys and values together exceed 128 KiB; checked on the metadata as stored, the
     * {@code _nats.req.level} the server adds included.
     */
    public StreamConfig checkMetadataSize() {
        int len = 0;
        for (Map.Entry<String, String> e : metadata.entrySet()) {
            len += e.getKey().length() + e.getValue().length();
        }
        if (len > MAX_METADATA) {
            throw invalid("stream metadata exceeds maximum size of " + MAX_METADATA + " bytes");
        }
        return this;
    }

    /**
     * For comparing a re-create with the stored configuration (nats-server's {@code copyStreamMetadata}): the
     * response-only keys dropped and {@code _nats.req.level} copied from {@code stored}, or dropped when it has none
     * (a stream created before JetKV had levels).
     */
    public StreamConfig withLevelOf(StreamConfig stored) {
        Map<String, String> m = new LinkedHashMap<>(metadata);
        m.remove(ApiLevel.META_VERSION);
        m.remove(ApiLevel.META_LEVEL);
        String level = stored.metadata.get(ApiLevel.META_REQUIRED);
        if (level == null) {
            m.remove(ApiLevel.META_REQUIRED);
        } else {
            m.put(ApiLevel.META_REQUIRED, level);
        }
        Builder b = toBuilder();
        b.metadata = m;
        return b.build();
    }

    /** {@code STREAM.UPDATE}: what may not change, with the reference's texts. */
    public void validateUpdateFrom(StreamConfig old) {
        if (!Objects.equals(name, old.name)) {
            throw invalid("stream configuration name must match original");
        }
        if (maxConsumers != old.maxConsumers) {
            throw invalid("stream configuration update can not change MaxConsumers");
        }
        if (storage != old.storage) {
            throw invalid("stream configuration update can not change storage type");
        }
        // since 2.10 limits and interest may swap; work queues stay what they are
        if (retention != old.retention && (retention == Retention.WORKQUEUE || old.retention == Retention.WORKQUEUE)) {
            throw invalid("stream configuration update can not change retention policy to/from workqueue");
        }
        if (old.sealed && !sealed) {
            throw invalid("stream configuration update can not unseal a sealed stream");
        }
        if (old.denyDelete && !denyDelete) {
            throw invalid("stream configuration update can not cancel deny message deletes");
        }
        if (old.denyPurge && !denyPurge) {
            throw invalid("stream configuration update can not cancel deny purge");
        }
        if (!Objects.equals(mirror, old.mirror)) {
            throw new JsApiException(JsError.STREAM_MIRROR_NOT_UPDATABLE);
        }
        if (!Objects.equals(republish, old.republish)) {
            throw invalid("stream configuration update can not change RePublish");
        }
        if (firstSeq > 0 && firstSeq != old.firstSeq) {
            throw invalid("stream configuration update can not change first sequence");
        }
        if (old.allowMsgTtl && !allowMsgTtl) {
            throw invalid("message TTL status can not be disabled");
        }
        if (old.allowMsgCounter != allowMsgCounter) {
            throw invalid("stream configuration update can not change message counter setting");
        }
        if (old.asyncPersist != asyncPersist) {
            throw invalid("stream configuration update can not change persist mode");
        }
        if (old.allowMsgSchedules && !allowMsgSchedules) {
            throw invalid("message schedules can not be disabled");
        }
    }

    /** A mirror or source entry, and the store key under which its position is kept. */
    public record CopyEntry(StreamSource source, boolean mirror, String positionKey) {}

    /** The {@code mirror} entry or the {@code sources} entries, each with its position key. */
    public List<CopyEntry> copyEntries() {
        List<CopyEntry> entries = new ArrayList<>();
        StreamSource m = mirrorSource();
        if (m != null) {
            entries.add(new CopyEntry(m, true, m.positionKey(true)));
        }
        for (StreamSource s : sourceList()) {
            entries.add(new CopyEntry(s, false, s.positionKey(false)));
        }
        return entries;
    }

    /** The {@code mirror} entry, or null. */
    public StreamSource mirrorSource() {
        return mirror == null ? null : StreamSource.parse(mirror);
    }

    /** Whether the mirror or a source copies through a durable consumer (2.14, ADR-60). */
    private boolean durableSourcing() {
        StreamSource m = mirror == null ? null : mirrorSource();
        if (m != null && m.consumer() != null) {
            return true;
        }
        return sources != null && sourceList().stream().anyMatch(s -> s.consumer() != null);
    }

    /** The {@code sources} entries (empty when none). */
    public List<StreamSource> sourceList() {
        return StreamSource.parseAll(sources);
    }

    /** For update: keeps settings the request may omit but that were fixed at creation. */
    public StreamConfig keepingFirstSeq(long seq) {
        if (firstSeq == seq) {
            return this;
        }
        Builder b = toBuilder();
        b.firstSeq = seq;
        return b.build();
    }

    /** A copy to change a few settings of: {@code toBuilder()}, set fields, {@link Builder#build}. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.name = name;
        b.description = description;
        b.subjects = subjects;
        b.retention = retention;
        b.maxConsumers = maxConsumers;
        b.maxMsgs = maxMsgs;
        b.maxBytes = maxBytes;
        b.maxAge = maxAge;
        b.maxMsgsPerSubject = maxMsgsPerSubject;
        b.maxMsgSize = maxMsgSize;
        b.discard = discard;
        b.storage = storage;
        b.numReplicas = numReplicas;
        b.noAck = noAck;
        b.duplicateWindow = duplicateWindow;
        b.placement = placement;
        b.mirror = mirror;
        b.sources = sources;
        b.compression = compression;
        b.firstSeq = firstSeq;
        b.subjectTransform = subjectTransform;
        b.republish = republish;
        b.allowDirect = allowDirect;
        b.mirrorDirect = mirrorDirect;
        b.discardNewPerSubject = discardNewPerSubject;
        b.sealed = sealed;
        b.denyDelete = denyDelete;
        b.denyPurge = denyPurge;
        b.allowRollupHdrs = allowRollupHdrs;
        b.consumerLimits = consumerLimits;
        b.metadata = metadata;
        b.allowMsgTtl = allowMsgTtl;
        b.subjectDeleteMarkerTtl = subjectDeleteMarkerTtl;
        b.allowMsgCounter = allowMsgCounter;
        b.allowAtomic = allowAtomic;
        b.asyncPersist = asyncPersist;
        b.allowMsgSchedules = allowMsgSchedules;
        b.allowBatched = allowBatched;
        return b;
    }

    /** Mutable copy of every setting; confined to the thread that builds. */
    public static final class Builder {
        String name;
        String description;
        List<String> subjects;
        Retention retention;
        int maxConsumers;
        long maxMsgs;
        long maxBytes;
        long maxAge;
        long maxMsgsPerSubject;
        int maxMsgSize;
        Discard discard;
        Storage storage;
        int numReplicas;
        boolean noAck;
        long duplicateWindow;
        JsonNode placement;
        JsonNode mirror;
        JsonNode sources;
        Compression compression;
        long firstSeq;
        JsonNode subjectTransform;
        Republish republish;
        boolean allowDirect;
        boolean mirrorDirect;
        boolean discardNewPerSubject;
        boolean sealed;
        boolean denyDelete;
        boolean denyPurge;
        boolean allowRollupHdrs;
        JsonNode consumerLimits;
        Map<String, String> metadata;
        boolean allowMsgTtl;
        long subjectDeleteMarkerTtl;
        boolean allowMsgCounter;
        boolean allowAtomic;
        boolean asyncPersist;
        boolean allowMsgSchedules;
        boolean allowBatched;

        public StreamConfig build() {
            return new StreamConfig(name, description, subjects, retention, maxConsumers, maxMsgs, maxBytes, maxAge,
                    maxMsgsPerSubject, maxMsgSize, discard, storage, numReplicas, noAck, duplicateWindow, placement,
                    mirror, sources, compression, firstSeq, subjectTransform, republish, allowDirect, mirrorDirect,
                    discardNewPerSubject, sealed, denyDelete, denyPurge, allowRollupHdrs, consumerLimits, metadata,
                    allowMsgTtl, subjectDeleteMarkerTtl, allowMsgCounter, allowAtomic, asyncPersist,
                    allowMsgSchedules, allowBatched);
        }
    }

    private static JsApiException invalid(String reason) {
        return new JsApiException(JsError.STREAM_INVALID_CONFIG, reason);
    }

    private static boolean containsAny(String s, String chars) {
        for (int i = 0; i < s.length(); i++) {
            if (chars.indexOf(s.charAt(i)) >= 0) {
                return true;
            }
        }
        return false;
    }

    /** A limit as {@code checkStreamCfg} leaves it: unset (0) or below -1 is unlimited (pedantic mode refuses the latter). */
    private static long orUnlimited(long v) {
        return v == 0 || v < -1 ? -1 : v;
    }

    private static int orUnlimited(int v) {
        return v == 0 || v < -1 ? -1 : v;
    }

    /**
     * A source's {@code subject_transforms} as the reference echoes them: every entry has its {@code dest}, empty
     * when it keeps the subject (Go's struct field has no {@code omitempty}), so clients read back what they sent.
     */
    private static JsonNode withTransformDests(JsonNode source) {
        if (source != null && source.get("subject_transforms") instanceof ArrayNode transforms) {
            for (JsonNode t : transforms) {
                if (t instanceof ObjectNode entry && (entry.get("dest") == null || entry.get("dest").isNull())) {
                    entry.put("dest", "");
                }
            }
        }
        return source;
    }

    private static JsonNode nonNull(JsonNode n) {
        return n == null || n.isNull() ? null : n;
    }

    private static <E> E enumValue(ObjectNode o, String field, E dflt, java.util.function.Function<String, E> parse) {
        JsonNode v = o.get(field);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isTextual()) {
            throw new JsApiException(JsError.INVALID_JSON);
        }
        return parse.apply(v.textValue());
    }

    private static List<String> stringList(ObjectNode o, String field) {
        JsonNode v = o.get(field);
        if (v == null || v.isNull()) {
            return List.of();
        }
        if (!v.isArray()) {
            throw new JsApiException(JsError.INVALID_JSON);
        }
        List<String> out = new ArrayList<>();
        for (JsonNode e : v) {
            if (!e.isTextual()) {
                throw new JsApiException(JsError.INVALID_JSON);
            }
            out.add(e.textValue());
        }
        return out;
    }

    private static Map<String, String> stringMap(ObjectNode o, String field) {
        JsonNode v = o.get(field);
        if (v == null || v.isNull()) {
            return Map.of();
        }
        if (!v.isObject()) {
            throw new JsApiException(JsError.INVALID_JSON);
        }
        Map<String, String> out = new LinkedHashMap<>();
        var it = v.fields();
        while (it.hasNext()) {
            var e = it.next();
            if (!e.getValue().isTextual()) {
                throw new JsApiException(JsError.INVALID_JSON);
            }
            out.put(e.getKey(), e.getValue().textValue());
        }
        return out;
    }
}
