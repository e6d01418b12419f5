package io.jetkv.jetstream.stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jetkv.jetstream.api.JsApiException;
import io.jetkv.jetstream.api.JsError;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * nats-server 2.12's message counters (ADR-49): on a stream with {@code allow_msg_counter}, each subject's last
 * message holds a total, {@code {"val":"<decimal>"}}, and a publish with {@code Nats-Incr: <integer>} (and no
 * payload) stores the previous total plus the increment. Totals are arbitrary-precision, as the reference's
 * {@code big.Int}. A counter stream that sources other counter streams keeps, per source stream and original
 * subject, the last total it saw in {@code Nats-Counter-Sources}, and adds the difference. Pure functions; the
 * stream's writer calls them.
 */
final class MessageCounter {
    static final String INCR = "Nats-Incr";
    static final String SOURCES = "Nats-Counter-Sources";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern INTEGER = Pattern.compile("[+-]?[0-9]+");
    /** Headers that may not come with an increment (10171). */
    private static final String[] EXCLUSIVE = {
        "Nats-Rollup", "Nats-Expected-Stream", "Nats-Expected-Last-Msg-Id", "Nats-Expected-Last-Sequence",
        "Nats-Expected-Last-Subject-Sequence", "Nats-Expected-Last-Subject-Sequence-Subject"
    };

    private MessageCounter() {}

    /** A client's {@code Nats-Incr}, checked as the reference does first of all: 10171, 10168, 10170. */
    static BigInteger checkIncrement(String value, Map<String, String> headers, boolean enabled, int payloadLength) {
        BigInteger incr = parse(value);
        if (incr == null) {
            throw new JsApiException(JsError.MESSAGE_INCR_INVALID);
        }
        for (String h : EXCLUSIVE) {
            if (headers.containsKey(h)) {
                throw new JsApiException(JsError.MESSAGE_INCR_INVALID);
            }
        }
        if (!enabled) {
            throw new JsApiException(JsError.MESSAGE_INCR_DISABLED);
        }
        if (payloadLength > 0) {
            throw new JsApiException(JsError.MESSAGE_INCR_PAYLOAD);
        }
        return incr;
    }

    /** A base-10 integer with an optional sign, or null. */
    static BigInteger parse(String value) {
        if (value == null || !INTEGER.matcher(value).matches()) {
            return null;
        }
        return new BigInteger(value.startsWith("+") ? value.substring(1) : value);
    }

    /** The total a counter message's body holds; 10172 when it is not {@code {"val":"<integer>"}}. */
    static BigInteger valueOf(byte[] body) {
        try {
            JsonNode o = JSON.readTree(body);
            BigInteger v = o != null && o.isObject() && o.path("val").isTextual() ? parse(o.get("val").textValue())
                    : null;
            if (v == null) {
                throw new JsApiException(JsError.MESSAGE_COUNTER_BROKEN);
            }
            return v;
        } catch (IOException e) {
            throw new JsApiException(JsError.MESSAGE_COUNTER_BROKEN);
        }
    }

    static byte[] body(BigInteger total) {
        return ("{\"val\":\"" + total + "\"}").getBytes(StandardCharsets.US_ASCII);
    }

    /** The pub ack's tail for a counter: {@code , "val":"<total>"}} after the sequence. */
    static byte[] ackTail(BigInteger total) {
        return (", \"val\":\"" + total + "\"}").getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * The headers a counter stream stores for a message sourced from {@code source}: the origin's total turned
     * into an increment over the last total seen from the same source stream and subject (kept in
     * {@code Nats-Counter-Sources}, carried forward from {@code previousHeaders}, the subject's last message
     * here). 10172 when the origin's body or the kept map cannot be read.
     */
    static byte[] sourcedHeaders(byte[] headers, byte[] originBody, String source, String originSubject,
            byte[] previousHeaders) {
        BigInteger total = valueOf(originBody);
        ObjectNode seen;
        String kept = previousHeaders == null ? null : HeaderBlock.parse(previousHeaders).get(SOURCES);
        try {
            JsonNode n = kept == null ? JSON.createObjectNode() : JSON.readTree(kept);
            if (n == null || !n.isObject()) {
                throw new JsApiException(JsError.MESSAGE_COUNTER_BROKEN);
            }
            seen = (ObjectNode) n;
        } catch (IOException e) {
            throw new JsApiException(JsError.MESSAGE_COUNTER_BROKEN);
        }
        JsonNode bySubject = seen.path(source);
        BigInteger before = BigInteger.ZERO;
        if (bySubject.isObject() && bySubject.has(originSubject)) {
            before = parse(bySubject.get(originSubject).asText());
            if (before == null) {
                throw new JsApiException(JsError.MESSAGE_COUNTER_BROKEN);
            }
        }
        ObjectNode updated = bySubject.isObject() ? (ObjectNode) bySubject : seen.putObject(source);
        if (!seen.has(source)) {
            seen.set(source, updated);
        }
        updated.put(originSubject, total.toString());
        byte[] out = HeaderBlock.without(headers, INCR + ":", SOURCES + ":");
        return HeaderBlock.append(out, INCR, total.subtract(before).toString(), SOURCES, seen.toString());
    }
}
