package io.jetkv.protocol.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jetkv.protocol.codec.ClientOp.ClientInfo;
import io.jetkv.protocol.codec.ClientOp.Connect;
import io.jetkv.protocol.codec.ClientOp.Ping;
import io.jetkv.protocol.codec.ClientOp.Pong;
import io.jetkv.protocol.codec.ClientOp.Sub;
import io.jetkv.protocol.codec.ClientOp.Unsub;
import io.jetkv.protocol.codec.ClientOp.Violation;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.ByteToMessageDecoder.Cumulator;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link ClientOpDecoder} through an {@link EmbeddedChannel}. Every case is fed whole, one byte at a time and
 * split into two writes at every offset, with both of Netty's cumulators. Every buffer the decoder sees or
 * builds is recorded and must be fully released at the end (on top of the paranoid leak detector).
 */
class ClientOpDecoderTest {

    private static final int MAX_LINE = 4096;
    private static final int MAX_PAYLOAD = 1024 * 1024;
    private static final int SMALL_LINE = 32;
    private static final int SMALL_PAYLOAD = 16;

    private static final Cumulator MERGE = ByteToMessageDecoder.MERGE_CUMULATOR;
    private static final Cumulator COMPOSITE = ByteToMessageDecoder.COMPOSITE_CUMULATOR;

    /** A decoded {@link ClientOp.Pub} with its data copied out, so it compares by value and is released. */
    record P(String subject, String reply, int headerSize, String data) {}

    private static P pub(String subject, String reply, int headerSize, String data) {
        return new P(subject, reply, headerSize, data);
    }

    private static P pub(String subject, String data) {
        return new P(subject, null, 0, data);
    }

    private static Violation violation(ProtocolError error) {
        return new Violation(error);
    }

    /** One channel with the decoder, recording every buffer written in or built as a cumulation. */
    private static final class Harness {
        // Unpooled so a released buffer keeps reporting refCnt 0 (pooled ones are recycled); still leak-aware.
        private final ByteBufAllocator alloc = new UnpooledByteBufAllocator(false);
        private final List<ByteBuf> seen = new ArrayList<>();
        private final EmbeddedChannel channel;
        private final List<Object> decoded = new ArrayList<>();

        Harness(int maxLine, int maxPayload, Cumulator cumulator) {
            ClientOpDecoder decoder = new ClientOpDecoder(maxLine, maxPayload);
            decoder.setCumulator((a, cumulation, in) -> {
                ByteBuf out = cumulator.cumulate(a, cumulation, in);
                seen.add(out);
                return out;
            });
            channel = new EmbeddedChannel();
            channel.config().setAllocator(alloc);
            channel.pipeline().addLast(decoder);
        }

        Harness() {
            this(MAX_LINE, MAX_PAYLOAD, MERGE);
        }

        Harness write(byte[] bytes, int from, int to) {
            ByteBuf buf = alloc.buffer(to - from).writeBytes(bytes, from, to - from);
            seen.add(buf);
            channel.writeInbound(buf);
            return this;
        }

        Harness write(byte[] bytes) {
            return write(bytes, 0, bytes.length);
        }

        Harness write(String text) {
            return write(bytes(text));
        }

        /** Everything decoded so far (including earlier calls), pubs copied and released. */
        List<Object> drain() {
            Object msg;
            while ((msg = channel.readInbound()) != null) {
                if (msg instanceof ClientOp.Pub p) {
                    try {
                        decoded.add(new P(p.subject(), p.reply(), p.headerSize(),
                                p.data().toString(StandardCharsets.UTF_8)));
                        assertEquals(p.data().readableBytes(), p.totalSize());
                    } finally {
                        p.release();
                    }
                } else {
                    decoded.add(msg);
                }
            }
            return decoded;
        }

        /** Drains, closes the channel and checks nothing is left anywhere; returns all ops decoded. */
        List<Object> finish() {
            List<Object> ops = new ArrayList<>(drain());
            assertFalse(channel.finish(), "messages left in the channel");
            assertNull(channel.readInbound());
            for (ByteBuf b : seen) {
                assertEquals(0, b.refCnt(), "buffer not released: " + b);
            }
            return ops;
        }
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static List<Object> whole(byte[] wire, int maxLine, int maxPayload, Cumulator c) {
        return new Harness(maxLine, maxPayload, c).write(wire).finish();
    }

    private static List<Object> byteByByte(byte[] wire, int maxLine, int maxPayload, Cumulator c) {
        Harness h = new Harness(maxLine, maxPayload, c);
        for (int i = 0; i < wire.length; i++) {
            h.write(wire, i, i + 1);
        }
        return h.finish();
    }

    private static List<Object> split(byte[] wire, int at, int maxLine, int maxPayload, Cumulator c) {
        return new Harness(maxLine, maxPayload, c).write(wire, 0, at).write(wire, at, wire.length).finish();
    }

