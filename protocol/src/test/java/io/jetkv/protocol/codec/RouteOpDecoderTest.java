package io.jetkv.protocol.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The route protocol as captured between nats-server 2.9.10 nodes (cluster.md section 2). */
class RouteOpDecoderTest {

    /** Renders each operation as a line, so a transcript compares as one string. */
    private static final class Recorder implements RouteOpHandler {
        final List<String> seen = new ArrayList<>();

        @Override
        public void op(RouteOp op) {
            seen.add(op instanceof Enum<?> ? op.getClass().getSimpleName() : op.toString());
        }

        @Override
        public void msg(String account, String subject, String reply, List<String> queues, int headerSize,
                ByteBuf data) {
            seen.add("MSG " + account + " " + subject + " reply=" + reply + " queues=" + queues + " hdr=" + headerSize
                    + " [" + data.toString(StandardCharsets.UTF_8) + "]");
        }
    }

    private static final String TRANSCRIPT = "CONNECT {\"echo\":true,\"name\":\"NDEA\",\"cluster\":\"C1\"}\r\n"
            + "INFO {\"server_id\":\"NCLX\",\"proto\":2} \r\n"
            + "RS+ $G foo\r\n"
            + "RS+ $G q.x grp 2\r\n"
            + "rs- $G q.x grp\r\n"
            + "RS- $G foo\r\n"
            + "RMSG $G foo 5\r\nhello\r\n"
            + "RMSG $G foo rep.ly 2\r\nhi\r\n"
            + "HMSG $G bar.y r2 18 20\r\nNATS/1.0\r\nA: B\r\n\r\nyo\r\n"
            + "RMSG $G q.x | grp 2\r\nm0\r\n"
            + "RMSG $G q.x + rq grp other 2\r\nrq\r\n"
            + "HMSG $G qsvc + _INBOX.b1.2 workers 12 15\r\nNATS/1.0\r\n\r\nreq\r\n"
            + "RMSG $G empty 0\r\n\r\n"
            + "PING\r\nPONG\r\n+OK\r\n-ERR 'Authorization Violation'\r\n";

    private static final List<String> EXPECTED = List.of(
            "Connect[json={\"echo\":true,\"name\":\"NDEA\",\"cluster\":\"C1\"}]",
            "Info[json={\"server_id\":\"NCLX\",\"proto\":2}]",
            "Sub[account=$G, subject=foo, queue=null, weight=0]",
            "Sub[account=$G, subject=q.x, queue=grp, weight=2]",
            "Unsub[account=$G, subject=q.x, queue=grp]",
            "Unsub[account=$G, subject=foo, queue=null]",
            "MSG $G foo reply=null queues=[] hdr=0 [hello]",
            "MSG $G foo reply=rep.ly queues=[] hdr=0 [hi]",
            "MSG $G bar.y reply=r2 queues=[] hdr=18 [NATS/1.0\r\nA: B\r\n\r\nyo]",
            "MSG $G q.x reply=null queues=[grp] hdr=0 [m0]",
            "MSG $G q.x reply=rq queues=[grp, other] hdr=0 [rq]",
            "MSG $G qsvc reply=_INBOX.b1.2 queues=[workers] hdr=12 [NATS/1.0\r\n\r\nreq]",
            "MSG $G empty reply=null queues=[] hdr=0 []",
            "Ping", "Pong", "Ok",
            "Err[text=Authorization Violation]");

    private static List<String> decode(byte[]... chunks) {
        Recorder r = new Recorder();
        EmbeddedChannel ch = new EmbeddedChannel(new RouteOpDecoder(4096, 1 << 20, r));
        for (byte[] c : chunks) {
            ch.writeInbound(Unpooled.wrappedBuffer(c));
        }
        assertFalse(ch.finish());
        return r.seen;
    }

    @Test
    void wholeTranscript() {
        assertEquals(EXPECTED, decode(TRANSCRIPT.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void splitAtEveryOffset() {
        byte[] all = TRANSCRIPT.getBytes(StandardCharsets.UTF_8);
        for (int at = 1; at < all.length; at++) {
            byte[] a = java.util.Arrays.copyOfRange(all, 0, at);
            byte[] b = java.util.Arrays.copyOfRange(all, at, all.length);
            assertEquals(EXPECTED, decode(a, b), "split at " + at);
        }
    }

    @Test
    void byteByByte() {
        byte[] all = TRANSCRIPT.getBytes(StandardCharsets.UTF_8);
        byte[][] chunks = new byte[all.length][];
        for (int i = 0; i < all.length; i++) {
            chunks[i] = new byte[] {all[i]};
        }
        assertEquals(EXPECTED, decode(chunks));
    }

    @Test
    void violationsStopDecoding() {
        assertEquals(List.of("Violation[error=UNKNOWN_OPERATION]"), decode(bytes("FOO bar\r\nPING\r\n")));
        assertEquals(List.of("Violation[error=MALFORMED]"), decode(bytes("RS+ $G\r\nPING\r\n")));
        assertEquals(List.of("Violation[error=MALFORMED]"), decode(bytes("RS+ $G q g x\r\n")));
        assertEquals(List.of("Violation[error=MALFORMED]"), decode(bytes("RMSG $G foo x\r\n")));
        assertEquals(List.of("Violation[error=MALFORMED]"), decode(bytes("RMSG $G foo + r 2\r\nhi\r\n")));
        assertEquals(List.of("Violation[error=MALFORMED]"), decode(bytes("HMSG $G foo 5 2\r\nhi\r\n")));
        assertEquals(List.of("Violation[error=MAX_PAYLOAD]"), decode(bytes("RMSG $G foo 2000000\r\n")));
        assertEquals(List.of("Violation[error=UNKNOWN_OPERATION]"), decode(bytes("RMSG $G foo 2\r\nhiX\r\n")));
        assertEquals(List.of("Violation[error=MAX_CONTROL_LINE]"), decode(bytes("RS+ " + "a".repeat(5000) + "\r\n")));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
