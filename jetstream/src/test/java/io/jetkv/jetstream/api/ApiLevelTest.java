package io.jetkv.jetstream.api;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jetkv.jetstream.stream.StreamConfig;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ApiLevelTest {
    static byte[] hdr(String level) {
        return ("NATS/1.0\r\nNats-Required-Api-Level: " + level + "\r\n\r\n").getBytes(UTF_8);
    }

    static StreamConfig config(String json) {
        return StreamConfig.fromJson(JsJson.decode(json.getBytes(UTF_8)));
    }

    @Test
    void requiredLevelHeader() {
        assertTrue(ApiLevel.satisfied(null, 0));
        assertTrue(ApiLevel.satisfied("NATS/1.0\r\nX: 1\r\n\r\n".getBytes(UTF_8), 0));
        assertTrue(ApiLevel.satisfied(hdr("0"), 0));
        assertFalse(ApiLevel.satisfied(hdr("1"), 0));
        assertTrue(ApiLevel.satisfied(hdr("1"), 1));
        assertFalse(ApiLevel.satisfied(hdr("abc"), 4));
        assertFalse(ApiLevel.satisfied(hdr(""), 4));
    }

    @Test
    void aSourcingRequestRequiresLevelFourOnceTheServerIsThere() {
        assertEquals(null, ApiLevel.sourcingRequestHeaders(3));
        byte[] h = ApiLevel.sourcingRequestHeaders(4);
        assertEquals("NATS/1.0\r\nNats-Required-Api-Level: 4\r\n\r\n", new String(h, UTF_8));
        assertTrue(ApiLevel.satisfied(h, 4));
        assertFalse(ApiLevel.satisfied(h, 3), "an origin below level 4 refuses it, as a 2.12 server does");
        // what this server sends to itself now: never refused by its own level check
        assertTrue(ApiLevel.satisfied(ApiLevel.sourcingRequestHeaders(ApiLevel.SERVER), ApiLevel.SERVER));
    }

    @Test
    void metadataKeysFromLevelOne() {
        Map<String, String> sent = Map.of("a", "b", "_nats.ver", "2.14.5", "_nats.level", "4");
        assertSame(sent, ApiLevel.stored(sent, 1, 0), "level 0 (2.10) keeps metadata as sent");
        assertEquals(Map.of("a", "b", "_nats.req.level", "1"), ApiLevel.stored(sent, 1, 1));
        assertEquals(Map.of("a", "b", "_nats.req.level", "0", "_nats.ver", "2.11.0", "_nats.level", "1"),
                ApiLevel.shown(ApiLevel.stored(Map.of("a", "b"), 0, 1), "2.11.0", 1));
    }

    @Test
    void streamsWithTtlsOrMarkersNeedLevelOne() {
        StreamConfig plain = config("{\"name\":\"S\"}");
        StreamConfig ttl = config("{\"name\":\"S\",\"allow_msg_ttl\":true}");
        StreamConfig markers = config("{\"name\":\"S\",\"subject_delete_marker_ttl\":1000000000}");
        assertEquals(0, plain.requiredApiLevel());
        assertEquals(1, ttl.requiredApiLevel());
        assertEquals(1, markers.requiredApiLevel());
        assertEquals("1", ttl.withApiMetadata(1).metadata().get("_nats.req.level"));
        assertEquals("0", plain.withApiMetadata(1).metadata().get("_nats.req.level"));
        assertSame(ttl, ttl.withApiMetadata(0));
        // an identical re-create compares equal once both have been through the same rewrite
        assertEquals(ttl.withApiMetadata(1), ttl.withApiMetadata(1).withApiMetadata(1));
    }
}
