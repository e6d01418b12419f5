package io.jetkv.protocol.codec;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * Decodes the client side of the NATS protocol into {@link ClientOp}s.
 *
 * <pre>
 *   VERB[ \t]+arg[ \t]+arg...\r\n            control line (verb case-insensitive, CR optional)
 *   [header block][payload]\r\n               after PUB/HPUB: exactly size bytes, then CRLF
 * </pre>
 *
 * <p>Hard limits: {@code maxControlLine} bytes of arguments, {@code maxPayload} bytes of PUB payload or HPUB
 * total (checked from the size field before the payload arrives). On any violation it emits one
 * {@link ClientOp.Violation} and discards all further input; the connection decides what to send.
 *
 * <p>Operations go either down the pipeline (one {@code fireChannelRead} each; a {@link ClientOp.Pub} holds a
 * retained slice its receiver releases) or, when built with a {@link ClientOpHandler}, straight to it with
 * an unretained view of the payload: no per-message slice, record or pipeline hop on the publish path.
 *
 * <p>One instance per channel; runs on that channel's event loop.
 */
public final class ClientOpDecoder extends ByteToMessageDecoder {

    private enum State {
        LINE,
        PAYLOAD,
        FAILED
    }

    private final int maxControlLine;
    private final int maxPayload;
    private final ClientOpHandler handler;

    private State state = State.LINE;
    private byte[] line = new byte[256];
    private final int[] tokenStart = new int[6];
    private final int[] tokenEnd = new int[6];

    // the PUB/HPUB whose payload we wait for
    private String pubSubject;
    private String pubReply;
    private int pubHeaderSize;
    private int pubTotal;

    // Publishers repeat subjects: the last PUB subject's bytes and String, reused while the bytes match.
    private byte[] lastSubjectBytes = new byte[0];
    private String lastSubject = "";

    /** Emits operations down the pipeline. */
    public ClientOpDecoder(int maxControlLine, int maxPayload) {
        this(maxControlLine, maxPayload, null);
    }

    /** Hands operations to {@code handler} directly, or emits them down the pipeline when it is null. */
    public ClientOpDecoder(int maxControlLine, int maxPayload, ClientOpHandler handler) {
        this.maxControlLine = maxControlLine;
        this.maxPayload = maxPayload;
        this.handler = handler;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (in.isReadable()) {
            switch (state) {
                case LINE -> {
                    if (!readLine(in, out)) {
                        return;
                    }
                }
                case PAYLOAD -> {
                    if (in.readableBytes() < pubTotal + 2) {
                        return;
                    }
                    int end = in.readerIndex() + pubTotal;
                    if (in.getByte(end) != '\r' || in.getByte(end + 1) != '\n') {
                        fail(in, out, ProtocolError.UNKNOWN_OPERATION);
                        return;
                    }
                    state = State.LINE;
                    String subject = pubSubject;
                    String reply = pubReply;
                    pubSubject = null;
                    pubReply = null;
                    if (handler != null) {
                        // consumed before the call, so a handler that stops the channel sees a settled decoder
                        ByteBuf data = in.slice(in.readerIndex(), pubTotal);
                        in.skipBytes(pubTotal + 2);
                        handler.pub(subject, reply, pubHeaderSize, data);
                    } else {
                        ByteBuf data = in.readRetainedSlice(pubTotal);
                        in.skipBytes(2);
                        out.add(new ClientOp.Pub(subject, reply, pubHeaderSize, data));
                    }
                }
                case FAILED -> {
                    in.skipBytes(in.readableBytes());
                    return;
                }
            }
        }
    }

    /** Reads one control line if complete; false when more bytes are needed or decoding stopped. */
    private boolean readLine(ByteBuf in, List<Object> out) {
        int start = in.readerIndex();
        int readable = in.readableBytes();
        // Room for the verb and separator on top of the argument limit (long: the limit may be near MAX_VALUE).
        long lineLimit = (long) maxControlLine + 16;
        int searchLen = (int) Math.min(readable, lineLimit);
        int lf = in.indexOf(start, start + searchLen, (byte) '\n');
        if (lf < 0) {
            if (readable > lineLimit) {
                fail(in, out, ProtocolError.MAX_CONTROL_LINE);
            }
            return false;
        }
        int len = lf - start;
        if (len > 0 && in.getByte(lf - 1) == '\r') {
            len--;
        }
        if (line.length < len) {
            line = new byte[Math.max(len, line.length * 2)];
        }
        in.getBytes(start, line, 0, len);
        in.readerIndex(lf + 1);
        return parseLine(len, in, out);
    }

