package io.jetkv.protocol.codec;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Decodes the route protocol that nats-server 2.9 speaks between servers (see cluster.md section 2):
 *
 * <pre>
 *   INFO {json} | CONNECT {json} | PING | PONG | +OK | -ERR 'text'
 *   RS+ acc subject [queue weight]          RS- acc subject [queue]
 *   RMSG acc subject [reply] size\r\n payload\r\n
 *   RMSG acc subject (+ reply | '|') queue... size\r\n payload\r\n
 *   HMSG acc subject ... hdr-size total-size\r\n headers payload\r\n
 * </pre>
 *
 * <p>Limits: {@code maxControlLine} bytes of arguments and {@code maxPayload} bytes per message. On a violation
 * it hands one {@link RouteOp.Violation} to the handler and discards all further input.
 *
 * <p>One instance per route channel; runs on that channel's event loop.
 */
public final class RouteOpDecoder extends ByteToMessageDecoder {

    private enum State {
        LINE,
        PAYLOAD,
        FAILED
    }

    private final int maxControlLine;
    private final int maxPayload;
    private final RouteOpHandler handler;

    private State state = State.LINE;
    private byte[] line = new byte[256];
    private int[] tokenStart = new int[8];
    private int[] tokenEnd = new int[8];

    // the RMSG/HMSG whose payload we wait for
    private String msgAccount;
    private String msgSubject;
    private String msgReply;
    private List<String> msgQueues;
    private int msgHeaderSize;
    private int msgTotal;

    public RouteOpDecoder(int maxControlLine, int maxPayload, RouteOpHandler handler) {
        this.maxControlLine = maxControlLine;
        this.maxPayload = maxPayload;
        this.handler = handler;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (in.isReadable()) {
            switch (state) {
                case LINE -> {
                    if (!readLine(in)) {
                        return;
                    }
                }
                case PAYLOAD -> {
                    if (in.readableBytes() < msgTotal + 2) {
                        return;
                    }
                    int end = in.readerIndex() + msgTotal;
                    if (in.getByte(end) != '\r' || in.getByte(end + 1) != '\n') {
                        fail(in, ProtocolError.UNKNOWN_OPERATION);
                        return;
                    }
                    state = State.LINE;
                    ByteBuf data = in.slice(in.readerIndex(), msgTotal);
                    in.skipBytes(msgTotal + 2);
                    String account = msgAccount;
                    String subject = msgSubject;
                    String reply = msgReply;
                    List<String> queues = msgQueues;
                    msgAccount = null;
                    msgSubject = null;
                    msgReply = null;
                    msgQueues = null;
                    handler.msg(account, subject, reply, queues, msgHeaderSize, data);
                }
                case FAILED -> {
                    in.skipBytes(in.readableBytes());
                    return;
                }
            }
        }
    }

