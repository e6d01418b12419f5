package io.jetkv.jetstream.consumer;

import com.fasterxml.jackson.databind.JsonNode;
import io.jetkv.jetstream.api.JsJson;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Map;

/**
 * The body of a pull request ({@code $JS.API.CONSUMER.MSG.NEXT}) read as nats-server's {@code nextReqFromMsg}
 * reads it: empty is one message, an integer is a batch size, anything else not starting with {@code &#123;}
 * is one message too, and a JSON object is a {@code JSApiConsumerGetNextRequest}. A JSON object Go's decoder
 * refuses yields the decoder's own error text, which the reference puts in its {@code 400 Bad Request - ...}
 * status line.
 *
 * <p>Immutable; built on the stream's writer.
 *
 * <p>2.11's priority group fields ({@code group}, {@code min_pending}, {@code min_ack_pending}, {@code id},
 * {@code priority}) come only in a JSON object; {@code object} tells the consumer whether its group checks apply
 * (the reference skips them for an empty or integer body).
 *
 * @param error the reason for {@code 400 Bad Request}, or null when the body was accepted
 */
record PullRequestBody(int batch, long maxBytes, long expires, long heartbeat, boolean noWait, String error,
        boolean object, String group, long minPending, long minAckPending, String id, int priority) {

    /** The Go types of the request's fields, for the decoder's type errors. */
    private static final Map<String, String> FIELD_TYPES = Map.of(
            "expires", "time.Duration",
            "batch", "int",
            "max_bytes", "int",
            "no_wait", "bool",
            "idle_heartbeat", "time.Duration",
            "group", "string",
            "id", "string",
            "min_pending", "int64",
            "min_ack_pending", "int64",
            "priority", "int");

    static PullRequestBody parse(byte[] body) {
        String text = new String(body, StandardCharsets.UTF_8).trim();
        if (text.isEmpty()) {
            return simple(1);
        }
        if (text.charAt(0) != '{') {
            try {
                return simple(Integer.parseInt(text));
            } catch (NumberFormatException e) {
                return simple(1); // not a number either: one message
            }
        }
        byte[] json = text.getBytes(StandardCharsets.UTF_8);
        String syntax = GoJsonSyntax.check(json);
        if (syntax != null) {
            return failed(syntax);
        }
        JsonNode o;
        try {
            o = JsJson.MAPPER.readTree(json);
        } catch (IOException e) {
            return failed("unexpected end of JSON input"); // the syntax check passed, so not expected
        }
        // Go's decoder keeps going after a type mismatch and reports the first one
        for (Iterator<Map.Entry<String, JsonNode>> it = o.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String type = FIELD_TYPES.get(e.getKey());
            if (type == null) {
                continue;
            }
            String mismatch = mismatch(e.getValue(), type);
            if (mismatch != null) {
                return failed("json: cannot unmarshal " + mismatch + " into Go struct field JSApiConsumerGetNextRequest."
                        + e.getKey() + " of type " + type);
            }
        }
        return new PullRequestBody(o.path("batch").asInt(0), o.path("max_bytes").asLong(0), o.path("expires").asLong(0),
                o.path("idle_heartbeat").asLong(0), o.path("no_wait").asBoolean(false), null, true,
                text(o, "group"), o.path("min_pending").asLong(0), o.path("min_ack_pending").asLong(0), text(o, "id"),
                o.path("priority").asInt(0));
    }

    private static String text(JsonNode o, String field) {
        JsonNode v = o.get(field);
        return v == null || !v.isTextual() || v.textValue().isEmpty() ? null : v.textValue();
    }

    private static PullRequestBody simple(int batch) {
        return new PullRequestBody(batch, 0, 0, 0, false, null, false, null, 0, 0, null, 0);
    }

    private static PullRequestBody failed(String reason) {
        return new PullRequestBody(0, 0, 0, 0, false, reason, false, null, 0, 0, null, 0);
    }

    /** How Go's decoder names a JSON value it cannot store in {@code type}, or null when it fits. */
    private static String mismatch(JsonNode v, String type) {
        if (v.isNull()) {
            return null; // null leaves the field alone
        }
        if (type.equals("string")) {
            return v.isTextual() ? null : v.isNumber() ? "number" : kind(v);
        }
        if (type.equals("bool")) {
            if (v.isBoolean()) {
                return null;
            }
            return v.isNumber() ? "number" : kind(v);
        }
        if (v.isIntegralNumber() && v.canConvertToLong()) {
            return null; // Go's int is 64 bits, as is time.Duration
        }
        if (v.isNumber()) {
            return "number " + v.asText(); // a fraction, or too large for the integer
        }
        return kind(v);
    }

    private static String kind(JsonNode v) {
        if (v.isTextual()) {
            return "string";
        }
        if (v.isBoolean()) {
            return "bool";
        }
        if (v.isArray()) {
            return "array";
        }
        return v.isObject() ? "object" : "number";
    }
}
