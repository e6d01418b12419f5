package io.jetkv.jetstream.snapshot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jetkv.jetstream.api.JsJson;
import io.jetkv.jetstream.store.MemoryStreamStore;
import io.jetkv.jetstream.store.StoredMessage;
import io.jetkv.jetstream.store.StreamState;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class JetKvArchiveTest {

    private static StoredMessage msg(long seq, String headers) {
        return new StoredMessage(seq, "s." + seq, headers == null ? null : headers.getBytes(StandardCharsets.US_ASCII),
                ("p" + seq).repeat((int) seq).getBytes(StandardCharsets.US_ASCII), 1_000_000_000L * seq + 7);
    }

    /** Messages 3, 4 and 7 of a stream whose last sequence is 9, one consumer; {@code end} false: cut before the end. */
    private static byte[] archive(boolean end) throws IOException {
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        S2OutputStream s2 = new S2OutputStream(sink);
        JetKvArchive.Writer w = new JetKvArchive.Writer(new TarWriter(s2, 0));
        ObjectNode cfg = JsJson.object();
        cfg.put("name", "T");
        w.meta(cfg, 42, JsJson.object(), java.util.Map.of("mirror O", new byte[] {0, 0, 0, 0, 0, 0, 0, 8}));
        w.message(msg(3, null));
        w.message(msg(4, "NATS/1.0\r\nA: b\r\n\r\n"));
        w.message(msg(7, null));
        ObjectNode c = JsJson.object();
        c.put("name", "C");
        w.consumer(c);
        if (end) {
            w.end(9);
        } else {
            s2.flush(); // what a sender that died here would have sent
        }
        return sink.toByteArray();
    }

    private static Archive open(byte[] b) throws IOException {
        return Archives.open(new TarReader(new S2InputStream(new ByteArrayInputStream(b)), Archives.MAX_ENTRY));
    }

    @Test
    void roundTripsMessagesAtTheirSequencesWithGapsAndTail() throws IOException {
        Archive a = open(archive(true));
        assertEquals("T", a.config().get("name").asText());
        assertEquals(42, a.created());
        MemoryStreamStore store = new MemoryStreamStore();
        a.fill(store);
        StreamState st = store.state();
        assertEquals(3, st.msgs());
        assertEquals(3, st.firstSeq());
        assertEquals(9, st.lastSeq());
        for (long seq : new long[] {3, 4, 7}) {
            StoredMessage want = msg(seq, seq == 4 ? "NATS/1.0\r\nA: b\r\n\r\n" : null);
            StoredMessage got = store.load(seq);
            assertEquals(want.subject(), got.subject());
            assertArrayEquals(want.headers(), got.headers());
            assertArrayEquals(want.payload(), got.payload());
            assertEquals(want.timestamp(), got.timestamp());
        }
        assertNull(store.load(5));
        assertArrayEquals(new byte[] {0, 0, 0, 0, 0, 0, 0, 8}, store.getAux("mirror O"));
        assertEquals(1, a.consumers().size());
        assertEquals("C", a.consumers().get(0).get("name").asText());
    }

    @Test
    void refusesAnArchiveWithoutItsEnd() throws IOException {
        byte[] cut = archive(false);
        Archive a = open(cut);
        assertThrows(IOException.class, () -> a.fill(new MemoryStreamStore()));
    }
}
