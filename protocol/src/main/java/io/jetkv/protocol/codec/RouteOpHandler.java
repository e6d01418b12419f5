package io.jetkv.protocol.codec;

import io.netty.buffer.ByteBuf;
import java.util.List;

/**
 * Receives decoded route operations straight from {@link RouteOpDecoder}, in wire order. Called on the
 * route channel's event loop, from inside the decoder.
 */
public interface RouteOpHandler {

    /** Any operation but RMSG/HMSG. */
    void op(RouteOp op);

    /**
     * An {@code RMSG} or {@code HMSG}: {@code data} holds the header block (first {@code headerSize} bytes, 0 for
     * RMSG) and the payload, a view valid only during this call. {@code queues} are the queue groups the
     * sending server picked a member here for (empty: deliver to plain subscriptions only).
     */
    void msg(String account, String subject, String reply, List<String> queues, int headerSize, ByteBuf data);
}
