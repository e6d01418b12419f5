package io.jetkv.jetstream.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jetkv.jetstream.store.MemoryStreamStore;
import io.jetkv.jetstream.store.StoredMessage;
import io.jetkv.jetstream.store.StreamState;
import io.jetkv.jetstream.stream.StreamConfig;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Reads a snapshot that nats-server 2.9.10 produced ({@code snapshot/nats-server-2.9.10-REF.tar.s2}, made by
 * {@code make-nats-server-snapshot.go} beside it): stream REF on {@code ref.>}, 40 messages on ref.0..2, every
 * fourth with header {@code X-N}, 7 deleted, 8 erased, 40 deleted; consumer C has acked 1 and 3 of the first 5.
 */
class NatsServerArchiveTest {

    private static byte[] resource() throws IOException {
        try (InputStream in = NatsServerArchiveTest.class.getResourceAsStream("/snapshot/nats-server-2.9.10-REF.tar.s2")) {
            assertNotNull(in);
            return in.readAllBytes();
        }
    }

    private static Archive open(byte[] s2) throws IOException {
        return Archives.open(new TarReader(new S2InputStream(new ByteArrayInputStream(s2)), Archives.MAX_ENTRY));
    }

    @Test
    void restoresMessagesDeletesConfigAndConsumer() throws IOException {
        Archive a = open(resource());
        ObjectNode cfg = a.config();
        assertEquals("REF", cfg.get("name").asText());
        assertNull(cfg.get("Created"));
        StreamConfig parsed = StreamConfig.fromJson(cfg);
        assertEquals(List.of("ref.>"), parsed.subjects());
        assertEquals(1796618754223553763L, a.created()); // 2026-12-07T04:45:54.223553763Z

        MemoryStreamStore store = new MemoryStreamStore();
        a.fill(store);
        StreamState st = store.state();
        assertEquals(37, st.msgs());
        assertEquals(1, st.firstSeq());
        assertEquals(40, st.lastSeq());
        for (long seq = 1; seq <= 40; seq++) {
            StoredMessage m = store.load(seq);
            if (seq == 7 || seq == 8 || seq == 40) {
                assertNull(m, "deleted " + seq);
                continue;
            }
            assertNotNull(m, "message " + seq);
            assertEquals("ref." + seq % 3, m.subject());
            assertEquals("payload " + seq + " abcdefabcdefabcdefabcdef", new String(m.payload(), StandardCharsets.UTF_8));
            if (seq % 4 == 0) {
                assertEquals("NATS/1.0\r\nX-N: " + seq + "\r\n\r\n", new String(m.headers(), StandardCharsets.UTF_8));
            } else {
                assertNull(m.headers());
            }
        }
        // timestamps are nanoseconds and ascend
        long t1 = store.load(1).timestamp();
        assertEquals(1796618754228979526L, t1); // first_ts in the snapshot response
        assertEquals(true, store.load(39).timestamp() > t1);

        assertEquals(1, a.consumers().size());
        ObjectNode c = a.consumers().get(0);
        assertEquals("C", c.get("name").asText());
        assertEquals("explicit", c.path("config").path("ack_policy").asText());
        assertNull(c.path("config").get("Name"));
        JsonNode s = c.get("state");
        assertEquals(5, s.get("dseq").asLong());
        assertEquals(5, s.get("last_sseq").asLong());
        assertEquals(1, s.get("ack_floor_sseq").asLong());
        assertEquals("[[2,2,1],[4,4,1],[5,5,1]]", s.get("pending").toString());
    }

    @Test
    void refusesWhatIsNotAStreamSnapshot() throws IOException {
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        try (TarWriter w = new TarWriter(new S2OutputStream(sink), 0)) {
            w.add("something.txt", new byte[3]);
        }
        assertThrows(IOException.class, () -> open(sink.toByteArray()));
        ByteArrayOutputStream empty = new ByteArrayOutputStream();
        new TarWriter(new S2OutputStream(empty), 0).close();
        assertThrows(IOException.class, () -> open(empty.toByteArray()));
    }

    @Test
    void refusesACorruptBlock() throws IOException {
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        try (TarWriter w = new TarWriter(new S2OutputStream(sink), 0)) {
            w.add("meta.inf", "{\"name\":\"X\",\"subjects\":[\"x\"]}".getBytes(StandardCharsets.UTF_8));
            w.add("msgs/1.blk", new byte[] {(byte) 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                    0, 0, 0, 0, 0, 0, 0});
        }
        Archive a = open(sink.toByteArray());
        assertThrows(IOException.class, () -> a.fill(new MemoryStreamStore()));
    }
}
