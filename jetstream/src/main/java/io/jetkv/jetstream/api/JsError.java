package io.jetkv.jetstream.api;

/**
 * JetStream API errors with nats-server's numbers ({@code server/errors.json}): clients branch on
 * {@code err_code}, some older paths on {@code code}. A description may hold one {@code {}} placeholder
 * filled from {@link JsApiException}'s argument.
 *
 * <p>Immutable; safe from any thread.
 */
public enum JsError {
    BAD_REQUEST(400, 10003, "bad request"),
    INVALID_JSON(400, 10025, "invalid JSON"),
    INVALID_JSON_REASON(400, 10025, "invalid JSON: {}"),
    NOT_EMPTY_REQUEST(400, 10038, "expected an empty request payload"),
    CLUSTER_REQUIRED(503, 10010, "JetStream clustering support required"),
    CLUSTER_NOT_AVAILABLE(503, 10008, "JetStream system temporarily unavailable"),
    CLUSTER_NO_PEERS(400, 10005, "{}"),
    CLUSTER_TAGS(400, 10011, "tags placement not supported for operation"),
    CLUSTER_PEER_NOT_MEMBER(400, 10040, "peer not a member"),
    CLUSTER_SERVER_NOT_MEMBER(400, 10044, "server is not a member of the cluster"),
    PEER_REMAP(503, 10075, "peer remap failed"),
    NOT_ENABLED_FOR_ACCOUNT(503, 10039, "JetStream not enabled for account"),
    INSUFFICIENT_RESOURCES(503, 10023, "insufficient resources"),
    ACCOUNT_RESOURCES_EXCEEDED(400, 10002, "resource limits exceeded for account"),
    MAXIMUM_CONSUMERS_LIMIT(400, 10026, "maximum consumers limit reached"),
    MAXIMUM_STREAMS_LIMIT(400, 10027, "maximum number of streams reached"),
    STREAM_MAX_BYTES_REQUIRED(400, 10113, "account requires a stream config to have max bytes set"),
    STREAM_MAX_STREAM_BYTES_EXCEEDED(400, 10122, "stream max bytes exceeds account limit max stream bytes"),
    MEMORY_RESOURCES_EXCEEDED(500, 10028, "insufficient memory resources available"),
    STORAGE_RESOURCES_EXCEEDED(500, 10047, "insufficient storage resources available"),
    CONSUMER_CREATE_FAILED(500, 10012, "{}"),
    CONSUMER_NOT_FOUND(404, 10014, "consumer not found"),
    CONSUMER_DURABLE_NAME_NOT_IN_SUBJECT(400, 10016, "consumer expected to be durable but no durable name set in subject"),
    CONSUMER_DURABLE_NAME_NOT_MATCH_SUBJECT(400, 10017, "consumer name in subject does not match durable name in request"),
    CONSUMER_DURABLE_NAME_NOT_SET(400, 10018, "consumer expected to be durable but a durable name was not set"),
    CONSUMER_EPHEMERAL_WITH_DURABLE_NAME(400, 10020, "consumer expected to be ephemeral but a durable name was set in request"),
    CONSUMER_DELIVER_TO_WILDCARDS(400, 10079, "consumer deliver subject has wildcards"),
    CONSUMER_MAX_WAITING_NEGATIVE_OR_PUSH(400, 10080, "consumer in push mode can not set max waiting"),
    CONSUMER_MAX_PENDING_ACK_POLICY_REQUIRED(400, 10082, "consumer requires ack policy for max ack pending"),
    CONSUMER_MAX_WAITING_NEGATIVE(400, 10087, "consumer max waiting needs to be positive"),
    CONSUMER_SMALL_HEARTBEAT(400, 10083, "consumer idle heartbeat needs to be >= 100ms"),
    CONSUMER_HEARTBEAT_REQUIRES_PUSH(400, 10088, "consumer idle heartbeat requires a push based consumer"),
    CONSUMER_FC_REQUIRES_PUSH(400, 10089, "consumer flow control requires a push based consumer"),
    CONSUMER_PULL_REQUIRES_ACK(400, 10084, "consumer in pull mode requires ack policy"),
    CONSUMER_WQ_REQUIRES_EXPLICIT_ACK(400, 10098, "workqueue stream requires explicit ack"),
    CONSUMER_WQ_MULTIPLE_UNFILTERED(400, 10099, "multiple non-filtered consumers not allowed on workqueue stream"),
    CONSUMER_WQ_NOT_UNIQUE(400, 10100, "filtered consumer not unique on workqueue stream"),
    CONSUMER_WQ_NOT_DELIVER_ALL(400, 10101, "consumer must be deliver all on workqueue stream"),
    CONSUMER_FILTER_NOT_SUBSET(400, 10093, "consumer filter subject is not a valid subset of the interest subjects"),
    CONSUMER_INVALID_POLICY(400, 10094, "{}"),
    CONSUMER_NAME_TOO_LONG(400, 10102, "consumer name is too long, maximum allowed is {}"),
    CONSUMER_NAME_INVALID(400, 10103, "durable name can not contain '.', '*', '>'"),
    CONSUMER_EXISTING_ACTIVE(400, 10105, "consumer already exists and is still active"),
    CONSUMER_FC_REQUIRES_HEARTBEAT(400, 10108, "consumer with flow control also needs heartbeats"),
    CONSUMER_MAX_DELIVER_BACKOFF(400, 10116, "max deliver is required to be > length of backoff values"),
    CONSUMER_NAME_PATH_SEPARATORS(400, 10127, "Consumer name can not contain path separators"),
    CONSUMER_CREATE_FILTER_MISMATCH(400, 10131, "Consumer create request did not match filtered subject from create subject"),
    CONSUMER_DURABLE_NAME_NOT_MATCH_NAME(400, 10132, "Consumer Durable and Name have to be equal if both are provided"),
    CONSUMER_DUPLICATE_FILTER_SUBJECTS(400, 10136, "consumer cannot have both FilterSubject and FilterSubjects specified"),
    CONSUMER_MULTIPLE_FILTERS_NOT_ALLOWED(400, 10137, "consumer with multiple subject filters cannot use subject based API"),
    CONSUMER_OVERLAPPING_FILTERS(400, 10138, "consumer subject filters cannot overlap"),
    CONSUMER_ALREADY_EXISTS(400, 10148, "consumer already exists"),
    CONSUMER_DOES_NOT_EXIST(400, 10149, "consumer does not exist"),
    // priority groups (2.11, 2.12) and consumer reset (2.14)
    CONSUMER_PRIORITY_POLICY_WITHOUT_GROUP(400, 10159, "Setting PriorityPolicy requires at least one PriorityGroup to be set"),
    CONSUMER_INVALID_PRIORITY_GROUP(400, 10160, "Provided priority group does not exist for this consumer"),
    CONSUMER_EMPTY_GROUP_NAME(400, 10161, "Group name cannot be an empty string"),
    CONSUMER_INVALID_GROUP_NAME(400, 10162,
            "Valid priority group name must match A-Z, a-z, 0-9, -_/=)+ and may not exceed 16 characters"),
    CONSUMER_PUSH_WITH_PRIORITY_GROUP(400, 10178, "priority groups can not be used with push consumers"),
    CONSUMER_PRIORITY_GROUP_WITH_POLICY_NONE(400, 10196, "consumer can not have priority groups when policy is none"),
    CONSUMER_PINNED_TTL_WITHOUT_PRIORITY_POLICY(400, 10197, "PinnedTTL cannot be set when PriorityPolicy is none"),
    CONSUMER_INVALID_RESET(400, 10204, "invalid reset: {}"),
    /** 2.11+: a {@code pedantic: true} create or update that the server would otherwise have adjusted. */
    PEDANTIC(400, 10157, "pedantic mode: {}"),
    // 2.14 flow_control ack policy and durable sourcing (ADR-60)
    MIRROR_DURABLE_CONSUMER_CFG_INVALID(400, 10213, "stream mirror consumer config is invalid"),
    MIRROR_CONSUMER_REQUIRES_ACK_FC(400, 10214, "stream mirror consumer requires flow control ack policy"),
    SOURCE_DURABLE_CONSUMER_CFG_INVALID(400, 10215, "stream source consumer config is invalid"),
    SOURCE_DURABLE_CONSUMER_DUPLICATE(400, 10216, "duplicate stream source consumer detected"),
    SOURCE_CONSUMER_REQUIRES_ACK_FC(400, 10217, "stream source consumer requires flow control ack policy"),
    CONSUMER_ACK_FC_REQUIRES_PUSH(400, 10218, "flow control ack policy requires a push based consumer"),
    CONSUMER_ACK_FC_REQUIRES_FC(400, 10219, "flow control ack policy requires flow control"),
    CONSUMER_ACK_FC_REQUIRES_MAX_ACK_PENDING(400, 10220, "flow control ack policy requires max ack pending"),
    CONSUMER_ACK_FC_REQUIRES_NO_ACK_WAIT(400, 10221, "flow control ack policy requires unset ack wait"),
    CONSUMER_ACK_FC_REQUIRES_NO_MAX_DELIVER(400, 10222, "flow control ack policy requires unset max deliver"),
    NO_MESSAGE_FOUND(404, 10037, "no message found"),
    SEQUENCE_NOT_FOUND(400, 10043, "sequence {} not found"),
    STREAM_CREATE_FAILED(500, 10049, "{}"),
    STREAM_DELETE_FAILED(500, 10050, "{}"),
    STREAM_GENERAL_ERROR(500, 10051, "{}"),
    STREAM_INVALID_CONFIG(500, 10052, "{}"),
    STREAM_MESSAGE_EXCEEDS_MAXIMUM(400, 10054, "message size exceeds maximum allowed"),
    MIRROR_WITH_SOURCES(400, 10031, "stream mirrors can not also contain other sources"),
    MIRROR_WITH_START_SEQ_AND_TIME(400, 10032, "stream mirrors can not have both start seq and start time configured"),
    MIRROR_WITH_SUBJECTS(400, 10034, "stream mirrors can not contain subjects"),
    STREAM_MIRROR_NOT_UPDATABLE(400, 10055, "stream mirror configuration can not be updated"),
    STREAM_MISMATCH(400, 10056, "stream name in subject does not match request"),
    STREAM_MSG_DELETE_FAILED(500, 10057, "{}"),
    STREAM_NAME_EXIST(400, 10058, "stream name already in use with a different configuration"),
    STREAM_NOT_FOUND(404, 10059, "stream not found"),
    STREAM_NOT_MATCH(400, 10060, "expected stream does not match"),
    STREAM_SUBJECT_OVERLAP(400, 10065, "subjects overlap with an existing stream"),
    STREAM_WRONG_LAST_MSG_ID(400, 10070, "wrong last msg ID: {}"),
    STREAM_WRONG_LAST_SEQUENCE(400, 10071, "wrong last sequence: {}"),
    STREAM_REPLICAS_NOT_SUPPORTED(500, 10074, "replicas > 1 not supported in non-clustered mode"),
    STREAM_REPLICAS_NOT_UPDATABLE(400, 10061, "Replicas configuration can not be updated"),
    STREAM_STORE_FAILED(503, 10077, "{}"),
    STREAM_HEADER_EXCEEDS_MAXIMUM(400, 10097, "header size exceeds maximum allowed of 64k"),
    STREAM_SEALED(400, 10109, "invalid operation on sealed stream"),
    STREAM_PURGE_FAILED(500, 10110, "{}"),
    STREAM_ROLLUP_FAILED(500, 10111, "{}"),
    MESSAGE_TTL_INVALID(400, 10165, "invalid per-message TTL"),
    MESSAGE_TTL_DISABLED(400, 10166, "per-message TTL is disabled"),
    MESSAGE_INCR_DISABLED(400, 10168, "message counters is disabled"),
    MESSAGE_INCR_MISSING(400, 10169, "message counter increment is missing"),
    MESSAGE_INCR_PAYLOAD(400, 10170, "message counter has payload"),
    MESSAGE_INCR_INVALID(400, 10171, "message counter increment is invalid"),
    MESSAGE_COUNTER_BROKEN(400, 10172, "message counter is broken"),
    MIRROR_WITH_COUNTERS(400, 10173, "stream mirrors can not also calculate counters"),
    MIRROR_WITH_ATOMIC_PUBLISH(400, 10198, "stream mirrors can not also use atomic publishing"),
    ATOMIC_PUBLISH_DISABLED(400, 10174, "atomic publish is disabled"),
    ATOMIC_PUBLISH_MISSING_SEQ(400, 10175, "atomic publish sequence is missing"),
    ATOMIC_PUBLISH_INCOMPLETE_BATCH(400, 10176, "atomic publish batch is incomplete"),
    ATOMIC_PUBLISH_UNSUPPORTED_HEADER(400, 10177, "atomic publish unsupported header used: {}"),
    ATOMIC_PUBLISH_INVALID_BATCH_ID(400, 10179, "atomic publish batch ID is invalid"),
    ATOMIC_PUBLISH_TOO_LARGE(400, 10199, "atomic publish batch is too large: {}"),
    ATOMIC_PUBLISH_INVALID_COMMIT(400, 10200, "atomic publish batch commit is invalid"),
    ATOMIC_PUBLISH_DUPLICATE_MSG_ID(400, 10201, "atomic publish batch contains duplicate message id"),
    ATOMIC_PUBLISH_TOO_MANY_INFLIGHT(429, 10210, "atomic publish too many inflight"),
    // 2.14 fast-ingest batch publish (ADR-50)
    BATCH_PUBLISH_DISABLED(400, 10205, "batch publish is disabled"),
    BATCH_PUBLISH_INVALID_PATTERN(400, 10206, "batch publish pattern is invalid"),
    BATCH_PUBLISH_INVALID_BATCH_ID(400, 10207, "batch publish ID is invalid"),
    BATCH_PUBLISH_UNKNOWN_BATCH_ID(400, 10208, "batch publish ID unknown"),
    MIRROR_WITH_BATCH_PUBLISH(400, 10209, "stream mirrors can not also use batch publishing"),
    BATCH_PUBLISH_TOO_MANY_INFLIGHT(429, 10211, "batch publish too many inflight"),
    STREAM_WRONG_LAST_SEQUENCE_CONSTANT(400, 10164, "wrong last sequence"),
    CONSUMER_METADATA_LENGTH(400, 10135, "consumer metadata exceeds maximum size of {}"),
    STREAM_EXPECTED_LAST_SEQ_PER_SUBJECT_INVALID(400, 10193, "missing sequence for expected last sequence per subject"),
    REQUIRED_API_LEVEL(412, 10185, "JetStream minimum api level required"),
    // 2.12/2.14 message schedules (ADR-51)
    MIRROR_WITH_MSG_SCHEDULES(400, 10186, "stream mirrors can not also schedule messages"),
    SOURCE_WITH_MSG_SCHEDULES(400, 10187, "stream source can not also schedule messages"),
    MESSAGE_SCHEDULES_DISABLED(400, 10188, "message schedules is disabled"),
    MESSAGE_SCHEDULES_PATTERN_INVALID(400, 10189, "message schedules pattern is invalid"),
    MESSAGE_SCHEDULES_TARGET_INVALID(400, 10190, "message schedules target is invalid"),
    MESSAGE_SCHEDULES_TTL_INVALID(400, 10191, "message schedules invalid per-message TTL"),
    MESSAGE_SCHEDULES_ROLLUP_INVALID(400, 10192, "message schedules invalid rollup"),
    MESSAGE_SCHEDULES_SOURCE_INVALID(400, 10203, "message schedules source is invalid"),
    MESSAGE_SCHEDULES_SCHEDULER_INVALID(400, 10212, "message schedules invalid scheduler"),
    MESSAGE_SCHEDULES_TIME_ZONE_INVALID(400, 10223, "message schedules time zone is invalid"),
    SNAPSHOT_DELIVER_SUBJECT_INVALID(400, 10015, "deliver subject not valid"),
    STREAM_RESTORE_FAILED(500, 10062, "restore failed: {}"),
    TEMP_STORAGE_FAILED(500, 10072, "JetStream unable to open temp storage for restore"),
    STREAM_SNAPSHOT_FAILED(500, 10064, "snapshot failed: {}"),
    STREAM_NAME_EXIST_RESTORE_FAILED(400, 10130, "stream name already in use, cannot restore"),
    STREAM_NAME_CONTAINS_PATH_SEPARATORS(400, 10128, "Stream name can not contain path separators"),
    REPLICAS_COUNT_NEGATIVE(400, 10133, "replicas count cannot be negative"),
    TEMPLATE_CREATE_FAILED(500, 10066, "{}"),
    TEMPLATE_NOT_FOUND(404, 10068, "template not found"),
    TEMPLATE_NAME_NOT_MATCH_SUBJECT(400, 10073, "template name in subject does not match request"),
    TOO_MANY_REQUESTS(429, 10167, "too many requests");

    private final int code;
    private final int errCode;
    private final String description;

    JsError(int code, int errCode, String description) {
        this.code = code;
        this.errCode = errCode;
        this.description = description;
    }

    /** HTTP-like status put in the error object's {@code code}. */
    public int code() {
        return code;
    }

    /** The stable JetStream code ({@code err_code}). */
    public int errCode() {
        return errCode;
    }

    /** The description with its placeholder (if any) replaced by {@code arg}. */
    public String description(Object arg) {
        int at = description.indexOf("{}");
        if (at < 0) {
            return description;
        }
        return description.substring(0, at) + (arg == null ? "" : arg) + description.substring(at + 2);
    }
}
