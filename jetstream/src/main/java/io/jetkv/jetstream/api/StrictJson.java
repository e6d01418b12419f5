package io.jetkv.jetstream.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * Strict request decoding (nats-server 2.12's default, {@code jetstream { strict: false }} turns it off): a
 * {@code $JS.API} request body with a field the reference's request structs do not have is refused with 10025
 * {@code invalid JSON: json: unknown field "<f>"}, as Go's decoder with {@code DisallowUnknownFields} reports it: the
 * first such field in document order, nested objects included, map-typed fields ({@code metadata}) excepted.
 *
 * <p>The known fields are those of nats-server 2.12's request types, including ones JetKV accepts but does not act
 * on. Pure functions; any thread.
 */
public final class StrictJson {
    private StrictJson() {}

    /** The known fields of an object: each maps to the shape of its value (null: any value). */
    private record Shape(Map<String, Shape> fields, boolean anyKeys, Shape items) {}

    /** A map with arbitrary keys ({@code metadata}). */
    private static final Shape ANY_KEYS = new Shape(Map.of(), true, null);

    private static Shape object(Object... nameAndShape) {
        Map<String, Shape> m = new HashMap<>();
        for (int i = 0; i < nameAndShape.length; i++) {
            if (nameAndShape[i] instanceof String name) {
                Shape s = i + 1 < nameAndShape.length && nameAndShape[i + 1] instanceof Shape next ? next : null;
                m.put(name, s);
                if (s != null) {
                    i++;
                }
            }
        }
        return new Shape(m, false, null);
    }

    private static Shape arrayOf(Shape items) {
        return new Shape(Map.of(), false, items);
    }

    private static final Shape TRANSFORM = object("src", "dest");
    private static final Shape SOURCE = object("name", "opt_start_seq", "opt_start_time", "filter_subject",
            "subject_transforms", arrayOf(TRANSFORM), "external", object("api", "deliver"),
            "consumer", object("name", "deliver_subject"));

    static final Shape STREAM_CONFIG = object("name", "description", "subjects", "retention", "max_consumers",
            "max_msgs", "max_bytes", "max_age", "max_msgs_per_subject", "max_msg_size", "discard", "storage",
            "num_replicas", "no_ack", "template_owner", "duplicate_window",
            "placement", object("cluster", "tags", "preferred"),
            "mirror", SOURCE, "sources", arrayOf(SOURCE), "compression", "first_seq",
            "subject_transform", TRANSFORM, "republish", object("src", "dest", "headers_only"),
            "allow_direct", "mirror_direct", "discard_new_per_subject", "sealed", "deny_delete", "deny_purge",
            "allow_rollup_hdrs", "consumer_limits", object("inactive_threshold", "max_ack_pending"),
            "metadata", ANY_KEYS, "allow_msg_ttl", "subject_delete_marker_ttl", "allow_msg_counter", "allow_atomic",
            "allow_msg_schedules", "persist_mode", "allow_batched",
            // the request form (StreamConfigRequest) adds pedantic
            "pedantic");

    static final Shape CONSUMER_CONFIG = object("durable_name", "name", "description", "deliver_policy",
            "opt_start_seq", "opt_start_time", "ack_policy", "ack_wait", "max_deliver", "backoff", "filter_subject",
            "filter_subjects", "replay_policy", "rate_limit_bps", "sample_freq", "max_waiting", "max_ack_pending",
            "flow_control", "headers_only", "max_batch", "max_expires", "max_bytes", "deliver_subject",
            "deliver_group", "idle_heartbeat", "inactive_threshold", "num_replicas", "mem_storage", "direct", "sourcing",
            "metadata", ANY_KEYS, "pause_until", "priority_groups", "priority_policy", "priority_timeout");

    /**
     * Request bodies by operation (the subject tokens after {@code $JS.API.}, without names); the others (direct
     * get, pull requests) are decoded leniently, as the reference does.
     */
    private static final Map<String, Shape> REQUESTS = Map.ofEntries(
            Map.entry("STREAM.CREATE", STREAM_CONFIG),
            Map.entry("STREAM.UPDATE", STREAM_CONFIG),
            Map.entry("STREAM.INFO", object("deleted_details", "subjects_filter", "offset")),
            Map.entry("STREAM.NAMES", object("offset", "subject")),
            Map.entry("STREAM.LIST", object("offset", "subject")),
            Map.entry("STREAM.PURGE", object("filter", "seq", "keep")),
            Map.entry("STREAM.MSG.GET", object("seq", "last_by_subj", "next_by_subj", "batch", "max_bytes",
                    "start_time", "multi_last", "up_to_seq", "up_to_time", "no_hdr")),
            Map.entry("STREAM.MSG.DELETE", object("seq", "no_erase")),
            Map.entry("STREAM.SNAPSHOT", object("deliver_subject", "no_consumers", "chunk_size", "window_size", "jsck")),
            Map.entry("STREAM.RESTORE", object("config", STREAM_CONFIG, "state")),
            Map.entry("CONSUMER.CREATE", object("stream_name", "config", CONSUMER_CONFIG, "action", "pedantic")),
            Map.entry("CONSUMER.DURABLE.CREATE", object("stream_name", "config", CONSUMER_CONFIG, "action", "pedantic")),
            Map.entry("CONSUMER.NAMES", object("offset", "subject")),
            Map.entry("CONSUMER.LIST", object("offset", "subject")),
            Map.entry("CONSUMER.PAUSE", object("pause_until")),
            Map.entry("CONSUMER.UNPIN", object("group")),
            Map.entry("CONSUMER.RESET", object("seq")));

    /**
     * Throws 10025 {@code invalid JSON: json: unknown field "<f>"} for the first field of {@code body} that
     * {@code op}'s request type does not have.
     */
    public static void check(String op, JsonNode body) {
        Shape shape = REQUESTS.get(op);
        if (shape != null && body != null) {
            String unknown = firstUnknown(shape, body);
            if (unknown != null) {
                throw new JsApiException(JsError.INVALID_JSON_REASON, "json: unknown field " + JsJson.quote(unknown));
            }
        }
    }

    /** The first unknown field, depth first in document order, or null. */
    private static String firstUnknown(Shape shape, JsonNode value) {
        if (shape == null || shape.anyKeys || value == null) {
            return null;
        }
        if (shape.items != null) {
            if (value.isArray()) {
                for (JsonNode item : value) {
                    String u = firstUnknown(shape.items, item);
                    if (u != null) {
                        return u;
                    }
                }
            }
            return null;
        }
        if (!value.isObject()) {
            return null; // a wrong type is the typed decoding's error
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = value.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String key = matchKey(shape, e.getKey());
            if (key == null) {
                return e.getKey();
            }
            String u = firstUnknown(shape.fields.get(key), e.getValue());
            if (u != null) {
                return u;
            }
        }
        return null;
    }

    /**
     * The known field {@code name} stands for: Go's decoder matches field names exactly first, then ignoring case.
     */
    private static String matchKey(Shape shape, String name) {
        if (shape.fields.containsKey(name)) {
            return name;
        }
        for (String k : shape.fields.keySet()) {
            if (k.equalsIgnoreCase(name)) {
                return k;
            }
        }
        return null;
    }
}