    /** Feeds {@code wire} every way (whole, byte by byte, split at every offset; both cumulators). */
    private static void assertDecodes(String wire, List<?> expected, int maxLine, int maxPayload) {
        assertDecodes(wire, expected, maxLine, maxPayload, true);
    }

    /** With {@code exhaustive} false (long inputs): no splits, and byte by byte only with the merge cumulator. */
    private static void assertDecodes(String wire, List<?> expected, int maxLine, int maxPayload, boolean exhaustive) {
        byte[] b = bytes(wire);
        for (Cumulator c : List.of(MERGE, COMPOSITE)) {
            String how = c == MERGE ? "merge" : "composite";
            assertEquals(expected, whole(b, maxLine, maxPayload, c), "whole, " + how);
            if (exhaustive || c == MERGE) {
                assertEquals(expected, byteByByte(b, maxLine, maxPayload, c), "byte by byte, " + how);
            }
            for (int at = 0; exhaustive && at <= b.length; at++) {
                assertEquals(expected, split(b, at, maxLine, maxPayload, c), "split at " + at + ", " + how);
            }
        }
    }

    private static void assertDecodes(String wire, List<?> expected) {
        assertDecodes(wire, expected, MAX_LINE, MAX_PAYLOAD);
    }

    // ---------------------------------------------------------------- well-formed input

