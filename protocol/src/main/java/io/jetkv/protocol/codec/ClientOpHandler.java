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
     * A PUB or HPUB, laid out as in {@link ClientOp.Pub}. {@code data} is the decoder's input buffer itself,
     * its readable bytes narrowed to the message for this call: valid only during the call and not retained, so
     * copy what must outlive it; moving its indices is harmless (the decoder resets them), writing is not.
     */
    void pub(String subject, String reply, int headerSize, ByteBuf data);
}
