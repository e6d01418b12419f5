package io.jetkv.jetstream.store;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class MessageTtlTest {
    @Test
    void valuesAsTheReferenceParsesThem() {
        assertEquals(MessageTtl.NEVER, MessageTtl.parse("never"));
        assertEquals(MessageTtl.NEVER, MessageTtl.parse("NeVeR"));
        assertEquals(60, MessageTtl.parse("60"));
        assertEquals(30, MessageTtl.parse("30s"));
        assertEquals(60, MessageTtl.parse("1m0s"));
        assertEquals(3600, MessageTtl.parse("1h0m0s"));
        assertEquals(1, MessageTtl.parse("1.5s"), "truncated to whole seconds");
        assertEquals(90, MessageTtl.parse("1m30s"));
        assertEquals(2, MessageTtl.parse("2000ms"));
        assertEquals(1, MessageTtl.parse("1000000us"));
        assertEquals(5, MessageTtl.parse("+5s"));
    }

    @Test
    void invalidValues() {
        for (String bad : new String[] {"0", "-5", "-5s", "500ms", "0.5s", "abc", "", "5x", "s", "1.", ".", "5 s",
                "nevermore", "99999999999999999999"}) {
            assertEquals(MessageTtl.INVALID, MessageTtl.parse(bad), bad);
        }
    }

    @Test
    void headerFoundExactlyByName() {
        byte[] h = "NATS/1.0\r\nA: b\r\nNats-TTL: 5s\r\n\r\n".getBytes(UTF_8);
        assertEquals("5s", MessageTtl.headerValue(h));
        assertEquals("5", MessageTtl.headerValue("NATS/1.0\r\nNats-TTL:5\r\n\r\n".getBytes(UTF_8)));
        assertNull(MessageTtl.headerValue("NATS/1.0\r\nnats-ttl: 5\r\n\r\n".getBytes(UTF_8)));
        assertNull(MessageTtl.headerValue("NATS/1.0\r\nX-Nats-TTL: 5\r\n\r\n".getBytes(UTF_8)));
        assertNull(MessageTtl.headerValue(null));
        assertEquals(7_000_000_000L, MessageTtl.deadline(h, 2_000_000_000L));
        assertEquals(0, MessageTtl.deadline("NATS/1.0\r\nNats-TTL: never\r\n\r\n".getBytes(UTF_8), 1));
        assertTrue(MessageTtl.isNever("NATS/1.0\r\nNats-TTL: NEVER\r\n\r\n".getBytes(UTF_8)));
        assertFalse(MessageTtl.isNever(h));
    }

    @Test
    void goDurationText() {
        assertEquals("1s", MessageTtl.formatSeconds(1));
        assertEquals("1m0s", MessageTtl.formatSeconds(60));
        assertEquals("1m30s", MessageTtl.formatSeconds(90));
        assertEquals("1h0m0s", MessageTtl.formatSeconds(3600));
        assertEquals("25h0m1s", MessageTtl.formatSeconds(90001));
    }
}
