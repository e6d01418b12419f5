package io.jetkv.jetstream;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
}