    static Stream<Arguments> wellFormed() {
        return Stream.of(
                // CONNECT
                Arguments.of("CONNECT {\"verbose\":false,\"pedantic\":false}\r\n",
                        List.of(new Connect("{\"verbose\":false,\"pedantic\":false}"))),
                Arguments.of("CONNECT {\"name\":\"a  b\",\"x\":\t1}\r\n",
                        List.of(new Connect("{\"name\":\"a  b\",\"x\":\t1}"))),
                Arguments.of("CONNECT \t {} \t \r\n", List.of(new Connect("{}"))),
                Arguments.of("CONNECT\r\n", List.of(new Connect(""))),
                // PUB
                Arguments.of("PUB foo 5\r\nhello\r\n", List.of(pub("foo", "hello"))),
                Arguments.of("PUB foo.bar rep.ly 5\r\nhello\r\n", List.of(pub("foo.bar", "rep.ly", 0, "hello"))),
                Arguments.of("PUB NOTIFY 0\r\n\r\n", List.of(pub("NOTIFY", ""))),
                Arguments.of("PUB foo 4\r\n\r\n\r\n\r\n", List.of(pub("foo", "\r\n\r\n"))),
                Arguments.of("PUB foo 6\r\nPING\r\n\r\n", List.of(pub("foo", "PING\r\n"))),
                Arguments.of("PUB f\u00f6\u00f6.b\u00e4r 3\r\n\u20ac\r\n", List.of(pub("f\u00f6\u00f6.b\u00e4r", "\u20ac"))),
                // HPUB
                Arguments.of("HPUB h.x 18 23\r\nNATS/1.0\r\nA: B\r\n\r\nhello\r\n",
                        List.of(pub("h.x", null, 18, "NATS/1.0\r\nA: B\r\n\r\nhello"))),
                Arguments.of("HPUB h.y r 12 12\r\nNATS/1.0\r\n\r\n\r\n",
                        List.of(pub("h.y", "r", 12, "NATS/1.0\r\n\r\n"))),
                Arguments.of("HPUB z 0 2\r\nhi\r\n", List.of(pub("z", null, 0, "hi"))),
                Arguments.of("HPUB $KV.cfg.a.b _INBOX.8DL1beu6 0 2\r\nv1\r\n",
                        List.of(pub("$KV.cfg.a.b", "_INBOX.8DL1beu6", 0, "v1"))),
                Arguments.of("HPUB z 0 0\r\n\r\n", List.of(pub("z", null, 0, ""))),
                // SUB
                Arguments.of("SUB foo 1\r\n", List.of(new Sub("foo", null, "1"))),
                Arguments.of("SUB foo.* workers 42\r\n", List.of(new Sub("foo.*", "workers", "42"))),
                Arguments.of("SUB _INBOX.M9XZ.*  1\r\n", List.of(new Sub("_INBOX.M9XZ.*", null, "1"))),
                Arguments.of("SUB foo.> abc\r\n", List.of(new Sub("foo.>", null, "abc"))),
                Arguments.of("SUB f\u00f6\u00f6 q\u00e4 1\r\n", List.of(new Sub("f\u00f6\u00f6", "q\u00e4", "1"))),
                // UNSUB
                Arguments.of("UNSUB 1\r\n", List.of(new Unsub("1", 0))),
                Arguments.of("UNSUB 2 \r\n", List.of(new Unsub("2", 0))),
                Arguments.of("UNSUB 1 5\r\n", List.of(new Unsub("1", 5))),
                Arguments.of("UNSUB 7 0\r\n", List.of(new Unsub("7", 0))),
                // a max that is not a size is -1 (the reference then unsubscribes at once and keeps the connection)
                Arguments.of("UNSUB 1 x\r\n", List.of(new Unsub("1", -1))),
                Arguments.of("UNSUB 1 -1\r\n", List.of(new Unsub("1", -1))),
                Arguments.of("UNSUB 1 1234567890\r\n", List.of(new Unsub("1", -1))),
                // sizes: up to 9 digits, leading zeros allowed
                Arguments.of("PUB foo 0002\r\nhi\r\n", List.of(pub("foo", "hi"))),
                Arguments.of("PUB foo 000000002\r\nhi\r\n", List.of(pub("foo", "hi"))),
                // the verb is matched by its prefix: the rest of a PING/PONG/+OK line is ignored, however long
                Arguments.of("PINGX\r\n", List.of(Ping.INSTANCE)),
                Arguments.of("PING foo bar\r\n", List.of(Ping.INSTANCE)),
                Arguments.of("PING\t1\r\n", List.of(Ping.INSTANCE)),
                Arguments.of("PONGX\r\nPONG x\n", List.of(Pong.INSTANCE, Pong.INSTANCE)),
                Arguments.of("PING" + "x".repeat(200) + "\r\nPING\r\n", List.of(Ping.INSTANCE, Ping.INSTANCE)),
                Arguments.of("+OK\r\n+okay\r\nPING\r\n", List.of(Ping.INSTANCE)),
                // CONNECT and INFO need no blank after the verb: the argument starts at the first non-blank
                Arguments.of("CONNECT{}\r\n", List.of(new Connect("{}"))),
                Arguments.of("CONNECTX {}\r\n", List.of(new Connect("X {}"))),
                Arguments.of("INFOX\r\n", List.of(new ClientInfo("X"))),
                // a CR inside SUB/UNSUB arguments separates them; a CR anywhere drops the byte before LF
                Arguments.of("SUB foo\r1\r\n", List.of(new Sub("foo", null, "1"))),
                Arguments.of("SUB foo 1\rX\n", List.of(new Sub("foo", null, "1"))),
                Arguments.of("UNSUB 1\r5\r\n", List.of(new Unsub("1", 5))),
                // PING, PONG, INFO
                Arguments.of("PING\r\n", List.of(Ping.INSTANCE)),
                Arguments.of("PONG\r\n", List.of(Pong.INSTANCE)),
                Arguments.of("INFO {\"server_id\":\"x\",\"headers\":true}\r\n",
                        List.of(new ClientInfo("{\"server_id\":\"x\",\"headers\":true}"))),
                Arguments.of("INFO\r\n", List.of(new ClientInfo(""))),
                // verbs in any case
                Arguments.of("connect {}\r\n", List.of(new Connect("{}"))),
                Arguments.of("pub foo 2\r\nhi\r\n", List.of(pub("foo", "hi"))),
                Arguments.of("Pub foo 2\r\nhi\r\n", List.of(pub("foo", "hi"))),
                Arguments.of("hPuB foo 0 2\r\nhi\r\n", List.of(pub("foo", null, 0, "hi"))),
                Arguments.of("sub foo 1\r\n", List.of(new Sub("foo", null, "1"))),
                Arguments.of("Sub foo 1\r\n", List.of(new Sub("foo", null, "1"))),
                Arguments.of("unSUB 1\r\n", List.of(new Unsub("1", 0))),
                Arguments.of("ping\r\n", List.of(Ping.INSTANCE)),
                Arguments.of("PoNg\r\n", List.of(Pong.INSTANCE)),
                Arguments.of("info {}\r\n", List.of(new ClientInfo("{}"))),
                // tabs and runs of separators; case of arguments is preserved
                Arguments.of("PUB\tlc  \t 2\r\nyo\r\n", List.of(pub("lc", "yo"))),
                Arguments.of("SUB\tFoo\tQ\t1\r\n", List.of(new Sub("Foo", "Q", "1"))),
                Arguments.of("HPUB \t h \t r\t 0 \t2\r\nhi\r\n", List.of(pub("h", "r", 0, "hi"))),
                Arguments.of("UNSUB \t 3 \t\t 4\r\n", List.of(new Unsub("3", 4))),
                // trailing whitespace
                Arguments.of("PUB foo 2 \t \r\nhi\r\n", List.of(pub("foo", "hi"))),
                Arguments.of("HPUB foo r 0 2\t\r\nhi\r\n", List.of(pub("foo", "r", 0, "hi"))),
                Arguments.of("SUB foo q 1   \r\n", List.of(new Sub("foo", "q", "1"))),
                Arguments.of("PING \t\r\n", List.of(Ping.INSTANCE)),
                Arguments.of("PING\n", List.of(Ping.INSTANCE)),
                Arguments.of("PONG \r\n", List.of(Pong.INSTANCE)),
                // LF-only control lines (the payload terminator stays CRLF)
                Arguments.of("PUB foo 2\nhi\r\n", List.of(pub("foo", "hi"))),
                Arguments.of("SUB foo 1\nUNSUB 1\n", List.of(new Sub("foo", null, "1"), new Unsub("1", 0))),
                Arguments.of("PING\nPONG\n", List.of(Ping.INSTANCE, Pong.INSTANCE)),
                Arguments.of("CONNECT {}\n", List.of(new Connect("{}"))),
                // several ops in one buffer
                Arguments.of("PING\r\nPING\r\n", List.of(Ping.INSTANCE, Ping.INSTANCE)),
                Arguments.of("PUB a 1\r\nx\r\nPUB b 1\r\ny\r\n", List.of(pub("a", "x"), pub("b", "y"))),
                Arguments.of("CONNECT {\"verbose\":false}\r\nSUB foo q 1\r\nPUB foo r 2\r\nhi\r\n"
                                + "HPUB foo 12 14\r\nNATS/1.0\r\n\r\nyo\r\nUNSUB 1 10\r\nPING\r\nPONG\r\n",
                        List.of(new Connect("{\"verbose\":false}"), new Sub("foo", "q", "1"),
                                pub("foo", "r", 0, "hi"), pub("foo", null, 12, "NATS/1.0\r\n\r\nyo"),
                                new Unsub("1", 10), Ping.INSTANCE, Pong.INSTANCE)));
    }

