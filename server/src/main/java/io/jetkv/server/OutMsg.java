package io.jetkv.server;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * A message on its way to subscribers: encoded subject and reply, and the header block plus payload in one
 * buffer. Built once per publish and shared by every delivery of it; the buffer belongs to the caller.
 */
final class OutMsg {
    final String subject;
    final String reply;
    final byte[] subjectBytes;
    final byte[] replyBytes;
    final ByteBuf data;
    final int headerSize;

    OutMsg(String subject, String reply, ByteBuf data, int headerSize) {
        this.subject = subject;
        this.reply = reply;
        this.subjectBytes = subject.getBytes(StandardCharsets.UTF_8);
        this.replyBytes = reply == null ? null : reply.getBytes(StandardCharsets.UTF_8);
        this.data = data;
        this.headerSize = headerSize;
    }

    /** The header block as an array, or null. */
    byte[] headersArray() {
        if (headerSize == 0) {
            return null;
        }
        byte[] h = new byte[headerSize];
        data.getBytes(data.readerIndex(), h);
        return h;
    }

    /** The payload as an array. */
    byte[] payloadArray() {
        byte[] p = new byte[data.readableBytes() - headerSize];
        data.getBytes(data.readerIndex() + headerSize, p);
        return p;
    }
}
