package io.jetkv.protocol.codec;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * Decodes the client side of the NATS protocol into {@link ClientOp}s, accepting and refusing exactly what
 * nats-server 2.9 does.
 *
 * <pre>
 *   PUB|HPUB|SUB|UNSUB[ \t]+args\r\n          a space or tab must follow the verb
 *   CONNECT|INFO[ \t]*args\r\n                  the argument starts at the first non-blank byte
 *   PING|PONG|+OK[anything]\n                  the rest of the line is ignored (PINGX is a PING)
 *   [header block][payload]\r\n                 after PUB/HPUB: exactly size bytes, then CRLF
 * </pre>
 *
 * <p>Verbs are matched byte by byte in any case, so a wrong verb is refused as soon as its first wrong byte
 * arrives, without waiting for the end of the line. CR is optional before LF. Sizes are 1 to 9 decimal
 * digits, as in the reference (a longer or signed size is malformed, not a payload violation).
 *
 * <p>Hard limits: {@code maxControlLine} bytes of arguments, {@code maxPayload} bytes of PUB payload or HPUB
 * total (checked from the size field before the payload arrives). On any violation it emits one
 * {@link ClientOp.Violation} and discards all further input; the connection decides what to send.
 *
 * <p>Operations go either down the pipeline (one {@code fireChannelRead} each; a {@link ClientOp.Pub} holds a
 * retained slice its receiver releases) or, when built with a {@link ClientOpHandler}, straight to it with
 * an unretained view of the payload: no per-message slice, record or pipeline hop on the publish path.
 *
 * <p>One instance per channel; runs on that channel's event loop, as do the setters.
 */
public final class ClientOpDecoder extends ByteToMessageDecoder {

    private enum State {
        OP,
        SKIP_LINE,
        PAYLOAD,
        FAILED
    }

    /** How the bytes after a verb are read. */
    private enum Tail {
        /** a space or tab, then arguments up to LF */
        ARGS,
        /** optional blanks, then arguments up to LF */
        BLANK_ARGS,
        /** anything up to LF, ignored */
        IGNORED
    }

    private enum Verb {
        PUB("PUB", Tail.ARGS),
        HPUB("HPUB", Tail.ARGS),
        SUB("SUB", Tail.ARGS),
        UNSUB("UNSUB", Tail.ARGS),
        ERR("-ERR", Tail.ARGS),
        CONNECT("CONNECT", Tail.BLANK_ARGS),
        INFO("INFO", Tail.BLANK_ARGS),
        PING("PING", Tail.IGNORED),
        PONG("PONG", Tail.IGNORED),
        OK("+OK", Tail.IGNORED);

        final byte[] name;
        final Tail tail;

        Verb(String name, Tail tail) {
            this.name = name.getBytes(StandardCharsets.US_ASCII);
            this.tail = tail;
        }
    }

    /** Most digits a size may have (nats-server's parseSize: 999,999,999). */
    private static final int MAX_SIZE_DIGITS = 9;

    // a config reload may change both, on the channel's event loop
    private int maxControlLine;
    private int maxPayload;
    private final ClientOpHandler handler;

    private State state = State.OP;
    private boolean requireConnect;
    private boolean headersEnabled = true;
    // PING or PONG whose line is still being skipped; null for +OK
    private ClientOp pendingOp;
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

    /**
     * While true, an operation that does not start with {@code C} is an {@link ProtocolError#AUTHORIZATION_VIOLATION}
     * (nats-server refuses anything but CONNECT while authentication is pending). Off by default.
     */
    public void requireConnect(boolean required) {
        this.requireConnect = required;
    }

    /** New limits from a config reload; the channel's event loop, between operations. */
    public void limits(int newMaxControlLine, int newMaxPayload) {
        this.maxControlLine = newMaxControlLine;
        this.maxPayload = newMaxPayload;
    }