    @ParameterizedTest
    @MethodSource("wellFormed")
    void decodesEveryWay(String wire, List<?> expected) {
        assertDecodes(wire, expected);
    }

    @ParameterizedTest
    @MethodSource("wellFormed")
    void decodesEveryWayWithSmallLimits(String wire, List<?> expected) {
        assertDecodes(wire, expected, 64, 32);
    }

    @Test
    void manyOpsInOneBuffer() {
        StringBuilder wire = new StringBuilder();
        List<Object> expected = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            wire.append("SUB s.").append(i).append(' ').append(i).append("\r\n");
            expected.add(new Sub("s." + i, null, Integer.toString(i)));
            String payload = "m" + i;
            wire.append("PUB s.").append(i).append(' ').append(payload.length()).append("\r\n")
                    .append(payload).append("\r\n");
            expected.add(pub("s." + i, payload));
            wire.append("HPUB s.").append(i).append(" r 12 ").append(12 + payload.length()).append("\r\n")
                    .append("NATS/1.0\r\n\r\n").append(payload).append("\r\n");
            expected.add(pub("s." + i, "r", 12, "NATS/1.0\r\n\r\n" + payload));
            wire.append("PING\r\n");
            expected.add(Ping.INSTANCE);
        }
        byte[] b = bytes(wire.toString());
        for (Cumulator c : List.of(MERGE, COMPOSITE)) {
            assertEquals(expected, whole(b, MAX_LINE, MAX_PAYLOAD, c));
            for (int chunk : c == MERGE ? new int[] {1, 3, 64, 1000} : new int[] {7, 1000}) {
                Harness h = new Harness(MAX_LINE, MAX_PAYLOAD, c);
                for (int from = 0; from < b.length; from += chunk) {
                    h.write(b, from, Math.min(b.length, from + chunk));
                }
                assertEquals(expected, h.finish(), "chunks of " + chunk);
            }
        }
    }

    @Test
    void pubsReleasedOneByOneWhileMoreInputArrives() {
        // The consumer releases each Pub before the next write: the cumulation must not be corrupted.
        Harness h = new Harness();
        for (int i = 0; i < 100; i++) {
            h.write("PUB x 3\r\nab");
            h.write("c\r\nPUB y 1\r\n");
            h.write("z\r\n");
            List<Object> ops = h.drain();
            assertEquals(List.of(pub("x", "abc"), pub("y", "z")), ops.subList(ops.size() - 2, ops.size()));
        }
        assertEquals(200, h.finish().size());
    }

    @Test
    void payloadOfExactlyMaxPayloadIsAccepted() {
        byte[] payload = new byte[MAX_PAYLOAD];
        Arrays.fill(payload, (byte) 'a');
        String data = new String(payload, StandardCharsets.US_ASCII);
        Harness h = new Harness();
        h.write("PUB big " + MAX_PAYLOAD + "\r\n");
        assertEquals(List.of(), h.drain(), "nothing until the payload is complete");
        h.write(payload, 0, MAX_PAYLOAD / 2).write(payload, MAX_PAYLOAD / 2, MAX_PAYLOAD);
        assertEquals(List.of(), h.drain(), "nothing until the CRLF");
        h.write("\r\nHPUB big 12 " + MAX_PAYLOAD + "\r\nNATS/1.0\r\n\r\n");
        h.write(payload, 12, MAX_PAYLOAD).write("\r\n");
        assertEquals(List.of(pub("big", data), pub("big", null, 12, "NATS/1.0\r\n\r\n" + data.substring(12))),
                h.finish());
    }

    @Test
    void pendingPartialPayloadIsReleasedOnClose() {
        Harness h = new Harness();
        h.write("PUB foo 10\r\nabc");
        assertEquals(List.of(), h.finish());
    }

