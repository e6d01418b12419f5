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

    public static final ObjectMapper MAPPER =
            new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

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
     * Parses a request body that must be a JSON object; an empty (or blank) body is {@code {}} (ADR-1).
     *
     * @throws JsApiException 10025 when the body is not a JSON object
     */
    public static ObjectNode parseObject(byte[] payload) {
        if (payload == null || isBlank(payload)) {
            return object();
        }
        try {
            JsonNode node = MAPPER.readTree(payload);
            if (node instanceof ObjectNode o) {
                return o;
            }
        } catch (IOException e) {
            // falls through to the client-facing error; the parser text is not shown to clients
        }
        throw new JsApiException(JsError.INVALID_JSON);
    }

    public static boolean isBlank(byte[] payload) {
        for (byte b : payload) {
            if (b != ' ' && b != '\t' && b != '\r' && b != '\n') {
                return false;
            }
        }
        return true;
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

    public static long getLong(JsonNode obj, String field, long dflt) {
        JsonNode v = obj.get(field);
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
        JsonNode v = obj.get(field);
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
        JsonNode v = obj.get(field);
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
        JsonNode v = obj.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!(v instanceof ObjectNode o)) {
            throw new JsApiException(JsError.INVALID_JSON);
        }
        return o;
    }
}
