package io.jetkv.protocol.codec;

import io.netty.buffer.ByteBuf;
import io.netty.util.ReferenceCounted;

/**
 * An operation received from a client, as produced by {@link ClientOpDecoder}. Only {@link Pub} holds a
 * buffer; whoever receives it releases it.
 */
public sealed interface ClientOp {

    /** {@code CONNECT <json>}: the JSON text, not yet parsed. */
    record Connect(String json) implements ClientOp {}

    /**
     * {@code PUB} or {@code HPUB}. {@code data} holds the header block (first {@code headerSize} bytes) followed
     * by the payload, without the trailing CRLF. {@code headerSize} is 0 for {@code PUB} and for {@code HPUB}
     * with a zero header length (nats.js sends that; it means "no headers").
     */
    record Pub(String subject, String reply, int headerSize, ByteBuf data) implements ClientOp, ReferenceCounted {
        public int totalSize() {
            return data.readableBytes();
        }

        @Override
        public int refCnt() {
            return data.refCnt();
        }

        @Override
        public Pub retain() {
            data.retain();
            return this;
        }

        @Override
        public Pub retain(int increment) {
            data.retain(increment);
            return this;
        }

        @Override
        public Pub touch() {
            data.touch();
            return this;
        }

        @Override
        public Pub touch(Object hint) {
            data.touch(hint);
            return this;
        }

        @Override
        public boolean release() {
            return data.release();
        }

        @Override
        public boolean release(int decrement) {
            return data.release(decrement);
        }
    }

    /** {@code SUB <subject> [queue] <sid>}; {@code queue} is null when absent. */
    record Sub(String subject, String queue, String sid) implements ClientOp {}

    /**
     * {@code UNSUB <sid> [max]}; {@code max} is 0 when absent and -1 when it is not a size: either way (as for
     * any max not above what was delivered) the subscription is removed now.
     */
    record Unsub(String sid, long max) implements ClientOp {}

    /** {@code PING}. */
    enum Ping implements ClientOp {
        INSTANCE
    }

    /** {@code PONG}. */
    enum Pong implements ClientOp {
        INSTANCE
    }

    /**
     * {@code INFO <json>} from a client: the JSON text, not yet parsed. nats-server checks that it parses and
     * otherwise ignores it on client connections.
     */
    record ClientInfo(String json) implements ClientOp {}

    /**
     * The input broke the protocol; the decoder has stopped and discards everything after. The connection
     * reports {@code error} and closes when {@link ProtocolError#closes()} says so.
     */
    record Violation(ProtocolError error) implements ClientOp {}
}