    /**
     * Whether HPUB is accepted; when false any HPUB is {@link ProtocolError#MALFORMED}, as for a client that did
     * not negotiate headers in CONNECT. On by default.
     */
    public void headersEnabled(boolean enabled) {
        this.headersEnabled = enabled;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (in.isReadable()) {
            switch (state) {
                case OP -> {
                    if (!readOp(in, out)) {
                        return;
                    }
                }
                case SKIP_LINE -> {
                    int lf = in.indexOf(in.readerIndex(), in.writerIndex(), (byte) '\n');
                    if (lf < 0) {
                        in.skipBytes(in.readableBytes());
                        return;
                    }
                    in.readerIndex(lf + 1);
                    state = State.OP;
                    ClientOp op = pendingOp;
                    pendingOp = null;
                    if (op != null) {
                        emit(out, op);
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
                    state = State.OP;
                    String subject = pubSubject;
                    String reply = pubReply;
                    pubSubject = null;
                    pubReply = null;
                    if (handler != null) {
                        // the handler gets the input itself narrowed to the payload, not a slice: no object per
                        // message on the hot path. The state is settled before the call; the bytes are consumed
                        // after it, whatever the handler did to the indices.
                        int start = in.readerIndex();
                        int limit = in.writerIndex();
                        in.writerIndex(start + pubTotal);
                        try {
                            handler.pub(subject, reply, pubHeaderSize, in);
                        } finally {
                            in.setIndex(start + pubTotal + 2, limit);
                        }
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

    /**
     * Reads one operation's verb and, when complete, its control line. Nothing is consumed until the line is
     * complete (or, for PING/PONG/+OK, until the verb is), so a partial line is simply re-read on the next call.
     * False when more bytes are needed or decoding stopped.
     */
    private boolean readOp(ByteBuf in, List<Object> out) {
        int start = in.readerIndex();
        int end = in.writerIndex();
        byte first = in.getByte(start);
        if (requireConnect && first != 'C' && first != 'c') {
            fail(in, out, ProtocolError.AUTHORIZATION_VIOLATION);
            return false;
        }
        Verb verb;
        switch (first) {
            case 'P', 'p' -> {
                if (start + 1 == end) {
                    return false;
                }
                verb = switch (in.getByte(start + 1)) {
                    case 'U', 'u' -> Verb.PUB;
                    case 'I', 'i' -> Verb.PING;
                    case 'O', 'o' -> Verb.PONG;
                    default -> null;
                };
            }
            case 'H', 'h' -> verb = Verb.HPUB;
            case 'S', 's' -> verb = Verb.SUB;
            case 'U', 'u' -> verb = Verb.UNSUB;
            case 'C', 'c' -> verb = Verb.CONNECT;
            case 'I', 'i' -> verb = Verb.INFO;
            case '+' -> verb = Verb.OK;
            case '-' -> verb = Verb.ERR;
            default -> verb = null;
        }
        if (verb == null) {
            fail(in, out, ProtocolError.UNKNOWN_OPERATION);
            return false;
        }
        byte[] name = verb.name;
        for (int i = 1; i < name.length; i++) {
            if (start + i == end) {
                return false;
            }
            // the names are upper-case letters after the first byte: & 0xDF folds ASCII lower case onto them
            if ((in.getByte(start + i) & 0xDF) != name[i]) {
                fail(in, out, ProtocolError.UNKNOWN_OPERATION);
                return false;
            }
        }
        int argStart = start + name.length;
        switch (verb.tail) {
            case IGNORED -> {
                // PING/PONG/+OK: whatever follows up to LF is ignored, however long (as the reference does)
                pendingOp = verb == Verb.PING ? ClientOp.Ping.INSTANCE : verb == Verb.PONG ? ClientOp.Pong.INSTANCE : null;
                in.readerIndex(argStart);
                state = State.SKIP_LINE;
                return true;
            }
            case ARGS -> {
                if (argStart == end) {
                    return false;
                }
                if (!isSpace(in.getByte(argStart))) {
                    fail(in, out, ProtocolError.UNKNOWN_OPERATION);
                    return false;
                }
            }
            case BLANK_ARGS -> {}
        }
        while (argStart < end && isSpace(in.getByte(argStart))) {
            argStart++;
        }
        // (long: the limit may be near Integer.MAX_VALUE)
        if ((long) argStart - start > (long) maxControlLine + name.length + 1) {
            // the reference skips any run of blanks; we bound it so a run without end cannot fill memory
            fail(in, out, ProtocolError.MAX_CONTROL_LINE);
            return false;
        }
        int lf = argStart < end ? in.indexOf(argStart, end, (byte) '\n') : -1;
        if (lf < 0) {
            // a CR that arrived without its LF yet is not an argument byte
            int pending = end - argStart - (end > argStart && in.getByte(end - 1) == '\r' ? 1 : 0);
            if (pending > maxControlLine) {
                fail(in, out, ProtocolError.MAX_CONTROL_LINE);
            }
            return false;
        }
        // nats-server drops one byte before LF when a CR appeared anywhere in the arguments (normally that CR)
        int argEnd = lf;
        if (lf > argStart && (in.getByte(lf - 1) == '\r' || in.indexOf(argStart, lf, (byte) '\r') >= 0)) {
            argEnd = lf - 1;
        }
        int len = argEnd - argStart;
        if (len > maxControlLine) {
            fail(in, out, ProtocolError.MAX_CONTROL_LINE);
            return false;
        }
        if (line.length < len) {
            line = new byte[Math.max(len, line.length * 2)];
        }
        in.getBytes(argStart, line, 0, len);
        in.readerIndex(lf + 1);
        return parseArgs(verb, len, in, out);
    }

    private boolean parseArgs(Verb verb, int len, ByteBuf in, List<Object> out) {
        switch (verb) {
            case PUB -> {
                return parsePub(len, in, out, false);
            }
            case HPUB -> {
                if (!headersEnabled) {
                    fail(in, out, ProtocolError.MALFORMED);
                    return false;
                }
                return parsePub(len, in, out, true);
            }
            case SUB -> {
                int n = tokenize(len, true);
                if (n == 2) {
                    emit(out, new ClientOp.Sub(token(0), null, token(1)));
                } else if (n == 3) {
                    emit(out, new ClientOp.Sub(token(0), token(1), token(2)));
                } else {
                    fail(in, out, ProtocolError.MALFORMED);
                    return false;
                }
            }
            case UNSUB -> {
                int n = tokenize(len, true);
                if (n != 1 && n != 2) {
                    fail(in, out, ProtocolError.MALFORMED);
                    return false;
                }
                // a max that is not a size is -1 to the reference, which then unsubscribes at once
                emit(out, new ClientOp.Unsub(token(0), n == 2 ? parseSize(1) : 0));
            }
            case CONNECT -> emit(out, new ClientOp.Connect(trimmed(len)));
            case INFO -> emit(out, new ClientOp.ClientInfo(trimmed(len)));
            default -> {
                // -ERR from a client: the reference logs it and closes
                fail(in, out, ProtocolError.MALFORMED);
                return false;
            }
        }
        return true;
    }

    /** PUB and HPUB arguments; unlike SUB/UNSUB, only spaces and tabs separate them (as in the reference). */
    private boolean parsePub(int len, ByteBuf in, List<Object> out, boolean headers) {
        int n = tokenize(len, false);
        int sizes = headers ? 2 : 1;
        if (n != sizes + 1 && n != sizes + 2) {
            fail(in, out, ProtocolError.MALFORMED);
            return false;
        }
        int total = parseSize(n - 1);
        int headerSize = headers ? parseSize(n - 2) : 0;
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
        pubHeaderSize = headerSize;
        pubTotal = total;
        state = State.PAYLOAD;
        return true;
    }

    /** Splits {@code line[0, len)} at blanks (and at CR and LF when {@code crLf}); returns the token count. */
    private int tokenize(int len, boolean crLf) {
        int n = 0;
        int i = 0;
        while (i < len) {
            while (i < len && isSeparator(line[i], crLf)) {
                i++;
            }
            if (i == len) {
                break;
            }
            if (n == tokenStart.length) {
                return n + 1; // too many; callers reject any count above what they accept
            }
            tokenStart[n] = i;
            while (i < len && !isSeparator(line[i], crLf)) {
                i++;
            }
            tokenEnd[n] = i;
            n++;
        }
        return n;
    }

    private static boolean isSeparator(byte b, boolean crLf) {
        return b == ' ' || b == '\t' || (crLf && (b == '\r' || b == '\n'));
    }

    private String trimmed(int len) {
        int end = len;
        while (end > 0 && isSpace(line[end - 1])) {
            end--;
        }
        return new String(line, 0, end, StandardCharsets.UTF_8);
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

    /** Parses token {@code i} as 1 to 9 decimal digits; -1 when it is anything else. */
    /** A size token: at most {@link #MAX_SIZE_DIGITS} digits, so it fits an int; -1 when malformed. */
    private int parseSize(int i) {
        return (int) Ascii.parseDecimal(line, tokenStart[i], tokenEnd[i], MAX_SIZE_DIGITS);
    }

    private static boolean isSpace(byte b) {
        return Ascii.isSpace(b);
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
