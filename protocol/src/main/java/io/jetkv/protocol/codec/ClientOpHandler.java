package io.jetkv.protocol.codec;

import io.netty.buffer.ByteBuf;

/**
 * Receives decoded client operations straight from {@link ClientOpDecoder}, in wire order, instead of one
 * {@code fireChannelRead} per operation. Called on the channel's event loop, from inside the decoder.
 */
public interface ClientOpHandler {

    /** Any operation but PUB/HPUB (those go to {@link #pub}). */
    void op(ClientOp op);

    /**
     * A PUB or HPUB, laid out as in {@link ClientOp.Pub}. {@code data} is a view of the decoder's input, valid
     * only during this call and not retained: copy what must outlive it.
     */
    void pub(String subject, String reply, int headerSize, ByteBuf data);
}