    @Test
    void argumentsOfExactlyMaxControlLineAreAccepted() {
        for (int limit : new int[] {SMALL_LINE, MAX_LINE}) {
            boolean splits = limit == SMALL_LINE; // feeding a 4 KiB line every way is quadratic: keep it fast
            // "SUB " + subject + " 1": the arguments are the subject, a space and the sid.
            String subject = "s".repeat(limit - 2);
            assertDecodes("SUB " + subject + " 1\r\n", List.of(new Sub(subject, null, "1")), limit, SMALL_PAYLOAD,
                    splits);
            assertDecodes("CONNECT " + "c".repeat(limit) + "\r\n", List.of(new Connect("c".repeat(limit))),
                    limit, SMALL_PAYLOAD, splits);
            String pubSubject = "p".repeat(limit - 2);
            assertDecodes("PUB " + pubSubject + " 1\r\nx\r\n", List.of(pub(pubSubject, "x")), limit, SMALL_PAYLOAD,
                    splits);
        }
    }

    @Test
    void hugeMaxControlLineDoesNotOverflow() {
        Harness h = new Harness(Integer.MAX_VALUE, MAX_PAYLOAD, MERGE);
        h.write("PING\r\nSUB foo 1\r\n");
        assertEquals(List.of(Ping.INSTANCE, new Sub("foo", null, "1")), h.finish());
    }

    // ---------------------------------------------------------------- protocol violations

