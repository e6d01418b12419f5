package io.jetkv.jetstream.stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class HeaderBlockTest {
    private static byte[] block(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void withoutReturnsTheSameBlockWhenNoLineStartsWithAPrefix() {
        byte[] b = block("NATS/1.0\r\nX-A: Nats-Request-Info: 1\r\nNats-Msg-Id: 7\r\n\r\n");
        assertSame(b, HeaderBlock.without(b, "Nats-Request-Info:"));
        assertSame(b, HeaderBlock.without(b, "Nats-Request-Info:", "Nats-Batch-"));
        // the version line is never a header line
        byte[] version = block("Nats-Request-Info:\r\n\r\n");
        assertSame(version, HeaderBlock.without(version, "Nats-Request-Info:"));
        assertNull(HeaderBlock.without(null, "Nats-Request-Info:"));
    }

    @Test
    void withoutDropsTheMatchingLinesAndKeepsTheRestVerbatim() {
        byte[] b = block("NATS/1.0\r\nX-A: 1\r\nNats-Request-Info: {\"acc\":\"B\"}\r\nX-B:2\r\n\r\n");
        assertArrayEquals(block("NATS/1.0\r\nX-A: 1\r\nX-B:2\r\n\r\n"), HeaderBlock.without(b, "Nats-Request-Info:"));
        byte[] last = block("NATS/1.0\r\nX-A: é\r\nNats-Batch-Id: x\r\n\r\n");
        assertArrayEquals(block("NATS/1.0\r\nX-A: é\r\n\r\n"), HeaderBlock.without(last, "Nats-Msg-", "Nats-Batch-"));
        // a prefix at the very end of the block
        byte[] end = block("NATS/1.0\r\nNats-Expected-");
        assertArrayEquals(block("NATS/1.0\r\n"), HeaderBlock.without(end, "Nats-Expected-"));
    }
}
