package io.jetkv.jetstream.consumer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jetkv.jetstream.api.ApiLevel;
import io.jetkv.jetstream.api.JsApiException;
import io.jetkv.jetstream.api.JsError;
import io.jetkv.jetstream.api.JsJson;
import io.jetkv.protocol.Subject;
import java.util.ArrayList;
import java.util.List;

/**
 * A consumer's configuration as clients send it ({@code ConsumerConfig} in nats-server's
 * {@code consumer.go}), with the server's defaults applied by {@link #withDefaults}. Round-trips the
 * clients' JSON: {@link #toJson} echoes the fields in the reference's order, omitting empty ones.
 *
 * <p>Immutable; safe from any thread. Durations are nanoseconds, times epoch nanoseconds (0 = unset), except
 * {@code pauseUntil} (2.11), which is null when unset: nats.js resumes a consumer by pausing it until the epoch,
 * and the reference keeps that time.
 */
public record ConsumerConfig(
        String name,
        String durableName,
        String description,
        DeliverPolicy deliverPolicy,
        long optStartSeq,
        long optStartTime,
        AckPolicy ackPolicy,
        long ackWait,
        long maxDeliver,
        List<Long> backoff,
        String filterSubject,
        List<String> filterSubjects,
        ReplayPolicy replayPolicy,
        long rateLimitBps,
        String sampleFreq,
        long maxWaiting,
        long maxAckPending,
        boolean flowControl,
        boolean headersOnly,
        long maxBatch,
        long maxExpires,
        long maxBytes,
        String deliverSubject,
        String deliverGroup,
        long idleHeartbeat,
        long inactiveThreshold,
        long numReplicas,
        boolean memStorage,
        boolean direct,
        boolean sourcing,
        ObjectNode metadata,
        Long pauseUntil,
        PriorityPolicy priorityPolicy,
        List<String> priorityGroups,
        long priorityTimeout) {

    static final long DEFAULT_ACK_WAIT = 30_000_000_000L;
    static final long DEFAULT_MAX_ACK_PENDING = 1000;
    static final long DEFAULT_MAX_WAITING = 512;
    static final long DEFAULT_INACTIVE_THRESHOLD = 5_000_000_000L;
    private static final long MIN_HEARTBEAT = 100_000_000L;
    /** The heartbeat a {@code flow_control} ack policy requires: nats-server's {@code sourceHealthHB}. */
    static final long FLOW_CONTROL_HEARTBEAT = 1_000_000_000L;
    /** {@code priority_timeout} filled in for {@code pinned_client} when not set (nats-server's default). */
    static final long DEFAULT_PRIORITY_TIMEOUT = 120_000_000_000L;
    /** Priority group names (nats-server's {@code validGroupName}). */
    private static final java.util.regex.Pattern GROUP_NAME = java.util.regex.Pattern.compile("^[a-zA-Z0-9/_=-]{1,16}$");

    public enum DeliverPolicy {
        ALL("all"), LAST("last"), NEW("new"), BY_START_SEQUENCE("by_start_sequence"),
        BY_START_TIME("by_start_time"), LAST_PER_SUBJECT("last_per_subject");

        final String json;

        DeliverPolicy(String json) {
            this.json = json;
        }
    }

    public enum AckPolicy {
        NONE("none"), ALL("all"), EXPLICIT("explicit"),
        /** 2.14 (ADR-60): as {@code all}, but a push consumer's answers to flow-control requests are the acks. */
        FLOW_CONTROL("flow_control");

        final String json;

        AckPolicy(String json) {
            this.json = json;
        }
    }

    public enum ReplayPolicy {
        INSTANT("instant"), ORIGINAL("original");

        final String json;

        ReplayPolicy(String json) {
            this.json = json;
        }
    }

    /** How pull requests of a priority group share the consumer's messages (2.11, ADR-42). */
    public enum PriorityPolicy {
        NONE("none"), OVERFLOW("overflow"), PINNED_CLIENT("pinned_client"), PRIORITIZED("prioritized");

        final String json;

        PriorityPolicy(String json) {
            this.json = json;
        }
    }

    public boolean isPush() {
        return deliverSubject != null;
    }

    public boolean isDurable() {
        return durableName != null;
    }

    /** The filters in effect: {@code filter_subjects}, else {@code filter_subject}, else empty (all). */
    public List<String> filters() {
        if (filterSubjects != null && !filterSubjects.isEmpty()) {
            return filterSubjects;
        }
        return filterSubject == null ? List.of() : List.of(filterSubject);
    }

    /** Parses the {@code config} object of a create request; 10025 on wrong types or unknown enum values. */
    public static ConsumerConfig fromJson(ObjectNode o) {
        List<Long> backoff = null;
        JsonNode b = o.get("backoff");
        if (b != null && !b.isNull()) {
            if (!b.isArray()) {
                throw new JsApiException(JsError.INVALID_JSON);
            }
            backoff = new ArrayList<>();
            for (JsonNode v : b) {
                if (!v.isIntegralNumber()) {
                    throw new JsApiException(JsError.INVALID_JSON);
                }
                backoff.add(v.longValue());
            }
        }
        List<String> filters = null;
        JsonNode f = o.get("filter_subjects");
        if (f != null && !f.isNull()) {
            if (!f.isArray()) {
                throw new JsApiException(JsError.INVALID_JSON);
            }
            filters = new ArrayList<>();
            for (JsonNode v : f) {
                if (!v.isTextual()) {
                    throw new JsApiException(JsError.INVALID_JSON);
                }
                filters.add(v.textValue());
            }
        }
        List<String> groups = null;
        JsonNode g = o.get("priority_groups");
        if (g != null && !g.isNull()) {
            if (!g.isArray()) {
                throw new JsApiException(JsError.INVALID_JSON);
            }
            groups = new ArrayList<>();
            for (JsonNode v : g) {
                if (!v.isTextual()) {
                    throw new JsApiException(JsError.INVALID_JSON);
                }
                groups.add(v.textValue());
            }
        }
        String startTime = JsJson.getString(o, "opt_start_time");
        String pause = JsJson.getString(o, "pause_until");
        String policy = JsJson.getString(o, "priority_policy");
        return new ConsumerConfig(
                JsJson.getString(o, "name"),
                JsJson.getString(o, "durable_name"),
                JsJson.getString(o, "description"),
                parseEnum(DeliverPolicy.values(), JsJson.getString(o, "deliver_policy"), DeliverPolicy.ALL, p -> p.json),
                JsJson.getLong(o, "opt_start_seq", 0),
                startTime == null ? 0 : JsJson.parseTime(startTime),
                parseEnum(AckPolicy.values(), JsJson.getString(o, "ack_policy"), AckPolicy.NONE, p -> p.json),
                JsJson.getLong(o, "ack_wait", 0),
                JsJson.getLong(o, "max_deliver", 0),
                backoff,
                JsJson.getString(o, "filter_subject"),
                filters,
                parseEnum(ReplayPolicy.values(), JsJson.getString(o, "replay_policy"), ReplayPolicy.INSTANT, p -> p.json),
                JsJson.getLong(o, "rate_limit_bps", 0),
                JsJson.getString(o, "sample_freq"),
                JsJson.getLong(o, "max_waiting", 0),
                JsJson.getLong(o, "max_ack_pending", 0),
                JsJson.getBool(o, "flow_control"),
                JsJson.getBool(o, "headers_only"),
                JsJson.getLong(o, "max_batch", 0),
                JsJson.getLong(o, "max_expires", 0),
                JsJson.getLong(o, "max_bytes", 0),
                JsJson.getString(o, "deliver_subject"),
                JsJson.getString(o, "deliver_group"),
                JsJson.getLong(o, "idle_heartbeat", 0),
                JsJson.getLong(o, "inactive_threshold", 0),
                JsJson.getLong(o, "num_replicas", 0),
                JsJson.getBool(o, "mem_storage"),
                JsJson.getBool(o, "direct"),
                JsJson.getBool(o, "sourcing"),
                JsJson.getObject(o, "metadata"),
                parsePauseUntil(pause),
                parseEnum(PriorityPolicy.values(), policy, PriorityPolicy.NONE, p -> p.json),
                groups,
                JsJson.getLong(o, "priority_timeout", 0));
    }

    /** A {@code pause_until} time: null for none (absent or Go's zero time), else epoch nanos (the epoch is 0). */
    static Long parsePauseUntil(String text) {
        if (text == null || text.startsWith("0001-01-01T00:00:00")) {
            return null;
        }
        try {
            java.time.Instant t = java.time.OffsetDateTime.parse(text).toInstant();
            return t.getEpochSecond() * 1_000_000_000L + t.getNano();
        } catch (java.time.format.DateTimeParseException e) {
            throw new JsApiException(JsError.INVALID_JSON);
        }
    }

    /** A {@code pause_until} as the reference writes it (RFC 3339 UTC; the epoch as itself, not the zero time). */
    static String pauseTime(Long epochNanos) {
        if (epochNanos == null) {
            return JsJson.time(0);
        }
        return epochNanos == 0 ? "1970-01-01T00:00:00Z" : JsJson.time(epochNanos);
    }

    /** The same configuration paused until {@code until} (null: not paused). */
    public ConsumerConfig withPauseUntil(Long until) {
        return new ConsumerConfig(name, durableName, description, deliverPolicy, optStartSeq, optStartTime, ackPolicy,
                ackWait, maxDeliver, backoff, filterSubject, filterSubjects, replayPolicy, rateLimitBps, sampleFreq,
                maxWaiting, maxAckPending, flowControl, headersOnly, maxBatch, maxExpires, maxBytes, deliverSubject,
                deliverGroup, idleHeartbeat, inactiveThreshold, numReplicas, memStorage, direct, sourcing, metadata, until,
                priorityPolicy, priorityGroups, priorityTimeout);
    }

    /**
     * A sourcing server's request (nats-server 2.14 sends {@code direct} and {@code sourcing} with a stable
     * {@code name}) made what the reference makes of it on a work-queue or interest stream: a durable of that name
     * whose acks are the answers to its flow-control requests and that never expires, so the origin lets a message
     * go only once the sourcing stream stored it (ADR-60).
     */
    public ConsumerConfig asDurableSourcing() {
        return new ConsumerConfig(name, name, description, deliverPolicy, optStartSeq, optStartTime,
                AckPolicy.FLOW_CONTROL, 0, 0, backoff, filterSubject, filterSubjects, replayPolicy, rateLimitBps,
                sampleFreq, maxWaiting, maxAckPending, flowControl, headersOnly, maxBatch, maxExpires, maxBytes,
                deliverSubject, deliverGroup, idleHeartbeat, 0, numReplicas, memStorage, false, sourcing, metadata,
                pauseUntil, priorityPolicy, priorityGroups, priorityTimeout);
    }

    /** The same configuration under another {@code name}. */
    public ConsumerConfig withName(String other) {
        return new ConsumerConfig(other, durableName, description, deliverPolicy, optStartSeq, optStartTime,
                ackPolicy, ackWait, maxDeliver, backoff, filterSubject, filterSubjects, replayPolicy, rateLimitBps,
                sampleFreq, maxWaiting, maxAckPending, flowControl, headersOnly, maxBatch, maxExpires, maxBytes,
                deliverSubject, deliverGroup, idleHeartbeat, inactiveThreshold, numReplicas, memStorage, direct,
                sourcing, metadata, pauseUntil, priorityPolicy, priorityGroups, priorityTimeout);
    }

    /**
     * The same configuration starting where {@code existing} does: a sourcing server asks again with its current
     * position, which the reference ignores for a durable it made before (the start options can not be updated).
     */
    public ConsumerConfig withStartOf(ConsumerConfig existing) {
        return new ConsumerConfig(name, durableName, description, existing.deliverPolicy, existing.optStartSeq,
                existing.optStartTime, ackPolicy, ackWait, maxDeliver, backoff, filterSubject, filterSubjects,
                replayPolicy, rateLimitBps, sampleFreq, maxWaiting, maxAckPending, flowControl, headersOnly, maxBatch,
                maxExpires, maxBytes, deliverSubject, deliverGroup, idleHeartbeat, inactiveThreshold, numReplicas,
                memStorage, direct, sourcing, metadata, pauseUntil, priorityPolicy, priorityGroups, priorityTimeout);
    }

    /** The same configuration with other {@code metadata} (null: none). */
    public ConsumerConfig withMetadata(ObjectNode m) {
        return new ConsumerConfig(name, durableName, description, deliverPolicy, optStartSeq, optStartTime, ackPolicy,
                ackWait, maxDeliver, backoff, filterSubject, filterSubjects, replayPolicy, rateLimitBps, sampleFreq,
                maxWaiting, maxAckPending, flowControl, headersOnly, maxBatch, maxExpires, maxBytes, deliverSubject,
                deliverGroup, idleHeartbeat, inactiveThreshold, numReplicas, memStorage, direct, sourcing, m, pauseUntil,
                priorityPolicy, priorityGroups, priorityTimeout);
    }

    /**
     * The API level this configuration needs (ADR-44): 1 when it was ever paused ({@code pause_until} set, even in the
     * past) or uses priority groups, else 0.
     */
    public int requiredApiLevel() {
        boolean groups = priorityPolicy != PriorityPolicy.NONE || priorityTimeout != 0
                || (priorityGroups != null && !priorityGroups.isEmpty());
        if (ackPolicy == AckPolicy.FLOW_CONTROL) {
            return 4;
        }
        return pauseUntil != null || groups ? 1 : 0;
    }

    /**
     * As stored by a server at {@code serverLevel} (nats-server's {@code setStaticConsumerMetadata}): the
     * response-only {@code _nats.*} keys dropped and {@code _nats.req.level} computed; unchanged at level 0.
     */
    public ConsumerConfig withApiMetadata(int serverLevel) {
        if (serverLevel < 1) {
            return this;
        }
        ObjectNode m = metadata == null ? JsJson.object() : metadata.deepCopy();
        m.remove(ApiLevel.META_VERSION);
        m.remove(ApiLevel.META_LEVEL);
        m.put(ApiLevel.META_REQUIRED, Integer.toString(requiredApiLevel()));
        return withMetadata(m);
    }

    /**
     * For comparing a re-create with the stored configuration (nats-server's {@code copyConsumerMetadata}): the
     * dynamic keys dropped and {@code _nats.req.level} copied from {@code stored} (or dropped when it has none).
     */
    public ConsumerConfig withLevelOf(ConsumerConfig stored) {
        ObjectNode m = metadata == null ? JsJson.object() : metadata.deepCopy();
        m.remove(ApiLevel.META_VERSION);
        m.remove(ApiLevel.META_LEVEL);
        JsonNode level = stored.metadata == null ? null : stored.metadata.get(ApiLevel.META_REQUIRED);
        if (level == null) {
            m.remove(ApiLevel.META_REQUIRED);
        } else {
            m.set(ApiLevel.META_REQUIRED, level);
        }
        return withMetadata(m.isEmpty() ? null : m);
    }

    /** 10135 when keys and values together exceed nats-server's {@code JSMaxMetadataLen} (128 KiB). */
    public void checkMetadataSize() {
        if (metadata == null) {
            return;
        }
        long len = 0;
        for (var it = metadata.fields(); it.hasNext(); ) {
            var e = it.next();
            len += e.getKey().length() + e.getValue().asText().length();
        }
        if (len > 128 * 1024) {
            throw new JsApiException(JsError.CONSUMER_METADATA_LENGTH, "128KB");
        }
    }

    /** The configuration as create, info and reset responses show it: with the server's version and level. */
    public ObjectNode toJsonWithServerMetadata(String version, int serverLevel) {
        ObjectNode o = toJson();
        if (serverLevel >= 1) {
            ObjectNode m = metadata == null ? JsJson.object() : metadata.deepCopy();
            m.put(ApiLevel.META_VERSION, version);
            m.put(ApiLevel.META_LEVEL, Integer.toString(serverLevel));
            o.set("metadata", m);
        }
        return o;
    }

    /** The group a pinned client is tracked for: the first (only it is pinned and reported). */
    String firstGroup() {
        return priorityGroups == null || priorityGroups.isEmpty() ? null : priorityGroups.get(0);
    }

    /** True when {@code group} is a valid priority group name. */
    static boolean validGroupName(String group) {
        return GROUP_NAME.matcher(group).matches();
    }

    private static <E> E parseEnum(E[] values, String text, E dflt, java.util.function.Function<E, String> json) {
        if (text == null) {
            return dflt;
        }
        for (E e : values) {
            if (json.apply(e).equals(text)) {
                return e;
            }
        }
        throw new JsApiException(JsError.INVALID_JSON);
    }

    /**
     * {@code pedantic: true} (2.11+): what nats-server's {@code setConsumerConfigDefaults} would adjust is refused
     * with 10157 instead, in its order; {@code streamLimits} is the stream's {@code consumer_limits}.
     */
    public void checkPedantic(JsonNode streamLimits) {
        if (maxDeliver < -1) {
            throw pedantic("max_deliver must be set to -1");
        }
        if (maxWaiting < 0) {
            throw pedantic("max_waiting must not be negative");
        }
        if (maxAckPending < -1) {
            throw pedantic("max_ack_pending must be set to -1");
        }
        if (maxBatch < 0) {
            throw pedantic("max_batch must not be negative");
        }
        if (maxExpires < 0) {
            throw pedantic("max_expires must not be negative");
        }
        if (maxBytes < 0) {
            throw pedantic("max_bytes must not be negative");
        }
        if (idleHeartbeat < 0) {
            throw pedantic("idle_heartbeat must not be negative");
        }
        if (inactiveThreshold < 0) {
            throw pedantic("inactive_threshold must not be negative");
        }
        if (priorityTimeout < 0) {
            throw pedantic("priority_timeout must not be negative");
        }
        // ack_wait as the defaults leave it: 30 s for explicit and all acks when not set
        long wait = ackWait == 0 && (ackPolicy == AckPolicy.EXPLICIT || ackPolicy == AckPolicy.ALL)
                ? DEFAULT_ACK_WAIT : ackWait;
        if (backoff != null && !backoff.isEmpty() && wait != backoff.get(0)) {
            throw pedantic("first backoff value has to equal batch AckWait");
        }
        JsonNode limits = streamLimits == null ? JsJson.object() : streamLimits;
        if (maxAckPending == 0 && limits.path("max_ack_pending").asLong(0) > 0) {
            throw pedantic("max_ack_pending must be set if it's configured in stream limits");
        }
        if (inactiveThreshold == 0 && limits.path("inactive_threshold").asLong(0) > 0) {
            throw pedantic("inactive_threshold must be set if it's configured in stream limits");
        }
    }

    private static JsApiException pedantic(String reason) {
        return new JsApiException(JsError.PEDANTIC, reason);
    }

    /**
     * The configuration with the reference's defaults applied and {@code name} set to {@code consumerName}
     * (null keeps the body's: the legacy durable create leaves it out of the echo).
     */
    public ConsumerConfig withDefaults(String consumerName) {
        return withDefaults(consumerName, false);
    }

    /**
     * As {@link #withDefaults(String)}; a {@code pedantic} request (checked by {@link #checkPedantic}) gets no flow
     * control or heartbeat forced on for acks by flow control, so that their checks refuse it instead.
     */
    public ConsumerConfig withDefaults(String consumerName, boolean pedantic) {
        boolean acks = ackPolicy != AckPolicy.NONE;
        // acks by flow control have no ack wait; flow control and a 1 s heartbeat are forced on (non-pedantic)
        boolean byFlowControl = ackPolicy == AckPolicy.FLOW_CONTROL && !pedantic;
        boolean timedAcks = ackPolicy == AckPolicy.EXPLICIT || ackPolicy == AckPolicy.ALL;
        return new ConsumerConfig(consumerName == null ? name : consumerName, durableName, description,
                deliverPolicy, optStartSeq, optStartTime,
                ackPolicy,
                // a backoff list overrides ack_wait with its first step (setConsumerConfigDefaults)
                backoff != null && !backoff.isEmpty() ? backoff.get(0)
                        : ackWait == 0 && timedAcks ? DEFAULT_ACK_WAIT : ackWait,
                maxDeliver == 0 ? -1 : maxDeliver,
                backoff == null || backoff.isEmpty() ? null : backoff,
                filterSubject,
                filterSubjects == null || filterSubjects.isEmpty() ? null : filterSubjects,
                replayPolicy, rateLimitBps, sampleFreq,
                maxWaiting == 0 && !isPush() ? DEFAULT_MAX_WAITING : maxWaiting,
                maxAckPending == 0 && acks ? DEFAULT_MAX_ACK_PENDING : maxAckPending,
                flowControl || byFlowControl, headersOnly, maxBatch, maxExpires, maxBytes, deliverSubject,
                deliverGroup,
                byFlowControl ? FLOW_CONTROL_HEARTBEAT : idleHeartbeat,
                inactiveThreshold == 0 && durableName == null ? DEFAULT_INACTIVE_THRESHOLD : inactiveThreshold,
                numReplicas, memStorage, direct, sourcing, metadata, pauseUntil, priorityPolicy,
                priorityGroups == null || priorityGroups.isEmpty() ? null : priorityGroups,
                // a negative timeout is taken as none (pedantic mode refuses it: checkPedantic)
                priorityTimeout <= 0 && priorityPolicy == PriorityPolicy.PINNED_CLIENT ? DEFAULT_PRIORITY_TIMEOUT
                        : Math.max(0, priorityTimeout));
    }

    /** Checks the rules of {@code checkConsumerCfg} that do not need the stream (10079, 10083, ...). */
    public void validate() {
        if (numReplicas < 0) {
            throw new JsApiException(JsError.REPLICAS_COUNT_NEGATIVE);
        }
        if (ackPolicy == AckPolicy.FLOW_CONTROL) {
            validateAckByFlowControl();
        }
        if (isPush()) {
            if (!Subject.isValidLiteral(deliverSubject)) {
                throw new JsApiException(JsError.CONSUMER_DELIVER_TO_WILDCARDS);
            }
            if (maxWaiting != 0) {
                throw new JsApiException(JsError.CONSUMER_MAX_WAITING_NEGATIVE_OR_PUSH);
            }
            if (ackPolicy == AckPolicy.NONE && maxAckPending > 0) {
                throw new JsApiException(JsError.CONSUMER_MAX_PENDING_ACK_POLICY_REQUIRED);
            }
            if (flowControl && idleHeartbeat <= 0) {
                throw new JsApiException(JsError.CONSUMER_FC_REQUIRES_HEARTBEAT);
            }
        } else {
            if (maxWaiting < 0) {
                throw new JsApiException(JsError.CONSUMER_MAX_WAITING_NEGATIVE);
            }
            if (idleHeartbeat > 0) {
                throw new JsApiException(JsError.CONSUMER_HEARTBEAT_REQUIRES_PUSH);
            }
            if (flowControl) {
                throw new JsApiException(JsError.CONSUMER_FC_REQUIRES_PUSH);
            }
            if (deliverGroup != null) {
                throw new JsApiException(JsError.CONSUMER_INVALID_POLICY, "consumer is not push-based with deliver group");
            }
        }
        if (idleHeartbeat > 0 && idleHeartbeat < MIN_HEARTBEAT) {
            throw new JsApiException(JsError.CONSUMER_SMALL_HEARTBEAT);
        }
        if (durableName != null && name != null && !durableName.equals(name)) {
            throw new JsApiException(JsError.CONSUMER_DURABLE_NAME_NOT_MATCH_NAME);
        }
        if (filterSubject != null && filterSubjects != null && !filterSubjects.isEmpty()) {
            throw new JsApiException(JsError.CONSUMER_DUPLICATE_FILTER_SUBJECTS);
        }
        if (filterSubjects != null) {
            for (int i = 0; i < filterSubjects.size(); i++) {
                if (!Subject.isValid(filterSubjects.get(i))) {
                    throw new JsApiException(JsError.CONSUMER_INVALID_POLICY, "consumer filter subject is not valid");
                }
                for (int j = i + 1; j < filterSubjects.size(); j++) {
                    if (Subject.collide(filterSubjects.get(i), filterSubjects.get(j))) {
                        throw new JsApiException(JsError.CONSUMER_OVERLAPPING_FILTERS);
                    }
                }
            }
        }
        if (filterSubject != null && !Subject.isValid(filterSubject)) {
            throw new JsApiException(JsError.CONSUMER_INVALID_POLICY, "consumer filter subject is not valid");
        }
        switch (deliverPolicy) {
            case LAST_PER_SUBJECT -> {
                if (filters().isEmpty()) {
                    throw new JsApiException(JsError.CONSUMER_INVALID_POLICY,
                            "consumer delivery policy is deliver last per subject, but optional filter subject is not set");
                }
            }
            case BY_START_SEQUENCE -> {
                if (optStartSeq <= 0) {
                    throw new JsApiException(JsError.CONSUMER_INVALID_POLICY,
                            "consumer delivery policy is deliver by start sequence, but optional start sequence is not set");
                }
            }
            case BY_START_TIME -> {
                if (optStartTime == 0) {
                    throw new JsApiException(JsError.CONSUMER_INVALID_POLICY,
                            "consumer delivery policy is deliver by start time, but optional start time is not set");
                }
            }
            default -> { }
        }
        if (deliverPolicy != DeliverPolicy.BY_START_SEQUENCE && optStartSeq > 0) {
            throw new JsApiException(JsError.CONSUMER_INVALID_POLICY,
                    "consumer delivery policy is " + deliverPolicy.json + ", but optional start sequence is also set");
        }
        if (deliverPolicy != DeliverPolicy.BY_START_TIME && optStartTime != 0) {
            throw new JsApiException(JsError.CONSUMER_INVALID_POLICY,
                    "consumer delivery policy is " + deliverPolicy.json + ", but optional start time is also set");
        }
        if (backoff != null && !backoff.isEmpty() && maxDeliver > 0 && maxDeliver <= backoff.size()) {
            throw new JsApiException(JsError.CONSUMER_MAX_DELIVER_BACKOFF);
        }
        validatePriority();
    }

    /**
     * 2.14's {@code ack_policy: "flow_control"} (ADR-60): acks come from the answers to flow-control requests, so
     * the consumer must push with flow control and the sourcing heartbeat, bound its pending acks, and neither time
     * out acks nor limit deliveries.
     */
    private void validateAckByFlowControl() {
        if (!isPush()) {
            throw new JsApiException(JsError.CONSUMER_ACK_FC_REQUIRES_PUSH);
        }
        if (!flowControl) {
            throw new JsApiException(JsError.CONSUMER_ACK_FC_REQUIRES_FC);
        }
        if (idleHeartbeat != FLOW_CONTROL_HEARTBEAT) {
            throw new JsApiException(JsError.STREAM_INVALID_CONFIG, "flow control ack policy heartbeat needs to be 1s");
        }
        if (maxAckPending <= 0) {
            throw new JsApiException(JsError.CONSUMER_ACK_FC_REQUIRES_MAX_ACK_PENDING);
        }
        if (ackWait != 0 || (backoff != null && !backoff.isEmpty())) {
            throw new JsApiException(JsError.CONSUMER_ACK_FC_REQUIRES_NO_ACK_WAIT);
        }
        if (maxDeliver > 0) {
            throw new JsApiException(JsError.CONSUMER_ACK_FC_REQUIRES_NO_MAX_DELIVER);
        }
    }

    /** Priority group rules, in the order of nats-server 2.12+'s {@code checkConsumerCfg}. */
    private void validatePriority() {
        if (priorityPolicy != PriorityPolicy.NONE) {
            if (isPush()) {
                throw new JsApiException(JsError.CONSUMER_PUSH_WITH_PRIORITY_GROUP);
            }
            if (priorityGroups == null || priorityGroups.isEmpty()) {
                throw new JsApiException(JsError.CONSUMER_PRIORITY_POLICY_WITHOUT_GROUP);
            }
            for (String group : priorityGroups) {
                if (group.isEmpty()) {
                    throw new JsApiException(JsError.CONSUMER_EMPTY_GROUP_NAME);
                }
                if (!validGroupName(group)) {
                    throw new JsApiException(JsError.CONSUMER_INVALID_GROUP_NAME);
                }
            }
        } else {
            if (priorityGroups != null && !priorityGroups.isEmpty()) {
                throw new JsApiException(JsError.CONSUMER_PRIORITY_GROUP_WITH_POLICY_NONE);
            }
            if (priorityTimeout > 0) {
                throw new JsApiException(JsError.CONSUMER_PINNED_TTL_WITHOUT_PRIORITY_POLICY);
            }
        }
    }

    /**
     * Checks an update of an existing consumer (nats-server's {@code checkNewConsumerConfig}).
     *
     * @throws JsApiException 10012 with the reference's reason for a change that is not allowed
     */
    public void validateUpdateFrom(ConsumerConfig old) {
        if (deliverPolicy != old.deliverPolicy) {
            fail("deliver policy can not be updated");
        }
        if (optStartSeq != old.optStartSeq) {
            fail("start sequence can not be updated");
        }
        if (optStartTime != old.optStartTime) {
            fail("start time can not be updated");
        }
        if (ackPolicy != old.ackPolicy) {
            fail("ack policy can not be updated");
        }
        if (replayPolicy != old.replayPolicy) {
            fail("replay policy can not be updated");
        }
        if (idleHeartbeat != old.idleHeartbeat) {
            fail("heart beats can not be updated");
        }
        if (flowControl != old.flowControl) {
            fail("flow control can not be updated");
        }
        if (maxWaiting != old.maxWaiting) {
            fail("max waiting can not be updated");
        }
        if (old.isPush() && !isPush()) {
            fail("can not update push consumer to pull based");
        }
        if (!old.isPush() && isPush()) {
            fail("can not update pull consumer to push based");
        }
        if (memStorage != old.memStorage) {
            fail("can not update consumer storage type");
        }
    }

    private static void fail(String reason) {
        throw new JsApiException(JsError.CONSUMER_CREATE_FAILED, reason);
    }

    /** The JSON clients read back, in the reference's field order; empty fields omitted. */
    public ObjectNode toJson() {
        ObjectNode o = JsJson.object();
        putIf(o, "durable_name", durableName);
        putIf(o, "name", name);
        putIf(o, "description", description);
        o.put("deliver_policy", deliverPolicy.json);
        if (optStartSeq > 0) {
            o.put("opt_start_seq", optStartSeq);
        }
        if (optStartTime != 0) {
            o.put("opt_start_time", JsJson.time(optStartTime));
        }
        o.put("ack_policy", ackPolicy.json);
        if (ackWait > 0) {
            o.put("ack_wait", ackWait);
        }
        o.put("max_deliver", maxDeliver);
        if (backoff != null) {
            ArrayNode a = o.putArray("backoff");
            backoff.forEach(a::add);
        }
        putIf(o, "filter_subject", filterSubject);
        if (filterSubjects != null) {
            ArrayNode a = o.putArray("filter_subjects");
            filterSubjects.forEach(a::add);
        }
        o.put("replay_policy", replayPolicy.json);
        if (rateLimitBps > 0) {
            o.put("rate_limit_bps", rateLimitBps);
        }
        putIf(o, "sample_freq", sampleFreq);
        if (maxWaiting > 0) {
            o.put("max_waiting", maxWaiting);
        }
        if (maxAckPending != 0) {
            o.put("max_ack_pending", maxAckPending);
        }
        if (flowControl) {
            o.put("flow_control", true);
        }
        if (headersOnly) {
            o.put("headers_only", true);
        }
        if (maxBatch > 0) {
            o.put("max_batch", maxBatch);
        }
        if (maxExpires > 0) {
            o.put("max_expires", maxExpires);
        }
        if (maxBytes > 0) {
            o.put("max_bytes", maxBytes);
        }
        putIf(o, "deliver_subject", deliverSubject);
        putIf(o, "deliver_group", deliverGroup);
        if (idleHeartbeat > 0) {
            o.put("idle_heartbeat", idleHeartbeat);
        }
        if (inactiveThreshold > 0) {
            o.put("inactive_threshold", inactiveThreshold);
        }
        o.put("num_replicas", numReplicas);
        if (memStorage) {
            o.put("mem_storage", true);
        }
        if (direct) {
            o.put("direct", true);
        }
        if (sourcing) {
            o.put("sourcing", true);
        }
        if (metadata != null && metadata.size() > 0) {
            o.set("metadata", metadata);
        }
        if (pauseUntil != null) {
            o.put("pause_until", pauseTime(pauseUntil));
        }
        if (priorityGroups != null && !priorityGroups.isEmpty()) {
            ArrayNode a = o.putArray("priority_groups");
            priorityGroups.forEach(a::add);
        }
        if (priorityPolicy != PriorityPolicy.NONE) {
            o.put("priority_policy", priorityPolicy.json);
        }
        if (priorityTimeout > 0) {
            o.put("priority_timeout", priorityTimeout);
        }
        return o;
    }

    private static void putIf(ObjectNode o, String field, String value) {
        if (value != null) {
            o.put(field, value);
        }
    }
}