    static Stream<Arguments> violations() {
        return Stream.of(
                // unknown or garbled verbs
                Arguments.of("FOO bar\r\n", List.of(), ProtocolError.UNKNOWN_OPERATION),
                Arguments.of("PUBX foo 1\r\n", List.of(), ProtocolError.UNKNOWN_OPERATION),
                Arguments.of("PIN\r\n", List.of(), ProtocolError.UNKNOWN_OPERATION),
                Arguments.of("MSG foo 1 2\r\n", List.of(), ProtocolError.UNKNOWN_OPERATION),
                Arguments.of("\r\n", List.of(), ProtocolError.UNKNOWN_OPERATION),
                Arguments.of(" PING\r\n", List.of(), ProtocolError.UNKNOWN_OPERATION),
                Arguments.of("PING\r\nhello\r\n", List.of(Ping.INSTANCE), ProtocolError.UNKNOWN_OPERATION),
                Arguments.of("HMSG foo 1 2 2\r\n", List.of(), ProtocolError.UNKNOWN_OPERATION),
                Arguments.of("SUBX foo 1\r\n", List.of(), ProtocolError.UNKNOWN_OPERATION),
                Arguments.of("UNSUBX 1\r\n", List.of(), ProtocolError.UNKNOWN_OPERATION),
                Arguments.of("HPUBX foo 0 1\r\n", List.of(), ProtocolError.UNKNOWN_OPERATION),
                Arguments.of("-ERRX\r\n", List.of(), ProtocolError.UNKNOWN_OPERATION),
                Arguments.of("+X\r\n", List.of(), ProtocolError.UNKNOWN_OPERATION),
                Arguments.of("{\"verbose\":false}\r\n", List.of(), ProtocolError.UNKNOWN_OPERATION),
                // verbs with arguments need a blank before them
                Arguments.of("PUB\r\n", List.of(), ProtocolError.UNKNOWN_OPERATION),
                Arguments.of("PUB\n", List.of(), ProtocolError.UNKNOWN_OPERATION),
                Arguments.of("HPUB\r\n", List.of(), ProtocolError.UNKNOWN_OPERATION),
                Arguments.of("SUB\r\n", List.of(), ProtocolError.UNKNOWN_OPERATION),
                Arguments.of("UNSUB\r\n", List.of(), ProtocolError.UNKNOWN_OPERATION),
                Arguments.of("-ERR\r\n", List.of(), ProtocolError.UNKNOWN_OPERATION),
                // an -ERR from a client closes it without an answer
                Arguments.of("-ERR 'x'\r\n", List.of(), ProtocolError.MALFORMED),
                // payload not followed by CRLF / size disagreeing with the payload
                Arguments.of("PUB foo 3\r\nhello\r\n", List.of(), ProtocolError.UNKNOWN_OPERATION),
                Arguments.of("PUB foo 5\r\nhi\r\n\r\n\r\n", List.of(), ProtocolError.UNKNOWN_OPERATION),
                Arguments.of("PUB foo 2\r\nhi\n", List.of(), ProtocolError.UNKNOWN_OPERATION),
                Arguments.of("PUB foo 2\r\nhi\rX", List.of(), ProtocolError.UNKNOWN_OPERATION),
                Arguments.of("PUB foo 2\r\nhiPING\r\n", List.of(), ProtocolError.UNKNOWN_OPERATION),
                Arguments.of("HPUB foo 12 14\r\nNATS/1.0\r\n\r\nyo!\r\n", List.of(), ProtocolError.UNKNOWN_OPERATION),
                Arguments.of("PUB foo 2\r\nhi\r\nPUB foo 1\r\nxy\r\n", List.of(pub("foo", "hi")),
                        ProtocolError.UNKNOWN_OPERATION),
                // PUB / HPUB argument count
                Arguments.of("PUB \r\n", List.of(), ProtocolError.MALFORMED),
                Arguments.of("PUB \t \r\n", List.of(), ProtocolError.MALFORMED),
                Arguments.of("PUB foo\r1\r\n", List.of(), ProtocolError.MALFORMED),
                Arguments.of("PUB foo\r\n", List.of(), ProtocolError.MALFORMED),
                Arguments.of("PUB foo bar baz 1\r\n", List.of(), ProtocolError.MALFORMED),
                Arguments.of("HPUB foo 5\r\n", List.of(), ProtocolError.MALFORMED),
                Arguments.of("HPUB foo r 0 2 3\r\n", List.of(), ProtocolError.MALFORMED),
                Arguments.of("HPUB a b c d e f g 1 2\r\n", List.of(), ProtocolError.MALFORMED),
                // sizes that are not non-negative decimals
                Arguments.of("PUB foo x\r\n", List.of(), ProtocolError.MALFORMED),
                Arguments.of("PUB foo -1\r\n", List.of(), ProtocolError.MALFORMED),
                Arguments.of("PUB foo +1\r\n", List.of(), ProtocolError.MALFORMED),
                Arguments.of("PUB foo 1x\r\n", List.of(), ProtocolError.MALFORMED),
                Arguments.of("PUB foo 0x10\r\n", List.of(), ProtocolError.MALFORMED),
                Arguments.of("PUB foo 99999999999999999999999\r\n", List.of(), ProtocolError.MALFORMED),
                // ten digits are not a size, even when the value would fit
                Arguments.of("PUB foo 0000000002\r\n", List.of(), ProtocolError.MALFORMED),
                Arguments.of("PUB foo 4294967297\r\n", List.of(), ProtocolError.MALFORMED),
                Arguments.of("HPUB foo 0000000000 2\r\n", List.of(), ProtocolError.MALFORMED),
                Arguments.of("HPUB foo x 5\r\n", List.of(), ProtocolError.MALFORMED),
                Arguments.of("HPUB foo -1 5\r\n", List.of(), ProtocolError.MALFORMED),
                Arguments.of("HPUB foo 2 -5\r\n", List.of(), ProtocolError.MALFORMED),
                Arguments.of("HPUB foo r 2 five\r\n", List.of(), ProtocolError.MALFORMED),
                // header size larger than total
                Arguments.of("HPUB foo 6 5\r\n", List.of(), ProtocolError.MALFORMED),
                Arguments.of("HPUB foo r 13 12\r\n", List.of(), ProtocolError.MALFORMED),
                // SUB / UNSUB arguments
                Arguments.of("SUB \r\n", List.of(), ProtocolError.MALFORMED),
                Arguments.of("SUB foo\r\n", List.of(), ProtocolError.MALFORMED),
                Arguments.of("SUB foo q 1 extra\r\n", List.of(), ProtocolError.MALFORMED),
                Arguments.of("UNSUB \r\n", List.of(), ProtocolError.MALFORMED),
                Arguments.of("UNSUB 1 2 3\r\n", List.of(), ProtocolError.MALFORMED),
                // payload limit (the small config allows 16 bytes)
                Arguments.of("PUB foo 17\r\n", List.of(), ProtocolError.MAX_PAYLOAD),
                Arguments.of("HPUB foo 12 17\r\n", List.of(), ProtocolError.MAX_PAYLOAD),
                Arguments.of("PUB foo 999999999\r\n", List.of(), ProtocolError.MAX_PAYLOAD),
                Arguments.of("SUB foo 1\r\nPUB foo 16\r\n0123456789abcdef\r\nPUB foo 17\r\n",
                        List.of(new Sub("foo", null, "1"), pub("foo", "0123456789abcdef")), ProtocolError.MAX_PAYLOAD),
                // control line limit (the small config allows 32 bytes of arguments)
                Arguments.of("SUB " + "s".repeat(SMALL_LINE - 1) + " 1\r\n", List.of(), ProtocolError.MAX_CONTROL_LINE),
                Arguments.of("PUB " + "p".repeat(SMALL_LINE - 1) + " 1\r\nx\r\n", List.of(),
                        ProtocolError.MAX_CONTROL_LINE),
                Arguments.of("CONNECT " + "c".repeat(SMALL_LINE + 1) + "\r\n", List.of(),
                        ProtocolError.MAX_CONTROL_LINE),
                // trailing whitespace counts towards the limit, as in nats-server
                Arguments.of("CONNECT " + "c".repeat(SMALL_LINE) + " \r\n", List.of(),
                        ProtocolError.MAX_CONTROL_LINE),
                Arguments.of("PING\r\nSUB " + "s".repeat(10 * SMALL_LINE), List.of(Ping.INSTANCE),
                        ProtocolError.MAX_CONTROL_LINE),
                // a run of blanks is bounded too (the reference skips any number; we refuse to buffer them)
                Arguments.of("SUB" + " ".repeat(SMALL_LINE + 2), List.of(), ProtocolError.MAX_CONTROL_LINE),
                // a line that is no operation is refused at its first byte, not at the limit
                Arguments.of("x".repeat(SMALL_LINE + 100), List.of(), ProtocolError.UNKNOWN_OPERATION));
    }