    private boolean readLine(ByteBuf in) {
        int start = in.readerIndex();
        int readable = in.readableBytes();
        long lineLimit = (long) maxControlLine + 16;
        int searchLen = (int) Math.min(readable, lineLimit);
        int lf = in.indexOf(start, start + searchLen, (byte) '\n');
        if (lf < 0) {
            if (readable > lineLimit) {
                fail(in, ProtocolError.MAX_CONTROL_LINE);
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
        return parseLine(len, in);
    }

    private boolean parseLine(int len, ByteBuf in) {
        int verbEnd = 0;
        while (verbEnd < len && !isSpace(line[verbEnd])) {
            verbEnd++;
        }
        int argStart = verbEnd;
        while (argStart < len && isSpace(line[argStart])) {
            argStart++;
        }
        // messages first, without building a String for the verb: they are nearly all the traffic
        if (verbEnd == 4 && (line[1] & 0xDF) == 'M' && (line[2] & 0xDF) == 'S' && (line[3] & 0xDF) == 'G') {
            int first = line[0] & 0xDF;
            if (first == 'R') {
                return parseMsg(argStart, len, in, false);
            }
            if (first == 'H') {
                return parseMsg(argStart, len, in, true);
            }
        }
        String verb = new String(line, 0, verbEnd, StandardCharsets.US_ASCII).toUpperCase(java.util.Locale.ROOT);
        switch (verb) {
            case "RMSG" -> {
                return parseMsg(argStart, len, in, false);
            }
            case "HMSG" -> {
                return parseMsg(argStart, len, in, true);
            }
            case "RS+" -> {
                int n = tokenize(argStart, len);
                if (n == 2) {
                    handler.op(new RouteOp.Sub(token(0), token(1), null, 0));
                } else if (n == 4) {
                    long weight = parseSize(3);
                    if (weight < 0 || weight > Integer.MAX_VALUE) {
                        return fail(in, ProtocolError.MALFORMED);
                    }
                    handler.op(new RouteOp.Sub(token(0), token(1), token(2), (int) weight));
                } else {
                    return fail(in, ProtocolError.MALFORMED);
                }
            }
            case "RS-" -> {
                int n = tokenize(argStart, len);
                if (n == 2) {
                    handler.op(new RouteOp.Unsub(token(0), token(1), null));
                } else if (n == 3) {
                    handler.op(new RouteOp.Unsub(token(0), token(1), token(2)));
                } else {
                    return fail(in, ProtocolError.MALFORMED);
                }
            }
            case "PING" -> handler.op(RouteOp.Ping.INSTANCE);
            case "PONG" -> handler.op(RouteOp.Pong.INSTANCE);
            case "+OK" -> handler.op(RouteOp.Ok.INSTANCE);
            case "INFO" -> handler.op(new RouteOp.Info(rest(argStart, len)));
            case "CONNECT" -> handler.op(new RouteOp.Connect(rest(argStart, len)));
            case "-ERR" -> {
                String text = rest(argStart, len);
                if (text.length() >= 2 && text.startsWith("'") && text.endsWith("'")) {
                    text = text.substring(1, text.length() - 1);
                }
                handler.op(new RouteOp.Err(text));
            }
            default -> {
                return fail(in, ProtocolError.UNKNOWN_OPERATION);
            }
        }
        return state != State.FAILED;
    }

    /**
     * {@code acc subject [reply] size}, or with queues {@code acc subject +|'|' [reply] queue... size};
     * HMSG has a header size before the total.
     */
    private boolean parseMsg(int argStart, int len, ByteBuf in, boolean headers) {
        if (len - argStart > maxControlLine) {
            return fail(in, ProtocolError.MAX_CONTROL_LINE);
        }
        int n = tokenize(argStart, len);
        int sizes = headers ? 2 : 1;
        if (n < 2 + sizes) {
            return fail(in, ProtocolError.MALFORMED);
        }
        long total = parseSize(n - 1);
        long headerSize = headers ? parseSize(n - 2) : 0;
        if (total < 0 || headerSize < 0 || headerSize > total) {
            return fail(in, ProtocolError.MALFORMED);
        }
        if (total > maxPayload) {
            return fail(in, ProtocolError.MAX_PAYLOAD);
        }
        String reply = null;
        List<String> queues = List.of();
        int middle = n - sizes; // tokens 2 .. middle-1 are the reply and/or queue names
        if (middle > 2 && isIndicator(2)) {
            int q = 3;
            if (line[tokenStart[2]] == '+') {
                if (middle < 4) {
                    return fail(in, ProtocolError.MALFORMED);
                }
                reply = token(3);
                q = 4;
            }
            if (q >= middle) {
                return fail(in, ProtocolError.MALFORMED);
            }
            queues = new ArrayList<>(middle - q);
            for (int i = q; i < middle; i++) {
                queues.add(token(i));
            }
        } else if (middle == 3) {
            reply = token(2);
        } else if (middle != 2) {
            return fail(in, ProtocolError.MALFORMED);
        }
        msgAccount = accountToken();
        msgSubject = subjectToken();
        msgReply = reply;
        msgQueues = queues;
        msgHeaderSize = (int) headerSize;
        msgTotal = (int) total;
        state = State.PAYLOAD;
        return true;
    }

    /** The one-character {@code +} or {@code |} that announces queue names. */
    private boolean isIndicator(int i) {
        if (tokenEnd[i] - tokenStart[i] != 1) {
            return false;
        }
        byte b = line[tokenStart[i]];
        return b == '+' || b == '|';
    }

    private String rest(int from, int len) {
        int end = len;
        while (end > from && isSpace(line[end - 1])) {
            end--;
        }
        return new String(line, from, end - from, StandardCharsets.UTF_8);
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
                tokenStart = Arrays.copyOf(tokenStart, n * 2);
                tokenEnd = Arrays.copyOf(tokenEnd, n * 2);
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

    // A route repeats its account and, in a stream of messages, subjects: reuse the last String while the bytes match.
    private byte[] lastAccountBytes = new byte[0];
    private String lastAccount = "";
    private byte[] lastSubjectBytes = new byte[0];
    private String lastSubject = "";

    private String accountToken() {
        int s = tokenStart[0];
        int e = tokenEnd[0];
        if (!Arrays.equals(line, s, e, lastAccountBytes, 0, lastAccountBytes.length)) {
            lastAccountBytes = Arrays.copyOfRange(line, s, e);
            lastAccount = new String(lastAccountBytes, StandardCharsets.UTF_8);
        }
        return lastAccount;
    }

    private String subjectToken() {
        int s = tokenStart[1];
        int e = tokenEnd[1];
        if (!Arrays.equals(line, s, e, lastSubjectBytes, 0, lastSubjectBytes.length)) {
            lastSubjectBytes = Arrays.copyOfRange(line, s, e);
            lastSubject = new String(lastSubjectBytes, StandardCharsets.UTF_8);
        }
        return lastSubject;
    }

    private String token(int i) {
        int s = tokenStart[i];
        return new String(line, s, tokenEnd[i] - s, StandardCharsets.UTF_8);
    }

    private long parseSize(int i) {
        return Ascii.parseDecimal(line, tokenStart[i], tokenEnd[i], 18);
    }

    private static boolean isSpace(byte b) {
        return Ascii.isSpace(b);
    }

    private boolean fail(ByteBuf in, ProtocolError error) {
        state = State.FAILED;
        in.skipBytes(in.readableBytes());
        handler.op(new RouteOp.Violation(error));
        return false;
    }
}