    private boolean parseLine(int len, ByteBuf in, List<Object> out) {
        int verbEnd = 0;
        while (verbEnd < len && !isSpace(line[verbEnd])) {
            verbEnd++;
        }
        int argStart = verbEnd;
        while (argStart < len && isSpace(line[argStart])) {
            argStart++;
        }
        if (len - argStart > maxControlLine) {
            fail(in, out, ProtocolError.MAX_CONTROL_LINE);
            return false;
        }
        switch (verb(verbEnd)) {
            case "PUB" -> {
                return parsePub(argStart, len, in, out, false);
            }
            case "HPUB" -> {
                return parsePub(argStart, len, in, out, true);
            }
            case "SUB" -> {
                int n = tokenize(argStart, len);
                if (n == 2) {
                    emit(out, new ClientOp.Sub(token(0), null, token(1)));
                } else if (n == 3) {
                    emit(out, new ClientOp.Sub(token(0), token(1), token(2)));
                } else {
                    fail(in, out, ProtocolError.MALFORMED);
                    return false;
                }
            }
            case "UNSUB" -> {
                int n = tokenize(argStart, len);
                long max = 0;
                if (n == 2) {
                    max = parseSize(1);
                    if (max < 0) {
                        fail(in, out, ProtocolError.MALFORMED);
                        return false;
                    }
                } else if (n != 1) {
                    fail(in, out, ProtocolError.MALFORMED);
                    return false;
                }
                emit(out, new ClientOp.Unsub(token(0), max));
            }
            case "PING" -> {
                if (argStart != len) {
                    fail(in, out, ProtocolError.UNKNOWN_OPERATION);
                    return false;
                }
                emit(out, ClientOp.Ping.INSTANCE);
            }
            case "PONG" -> {
                if (argStart != len) {
                    fail(in, out, ProtocolError.UNKNOWN_OPERATION);
                    return false;
                }
                emit(out, ClientOp.Pong.INSTANCE);
            }
            case "CONNECT" -> {
                int end = len;
                while (end > argStart && isSpace(line[end - 1])) {
                    end--;
                }
                emit(out, new ClientOp.Connect(new String(line, argStart, end - argStart, StandardCharsets.UTF_8)));
            }
            case "INFO" -> emit(out, ClientOp.ClientInfo.INSTANCE);
            default -> {
                fail(in, out, ProtocolError.UNKNOWN_OPERATION);
                return false;
            }
        }
        return true;
    }

    private boolean parsePub(int argStart, int len, ByteBuf in, List<Object> out, boolean headers) {
        int n = tokenize(argStart, len);
        int sizes = headers ? 2 : 1;
        if (n != sizes + 1 && n != sizes + 2) {
            fail(in, out, ProtocolError.MALFORMED);
            return false;
        }
        long total = parseSize(n - 1);
        long headerSize = headers ? parseSize(n - 2) : 0;
        if (total < 0 || headerSize < 0 || headerSize > total) {
            fail(in, out, ProtocolError.MALFORMED);
            return false;
        }
        if (total > maxPayload) {
            fail(in, out, ProtocolError.MAX_PAYLOAD);
            return false;
        }
        pubSubject = subjectToken();
        pubReply = n == sizes + 2 ? token(1) : null;
        pubHeaderSize = (int) headerSize;
        pubTotal = (int) total;
        state = State.PAYLOAD;
        return true;
    }

    private String verb(int verbEnd) {
        // ASCII verbs, case-insensitive: dispatch on the first letter, then confirm the rest.
        if (verbEnd < 3 || verbEnd > 7) {
            return "";
        }
        return switch (line[0] & 0xDF) {
            case 'P' -> verbEnd == 3 ? is("PUB", verbEnd) : (line[1] & 0xDF) == 'I' ? is("PING", verbEnd) : is("PONG", verbEnd);
            case 'S' -> is("SUB", verbEnd);
            case 'H' -> is("HPUB", verbEnd);
            case 'U' -> is("UNSUB", verbEnd);
            case 'C' -> is("CONNECT", verbEnd);
            case 'I' -> is("INFO", verbEnd);
            default -> "";
        };
    }

    /** {@code candidate} when the verb in {@link #line} spells it (any case), else "". */
    private String is(String candidate, int verbEnd) {
        if (candidate.length() != verbEnd) {
            return "";
        }
        for (int i = 1; i < verbEnd; i++) {
            if ((line[i] & 0xDF) != candidate.charAt(i)) {
                return "";
            }
        }
        return candidate;
    }

    private int tokenize(int from, int len) {
        int n = 0;
        int i = from;
        while (i < len) {
            while (i < len && isSpace(line[i])) {
                i++;
            }
            if (i == len) {
                break;
            }
            if (n == tokenStart.length) {
                return n + 1; // too many; callers reject any count above what they accept
            }
            tokenStart[n] = i;
            while (i < len && !isSpace(line[i])) {
                i++;
            }
            tokenEnd[n] = i;
            n++;
        }
        return n;
    }

    private String token(int i) {
        int s = tokenStart[i];
        // UTF-8 decoding takes an ASCII fast path, so subjects in plain ASCII cost one copy
        return new String(line, s, tokenEnd[i] - s, StandardCharsets.UTF_8);
    }

    /** Token 0 as the PUB subject, reusing the previous String when the bytes are the same. */
    private String subjectToken() {
        int s = tokenStart[0];
        int len = tokenEnd[0] - s;
        if (!Arrays.equals(line, s, s + len, lastSubjectBytes, 0, lastSubjectBytes.length)) {
            lastSubjectBytes = Arrays.copyOfRange(line, s, s + len);
            lastSubject = new String(lastSubjectBytes, StandardCharsets.UTF_8);
        }
        return lastSubject;
    }

    /** Parses a non-negative decimal token; -1 when it is not one or overflows. */
    private long parseSize(int i) {
        int s = tokenStart[i];
        int e = tokenEnd[i];
        if (e - s > 18) {
            return -1;
        }
        long v = 0;
        for (int k = s; k < e; k++) {
            int d = line[k] - '0';
            if (d < 0 || d > 9) {
                return -1;
            }
            v = v * 10 + d;
        }
        return v;
    }

    private static boolean isSpace(byte b) {
        return b == ' ' || b == '\t';
    }

    private void emit(List<Object> out, ClientOp op) {
        if (handler != null) {
            handler.op(op);
        } else {
            out.add(op);
        }
    }

    private void fail(ByteBuf in, List<Object> out, ProtocolError error) {
        state = State.FAILED;
        in.skipBytes(in.readableBytes());
        emit(out, new ClientOp.Violation(error));
    }
}