    /**
     * The case, followed by valid ops that must not be decoded, fed every way: the ops before the violation,
     * then exactly one Violation, then nothing.
     */
    @ParameterizedTest
    @MethodSource("violations")
    void violationStopsDecoding(String wire, List<?> before, ProtocolError error) {
        List<Object> expected = new ArrayList<>(before);
        expected.add(violation(error));
        assertDecodes(wire + "PING\r\nPUB foo 1\r\nx\r\n", expected, SMALL_LINE, SMALL_PAYLOAD);
    }

    @Test
    void nothingIsDecodedAfterAViolationEvenInLaterWrites() {
        Harness h = new Harness();
        h.write("PING\r\nBOGUS\r\n");
        assertEquals(List.of(Ping.INSTANCE, violation(ProtocolError.UNKNOWN_OPERATION)), h.drain());
        h.write("PING\r\nPUB foo 2\r\nhi\r\n");
        h.write("SUB foo 1\r\n");
        assertEquals(List.of(Ping.INSTANCE, violation(ProtocolError.UNKNOWN_OPERATION)), h.finish());
    }

    @ParameterizedTest
    @CsvSource({
        "'PUB foo 1048577\r\n'",
        "'PUB foo rep 1048577\r\n'",
        "'HPUB foo 12 1048577\r\n'",
        "'HPUB foo rep 1048577 1048577\r\n'",
        "'PUB foo 999999999\r\n'",
    })
    void sizeOverMaxPayloadIsRejectedFromTheControlLineAlone(String line) {
        Harness h = new Harness();
        h.write(line);
        assertEquals(List.of(violation(ProtocolError.MAX_PAYLOAD)), h.drain());
        assertEquals(List.of(violation(ProtocolError.MAX_PAYLOAD)), h.finish());
    }

    @Test
    void sizeOfExactlyMaxPayloadWaitsForThePayload() {
        Harness h = new Harness();
        h.write("PUB foo 1048576\r\nHPUB");
        assertEquals(List.of(), h.drain());
        assertEquals(List.of(), h.finish());
    }

    @Test
    void controlLineOneByteOverTheLimitIsRejected() {
        for (int limit : new int[] {SMALL_LINE, MAX_LINE}) {
            for (String verb : List.of("SUB ", "sub\t\t")) {
                String ok = verb + "s".repeat(limit - 2) + " 1\r\n";
                String over = verb + "s".repeat(limit - 1) + " 1\r\n";
                assertEquals(List.of(new Sub("s".repeat(limit - 2), null, "1")),
                        whole(bytes(ok), limit, SMALL_PAYLOAD, MERGE), "limit " + limit);
                assertEquals(List.of(violation(ProtocolError.MAX_CONTROL_LINE)),
                        whole(bytes(over), limit, SMALL_PAYLOAD, MERGE), "limit " + limit);
                assertEquals(List.of(violation(ProtocolError.MAX_CONTROL_LINE)),
                        byteByByte(bytes(over), limit, SMALL_PAYLOAD, MERGE), "limit " + limit);
            }
        }
    }

    @Test
    void controlLineWithoutLfIsRejectedOnceItPassesTheLimit() {
        for (int limit : new int[] {SMALL_LINE, MAX_LINE}) {
            // Fed one byte at a time with no LF ever: the violation must come while the line is being read,
            // a little after the limit (the verb and separator have a small allowance), not at the end.
            Harness h = new Harness(limit, MAX_PAYLOAD, MERGE);
            byte[] line = bytes("PUB " + "x".repeat(4 * limit));
            int fed = 0;
            while (h.drain().isEmpty() && fed < line.length) {
                h.write(line, fed, fed + 1);
                fed++;
            }
            assertEquals(List.of(violation(ProtocolError.MAX_CONTROL_LINE)), h.finish());
            assertTrue(fed > limit, "rejected after only " + fed + " bytes");
            assertTrue(fed <= limit + 32, "rejected only after " + fed + " bytes, limit " + limit);
        }
    }

    @Test
    void longLineWithinTheLimitWaitsForLf() {
        Harness h = new Harness(SMALL_LINE, SMALL_PAYLOAD, MERGE);
        h.write("SUB " + "s".repeat(SMALL_LINE - 2) + " 1");
        assertEquals(List.of(), h.drain());
        h.write("\r\n");
        assertEquals(List.of(new Sub("s".repeat(SMALL_LINE - 2), null, "1")), h.finish());
    }

