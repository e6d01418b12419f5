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
 * @param error the reason for {@code 400 Bad Request}, or null when the body was accepted
 */
record PullRequestBody(int batch, long maxBytes, long expires, long heartbeat, boolean noWait, String error) {

    /** The Go types of the request's fields, for the decoder's type errors. */
    private static final Map<String, String> FIELD_TYPES = Map.of(
            "expires", "time.Duration",
            "batch", "int",
            "max_bytes", "int",
            "no_wait", "bool",
            "idle_heartbeat", "time.Duration");

    static PullRequestBody parse(byte[] body) {
        String text = new String(body, StandardCharsets.UTF_8).trim();
        if (text.isEmpty()) {
            return new PullRequestBody(1, 0, 0, 0, false, null);
        }
        if (text.charAt(0) != '{') {
            try {
                return new PullRequestBody(Integer.parseInt(text), 0, 0, 0, false, null);
            } catch (NumberFormatException e) {
                return new PullRequestBody(1, 0, 0, 0, false, null); // not a number either: one message
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
                o.path("idle_heartbeat").asLong(0), o.path("no_wait").asBoolean(false), null);
    }

    private static PullRequestBody failed(String reason) {
        return new PullRequestBody(0, 0, 0, 0, false, reason);
    }

    /** How Go's decoder names a JSON value it cannot store in {@code type}, or null when it fits. */
    private static String mismatch(JsonNode v, String type) {
        if (v.isNull()) {
            return null; // null leaves the field alone
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
