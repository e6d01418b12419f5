package io.jetkv.jetstream.api;

/**
 * Every {@code $JS.API} subject and response type in one place, as nats-server's {@code jetstream_api.go}
 * keeps them. Operations are written without the {@code $JS.API.} prefix and without their stream/consumer
 * name tokens; {@link JsApi} matches them against incoming subjects.
 */
public final class JsApiSubjects {
    private JsApiSubjects() {}

    public static final String PREFIX = "$JS.API.";
    public static final String ALL = "$JS.API.>";

    /** {@code $JS.<domain>.API.>}: the same API reached through a JetStream domain. */
    public static String domainPrefix(String domain) {
        return "$JS." + domain + ".API.";
    }

    // Operations (tokens after the prefix, before the name arguments).
    public static final String INFO = "INFO";
    public static final String STREAM_CREATE = "STREAM.CREATE";
    public static final String STREAM_UPDATE = "STREAM.UPDATE";
    public static final String STREAM_INFO = "STREAM.INFO";
    public static final String STREAM_DELETE = "STREAM.DELETE";
    public static final String STREAM_NAMES = "STREAM.NAMES";
    public static final String STREAM_LIST = "STREAM.LIST";
    public static final String STREAM_PURGE = "STREAM.PURGE";
    public static final String STREAM_SNAPSHOT = "STREAM.SNAPSHOT";
    public static final String STREAM_RESTORE = "STREAM.RESTORE";
    public static final String STREAM_MSG_GET = "STREAM.MSG.GET";
    public static final String STREAM_MSG_DELETE = "STREAM.MSG.DELETE";
    public static final String DIRECT_GET = "DIRECT.GET";
    public static final String CONSUMER_CREATE = "CONSUMER.CREATE";
    public static final String CONSUMER_DURABLE_CREATE = "CONSUMER.DURABLE.CREATE";
    public static final String CONSUMER_INFO = "CONSUMER.INFO";
    public static final String CONSUMER_DELETE = "CONSUMER.DELETE";
    public static final String CONSUMER_NAMES = "CONSUMER.NAMES";
    public static final String CONSUMER_LIST = "CONSUMER.LIST";
    public static final String CONSUMER_MSG_NEXT = "CONSUMER.MSG.NEXT";
    public static final String CONSUMER_PAUSE = "CONSUMER.PAUSE";
    public static final String CONSUMER_UNPIN = "CONSUMER.UNPIN";
    public static final String CONSUMER_RESET = "CONSUMER.RESET";
    public static final String STREAM_LEADER_STEPDOWN = "STREAM.LEADER.STEPDOWN";
    public static final String STREAM_PEER_REMOVE = "STREAM.PEER.REMOVE";
    public static final String CONSUMER_LEADER_STEPDOWN = "CONSUMER.LEADER.STEPDOWN";
    public static final String META_LEADER_STEPDOWN = "META.LEADER.STEPDOWN";
    public static final String SERVER_REMOVE = "SERVER.REMOVE";
    public static final String ACCOUNT_PURGE = "ACCOUNT.PURGE";
    public static final String TEMPLATE_CREATE = "STREAM.TEMPLATE.CREATE";
    public static final String TEMPLATE_NAMES = "STREAM.TEMPLATE.NAMES";
    public static final String TEMPLATE_INFO = "STREAM.TEMPLATE.INFO";
    public static final String TEMPLATE_DELETE = "STREAM.TEMPLATE.DELETE";

    // Where snapshot chunks are acknowledged and restore chunks are sent (tokens follow).
    public static final String SNAPSHOT_ACK_PREFIX = "$JS.SNAPSHOT.ACK.";
    public static final String RESTORE_DELIVER_PREFIX = "$JS.SNAPSHOT.RESTORE.";

    // Full subject prefix of direct get, used by the event-loop fast path.
    public static final String DIRECT_GET_PREFIX = PREFIX + DIRECT_GET + ".";

    // Response types.
    private static final String T = "io.nats.jetstream.api.v1.";
    public static final String ACCOUNT_INFO_RESPONSE = T + "account_info_response";
    public static final String STREAM_CREATE_RESPONSE = T + "stream_create_response";
    public static final String STREAM_UPDATE_RESPONSE = T + "stream_update_response";
    public static final String STREAM_INFO_RESPONSE = T + "stream_info_response";
    public static final String STREAM_DELETE_RESPONSE = T + "stream_delete_response";
    public static final String STREAM_NAMES_RESPONSE = T + "stream_names_response";
    public static final String STREAM_LIST_RESPONSE = T + "stream_list_response";
    public static final String STREAM_PURGE_RESPONSE = T + "stream_purge_response";
    public static final String STREAM_SNAPSHOT_RESPONSE = T + "stream_snapshot_response";
    public static final String STREAM_RESTORE_RESPONSE = T + "stream_restore_response";
    public static final String STREAM_MSG_GET_RESPONSE = T + "stream_msg_get_response";
    public static final String STREAM_MSG_DELETE_RESPONSE = T + "stream_msg_delete_response";
    public static final String CONSUMER_CREATE_RESPONSE = T + "consumer_create_response";
    public static final String CONSUMER_INFO_RESPONSE = T + "consumer_info_response";
    public static final String CONSUMER_DELETE_RESPONSE = T + "consumer_delete_response";
    public static final String CONSUMER_NAMES_RESPONSE = T + "consumer_names_response";
    public static final String CONSUMER_LIST_RESPONSE = T + "consumer_list_response";
    public static final String CONSUMER_PAUSE_RESPONSE = T + "consumer_pause_response";
    public static final String CONSUMER_UNPIN_RESPONSE = T + "consumer_unpin_response";
    public static final String CONSUMER_RESET_RESPONSE = T + "consumer_reset_response";
    public static final String STREAM_LEADER_STEPDOWN_RESPONSE = T + "stream_leader_stepdown_response";
    public static final String STREAM_REMOVE_PEER_RESPONSE = T + "stream_remove_peer_response";
    public static final String CONSUMER_LEADER_STEPDOWN_RESPONSE = T + "consumer_leader_stepdown_response";
    public static final String META_LEADER_STEPDOWN_RESPONSE = T + "meta_leader_stepdown_response";
    public static final String META_SERVER_REMOVE_RESPONSE = T + "meta_server_remove_response";
    public static final String ACCOUNT_PURGE_RESPONSE = T + "account_purge_response";
    public static final String TEMPLATE_CREATE_RESPONSE = T + "stream_template_create_response";
    public static final String TEMPLATE_NAMES_RESPONSE = T + "stream_template_names_response";
    public static final String TEMPLATE_INFO_RESPONSE = T + "stream_template_info_response";
    public static final String TEMPLATE_DELETE_RESPONSE = T + "stream_template_delete_response";

    // Page sizes (JSApiNamesLimit, JSApiListLimit, JSMaxSubjectDetails).
    public static final int NAMES_LIMIT = 1024;
    public static final int LIST_LIMIT = 256;
    public static final int SUBJECTS_LIMIT = 100_000;
}