    @Test
    void handlerGetsOpsInWireOrderWithoutRetainedPayloads() {
        List<Object> seen = new ArrayList<>();
        List<String> subjects = new ArrayList<>();
        ClientOpHandler handler = new ClientOpHandler() {
            @Override
            public void op(ClientOp op) {
                seen.add(op);
            }

            @Override
            public void pub(String subject, String reply, int headerSize, ByteBuf data) {
                subjects.add(subject);
                seen.add(new P(subject, reply, headerSize, data.toString(StandardCharsets.UTF_8)));
            }
        };
        EmbeddedChannel ch = new EmbeddedChannel(new ClientOpDecoder(MAX_LINE, MAX_PAYLOAD, handler));
        byte[] input = bytes("SUB a 1\r\nPUB a 2\r\nhi\r\nPUB a r 3\r\nyes\r\nPING\r\n");
        List<ByteBuf> fed = new ArrayList<>();
        for (byte b : input) {
            ByteBuf buf = UnpooledByteBufAllocator.DEFAULT.buffer(1).writeByte(b);
            fed.add(buf);
            ch.writeInbound(buf);
        }
        assertEquals(List.of(new Sub("a", null, "1"), pub("a", "hi"), pub("a", "r", 0, "yes"), Ping.INSTANCE), seen);
        assertTrue(subjects.get(0) == subjects.get(1), "a repeated subject reuses its String");
        assertFalse(ch.finish(), "nothing goes down the pipeline");
        for (ByteBuf buf : fed) {
            assertEquals(0, buf.refCnt());
        }
    }

    // ---------------------------------------------------------------- connection state

    private static List<Object> decodeWith(ClientOpDecoder decoder, String wire) {
        List<Object> seen = new ArrayList<>();
        EmbeddedChannel ch = new EmbeddedChannel(decoder);
        for (byte b : bytes(wire)) {
            ch.writeInbound(UnpooledByteBufAllocator.DEFAULT.buffer(1).writeByte(b));
        }
        Object msg;
        while ((msg = ch.readInbound()) != null) {
            if (msg instanceof ClientOp.Pub p) {
                seen.add(new P(p.subject(), p.reply(), p.headerSize(), p.data().toString(StandardCharsets.UTF_8)));
                p.release();
            } else {
                seen.add(msg);
            }
        }
        assertFalse(ch.finish());
        return seen;
    }

    @ParameterizedTest
    @CsvSource({
        "'PING\r\n', AUTHORIZATION_VIOLATION",
        "'PUB\r\n', AUTHORIZATION_VIOLATION",
        "'XYZ\r\n', AUTHORIZATION_VIOLATION",
        "'+OK\r\n', AUTHORIZATION_VIOLATION",
        "'CXYZ\r\n', UNKNOWN_OPERATION",
    })
    void whileConnectIsRequiredOnlyConnectMayStart(String wire, ProtocolError error) {
        ClientOpDecoder decoder = new ClientOpDecoder(MAX_LINE, MAX_PAYLOAD);
        decoder.requireConnect(true);
        assertEquals(List.of(violation(error)), decodeWith(decoder, wire + "CONNECT {}\r\n"));
    }

    @Test
    void connectIsAcceptedWhileRequiredAndLaterOpsOnceReleased() {
        List<Object> seen = new ArrayList<>();
        ClientOpDecoder[] decoder = new ClientOpDecoder[1];
        decoder[0] = new ClientOpDecoder(MAX_LINE, MAX_PAYLOAD, new ClientOpHandler() {
            @Override
            public void op(ClientOp op) {
                seen.add(op);
                if (op instanceof Connect) {
                    decoder[0].requireConnect(false); // as the connection does once CONNECT authenticates
                }
            }

            @Override
            public void pub(String subject, String reply, int headerSize, ByteBuf data) {}
        });
        decoder[0].requireConnect(true);
        EmbeddedChannel ch = new EmbeddedChannel(decoder[0]);
        ch.writeInbound(UnpooledByteBufAllocator.DEFAULT.buffer().writeBytes(bytes("connect {}\r\nPING\r\n")));
        assertEquals(List.of(new Connect("{}"), Ping.INSTANCE), seen);
        assertFalse(ch.finish());
    }

    @ParameterizedTest
    @CsvSource({"'HPUB foo 0 2\r\nhi\r\n'", "'HPUB foo 12 12\r\n'", "'HPUB foo 2 1048577\r\n'", "'hpub x y\r\n'"})
    void hpubWithoutHeadersIsMalformedBeforeItsSizesAreRead(String wire) {
        ClientOpDecoder decoder = new ClientOpDecoder(MAX_LINE, MAX_PAYLOAD);
        decoder.headersEnabled(false);
        assertEquals(List.of(violation(ProtocolError.MALFORMED)), decodeWith(decoder, wire + "PING\r\n"));
    }

    @Test
    void hpubIsDecodedOnceHeadersAreEnabledAgain() {
        ClientOpDecoder decoder = new ClientOpDecoder(MAX_LINE, MAX_PAYLOAD);
        decoder.headersEnabled(false);
        decoder.headersEnabled(true);
        assertEquals(List.of(pub("foo", null, 0, "hi")), decodeWith(decoder, "HPUB foo 0 2\r\nhi\r\n"));
    }
}
