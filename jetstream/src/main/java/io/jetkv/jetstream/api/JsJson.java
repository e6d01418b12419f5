package io.jetkv.jetstream.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;

/**
 * JSON conventions of the JetStream API: the shared mapper (unknown fields ignored), Go's RFC 3339 nano
 * timestamps, and typed field readers that reject wrong types with 10025 like Go's decoder does.
 *
 * <p>Stateless; safe from any thread.
 */
public final class JsJson {
    private JsJson() {}

    /** Unknown fields are ignored and anything after the value is refused, as Go's {@code json.Unmarshal} does. */
    public static final ObjectMapper MAPPER = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
            .configure(DeserializationFeature.FAIL_ON_TRAILING_TOKENS, true);

    /** Go's zero {@code time.Time}, which the reference prints for "never". */
    public static final String ZERO_TIME = "0001-01-01T00:00:00Z";

    public static ObjectNode object() {
        return MAPPER.createObjectNode();
    }

    public static byte[] bytes(JsonNode node) {
        try {
            return MAPPER.writeValueAsBytes(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("JSON tree not serialisable", e);
        }
    }

    /**
     * Decodes a request body as Go's {@code json.Unmarshal} into a struct does: {@code null} is an object without
     * fields, and anything that is not one JSON object (an empty or blank body, an array, trailing bytes) is
     * 10025. Handlers that treat an empty body as "no options" check {@link #isEmptyRequest} first.
     *
     * @throws JsApiException 10025 when the body is not a JSON object or {@code null}
     */
    public static ObjectNode decode(byte[] payload) {
        if (payload != null && payload.length > 0) {
            try {
                JsonNode node = MAPPER.readTree(payload);
                if (node instanceof ObjectNode o) {
                    return o;
                }
                if (node != null && node.isNull()) {
                    return object();
                }
            } catch (IOException e) {
                // falls through to the client-facing error; the parser text is not shown to clients
            }
        }
        throw new JsApiException(JsError.INVALID_JSON);
    }

    /**
     * A body without options: empty, or a JSON object without fields (nats-server's {@code isEmptyRequest}).
     * {@code null} is not empty here, though {@link #decode} reads it as {@code {}}.
     */
    public static boolean isEmptyRequest(byte[] payload) {
        if (payload == null || payload.length == 0) {
            return true;
        }
        try {
            JsonNode node = MAPPER.readTree(payload);
            return node instanceof ObjectNode o && o.isEmpty();
        } catch (IOException e) {
            return false;
        }
    }

    /** The body of a request whose options are optional: {@code {}} when empty, else {@link #decode}. */
    public static ObjectNode parseObject(byte[] payload) {
        return payload == null || payload.length == 0 ? object() : decode(payload);
    }

    /** {@code s} as a JSON string literal, quotes included. */
    public static String quote(String s) {
        try {
            return MAPPER.writeValueAsString(s);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("string not serialisable", e);
        }
    }

    /** {@code {"code":..,"err_code":..,"description":..}}. */
    public static ObjectNode error(JsError error, String description) {
        ObjectNode e = object();
        e.put("code", error.code());
        e.put("err_code", error.errCode());
        e.put("description", description);
        return e;
    }

    public static ObjectNode error(JsApiException e) {
        return error(e.error(), e.description());
    }

    /** Epoch nanoseconds as Go's {@code time.RFC3339Nano} in UTC; 0 is the zero time. */
    public static String time(long epochNanos) {
        if (epochNanos == 0) {
            return ZERO_TIME;
        }
        Instant t = Instant.ofEpochSecond(Math.floorDiv(epochNanos, 1_000_000_000L), Math.floorMod(epochNanos, 1_000_000_000L));
        OffsetDateTime d = t.atOffset(ZoneOffset.UTC);
        StringBuilder sb = new StringBuilder(30);
        pad(sb, d.getYear(), 4).append('-');
        pad(sb, d.getMonthValue(), 2).append('-');
        pad(sb, d.getDayOfMonth(), 2).append('T');
        pad(sb, d.getHour(), 2).append(':');
        pad(sb, d.getMinute(), 2).append(':');
        pad(sb, d.getSecond(), 2);
        int nanos = d.getNano();
        if (nanos != 0) {
            // RFC3339Nano drops trailing zeros of the fraction (String.format cost a third of a stream info reply)
            int digits = 9;
            while (nanos % 10 == 0) {
                nanos /= 10;
                digits--;
            }
            pad(sb.append('.'), nanos, digits);
        }
        return sb.append('Z').toString();
    }

    private static StringBuilder pad(StringBuilder sb, int v, int width) {
        String s = Integer.toString(v);
        for (int i = s.length(); i < width; i++) {
            sb.append('0');
        }
        return sb.append(s);
    }

    /** Parses an RFC 3339 time with any offset to epoch nanos; the zero time is 0. */
    public static long parseTime(String text) {
        if (text == null || text.isEmpty() || text.startsWith("0001-01-01T00:00:00")) {
            return 0;
        }
        try {
            Instant t = OffsetDateTime.parse(text).toInstant();
            return t.getEpochSecond() * 1_000_000_000L + t.getNano();
        } catch (DateTimeParseException e) {
            throw new JsApiException(JsError.INVALID_JSON);
        }
    }

    // Typed readers: a missing or null field gives the default, a wrong type is 10025 (Go's decoder).

    /**
     * The value of {@code field}: Go's decoder matches keys case-insensitively when no key matches exactly (the
     * last such key wins), so {@code {"SEQ":1}} sets {@code seq}.
     */
    public static JsonNode field(JsonNode obj, String field) {
        JsonNode v = obj.get(field);
        if (v != null || obj.size() == 0) {
            return v;
        }
        for (var it = obj.fields(); it.hasNext(); ) {
            var e = it.next();
            if (e.getKey().equalsIgnoreCase(field)) {
                v = e.getValue();
            }
        }
        return v;
    }

    /**
     * A Go {@code uint64} field: negative or fractional numbers are 10025; values past {@link Long#MAX_VALUE} (up to
     * 2^64-1) read as {@link Long#MAX_VALUE}, beyond any sequence a stream can reach.
     */
    public static long getUnsigned(JsonNode obj, String field, long dflt) {
        JsonNode v = field(obj, field);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isIntegralNumber() || v.bigIntegerValue().signum() < 0 || v.bigIntegerValue().bitLength() > 64) {
            throw new JsApiException(JsError.INVALID_JSON);
        }
        return v.canConvertToLong() ? v.longValue() : Long.MAX_VALUE;
    }

    public static long getLong(JsonNode obj, String field, long dflt) {
        JsonNode v = field(obj, field);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw new JsApiException(JsError.INVALID_JSON);
        }
        return v.longValue();
    }

    public static int getInt(JsonNode obj, String field, int dflt) {
        long v = getLong(obj, field, dflt);
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw new JsApiException(JsError.INVALID_JSON);
        }
        return (int) v;
    }

    public static boolean getBool(JsonNode obj, String field) {
        JsonNode v = field(obj, field);
        if (v == null || v.isNull()) {
            return false;
        }
        if (!v.isBoolean()) {
            throw new JsApiException(JsError.INVALID_JSON);
        }
        return v.booleanValue();
    }

    /** The string value, or null when missing, null or empty. */
    public static String getString(JsonNode obj, String field) {
        JsonNode v = field(obj, field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw new JsApiException(JsError.INVALID_JSON);
        }
        return v.textValue().isEmpty() ? null : v.textValue();
    }

    /** The object value, or null when missing or null. */
    public static ObjectNode getObject(JsonNode obj, String field) {
        JsonNode v = field(obj, field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!(v instanceof ObjectNode o)) {
            throw new JsApiException(JsError.INVALID_JSON);
        }
        return o;
    }
}
