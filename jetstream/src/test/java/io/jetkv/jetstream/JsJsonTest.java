package io.jetkv.jetstream;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jetkv.jetstream.api.JsApiException;
import io.jetkv.jetstream.api.JsJson;
import org.junit.jupiter.api.Test;

class JsJsonTest {
    @Test
    void timesAreGoRfc3339NanoInUtc() {
        assertEquals("0001-01-01T00:00:00Z", JsJson.time(0));
        assertEquals("1970-01-01T00:00:01Z", JsJson.time(1_000_000_000L));
        assertEquals("1970-01-01T00:00:01.5Z", JsJson.time(1_500_000_000L));
        assertEquals("2026-11-26T22:58:39.11437198Z", JsJson.time(JsJson.parseTime("2026-11-26T22:58:39.11437198Z")));
        assertEquals("2026-11-26T22:58:39.000000001Z", JsJson.time(JsJson.parseTime("2026-11-26T23:58:39.000000001+01:00")));
    }

    /** Request bodies decode as Go's json.Unmarshal into a struct: null is no fields, anything else not an object fails. */
    @Test
    void bodiesDecodeAsGoDoes() {
        assertTrue(JsJson.decode(b("null")).isEmpty());
        assertTrue(JsJson.decode(b(" {} ")).isEmpty());
        for (String bad : new String[] {"", " ", "[]", "5", "\"s\"", "{bad", "{} x", "{}{}"}) {
            assertEquals(10025, assertThrows(JsApiException.class, () -> JsJson.decode(b(bad))).error().errCode(), bad);
        }
        assertTrue(JsJson.parseObject(new byte[0]).isEmpty());
        assertThrows(JsApiException.class, () -> JsJson.parseObject(b(" ")));
    }

    /** nats-server's isEmptyRequest: no bytes, or an object without fields; null and malformed bodies are not. */
    @Test
    void emptyRequestsAreNoBytesOrAnEmptyObject() {
        assertTrue(JsJson.isEmptyRequest(new byte[0]));
        assertTrue(JsJson.isEmptyRequest(b("{}")));
        assertTrue(JsJson.isEmptyRequest(b("{ }")));
        assertFalse(JsJson.isEmptyRequest(b("null")));
        assertFalse(JsJson.isEmptyRequest(b("{bad")));
        assertFalse(JsJson.isEmptyRequest(b(" ")));
        assertFalse(JsJson.isEmptyRequest(b("{\"a\":1}")));
    }

    @Test
    void fieldsMatchCaseInsensitivelyWhenNoKeyMatchesExactly() {
        ObjectNode o = JsJson.decode(b("{\"SEQ\":7,\"Name\":\"x\"}"));
        assertEquals(7, JsJson.getLong(o, "seq", 0));
        assertEquals("x", JsJson.getString(o, "name"));
        assertEquals(3, JsJson.getLong(JsJson.decode(b("{\"Seq\":7,\"seq\":3}")), "seq", 0));
    }

    /** uint64 fields: negative and fractional numbers fail, numbers up to 2^64-1 read as the largest sequence. */
    @Test
    void unsignedFieldsTakeTheWholeUint64Range() {
        assertEquals(Long.MAX_VALUE, JsJson.getUnsigned(JsJson.decode(b("{\"seq\":18446744073709551615}")), "seq", 0));
        assertEquals(5, JsJson.getUnsigned(JsJson.decode(b("{\"seq\":5}")), "seq", 0));
        for (String bad : new String[] {"-1", "1.0", "18446744073709551616", "\"1\""}) {
            assertThrows(JsApiException.class, () -> JsJson.getUnsigned(JsJson.decode(b("{\"seq\":" + bad + "}")), "seq", 0),
                    bad);
        }
    }

    private static byte[] b(String s) {
        return s.getBytes(UTF_8);
    }
}
